#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <vector>

#include "index/flat_index.h"
#include "index_test_data.h"
#include "status_matchers.h"

namespace ember::index {
namespace {

using ::ember::index::testing::BruteForce;
using ::ember::index::testing::LabelsOf;
using ::ember::index::testing::RandomVectors;
using ::ember::index::testing::SetFilter;
using ::ember::index::testing::SparseLabels;
using ::ember::index::testing::SpecOf;
using ::ember::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr int kDim = 24;

void ExpectSameNeighbors(const std::vector<Neighbor>& actual,
                         const std::vector<Neighbor>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_EQ(actual[i].label, expected[i].label) << "rank " << i;
    EXPECT_NEAR(actual[i].distance, expected[i].distance, 1e-4) << "rank " << i;
  }
}

class FlatIndexMetricTest : public ::testing::TestWithParam<Metric> {};

TEST_P(FlatIndexMetricTest, MatchesBruteForce) {
  const Metric metric = GetParam();
  ASSERT_OK_AND_ASSIGN(auto index, VectorIndex::Create(kDim, metric, SpecOf(IndexKind::kFlat)));
  const std::vector<Label> labels = SparseLabels(500);
  // Scale rows differently so cosine and inner product rank differently.
  std::vector<float> vectors = RandomVectors(labels.size(), kDim, 1);
  for (size_t row = 0; row < labels.size(); ++row) {
    for (int i = 0; i < kDim; ++i) vectors[row * kDim + i] *= 1.0f + static_cast<float>(row % 7);
  }
  ASSERT_OK(index->Add(labels, vectors));
  const std::vector<float> queries = RandomVectors(20, kDim, 2);
  for (int q = 0; q < 20; ++q) {
    std::span<const float> query(queries.data() + q * kDim, kDim);
    ASSERT_OK_AND_ASSIGN(auto found, index->Search(query, {.k = 10}));
    ExpectSameNeighbors(found, BruteForce(metric, kDim, labels, vectors, query, 10));
  }
}

TEST_P(FlatIndexMetricTest, FilteredSearchIsExactOverMembers) {
  const Metric metric = GetParam();
  ASSERT_OK_AND_ASSIGN(auto index, VectorIndex::Create(kDim, metric, SpecOf(IndexKind::kFlat)));
  const std::vector<Label> labels = SparseLabels(400);
  const std::vector<float> vectors = RandomVectors(labels.size(), kDim, 3);
  ASSERT_OK(index->Add(labels, vectors));
  std::set<Label> members;
  for (size_t i = 0; i < labels.size(); i += 17) members.insert(labels[i]);  // 24 members
  SetFilter filter(members);
  const std::vector<float> query = RandomVectors(1, kDim, 4);
  ASSERT_OK_AND_ASSIGN(auto found, index->Search(query, {.k = 10, .filter = &filter}));
  for (const Neighbor& n : found) EXPECT_TRUE(members.count(n.label));
  ExpectSameNeighbors(found, BruteForce(metric, kDim, labels, vectors, query, 10, &filter));
  // Asking for more than the members returns exactly the members.
  ASSERT_OK_AND_ASSIGN(auto all, index->Search(query, {.k = 100, .filter = &filter}));
  EXPECT_EQ(all.size(), members.size());
}

INSTANTIATE_TEST_SUITE_P(AllMetrics, FlatIndexMetricTest,
                         ::testing::Values(Metric::kL2, Metric::kInnerProduct, Metric::kCosine));

TEST(FlatIndexTest, CosineReportsCosineSimilarity) {
  ASSERT_OK_AND_ASSIGN(auto index,
                       VectorIndex::Create(2, Metric::kCosine, SpecOf(IndexKind::kFlat)));
  const std::vector<Label> labels = {5, 6};
  const std::vector<float> vectors = {3, 0, 10, 10};
  ASSERT_OK(index->Add(labels, vectors));
  const std::vector<float> query = {2, 0};
  ASSERT_OK_AND_ASSIGN(auto found, index->Search(query, {.k = 2}));
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].label, 5);
  EXPECT_NEAR(found[0].distance, 1.0, 1e-6);
  EXPECT_EQ(found[1].label, 6);
  EXPECT_NEAR(found[1].distance, std::sqrt(0.5), 1e-6);
}

TEST(FlatIndexTest, RemovedLabelsAreNeverReturned) {
  ASSERT_OK_AND_ASSIGN(auto index,
                       VectorIndex::Create(kDim, Metric::kL2, SpecOf(IndexKind::kFlat)));
  const std::vector<Label> labels = SparseLabels(200);
  const std::vector<float> vectors = RandomVectors(labels.size(), kDim, 5);
  ASSERT_OK(index->Add(labels, vectors));
  std::vector<Label> removed;
  for (size_t i = 0; i < labels.size(); i += 3) removed.push_back(labels[i]);
  removed.push_back(424242);  // absent: ignored
  ASSERT_OK(index->Remove(removed));
  EXPECT_EQ(index->Stats().live_vectors, 200 - 67);
  for (size_t i = 0; i < labels.size(); ++i) EXPECT_EQ(index->Contains(labels[i]), i % 3 != 0);
  // Searching at each removed vector's position finds other labels only.
  for (size_t i = 0; i < labels.size(); i += 3) {
    std::span<const float> query(vectors.data() + i * kDim, kDim);
    ASSERT_OK_AND_ASSIGN(auto found, index->Search(query, {.k = 200}));
    EXPECT_EQ(found.size(), 133u);
    for (const Neighbor& n : found) EXPECT_NE(n.label, labels[i]);
  }
}

