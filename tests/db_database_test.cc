// Database and Collection behaviour through the public API: results against exact search, round
// trips through disk, recovery of the index from snapshots, change logs and the store.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "ember/database.h"
#include "ember/ember.h"
#include "status_matchers.h"

namespace ember {
namespace {

namespace fs = std::filesystem;
using ::ember::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("ember_db_" + std::to_string(getpid()) + "_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Database> OpenOrDie(DatabaseOptions options = {}) {
    absl::StatusOr<std::unique_ptr<Database>> db = Database::Open(dir_.string(), options);
    EXPECT_OK(db);
    return db.ok() ? *std::move(db) : nullptr;
  }

  fs::path dir_;
};

std::vector<Document> RandomDocuments(int count, int dimension, uint32_t seed,
                                      const std::string& prefix = "doc") {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<Document> documents(count);
  for (int i = 0; i < count; ++i) {
    documents[i].id = prefix + std::to_string(i);
    documents[i].vector.resize(dimension);
    for (float& x : documents[i].vector) x = normal(rng);
    documents[i].attributes["n"] = int64_t{i};
  }
  return documents;
}

float RawDistance(Metric metric, const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0, aa = 0, bb = 0, l2 = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
    l2 += (a[i] - b[i]) * (a[i] - b[i]);
  }
  switch (metric) {
    case Metric::kCosine:
      return static_cast<float>(dot / std::sqrt(aa * bb));
    case Metric::kInnerProduct:
      return static_cast<float>(dot);
    case Metric::kL2:
      return static_cast<float>(l2);
  }
  return 0;
}

