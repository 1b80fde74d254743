// Concurrency stress test of the database (public API only): 4 searching threads, 1 writer
// upserting and deleting, and 1 thread creating, listing and dropping collections, for
// EMBER_STRESS_SECONDS (default 5; the ThreadSanitizer proof runs 30).
//
// The writer's batches are designed so that a search can tell whether it saw a batch partially:
//   - "generation" batches replace the same kSlots ids at once; every document of generation g
//     carries attribute generation = g and a vector computed from (slot, g). A search returning
//     all documents must see one generation for all slots, and each hit's distance must match its
//     own vector.
//   - "churn" batches upsert kChurnSize new ids "c<n>-<j>" in one call and later delete them in one
//     call; a search sees each churn group entirely or not at all.
// Each searcher also varies HNSW's ef_search per query (FAISS 1.7.3 keeps efSearch on the shared
// index, so a racing implementation shows up under TSan), checks hits are sorted, distinct and
// drawn from ids the writer has published, and exercises GetCollection / ListCollections.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "ember/ember.h"
#include "status_matchers.h"

namespace ember {
namespace {

using ::ember::testing::IsOk;
using ::ember::testing::StatusIs;

constexpr int kDimension = 8;
constexpr int kSlots = 16;
constexpr int kChurnSize = 8;
// Churn groups alive at once; the oldest is deleted when a new one goes in.
constexpr int kLiveChurnGroups = 6;
constexpr int kSearchers = 4;

std::vector<float> SlotVector(int slot, int64_t generation) {
  std::mt19937_64 rng(static_cast<uint64_t>(slot) * 1000003u + generation);
  std::uniform_real_distribution<float> component(-1.0f, 1.0f);
  std::vector<float> vector(kDimension);
  for (float& x : vector) x = component(rng);
  return vector;
}

std::vector<float> ChurnVector(int64_t group, int j) { return SlotVector(1000 + j, -group - 1); }

float SquaredL2(const std::vector<float>& a, const std::vector<float>& b) {
  float sum = 0;
  for (int i = 0; i < kDimension; ++i) sum += (a[i] - b[i]) * (a[i] - b[i]);
  return sum;
}

std::string SlotId(int slot) { return absl::StrCat("slot-", slot); }
std::string ChurnId(int64_t group, int j) { return absl::StrCat("c", group, "-", j); }

// Parses "c<group>-<j>"; false for other ids.
bool ParseChurnId(const std::string& id, int64_t* group, int* j) {
  if (!id.starts_with("c")) return false;
  const size_t dash = id.find('-');
  return dash != std::string::npos && absl::SimpleAtoi(id.substr(1, dash - 1), group) &&
         absl::SimpleAtoi(id.substr(dash + 1), j);
}

int64_t StressSeconds() {
  const char* text = std::getenv("EMBER_STRESS_SECONDS");
  int64_t seconds;
  return text != nullptr && absl::SimpleAtoi(text, &seconds) && seconds > 0 ? seconds : 5;
}

class DbConcurrencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("ember_concurrency_test_", getpid());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
};

// What the writer has published: searches may only return these ids.
struct Published {
  std::atomic<int64_t> max_generation{0};
  std::atomic<int64_t> max_churn_group{-1};
};

// Checks one search response from a collection written by the writer below. `all` is true when the
// search asked for every document (k >= anything the collection can hold), so the batch checks
// apply.
void CheckResponse(const SearchResponse& response, const std::vector<float>& query, int k, bool all,
                   const Published& published, const std::string& context) {
  ASSERT_LE(static_cast<int>(response.hits.size()), k) << context;
  // kSlots documents exist at every moment after setup, so a search never has fewer to return.
  ASSERT_GE(static_cast<int>(response.hits.size()), std::min(k, kSlots)) << context;
  std::set<std::string> seen;
  std::map<int64_t, int> churn_groups;
  std::set<int64_t> generations;
  for (size_t i = 0; i < response.hits.size(); ++i) {
    const SearchHit& hit = response.hits[i];
    ASSERT_TRUE(seen.insert(hit.id).second) << context << ": duplicate id " << hit.id;
    if (i > 0) {
      ASSERT_GE(response.hits[i - 1].score, hit.score) << context << ": not sorted";
    }
    int64_t group;
    int j;
    if (ParseChurnId(hit.id, &group, &j)) {
      ASSERT_LE(group, published.max_churn_group.load()) << context << ": unwritten id " << hit.id;
      ASSERT_TRUE(j >= 0 && j < kChurnSize) << context << ": unwritten id " << hit.id;
      ++churn_groups[group];
      EXPECT_NEAR(hit.distance, SquaredL2(query, ChurnVector(group, j)), 1e-3) << context;
      continue;
    }
    int slot = -1;
    ASSERT_TRUE(hit.id.starts_with("slot-") && absl::SimpleAtoi(hit.id.substr(5), &slot) &&
                slot >= 0 && slot < kSlots)
        << context << ": unwritten id " << hit.id;
    auto attribute = hit.attributes.find("generation");
    ASSERT_NE(attribute, hit.attributes.end()) << context << ": " << hit.id << " lacks generation";
    const int64_t generation = std::get<int64_t>(attribute->second);
    ASSERT_LE(generation, published.max_generation.load()) << context;
    generations.insert(generation);
    // The index's distance and the stored document must come from the same batch.
    EXPECT_NEAR(hit.distance, SquaredL2(query, SlotVector(slot, generation)), 1e-3)
        << context << ": " << hit.id << " distance disagrees with its generation " << generation;
  }
  if (!all) return;
  EXPECT_EQ(generations.size(), 1u) << context << ": a search saw a generation batch partially";
  int slots = 0;
  for (const std::string& id : seen) slots += id.starts_with("slot-");
  EXPECT_EQ(slots, kSlots) << context;
  for (const auto& [group, count] : churn_groups) {
    EXPECT_EQ(count, kChurnSize) << context << ": churn group " << group << " seen partially";
  }
}

TEST_F(DbConcurrencyTest, SearchersWriterAndCatalogRunConcurrently) {
  const auto duration = std::chrono::seconds(StressSeconds());
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, Database::Open(dir_.string()));
  CollectionSpec flat_spec{.name = "gen_flat", .dimension = kDimension, .metric = Metric::kL2};
  flat_spec.index.kind = IndexKind::kFlat;
  CollectionSpec hnsw_spec{.name = "gen_hnsw", .dimension = kDimension, .metric = Metric::kL2};
  hnsw_spec.index.hnsw = {.m = 8, .ef_construction = 40, .ef_search = 32};
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<Collection> flat, db->CreateCollection(flat_spec));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<Collection> hnsw, db->CreateCollection(hnsw_spec));
  const std::vector<std::shared_ptr<Collection>> written = {flat, hnsw};

  auto generation_batch = [](int64_t generation) {
    std::vector<Document> documents;
    for (int slot = 0; slot < kSlots; ++slot) {
      documents.push_back({.id = SlotId(slot),
                           .attributes = {{"generation", Value(generation)}},
                           .vector = SlotVector(slot, generation)});
    }
    return documents;
  };
  Published published;
  for (const auto& collection : written) ASSERT_OK(collection->Upsert(generation_batch(0)));

  std::atomic<bool> stop{false};
  std::atomic<int64_t> searches{0};
  std::atomic<int64_t> catalog_rounds{0};
  int64_t live_groups_at_end = 0;

  std::thread writer([&] {
    std::deque<int64_t> live;
    for (int64_t step = 1; !stop.load(); ++step) {
      if (step % 2 == 1) {
        const int64_t generation = published.max_generation.load() + 1;
        published.max_generation.store(generation);
        for (const auto& collection : written) {
          ASSERT_OK(collection->Upsert(generation_batch(generation)));
        }
        continue;
      }
      const int64_t group = published.max_churn_group.load() + 1;
      published.max_churn_group.store(group);
      std::vector<Document> documents;
      for (int j = 0; j < kChurnSize; ++j) {
        documents.push_back({.id = ChurnId(group, j), .vector = ChurnVector(group, j)});
      }
      for (const auto& collection : written) ASSERT_OK(collection->Upsert(documents));
      live.push_back(group);
      if (live.size() > kLiveChurnGroups) {
        std::vector<std::string> ids;
        for (int j = 0; j < kChurnSize; ++j) ids.push_back(ChurnId(live.front(), j));
        live.pop_front();
        for (const auto& collection : written) {
          auto deleted = collection->Delete(ids);
          ASSERT_THAT(deleted, IsOk());
          EXPECT_EQ(*deleted, kChurnSize);
        }
      }
    }
    live_groups_at_end = static_cast<int64_t>(live.size());
  });

  std::vector<std::thread> searchers;
  for (int t = 0; t < kSearchers; ++t) {
    searchers.emplace_back([&, t] {
      std::mt19937_64 rng(t);
      std::uniform_real_distribution<float> component(-1.0f, 1.0f);
      const int ef_choices[] = {0, 1, 10, 16, 64, 200};
      const int k_choices[] = {1, 5, kSlots, kSlots + kChurnSize * (kLiveChurnGroups + 1)};
      for (int64_t i = 0; !stop.load(); ++i) {
        std::vector<float> query(kDimension);
        for (float& x : query) x = component(rng);
        const bool use_flat = i % 2 == 0;
        auto collection = db->GetCollection(use_flat ? "gen_flat" : "gen_hnsw");
        ASSERT_THAT(collection, IsOk());
        const int k = k_choices[rng() % std::size(k_choices)];
        const int ef = ef_choices[rng() % std::size(ef_choices)];
        auto response = (*collection)->Search({.vector = query, .k = k, .ef_search = ef});
        ASSERT_THAT(response, IsOk());
        // Exhaustive only on Flat: HNSW may legitimately miss a document of a full-collection
        // search.
        const bool all = use_flat && k >= kSlots + kChurnSize * (kLiveChurnGroups + 1);
        CheckResponse(*response, query, k, all, published,
                      absl::StrCat(use_flat ? "flat" : "hnsw", " k=", k, " ef=", ef));
        if (::testing::Test::HasFatalFailure()) return;
        if (i % 16 == 0) {
          std::vector<CollectionSpec> specs = db->ListCollections();
          ASSERT_TRUE(std::is_sorted(specs.begin(), specs.end(),
                                     [](const auto& a, const auto& b) { return a.name < b.name; }));
          int ours = 0;
          for (const auto& spec : specs) ours += spec.name == "gen_flat" || spec.name == "gen_hnsw";
          ASSERT_EQ(ours, 2);
        }
        searches.fetch_add(1);
      }
    });
  }

  // Creates, uses and drops collections while the others run.
  std::thread catalog([&] {
    for (int64_t n = 0; !stop.load(); ++n) {
      const std::string name = absl::StrCat("extra-", n);
      CollectionSpec spec{.name = name, .dimension = 4, .metric = Metric::kCosine};
      spec.index.kind = n % 3 == 0   ? IndexKind::kFlat
                        : n % 3 == 1 ? IndexKind::kHnsw
                                     : IndexKind::kIvf;
      spec.index.ivf = {.nlist = 4, .nprobe = 2};
      auto created = db->CreateCollection(spec);
      ASSERT_THAT(created, IsOk());
      ASSERT_THAT(db->CreateCollection(spec), StatusIs(absl::StatusCode::kAlreadyExists));
      ASSERT_OK((*created)->Upsert(std::vector<Document>{{.id = "a", .vector = {1, 0, 0, 0}},
                                                         {.id = "b", .vector = {0, 1, 0, 0}}}));
      auto got = db->GetCollection(name);
      ASSERT_THAT(got, IsOk());
      EXPECT_EQ((*got)->spec().name, name);
      auto response = (*got)->Search({.vector = {1, 0.1f, 0, 0}, .k = 2});
      ASSERT_THAT(response, IsOk());
      ASSERT_EQ(response->hits.size(), 2u);
      EXPECT_EQ(response->hits[0].id, "a");
      std::vector<CollectionSpec> specs = db->ListCollections();
      EXPECT_TRUE(
          std::any_of(specs.begin(), specs.end(), [&](const auto& s) { return s.name == name; }));
      if (n % 2 == 0) {
        ASSERT_OK(db->DropCollection(name));
        EXPECT_THAT(db->GetCollection(name), StatusIs(absl::StatusCode::kNotFound));
        EXPECT_THAT((*created)->Search({.vector = {1, 0, 0, 0}, .k = 1}),
                    StatusIs(absl::StatusCode::kNotFound));
      }
      catalog_rounds.fetch_add(1);
    }
  });

  std::this_thread::sleep_for(duration);
  stop.store(true);
  writer.join();
  for (auto& searcher : searchers) searcher.join();
  catalog.join();

  std::cout << "concurrency test: " << searches.load() << " searches, generation "
            << published.max_generation.load() << ", churn groups "
            << published.max_churn_group.load() + 1 << ", catalog rounds " << catalog_rounds.load()
            << " in " << duration.count() << " s\n";
  EXPECT_GT(searches.load(), 0);
  EXPECT_GT(published.max_generation.load(), 0);
  for (const auto& collection : written) {
    EXPECT_EQ(collection->Count(), kSlots + kChurnSize * live_groups_at_end);
    const CollectionStats stats = collection->Stats();
    EXPECT_EQ(stats.index_vectors - stats.index_tombstones, collection->Count());
  }
}

}  // namespace
}  // namespace ember