TEST(FlatIndexTest, AddingAnExistingLabelReplacesIt) {
  ASSERT_OK_AND_ASSIGN(auto index, VectorIndex::Create(2, Metric::kL2, SpecOf(IndexKind::kFlat)));
  ASSERT_OK(index->Add(std::vector<Label>{1, 2}, std::vector<float>{0, 0, 10, 10}));
  ASSERT_OK(index->Add(std::vector<Label>{1}, std::vector<float>{20, 20}));
  EXPECT_EQ(index->Stats().live_vectors, 2);
  ASSERT_OK_AND_ASSIGN(auto found, index->Search(std::vector<float>{20, 20}, {.k = 2}));
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].label, 1);
  EXPECT_FLOAT_EQ(found[0].distance, 0);
  EXPECT_EQ(found[1].label, 2);
  EXPECT_FLOAT_EQ(found[1].distance, 200);
}

TEST(FlatIndexTest, LaterRowWinsWithinABatch) {
  ASSERT_OK_AND_ASSIGN(auto index, VectorIndex::Create(1, Metric::kL2, SpecOf(IndexKind::kFlat)));
  ASSERT_OK(index->Add(std::vector<Label>{7, 8, 7}, std::vector<float>{1, 2, 3}));
  EXPECT_EQ(index->Stats().live_vectors, 2);
  ASSERT_OK_AND_ASSIGN(auto found, index->Search(std::vector<float>{3}, {.k = 1}));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].label, 7);
  EXPECT_FLOAT_EQ(found[0].distance, 0);
}

TEST(FlatIndexTest, EmptyIndexAndLargeK) {
  ASSERT_OK_AND_ASSIGN(auto index, VectorIndex::Create(2, Metric::kL2, SpecOf(IndexKind::kFlat)));
  ASSERT_OK_AND_ASSIGN(auto none, index->Search(std::vector<float>{0, 0}, {.k = 5}));
  EXPECT_THAT(none, IsEmpty());
  ASSERT_OK(index->Add(std::vector<Label>{-1, 9, 4}, std::vector<float>{1, 0, 3, 0, 2, 0}));
  ASSERT_OK_AND_ASSIGN(auto all, index->Search(std::vector<float>{0, 0}, {.k = 1000}));
  EXPECT_THAT(LabelsOf(all), ElementsAre(-1, 4, 9));
  ASSERT_OK(index->Remove(std::vector<Label>{-1, 9, 4}));
  ASSERT_OK_AND_ASSIGN(auto emptied, index->Search(std::vector<float>{0, 0}, {.k = 5}));
  EXPECT_THAT(emptied, IsEmpty());
}

TEST(FlatIndexTest, RejectsBadInputAndChangesNothing) {
  ASSERT_OK_AND_ASSIGN(auto index, VectorIndex::Create(2, Metric::kL2, SpecOf(IndexKind::kFlat)));
  EXPECT_THAT(index->Add(std::vector<Label>{1, 2}, std::vector<float>{1, 2, 3}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THAT(index->Add(std::vector<Label>{1, 2}, std::vector<float>{1, 2, 3, nan}),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("2")));
  EXPECT_EQ(index->Stats().live_vectors, 0);
  EXPECT_FALSE(index->Contains(1));
  EXPECT_THAT(index->Search(std::vector<float>{1, 2, 3}, {.k = 1}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(index->Search(std::vector<float>{1, 2}, {.k = 0}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(index->Search(std::vector<float>{1, nan}, {.k = 1}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(VectorIndexCreateTest, RejectsInvalidArguments) {
  EXPECT_THAT(VectorIndex::Create(0, Metric::kL2, SpecOf(IndexKind::kFlat)),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("dimension")));
  IndexSpec hnsw = SpecOf(IndexKind::kHnsw);
  hnsw.hnsw.m = 1;
  EXPECT_THAT(VectorIndex::Create(8, Metric::kL2, hnsw),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("hnsw.m")));
  hnsw = SpecOf(IndexKind::kHnsw);
  hnsw.hnsw.ef_search = 0;
  EXPECT_THAT(VectorIndex::Create(8, Metric::kL2, hnsw),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("ef_search")));
  IndexSpec ivf = SpecOf(IndexKind::kIvf);
  ivf.ivf.nprobe = ivf.ivf.nlist + 1;
  EXPECT_THAT(VectorIndex::Create(8, Metric::kL2, ivf),
              StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("ivf.nprobe")));
  EXPECT_THAT(VectorIndex::Create(8, static_cast<Metric>(9), SpecOf(IndexKind::kFlat)),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(VectorIndex::Create(8, Metric::kL2, SpecOf(static_cast<IndexKind>(7))),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace ember::index
