// SearchRequest::group_by: one hit per value of an attribute, the nearest of each group.
#include <string>
#include <vector>

#include "ember/ember.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "status_matchers.h"
#include "temp_dir.h"

namespace ember {
namespace {

using ::ember::testing::IsOk;
using ::ember::testing::StatusIs;
using ::testing::ElementsAre;

std::vector<std::string> HitIds(const SearchResponse& response) {
  std::vector<std::string> ids;
  for (const SearchHit& hit : response.hits) ids.push_back(hit.id);
  return ids;
}

class GroupByTest : public ::testing::TestWithParam<IndexKind> {
 protected:
  void SetUp() override {
    ASSERT_OK_AND_ASSIGN(db_, Database::Open(dir_.path() + "/db"));
    CollectionSpec spec{.name = "chunks", .dimension = 2, .metric = Metric::kL2};
    spec.index.kind = GetParam();
    spec.index.ivf.nlist = 1;
    spec.index.ivf.nprobe = 1;
    spec.attributes = {{.name = "parent_id", .type = AttributeType::kString}};
    ASSERT_OK_AND_ASSIGN(collection_, db_->CreateCollection(spec));
    // Along the x axis, nearest to the query at 0 first: three chunks of A, then B, a document
    // without a parent, more of A and B, then C.
    const std::vector<std::pair<std::string, std::string>> documents = {
        {"a#0", "A"}, {"a#1", "A"}, {"a#2", "A"}, {"b#0", "B"}, {"lone", ""},
        {"a#3", "A"}, {"b#1", "B"}, {"c#0", "C"}};
    std::vector<Document> batch;
    for (size_t i = 0; i < documents.size(); ++i) {
      Document document{.id = documents[i].first,
                        .vector = {static_cast<float>(i + 1), 0.0f}};
      if (!documents[i].second.empty()) document.attributes["parent_id"] = documents[i].second;
      batch.push_back(std::move(document));
    }
    ASSERT_THAT(collection_->Upsert(batch), IsOk());
  }

  ember::testing::TempDir dir_;
  std::unique_ptr<Database> db_;
  std::shared_ptr<Collection> collection_;
};

TEST_P(GroupByTest, ReturnsTheNearestDocumentOfEachGroup) {
  ASSERT_OK_AND_ASSIGN(SearchResponse response,
                       collection_->Search({.vector = {0, 0}, .k = 3, .group_by = "parent_id"}));
  EXPECT_THAT(HitIds(response), ElementsAre("a#0", "b#0", "lone"));
  // k larger than the groups: every group once, in order of their best document.
  ASSERT_OK_AND_ASSIGN(response,
                       collection_->Search({.vector = {0, 0}, .k = 10, .group_by = "parent_id"}));
  EXPECT_THAT(HitIds(response), ElementsAre("a#0", "b#0", "lone", "c#0"));
  // With a filter, groups form among the matches.
  ASSERT_OK_AND_ASSIGN(response, collection_->Search({.vector = {0, 0},
                                                      .k = 2,
                                                      .filter = Filter::Ne("parent_id", "A"),
                                                      .group_by = "parent_id"}));
  EXPECT_THAT(HitIds(response), ElementsAre("b#0", "c#0"));
  // Without grouping, the chunks of A come first.
  ASSERT_OK_AND_ASSIGN(response, collection_->Search({.vector = {0, 0}, .k = 3}));
  EXPECT_THAT(HitIds(response), ElementsAre("a#0", "a#1", "a#2"));
}

INSTANTIATE_TEST_SUITE_P(AllIndexKinds, GroupByTest,
                         ::testing::Values(IndexKind::kFlat, IndexKind::kHnsw, IndexKind::kIvf),
                         [](const auto& info) { return std::string(IndexKindName(info.param)); });

}  // namespace
}  // namespace ember
