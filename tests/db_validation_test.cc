#include "db/validation.h"

#include <cmath>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ember/options.h"
#include "status_matchers.h"

namespace ember {
namespace {

using ::ember::testing::IsOk;
using ::ember::testing::StatusIs;
using ::testing::HasSubstr;

CollectionSpec ValidSpec() { return {.name = "docs", .dimension = 4}; }

TEST(CollectionSpecTest, DefaultsAreValid) { EXPECT_OK(ValidateCollectionSpec(ValidSpec())); }

TEST(CollectionSpecTest, EachInvalidFieldIsNamed) {
  struct Case {
    std::function<void(CollectionSpec&)> change;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](CollectionSpec& s) { s.name = ""; }, "name"},
      {[](CollectionSpec& s) { s.name = ".hidden"; }, "name"},
      {[](CollectionSpec& s) { s.name = "a/b"; }, "name"},
      {[](CollectionSpec& s) { s.name = std::string(129, 'a'); }, "name"},
      {[](CollectionSpec& s) { s.dimension = 0; }, "dimension"},
      {[](CollectionSpec& s) { s.dimension = 65537; }, "dimension"},
      {[](CollectionSpec& s) { s.metric = static_cast<Metric>(9); }, "metric"},
      {[](CollectionSpec& s) { s.index.hnsw.m = 0; }, "hnsw.m"},
      {[](CollectionSpec& s) { s.index.hnsw.ef_construction = 1; }, "hnsw.ef_construction"},
      {[](CollectionSpec& s) { s.index.hnsw.ef_search = 0; }, "hnsw.ef_search"},
      {[](CollectionSpec& s) {
         s.index.kind = IndexKind::kIvf;
         s.index.ivf.nlist = 0;
       },
       "ivf.nlist"},
      {[](CollectionSpec& s) {
         s.index.kind = IndexKind::kIvf;
         s.index.ivf.nlist = 8;
         s.index.ivf.nprobe = 9;
       },
       "ivf.nprobe"},
      {[](CollectionSpec& s) { s.index.kind = static_cast<IndexKind>(7); }, "index kind"},
  };
  for (const Case& c : cases) {
    CollectionSpec spec = ValidSpec();
    c.change(spec);
    EXPECT_THAT(ValidateCollectionSpec(spec),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.field)));
  }
}

TEST(NamesTest, ParseInvertsName) {
  for (Metric m : {Metric::kCosine, Metric::kInnerProduct, Metric::kL2}) {
    EXPECT_EQ(*ParseMetric(MetricName(m)), m);
  }
  for (IndexKind k : {IndexKind::kFlat, IndexKind::kHnsw, IndexKind::kIvf}) {
    EXPECT_EQ(*ParseIndexKind(IndexKindName(k)), k);
  }
  for (AttributeType t : {AttributeType::kBool, AttributeType::kInt, AttributeType::kDouble,
                          AttributeType::kString, AttributeType::kStringList}) {
    EXPECT_EQ(*ParseAttributeType(AttributeTypeName(t)), t);
  }
  EXPECT_THAT(ParseMetric("euclid"), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("l2")));
  EXPECT_THAT(ParseIndexKind("lsh"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(DocumentIdTest, RejectsEmptyOverlongAndInvalidUtf8) {
  EXPECT_OK(db::ValidateDocumentId("ok"));
  EXPECT_OK(db::ValidateDocumentId("naïve-文字-😀"));
  EXPECT_OK(db::ValidateDocumentId(std::string(kMaxDocumentIdBytes, 'x')));
  EXPECT_THAT(db::ValidateDocumentId(""), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(db::ValidateDocumentId(std::string(kMaxDocumentIdBytes + 1, 'x')),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1025")));
  for (std::string bad : {"\xff", "\xc0\x80", "\xed\xa0\x80", "abc\xe2\x82", "\xf4\x90\x80\x80"}) {
    EXPECT_THAT(db::ValidateDocumentId(bad), StatusIs(absl::StatusCode::kInvalidArgument))
        << ::testing::PrintToString(bad);
  }
}

TEST(DocumentsTest, ErrorNamesPositionIdAndReason) {
  const CollectionSpec spec{.name = "c", .dimension = 2};
  std::vector<Document> documents = {
      {.id = "a", .vector = {1, 2}},
      {.id = "b", .vector = {1, NAN}},
  };
  EXPECT_THAT(db::ValidateDocuments(documents, spec),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       ::testing::AllOf(HasSubstr("document 1"), HasSubstr("\"b\""),
                                        HasSubstr("component 1"))));
  documents[1] = {.id = "a", .vector = {1, 2}};
  EXPECT_THAT(db::ValidateDocuments(documents, spec),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("earlier in this batch")));
  documents[1] = {.id = "b", .vector = {1, 2, 3}};
  EXPECT_THAT(db::ValidateDocuments(documents, spec),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("3 components")));
  documents[1] = {.id = "b", .attributes = {{"x", INFINITY}}, .vector = {1, 2}};
  EXPECT_THAT(db::ValidateDocuments(documents, spec),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"x\"")));
  documents[1] = {.id = "b", .attributes = {{"", int64_t{1}}}, .vector = {1, 2}};
  EXPECT_THAT(db::ValidateDocuments(documents, spec), StatusIs(absl::StatusCode::kInvalidArgument));
  documents[1] = {.id = "b", .vector = {1, 2}};
  EXPECT_THAT(db::ValidateDocuments(documents, spec), IsOk());
}

