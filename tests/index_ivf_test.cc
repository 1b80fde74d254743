#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "index/ivf_index.h"
#include "index_test_data.h"
#include "status_matchers.h"

namespace ember::index {
namespace {

using ::ember::index::testing::BruteForce;
using ::ember::index::testing::LabelsOf;
using ::ember::index::testing::RandomVectors;
using ::ember::index::testing::Recall;
using ::ember::index::testing::SetFilter;
using ::ember::index::testing::SparseLabels;
using ::ember::index::testing::SpecOf;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr int kDim = 16;
constexpr int kLists = 16;
constexpr int64_t kThreshold = IvfIndex::kTrainingPointsPerList * kLists;  // 624

IndexSpec IvfSpec() {
  IndexSpec spec = SpecOf(IndexKind::kIvf);
  spec.ivf.nlist = kLists;
  spec.ivf.nprobe = 4;
  return spec;
}

void ExpectSameNeighbors(const std::vector<Neighbor>& actual,
                         const std::vector<Neighbor>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_EQ(actual[i].label, expected[i].label) << "rank " << i;
    EXPECT_NEAR(actual[i].distance, expected[i].distance, 1e-4) << "rank " << i;
  }
}

class IvfIndexMetricTest : public ::testing::TestWithParam<Metric> {};

TEST_P(IvfIndexMetricTest, ExactUntilTrainedThenHighRecall) {
  const Metric metric = GetParam();
  ASSERT_OK_AND_ASSIGN(auto index, VectorIndex::Create(kDim, metric, IvfSpec()));
  const std::vector<Label> labels = SparseLabels(3000);
  const std::vector<float> vectors = RandomVectors(labels.size(), kDim, 1);
  const std::vector<float> queries = RandomVectors(30, kDim, 2);

  // Below the threshold: untrained, exact.
  const size_t before = kThreshold - 1;
  ASSERT_OK(index->Add(std::span(labels).first(before), std::span(vectors).first(before * kDim)));
  EXPECT_FALSE(index->Stats().trained);
  std::span<const Label> held_labels = std::span(labels).first(before);
  std::span<const float> held_vectors = std::span(vectors).first(before * kDim);
  for (int q = 0; q < 30; ++q) {
    std::span<const float> query(queries.data() + q * kDim, kDim);
    ASSERT_OK_AND_ASSIGN(auto found, index->Search(query, {.k = 10}));
    ExpectSameNeighbors(found, BruteForce(metric, kDim, held_labels, held_vectors, query, 10));
  }

  // Reaching the threshold trains and moves everything into the lists.
  ASSERT_OK(
      index->Add(std::span(labels).subspan(before), std::span(vectors).subspan(before * kDim)));
  EXPECT_TRUE(index->Stats().trained);
  EXPECT_EQ(index->Stats().live_vectors, 3000);
  for (const Label label : labels) ASSERT_TRUE(index->Contains(label));
  double recall_default = 0;
  for (int q = 0; q < 30; ++q) {
    std::span<const float> query(queries.data() + q * kDim, kDim);
    const auto exact = BruteForce(metric, kDim, labels, vectors, query, 10);
    // Probing every list is exhaustive: exact.
    ASSERT_OK_AND_ASSIGN(auto all_lists, index->Search(query, {.k = 10, .nprobe = kLists}));
    ExpectSameNeighbors(all_lists, exact);
    ASSERT_OK_AND_ASSIGN(auto found, index->Search(query, {.k = 10}));
    recall_default += Recall(found, exact);
  }
  EXPECT_GE(recall_default / 30, 0.6);  // 4 of 16 lists on uniform random data
}

INSTANTIATE_TEST_SUITE_P(AllMetrics, IvfIndexMetricTest,
                         ::testing::Values(Metric::kL2, Metric::kInnerProduct, Metric::kCosine));

class TrainedIvfIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    labels_ = SparseLabels(2000);
    vectors_ = RandomVectors(labels_.size(), kDim, 3);
    auto created = VectorIndex::Create(kDim, Metric::kL2, IvfSpec());
    ASSERT_OK(created.status());
    index_ = std::move(created).value();
    ASSERT_OK(index_->Add(labels_, vectors_));
    ASSERT_TRUE(index_->Stats().trained);
  }
  std::vector<Label> labels_;
  std::vector<float> vectors_;
  std::unique_ptr<VectorIndex> index_;
};

