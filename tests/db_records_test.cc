#include "db/records.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "status_matchers.h"

namespace ember::db {
namespace {

using ::ember::testing::StatusIs;

Document SampleDocument() {
  return Document{
      .id = "doc-1",
      .text = std::string("hello\0world", 11),
      .attributes = {{"flag", true},
                     {"count", int64_t{-42}},
                     {"score", 2.5},
                     {"title", std::string("Ember")},
                     {"tags", std::vector<std::string>{"a", "", "c"}},
                     {"missing", std::monostate{}}},
  };
}

TEST(DocumentRecordTest, RoundTripsEveryValueType) {
  const Document document = SampleDocument();
  ASSERT_OK_AND_ASSIGN(Document decoded, DecodeDocument(EncodeDocument(document)));
  EXPECT_EQ(decoded, document);
}

TEST(DocumentRecordTest, RoundTripsAbsentText) {
  Document document{.id = "x"};
  ASSERT_OK_AND_ASSIGN(Document decoded, DecodeDocument(EncodeDocument(document)));
  EXPECT_FALSE(decoded.text.has_value());
}

TEST(DocumentRecordTest, EveryTruncationIsDataLoss) {
  const std::string record = EncodeDocument(SampleDocument());
  for (size_t size = 0; size < record.size(); ++size) {
    EXPECT_THAT(DecodeDocument(record.substr(0, size)), StatusIs(absl::StatusCode::kDataLoss))
        << "truncated to " << size;
  }
  EXPECT_THAT(DecodeDocument(record + "x"), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(VectorRecordTest, RoundTripsAndChecksDimension) {
  const std::vector<float> vector = {1.5f, -2.0f, 0.0f};
  const std::string record = EncodeVector(vector);
  std::vector<float> decoded;
  ASSERT_OK(DecodeVector(record, 3, &decoded));
  EXPECT_EQ(decoded, vector);
  EXPECT_THAT(DecodeVector(record, 4, &decoded), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(ChangeRecordTest, RoundTripsAndRejectsUnknownOps) {
  ASSERT_OK_AND_ASSIGN(ChangeRecord change, DecodeChange(EncodeChange({ChangeOp::kDelete, 77})));
  EXPECT_EQ(change.op, ChangeOp::kDelete);
  EXPECT_EQ(change.label, 77);
  std::string record = EncodeChange({ChangeOp::kUpsert, 1});
  record[0] = 9;
  EXPECT_THAT(DecodeChange(record), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(CountersRecordTest, RoundTrips) {
  const CollectionCounters counters{
      .next_label = 10, .last_sequence = 20, .document_count = 5, .truncated_through = 15};
  ASSERT_OK_AND_ASSIGN(CollectionCounters decoded, DecodeCounters(EncodeCounters(counters)));
  EXPECT_EQ(decoded.next_label, 10u);
  EXPECT_EQ(decoded.last_sequence, 20u);
  EXPECT_EQ(decoded.document_count, 5u);
  EXPECT_EQ(decoded.truncated_through, 15u);
  EXPECT_THAT(DecodeCounters("short"), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(KeysTest, KeysOfOneCollectionShareItsPrefixAndSortByLabel) {
  EXPECT_TRUE(DocumentKey(7, 5).starts_with(CollectionPrefix(7)));
  EXPECT_TRUE(IdKey(7, "abc").starts_with(CollectionPrefix(7)));
  EXPECT_LT(DocumentKey(7, 255), DocumentKey(7, 256));
  EXPECT_LT(DocumentKey(7, 1LL << 40), DocumentKey(8, 0));
  uint64_t suffix = 0;
  ASSERT_TRUE(DecodeKeySuffix(ChangeKey(3, 123456789), &suffix));
  EXPECT_EQ(suffix, 123456789u);
}

}  // namespace
}  // namespace ember::db