TEST(DocumentsTest, DeclaredAttributesMustHaveTheirType) {
  const CollectionSpec spec{.name = "c",
                            .dimension = 1,
                            .attributes = {{"year", AttributeType::kInt},
                                           {"price", AttributeType::kDouble},
                                           {"tags", AttributeType::kStringList}}};
  std::vector<Document> documents = {{.id = "a",
                                      .attributes = {{"year", int64_t{2020}},
                                                     {"price", int64_t{3}},
                                                     {"tags", std::monostate{}},
                                                     {"free", std::string("any")}},
                                      .vector = {1}}};
  EXPECT_OK(db::ValidateDocuments(documents, spec));
  documents[0].attributes["year"] = 2020.5;
  EXPECT_THAT(db::ValidateDocuments(documents, spec),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("attribute \"year\" is declared int but is double")));
  documents[0].attributes["year"] = int64_t{1};
  documents[0].attributes["tags"] = std::string("solo");
  EXPECT_THAT(db::ValidateDocuments(documents, spec),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("declared list")));
}

TEST(CollectionSpecTest, AttributeDeclarationsAreChecked) {
  CollectionSpec spec = ValidSpec();
  spec.attributes = {{"a", AttributeType::kInt}, {"a", AttributeType::kString}};
  EXPECT_THAT(ValidateCollectionSpec(spec),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("declared twice")));
  spec.attributes = {{"", AttributeType::kInt}};
  EXPECT_THAT(ValidateCollectionSpec(spec), StatusIs(absl::StatusCode::kInvalidArgument));
  spec.attributes = {{"a", static_cast<AttributeType>(0)}};
  EXPECT_THAT(ValidateCollectionSpec(spec),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("unknown type")));
}

TEST(SearchRequestTest, RejectsBadKAndVector) {
  SearchRequest request{.vector = {1, 2}};
  EXPECT_OK(db::ValidateSearchRequest(request, 2));
  request.k = 0;
  EXPECT_THAT(db::ValidateSearchRequest(request, 2), StatusIs(absl::StatusCode::kInvalidArgument));
  request.k = kMaxSearchK + 1;
  EXPECT_THAT(db::ValidateSearchRequest(request, 2), StatusIs(absl::StatusCode::kInvalidArgument));
  request.k = 10;
  request.ef_search = -1;
  EXPECT_THAT(db::ValidateSearchRequest(request, 2), StatusIs(absl::StatusCode::kInvalidArgument));
  request.ef_search = 0;
  request.vector = {1};
  EXPECT_THAT(db::ValidateSearchRequest(request, 2),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("query vector")));
  request.vector = {1, INFINITY};
  EXPECT_THAT(db::ValidateSearchRequest(request, 2), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace ember
