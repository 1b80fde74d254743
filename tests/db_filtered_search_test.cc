// Filtered search through the public API: every hit matches, k hits whenever k documents match,
// results equal exact filtered search when the plan is exact and come close when it traverses an
// index, the attribute index follows upserts, deletes and reopening, and explain says what ran.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>

#include "absl/algorithm/container.h"
#include "db/filter_eval.h"
#include "ember/ember.h"
#include "status_matchers.h"

namespace ember {
namespace {

namespace fs = std::filesystem;
using ::ember::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int kDimension = 16;
constexpr int kDocuments = 3000;

std::vector<AttributeSpec> Schema() {
  return {{"bucket", AttributeType::kInt},
          {"tags", AttributeType::kStringList},
          {"score", AttributeType::kDouble},
          {"title", AttributeType::kString, /*indexed=*/false}};
}

std::vector<Document> MakeDocuments(uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<Document> documents(kDocuments);
  for (int i = 0; i < kDocuments; ++i) {
    Document& d = documents[i];
    d.id = "d" + std::to_string(i);
    d.vector.resize(kDimension);
    for (float& x : d.vector) x = normal(rng);
    d.attributes["bucket"] = int64_t{i % 1000};  // 0.1% per value
    d.attributes["score"] = (i % 100) / 10.0;    // 1% per value
    std::vector<std::string> tags = {i % 2 ? "odd" : "even"};
    if (i % 7 == 0) tags.push_back("seven");
    d.attributes["tags"] = tags;
    d.attributes["title"] = "title " + std::to_string(i % 13);
  }
  return documents;
}

std::vector<std::string> ExactFilteredTopK(const std::vector<Document>& documents,
                                           const Filter& filter, const std::vector<float>& query,
                                           int k) {
  std::vector<std::pair<float, std::string>> scored;
  for (const Document& d : documents) {
    if (!db::Matches(filter, d.attributes)) continue;
    float l2 = 0;
    for (int j = 0; j < kDimension; ++j) l2 += (query[j] - d.vector[j]) * (query[j] - d.vector[j]);
    scored.emplace_back(l2, d.id);
  }
  std::sort(scored.begin(), scored.end());
  std::vector<std::string> ids;
  for (int i = 0; i < k && i < static_cast<int>(scored.size()); ++i)
    ids.push_back(scored[i].second);
  return ids;
}

class FilteredSearchTest : public ::testing::TestWithParam<IndexKind> {
 protected:
  void SetUp() override {
    // Unique per test and process: ctest runs the tests of this suite in parallel.
    dir_ = fs::path(::testing::TempDir()) /
           ("ember_filtered_" + std::to_string(getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    documents_ = MakeDocuments(3);
    ASSERT_OK_AND_ASSIGN(db_, Database::Open(dir_.string()));
    IndexSpec index;
    index.kind = GetParam();
    index.ivf = {.nlist = 16, .nprobe = 4};
    ASSERT_OK_AND_ASSIGN(collection_, db_->CreateCollection({.name = "c",
                                                             .dimension = kDimension,
                                                             .metric = Metric::kL2,
                                                             .index = index,
                                                             .attributes = Schema()}));
    ASSERT_OK(collection_->Upsert(documents_));
  }
  void TearDown() override {
    collection_.reset();
    db_.reset();
    fs::remove_all(dir_);
  }

  // Checks a filter on 20 queries; returns the mean recall@10 against exact filtered search.
  double CheckFilter(const std::string& text) {
    absl::StatusOr<Filter> filter = ParseFilter(text);
    EXPECT_OK(filter);
    int matching = 0;
    for (const Document& d : documents_) matching += db::Matches(*filter, d.attributes);
    std::mt19937 rng(5);
    std::normal_distribution<float> normal;
    double recall = 0;
    for (int q = 0; q < 20; ++q) {
      std::vector<float> query(kDimension);
      for (float& x : query) x = normal(rng);
      absl::StatusOr<SearchResponse> response =
          collection_->Search({.vector = query, .k = 10, .filter = *filter});
      EXPECT_OK(response) << text;
      if (!response.ok()) return 0;
      EXPECT_EQ(response->hits.size(), std::min(10, matching)) << text;
      EXPECT_EQ(response->plan.matching_documents, matching) << text;
      for (const SearchHit& hit : response->hits) {
        EXPECT_TRUE(db::Matches(*filter, hit.attributes)) << text << " returned " << hit.id;
      }
      const std::vector<std::string> truth = ExactFilteredTopK(documents_, *filter, query, 10);
      if (response->plan.strategy == "exact") {
        std::vector<std::string> ids;
        for (const SearchHit& hit : response->hits) ids.push_back(hit.id);
        EXPECT_EQ(ids, truth) << text;
      }
      int found = 0;
      for (const SearchHit& hit : response->hits) found += absl::c_linear_search(truth, hit.id);
      recall += truth.empty() ? 1.0 : static_cast<double>(found) / truth.size();
    }
    return recall / 20;
  }

  fs::path dir_;
  std::vector<Document> documents_;
  std::unique_ptr<Database> db_;
  std::shared_ptr<Collection> collection_;
};

TEST_P(FilteredSearchTest, EverySelectivityReturnsMatchesWithHighRecall) {
  for (const char* filter :
       {"bucket = 17", "bucket IN (1, 2, 3)", "bucket < 10", "score >= 9.5",
        "bucket BETWEEN 0 AND 99", "tags CONTAINS 'seven'", "tags CONTAINS 'odd' AND score < 5",
        "NOT (bucket < 500)", "bucket >= 0", "tags CONTAINS ANY ('odd', 'even')",
        "title = 'title 3'", "title = 'title 3' OR bucket = 5",
        "score > 4.5 AND title != 'title 1'", "bucket = 5000", "bucket < 2.5", "bucket > 997.5",
        "NOT tags CONTAINS 'seven'"}) {
    EXPECT_GE(CheckFilter(filter), 0.9) << filter;
  }
}

TEST_P(FilteredSearchTest, ExplainsThePlan) {
  ASSERT_OK_AND_ASSIGN(Filter narrow, ParseFilter("bucket = 17"));
  ASSERT_OK_AND_ASSIGN(SearchResponse response,
                       collection_->Search({.vector = documents_[17].vector, .filter = narrow}));
  EXPECT_EQ(response.plan.strategy, "exact");
  EXPECT_EQ(response.plan.estimated_candidates, 3);
  EXPECT_EQ(response.plan.documents_scanned, 0);
  ASSERT_FALSE(response.hits.empty());
  EXPECT_EQ(response.hits[0].id, "d17");

  ASSERT_OK_AND_ASSIGN(Filter unindexed, ParseFilter("title = 'title 3' AND bucket < 500"));
  ASSERT_OK_AND_ASSIGN(response,
                       collection_->Search({.vector = documents_[0].vector, .filter = unindexed}));
  EXPECT_THAT(response.plan.unindexed_attributes, ElementsAre("title"));
  EXPECT_EQ(response.plan.estimated_candidates, 1500);
  EXPECT_EQ(response.plan.documents_scanned, 1500);
  EXPECT_THAT(response.plan.ToString(), HasSubstr("not indexed"));

  ASSERT_OK_AND_ASSIGN(response, collection_->Search({.vector = documents_[0].vector}));
  EXPECT_EQ(response.plan.strategy, "index");
  EXPECT_EQ(response.plan.matching_documents, kDocuments);
}

TEST_P(FilteredSearchTest, WrongLiteralTypeIsAnError) {
  for (const char* text : {"bucket = 'x'", "tags = 'odd'", "score CONTAINS 'a'"}) {
    ASSERT_OK_AND_ASSIGN(Filter filter, ParseFilter(text));
    EXPECT_THAT(collection_->Search({.vector = documents_[0].vector, .filter = filter}),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << text;
  }
}

TEST_P(FilteredSearchTest, AttributeIndexFollowsWritesAndReopen) {
  ASSERT_OK_AND_ASSIGN(Filter bucket17, ParseFilter("bucket = 17"));
  const auto matching_ids = [&]() {
    absl::StatusOr<SearchResponse> response =
        collection_->Search({.vector = documents_[0].vector, .k = 50, .filter = bucket17});
    EXPECT_OK(response);
    std::vector<std::string> ids;
    for (const SearchHit& hit : response->hits) ids.push_back(hit.id);
    std::sort(ids.begin(), ids.end());
    return ids;
  };
  EXPECT_THAT(matching_ids(), ElementsAre("d1017", "d17", "d2017"));
  Document moved = documents_[5];
  moved.attributes["bucket"] = int64_t{17};
  ASSERT_OK(collection_->Upsert({&moved, 1}));
  const std::vector<std::string> gone = {"d1017"};
  ASSERT_OK(collection_->Delete(gone));
  Document left = documents_[2017];
  left.attributes["bucket"] = int64_t{18};
  ASSERT_OK(collection_->Upsert({&left, 1}));
  EXPECT_THAT(matching_ids(), ElementsAre("d17", "d5"));

  collection_.reset();
  db_.reset();
  ASSERT_OK_AND_ASSIGN(db_, Database::Open(dir_.string()));
  ASSERT_OK_AND_ASSIGN(collection_, db_->GetCollection("c"));
  EXPECT_THAT(matching_ids(), ElementsAre("d17", "d5"));
  ASSERT_OK_AND_ASSIGN(Filter tags, ParseFilter("tags CONTAINS 'seven'"));
  ASSERT_OK_AND_ASSIGN(SearchResponse response,
                       collection_->Search({.vector = documents_[0].vector, .filter = tags}));
  EXPECT_EQ(response.plan.estimated_candidates, (kDocuments + 6) / 7);
}

// Random conjunctions (the shapes value columns answer) against direct evaluation, on the whole
// matching set, through replacements with new values, deletes and reopening.
TEST_P(FilteredSearchTest, RandomConjunctionsMatchDirectEvaluationThroughWritesAndReopen) {
  std::mt19937 rng(11);
  const auto uniform = [&](int low, int high) {
    return std::uniform_int_distribution<int>(low, high)(rng);
  };
  const auto random_condition = [&]() -> std::string {
    const std::string b = std::to_string(uniform(-5, 1100));
    const std::string c = std::to_string(uniform(0, 1100));
    const std::string s = std::to_string(uniform(0, 100) / 10.0);
    switch (uniform(0, 12)) {
      case 0:
        return "bucket < " + b;
      case 1:
        return "bucket >= " + b;
      case 2:
        return "bucket BETWEEN " + b + " AND " + c;
      case 3:
        return "bucket IN (" + b + ", " + c + ", 7)";
      case 4:
        return "bucket != " + b;
      case 5:
        return "bucket = " + b;
      case 6:
        return "score < " + s;
      case 7:
        return "score >= " + s;
      case 8:
        return uniform(0, 1) ? "score IS NULL" : "score IS NOT NULL";
      case 9:
        return "score NOT IN (1.5, " + s + ")";
      case 10:
        return "tags CONTAINS 'seven'";
      case 11:
        return "NOT tags CONTAINS 'odd'";
      default:
        return "bucket < " + b + " OR score = " + s;
    }
  };
  std::map<std::string, Document> stored;
  for (const Document& d : documents_) stored[d.id] = d;
  const auto check = [&](const std::string& phase) {
    for (int trial = 0; trial < 40; ++trial) {
      std::string text = random_condition();
      for (int more = uniform(1, 2); more > 0; --more) text += " AND " + random_condition();
      ASSERT_OK_AND_ASSIGN(Filter filter, ParseFilter(text));
      std::vector<std::string> expected;
      for (const auto& [id, d] : stored) {
        if (db::Matches(filter, d.attributes)) expected.push_back(id);
      }
      ASSERT_OK_AND_ASSIGN(SearchResponse response,
                           collection_->Search({.vector = documents_[0].vector,
                                                .k = kDocuments,
                                                .filter = filter,
                                                .include_text = false,
                                                .include_attributes = false}));
      std::vector<std::string> ids;
      for (const SearchHit& hit : response.hits) ids.push_back(hit.id);
      std::sort(ids.begin(), ids.end());
      ASSERT_EQ(ids, expected) << phase << ": " << text;
      EXPECT_EQ(response.plan.matching_documents, static_cast<int64_t>(expected.size()));
    }
  };
  check("as loaded");

  // Replacements with new values (new value slots, some scores removed) and deletes.
  std::vector<Document> replaced;
  std::vector<std::string> deleted;
  for (int i = 0; i < kDocuments; ++i) {
    const std::string id = "d" + std::to_string(i);
    const int dice = uniform(0, 9);
    if (dice == 0) {
      deleted.push_back(id);
      stored.erase(id);
    } else if (dice <= 2) {
      Document d = stored[id];
      d.attributes["bucket"] = int64_t{uniform(900, 1100)};
      if (dice == 1) {
        d.attributes.erase("score");
      } else {
        d.attributes["score"] = uniform(0, 1000) / 100.0;
      }
      stored[id] = d;
      replaced.push_back(std::move(d));
    }
  }
  ASSERT_OK(collection_->Upsert(replaced));
  ASSERT_OK(collection_->Delete(deleted));
  check("after writes");

  collection_.reset();
  db_.reset();
  ASSERT_OK_AND_ASSIGN(db_, Database::Open(dir_.string()));
  ASSERT_OK_AND_ASSIGN(collection_, db_->GetCollection("c"));
  check("after reopening");
}

INSTANTIATE_TEST_SUITE_P(AllIndexKinds, FilteredSearchTest,
                         ::testing::Values(IndexKind::kFlat, IndexKind::kHnsw, IndexKind::kIvf),
                         [](const auto& info) { return std::string(IndexKindName(info.param)); });

}  // namespace
}  // namespace ember