TEST_F(TrainedIvfIndexTest, RemovedLabelsAreNeverReturned) {
  std::vector<Label> removed;
  std::set<Label> removed_set;
  for (size_t i = 0; i < labels_.size(); i += 3) {
    removed.push_back(labels_[i]);
    removed_set.insert(labels_[i]);
  }
  removed.push_back(31337);  // absent: ignored
  ASSERT_OK(index_->Remove(removed));
  EXPECT_EQ(index_->Stats().live_vectors, 2000 - 667);
  for (size_t i = 0; i < labels_.size(); ++i) EXPECT_EQ(index_->Contains(labels_[i]), i % 3 != 0);
  for (size_t i = 0; i < labels_.size(); i += 3) {
    ASSERT_OK_AND_ASSIGN(auto found,
                         index_->Search(std::span<const float>(vectors_.data() + i * kDim, kDim),
                                        {.k = 20, .nprobe = kLists}));
    EXPECT_EQ(found.size(), 20u);
    for (const Neighbor& n : found) EXPECT_FALSE(removed_set.count(n.label));
  }
}

TEST_F(TrainedIvfIndexTest, AddingAnExistingLabelReplacesIt) {
  const Label label = labels_[10];
  const std::vector<float> far(kDim, 4.0f);
  ASSERT_OK(index_->Add(std::vector<Label>{label, label}, [&] {
    std::vector<float> rows(kDim, -4.0f);  // first row loses to the second
    rows.insert(rows.end(), far.begin(), far.end());
    return rows;
  }()));
  EXPECT_EQ(index_->Stats().live_vectors, 2000);
  ASSERT_OK_AND_ASSIGN(auto found, index_->Search(far, {.k = 1, .nprobe = kLists}));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].label, label);
  EXPECT_FLOAT_EQ(found[0].distance, 0.0f);
  ASSERT_OK_AND_ASSIGN(auto old_place,
                       index_->Search(std::span<const float>(vectors_.data() + 10 * kDim, kDim),
                                      {.k = 3, .nprobe = kLists}));
  for (const Neighbor& n : old_place) EXPECT_NE(n.label, label);
}

TEST_F(TrainedIvfIndexTest, FilteredSearchReturnsOnlyMembers) {
  std::set<Label> members;
  for (size_t i = 0; i < labels_.size(); i += 10) members.insert(labels_[i]);
  SetFilter filter(members);
  const std::vector<float> query = RandomVectors(1, kDim, 4);
  ASSERT_OK_AND_ASSIGN(auto found,
                       index_->Search(query, {.k = 10, .nprobe = kLists, .filter = &filter}));
  const auto exact = BruteForce(Metric::kL2, kDim, labels_, vectors_, query, 10, &filter);
  EXPECT_EQ(LabelsOf(found), LabelsOf(exact));
  ASSERT_OK_AND_ASSIGN(auto probed, index_->Search(query, {.k = 10, .filter = &filter}));
  for (const Neighbor& n : probed) EXPECT_TRUE(members.count(n.label));
}

TEST_F(TrainedIvfIndexTest, LargeKAndEmptiedIndex) {
  ASSERT_OK_AND_ASSIGN(
      auto all, index_->Search(std::vector<float>(kDim, 0.0f), {.k = 5000, .nprobe = kLists}));
  EXPECT_EQ(all.size(), 2000u);
  ASSERT_OK(index_->Remove(labels_));
  ASSERT_OK_AND_ASSIGN(auto none, index_->Search(std::vector<float>(kDim, 0.0f), {.k = 5}));
  EXPECT_THAT(none, IsEmpty());
  ASSERT_OK(index_->Add(std::vector<Label>{77}, std::vector<float>(kDim, 0.5f)));
  ASSERT_OK_AND_ASSIGN(auto one,
                       index_->Search(std::vector<float>(kDim, 0.5f), {.k = 5, .nprobe = kLists}));
  EXPECT_THAT(LabelsOf(one), ElementsAre(77));
}

TEST(IvfIndexEdgeTest, EmptyIndexSearchesReturnNothing) {
  ASSERT_OK_AND_ASSIGN(auto index, VectorIndex::Create(kDim, Metric::kL2, IvfSpec()));
  ASSERT_OK_AND_ASSIGN(auto none, index->Search(std::vector<float>(kDim, 0.0f), {.k = 5}));
  EXPECT_THAT(none, IsEmpty());
  EXPECT_FALSE(index->Stats().trained);
}

}  // namespace
}  // namespace ember::index
