#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>

#include "db/validation.h"
#include "ember/options.h"
#include "status_matchers.h"

namespace ember {
namespace {

using ::ember::testing::IsOk;
using ::ember::testing::IsOkAndHolds;
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

TEST(SearchRequestTest, RejectsBadKEffortAndFusion) {
  SearchRequest request{.vector = {1, 2}};
  EXPECT_OK(db::ValidateSearchRequest(request));
  request.k = 0;
  EXPECT_THAT(db::ValidateSearchRequest(request), StatusIs(absl::StatusCode::kInvalidArgument));
  request.k = kMaxSearchK + 1;
  EXPECT_THAT(db::ValidateSearchRequest(request), StatusIs(absl::StatusCode::kInvalidArgument));
  request.k = 10;
  request.ef_search = -1;
  EXPECT_THAT(db::ValidateSearchRequest(request), StatusIs(absl::StatusCode::kInvalidArgument));
  request.ef_search = 0;
  request.fusion.vector_weight = 1.5;
  EXPECT_THAT(db::ValidateSearchRequest(request),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("fusion.vector_weight")));
  request.fusion.vector_weight = NAN;
  EXPECT_THAT(db::ValidateSearchRequest(request), StatusIs(absl::StatusCode::kInvalidArgument));
  request.fusion.vector_weight = 1;
  request.fusion.rank_constant = -1;
  EXPECT_THAT(db::ValidateSearchRequest(request),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("fusion.rank_constant")));
  request.fusion.rank_constant = 0;
  request.fusion.depth = kMaxSearchK + 1;
  EXPECT_THAT(db::ValidateSearchRequest(request),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("fusion.depth")));
  request.fusion.depth = 0;
  EXPECT_OK(db::ValidateSearchRequest(request));
}

TEST(QueryVectorTest, RejectsWrongDimensionAndNonFinite) {
  EXPECT_OK(db::ValidateVector(std::vector<float>{1, 2}, 2, "query vector"));
  EXPECT_THAT(db::ValidateVector(std::vector<float>{1}, 2, "query vector"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("query vector")));
  EXPECT_THAT(db::ValidateVector(std::vector<float>{1, INFINITY}, 2, "query vector"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(FullTextSpecTest, RejectsBadParametersStemmersAndAttributes) {
  CollectionSpec spec{.name = "c", .dimension = 0};
  // Dimension 0 without an encoder is a text-only collection, which needs the full-text index.
  EXPECT_THAT(ValidateCollectionSpec(spec),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("dimension")));
  spec.full_text.enabled = true;
  EXPECT_OK(ValidateCollectionSpec(spec));
  spec.full_text.k1 = -0.5;
  EXPECT_THAT(ValidateCollectionSpec(spec),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("full_text.k1")));
  spec.full_text.k1 = 1.2;
  spec.full_text.b = 1.01;
  EXPECT_THAT(ValidateCollectionSpec(spec),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("full_text.b")));
  spec.full_text.b = 0.75;
  spec.full_text.stemmer = "klingon";
  EXPECT_THAT(ValidateCollectionSpec(spec),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("klingon")));
  spec.full_text.stemmer = "none";
  EXPECT_OK(ValidateCollectionSpec(spec));
  spec.attributes = {{"title", AttributeType::kString},
                     {"tags", AttributeType::kStringList},
                     {"year", AttributeType::kInt}};
  spec.full_text.attributes = {"title", "tags"};
  EXPECT_OK(ValidateCollectionSpec(spec));
  spec.full_text.attributes = {"title", "year"};
  EXPECT_THAT(ValidateCollectionSpec(spec),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"year\"")));
  spec.full_text.attributes = {"subtitle"};
  EXPECT_THAT(ValidateCollectionSpec(spec), StatusIs(absl::StatusCode::kInvalidArgument));
  spec.full_text.attributes = {"title", "title"};
  EXPECT_THAT(ValidateCollectionSpec(spec),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("twice")));
  spec.full_text.attributes = {"title"};
  spec.full_text.enabled = false;
  spec.dimension = 4;
  EXPECT_THAT(ValidateCollectionSpec(spec),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not enabled")));
}

TEST(SearchModeTest, NamesRoundTrip) {
  for (SearchMode mode :
       {SearchMode::kAuto, SearchMode::kVector, SearchMode::kText, SearchMode::kHybrid}) {
    EXPECT_THAT(ParseSearchMode(SearchModeName(mode)), IsOkAndHolds(mode));
  }
  EXPECT_THAT(ParseSearchMode("bm25"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("vector, text or hybrid")));
  for (FusionMethod method : {FusionMethod::kReciprocalRank, FusionMethod::kWeighted}) {
    EXPECT_THAT(ParseFusionMethod(FusionMethodName(method)), IsOkAndHolds(method));
  }
  EXPECT_THAT(ParseFusionMethod("max"), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace ember