// The ids of the k documents nearest to `query`, best first, by brute force.
std::vector<std::string> ExactTopK(Metric metric, const std::vector<Document>& documents,
                                   const std::vector<float>& query, int k) {
  std::vector<std::pair<float, std::string>> scored;
  for (const Document& d : documents) {
    const float raw = RawDistance(metric, query, d.vector);
    scored.emplace_back(metric == Metric::kL2 ? raw : -raw, d.id);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::string> ids;
  for (int i = 0; i < k && i < static_cast<int>(scored.size()); ++i)
    ids.push_back(scored[i].second);
  return ids;
}

std::vector<std::string> HitIds(const SearchResponse& response) {
  std::vector<std::string> ids;
  for (const SearchHit& hit : response.hits) ids.push_back(hit.id);
  return ids;
}

double RecallAt10(Collection& collection, const std::vector<Document>& documents, int queries,
                  uint32_t seed) {
  const std::vector<Document> probes = RandomDocuments(queries, collection.spec().dimension, seed);
  int found = 0;
  for (const Document& probe : probes) {
    const std::vector<std::string> truth =
        ExactTopK(collection.spec().metric, documents, probe.vector, 10);
    absl::StatusOr<SearchResponse> response = collection.Search({.vector = probe.vector, .k = 10});
    EXPECT_OK(response);
    for (const std::string& id : HitIds(*response)) {
      found += std::count(truth.begin(), truth.end(), id);
    }
  }
  return static_cast<double>(found) / (queries * 10);
}

TEST_F(DatabaseTest, CreateListGetDrop) {
  auto db = OpenOrDie();
  ASSERT_OK(db->CreateCollection({.name = "b", .dimension = 3}));
  ASSERT_OK(db->CreateCollection({.name = "a", .dimension = 5, .metric = Metric::kL2}));
  EXPECT_THAT(db->CreateCollection({.name = "a", .dimension = 5}),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("\"a\"")));
  EXPECT_THAT(db->CreateCollection({.name = "c", .dimension = 0}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("dimension")));
  std::vector<std::string> names;
  for (const CollectionSpec& spec : db->ListCollections()) names.push_back(spec.name);
  EXPECT_THAT(names, ElementsAre("a", "b"));

  ASSERT_OK_AND_ASSIGN(auto b, db->GetCollection("b"));
  ASSERT_OK(b->Upsert(RandomDocuments(3, 3, 1)));
  ASSERT_OK(db->DropCollection("b"));
  EXPECT_THAT(db->GetCollection("b"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(db->DropCollection("b"), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(b->Search({.vector = {1, 2, 3}}), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(b->Upsert(RandomDocuments(1, 3, 1)), StatusIs(absl::StatusCode::kNotFound));

  // A new collection of the dropped name starts empty.
  ASSERT_OK_AND_ASSIGN(auto b2, db->CreateCollection({.name = "b", .dimension = 3}));
  EXPECT_EQ(b2->Count(), 0);
  db.reset();
  // Handles may outlive their database; they then refuse every call instead of crashing.
  EXPECT_THAT(b2->Search({.vector = {1, 2, 3}}), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(b2->Upsert(RandomDocuments(1, 3, 1)),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  db = OpenOrDie();
  ASSERT_OK_AND_ASSIGN(auto reopened, db->GetCollection("a"));
  EXPECT_EQ(reopened->spec().dimension, 5);
  EXPECT_EQ(reopened->spec().metric, Metric::kL2);
  ASSERT_OK_AND_ASSIGN(b2, db->GetCollection("b"));
  EXPECT_EQ(b2->Count(), 0);
}

TEST_F(DatabaseTest, UpsertGetReplaceDelete) {
  auto db = OpenOrDie();
  ASSERT_OK_AND_ASSIGN(auto c, db->CreateCollection({.name = "c", .dimension = 2}));
  Document doc{.id = "x",
               .text = "first",
               .attributes = {{"tags", std::vector<std::string>{"a", "b"}}},
               .vector = {1, 0}};
  ASSERT_OK(c->Upsert({&doc, 1}));
  const std::vector<std::string> ids = {"x", "missing"};
  ASSERT_OK_AND_ASSIGN(auto got, c->Get(ids));
  ASSERT_EQ(got.size(), 2u);
  ASSERT_TRUE(got[0].has_value());
  EXPECT_EQ(*got[0], doc);
  EXPECT_FALSE(got[1].has_value());

  Document replacement{.id = "x", .text = "second", .vector = {0, 1}};
  ASSERT_OK(c->Upsert({&replacement, 1}));
  EXPECT_EQ(c->Count(), 1);
  ASSERT_OK_AND_ASSIGN(got, c->Get(ids));
  EXPECT_EQ(*got[0], replacement);
  ASSERT_OK_AND_ASSIGN(SearchResponse response, c->Search({.vector = {1, 0}, .k = 5}));
  ASSERT_EQ(response.hits.size(), 1u);
  EXPECT_EQ(response.hits[0].text, "second");
  EXPECT_NEAR(response.hits[0].score, 0.0f, 1e-6);

  const std::vector<std::string> to_delete = {"x", "x", "nope"};
  ASSERT_OK_AND_ASSIGN(int64_t deleted, c->Delete(to_delete));
  EXPECT_EQ(deleted, 1);
  EXPECT_EQ(c->Count(), 0);
  ASSERT_OK_AND_ASSIGN(response, c->Search({.vector = {1, 0}, .k = 5}));
  EXPECT_TRUE(response.hits.empty());
}

TEST_F(DatabaseTest, FlatSearchIsExactForEveryMetric) {
  auto db = OpenOrDie();
  for (Metric metric : {Metric::kCosine, Metric::kInnerProduct, Metric::kL2}) {
    const std::string name = std::string("flat_") + MetricName(metric);
    ASSERT_OK_AND_ASSIGN(
        auto c,
        db->CreateCollection(
            {.name = name, .dimension = 8, .metric = metric, .index = {.kind = IndexKind::kFlat}}));
    const std::vector<Document> documents = RandomDocuments(500, 8, 7);
    ASSERT_OK(c->Upsert(documents));
    for (const Document& probe : RandomDocuments(20, 8, 99)) {
      ASSERT_OK_AND_ASSIGN(SearchResponse response,
                           c->Search({.vector = probe.vector, .k = 7, .include_vector = true}));
      EXPECT_EQ(HitIds(response), ExactTopK(metric, documents, probe.vector, 7)) << name;
      for (const SearchHit& hit : response.hits) {
        const float raw = RawDistance(metric, probe.vector, hit.vector);
        EXPECT_NEAR(hit.score, metric == Metric::kL2 ? -raw : raw, 1e-3 * (1 + std::abs(raw)));
        EXPECT_NEAR(hit.distance, metric == Metric::kCosine ? 1 - raw : raw,
                    1e-3 * (1 + std::abs(raw)));
      }
    }
  }
}

TEST_F(DatabaseTest, KLargerThanCountReturnsEverything) {
  auto db = OpenOrDie();
  ASSERT_OK_AND_ASSIGN(auto c, db->CreateCollection({.name = "c", .dimension = 4}));
  ASSERT_OK(c->Upsert(RandomDocuments(5, 4, 3)));
  ASSERT_OK_AND_ASSIGN(SearchResponse response, c->Search({.vector = {1, 1, 1, 1}, .k = 100}));
  EXPECT_EQ(response.hits.size(), 5u);
}

TEST_F(DatabaseTest, HnswAndIvfReachHighRecall) {
  auto db = OpenOrDie();
  const std::vector<Document> documents = RandomDocuments(4000, 16, 11);
  ASSERT_OK_AND_ASSIGN(auto hnsw, db->CreateCollection({.name = "hnsw", .dimension = 16}));
  ASSERT_OK(hnsw->Upsert(documents));
  EXPECT_GE(RecallAt10(*hnsw, documents, 50, 5), 0.95);

  ASSERT_OK_AND_ASSIGN(
      auto ivf,
      db->CreateCollection(
          {.name = "ivf", .dimension = 16, .index = {.kind = IndexKind::kIvf, .ivf = {16, 8}}}));
  ASSERT_OK(ivf->Upsert(std::span(documents).first(100)));
  EXPECT_FALSE(ivf->Stats().index_trained);
  ASSERT_OK(ivf->Upsert(std::span(documents).subspan(100)));
  EXPECT_TRUE(ivf->Stats().index_trained);
  EXPECT_GE(RecallAt10(*ivf, documents, 50, 5), 0.95);
}

TEST_F(DatabaseTest, ResultsSurviveReopenThroughSnapshotReplayAndRebuild) {
  const std::vector<Document> documents = RandomDocuments(1500, 12, 21);
  const std::vector<Document> probes = RandomDocuments(10, 12, 22);
  std::vector<std::vector<std::string>> expected;
  {
    auto db = OpenOrDie();
    ASSERT_OK_AND_ASSIGN(auto c, db->CreateCollection({.name = "c", .dimension = 12}));
    ASSERT_OK(c->Upsert(std::span(documents).first(1000)));
    ASSERT_OK(db->Checkpoint());
    ASSERT_OK(c->Upsert(std::span(documents).subspan(1000)));
    const std::vector<std::string> gone = {"doc3", "doc1200"};
    ASSERT_OK(c->Delete(gone));
    EXPECT_EQ(c->Stats().changes_since_snapshot, 502);
    for (const Document& probe : probes) {
      ASSERT_OK_AND_ASSIGN(SearchResponse r, c->Search({.vector = probe.vector, .ef_search = 400}));
      expected.push_back(HitIds(r));
    }
    // A copy taken now is what a crash leaves: a snapshot of the first 1000, and a change log after
    // it.
    fs::copy(dir_, dir_.string() + ".crash", fs::copy_options::recursive);
  }
  const auto check = [&](Database& db, const char* how) {
    ASSERT_OK_AND_ASSIGN(auto c, db.GetCollection("c"));
    EXPECT_EQ(c->Count(), 1498) << how;
    CollectionStats stats = c->Stats();
    EXPECT_EQ(stats.index_vectors - stats.index_tombstones, 1498) << how;
    for (size_t i = 0; i < probes.size(); ++i) {
      ASSERT_OK_AND_ASSIGN(SearchResponse r,
                           c->Search({.vector = probes[i].vector, .ef_search = 400}));
      EXPECT_EQ(HitIds(r), expected[i]) << how;
    }
  };
  {
    SCOPED_TRACE("closed cleanly");
    auto db = OpenOrDie();
    check(*db, "closed cleanly");
  }
  {
    auto crashed = Database::Open(dir_.string() + ".crash");
    ASSERT_OK(crashed);
    check(**crashed, "snapshot + change-log replay");
    ASSERT_OK_AND_ASSIGN(auto c, (*crashed)->GetCollection("c"));
    EXPECT_EQ(c->Stats().changes_since_snapshot, 502);
  }
  fs::remove_all(dir_.string() + ".crash");
  for (const fs::directory_entry& entry : fs::directory_iterator(dir_ / "indexes")) {
    // Flip one byte in the middle of every snapshot: the index must be rebuilt from the store.
    std::fstream file(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(fs::file_size(entry.path()) / 2);
    file.put('\x5a');
  }
  {
    auto db = OpenOrDie();
    check(*db, "corrupt snapshot");
  }
  fs::remove_all(dir_ / "indexes");
  auto db = OpenOrDie();
  check(*db, "missing snapshot");
}

TEST_F(DatabaseTest, ReadOnlyHandleReadsAndRefusesWrites) {
  {
    auto db = OpenOrDie();
    ASSERT_OK_AND_ASSIGN(auto c, db->CreateCollection({.name = "c", .dimension = 3}));
    ASSERT_OK(c->Upsert(RandomDocuments(10, 3, 5)));
  }
  auto writer = OpenOrDie();
  auto reader = OpenOrDie({.read_only = true});
  ASSERT_OK_AND_ASSIGN(auto c, reader->GetCollection("c"));
  EXPECT_EQ(c->Count(), 10);
  EXPECT_THAT(c->Upsert(RandomDocuments(1, 3, 5)), StatusIs(absl::StatusCode::kFailedPrecondition));
  const std::vector<std::string> ids = {"doc1"};
  EXPECT_THAT(c->Delete(ids), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(reader->CreateCollection({.name = "d", .dimension = 3}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(reader->DropCollection("c"), StatusIs(absl::StatusCode::kFailedPrecondition));
  ASSERT_OK_AND_ASSIGN(auto got, c->Get(ids));
  EXPECT_TRUE(got[0].has_value());
}

TEST_F(DatabaseTest, RefusesFoldersThatAreNotDatabases) {
  EXPECT_THAT(Database::Open(dir_.string(), {.create_if_missing = false}),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Database::Open(dir_.string(), {.read_only = true}),
              StatusIs(absl::StatusCode::kNotFound));
  fs::create_directories(dir_);
  std::ofstream(dir_ / "notes.txt") << "not a database";
  EXPECT_THAT(Database::Open(dir_.string()),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not an Ember database")));
  EXPECT_THAT(Database::Open((dir_ / "notes.txt").string()),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1)
      << "a refused open must not write into the folder";
  EXPECT_THAT(Database::Open(""), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(DatabaseTest, OpensAnEmptyExistingFolder) {
  fs::create_directories(dir_);
  auto db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  EXPECT_TRUE(db->ListCollections().empty());
}

}  // namespace
}  // namespace ember
