#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

#include "index/hnsw_index.h"
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
using ::testing::UnorderedElementsAreArray;

constexpr int kDim = 16;
constexpr size_t kCount = 5000;
constexpr int kQueries = 100;

IndexSpec HnswSpec() {
  IndexSpec spec = SpecOf(IndexKind::kHnsw);
  spec.hnsw.m = 16;
  spec.hnsw.ef_construction = 100;
  return spec;
}

// Mean recall@10 over kQueries random queries against the exact answer over (labels, vectors).
double MeanRecall(const VectorIndex& index, Metric metric, const std::vector<Label>& labels,
                  const std::vector<float>& vectors, const IndexSearchParams& params) {
  const std::vector<float> queries = RandomVectors(kQueries, kDim, 99);
  double total = 0;
  for (int q = 0; q < kQueries; ++q) {
    std::span<const float> query(queries.data() + q * kDim, kDim);
    auto found = index.Search(query, params);
    EXPECT_TRUE(found.ok()) << found.status();
    if (!found.ok()) return 0;
    total +=
        Recall(*found, BruteForce(metric, kDim, labels, vectors, query, params.k, params.filter));
  }
  return total / kQueries;
}

class HnswIndexMetricTest : public ::testing::TestWithParam<Metric> {};

TEST_P(HnswIndexMetricTest, HighRecallAndExactDistances) {
  const Metric metric = GetParam();
  ASSERT_OK_AND_ASSIGN(auto index, VectorIndex::Create(kDim, metric, HnswSpec()));
  const std::vector<Label> labels = SparseLabels(kCount);
  const std::vector<float> vectors = RandomVectors(kCount, kDim, 1);
  ASSERT_OK(index->Add(labels, vectors));
  EXPECT_EQ(index->Stats().live_vectors, static_cast<int64_t>(kCount));
  EXPECT_GE(MeanRecall(*index, metric, labels, vectors, {.k = 10, .ef_search = 64}), 0.95);

  // Distances are the metric's raw values, best first.
  const std::vector<float> query = RandomVectors(1, kDim, 5);
  ASSERT_OK_AND_ASSIGN(auto found, index->Search(query, {.k = 10, .ef_search = 256}));
  const auto exact = BruteForce(metric, kDim, labels, vectors, query, 10);
  ASSERT_EQ(found.size(), exact.size());
  for (size_t i = 0; i < found.size(); ++i) {
    EXPECT_EQ(found[i].label, exact[i].label);
    EXPECT_NEAR(found[i].distance, exact[i].distance, 1e-4);
  }
}

INSTANTIATE_TEST_SUITE_P(AllMetrics, HnswIndexMetricTest,
                         ::testing::Values(Metric::kL2, Metric::kInnerProduct, Metric::kCosine));

class HnswIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    labels_ = SparseLabels(kCount);
    vectors_ = RandomVectors(kCount, kDim, 1);
    auto created = VectorIndex::Create(kDim, Metric::kL2, HnswSpec());
    ASSERT_OK(created.status());
    index_ = std::move(created).value();
    ASSERT_OK(index_->Add(labels_, vectors_));
  }

  // Removes every `step`-th label from the index and from labels_/vectors_ (the live reference).
  void RemoveEvery(size_t step) {
    std::vector<Label> removed, live_labels;
    std::vector<float> live_vectors;
    for (size_t i = 0; i < labels_.size(); ++i) {
      if (i % step == 0) {
        removed.push_back(labels_[i]);
      } else {
        live_labels.push_back(labels_[i]);
        live_vectors.insert(live_vectors.end(), vectors_.begin() + i * kDim,
                            vectors_.begin() + (i + 1) * kDim);
      }
    }
    ASSERT_OK(index_->Remove(removed));
    for (const Label label : removed) EXPECT_FALSE(index_->Contains(label));
    removed_.insert(removed.begin(), removed.end());
    labels_ = std::move(live_labels);
    vectors_ = std::move(live_vectors);
  }

  void ExpectNoRemovedLabelReturned() {
    const std::vector<float> queries = RandomVectors(50, kDim, 7);
    for (int q = 0; q < 50; ++q) {
      auto found = index_->Search(std::span<const float>(queries.data() + q * kDim, kDim),
                                  {.k = 50, .ef_search = 100});
      ASSERT_OK(found.status());
      EXPECT_EQ(found->size(), 50u);
      for (const Neighbor& n : *found) EXPECT_FALSE(removed_.count(n.label)) << n.label;
    }
  }

  std::vector<Label> labels_;
  std::vector<float> vectors_;
  std::set<Label> removed_;
  std::unique_ptr<VectorIndex> index_;
};

TEST_F(HnswIndexTest, RemovedLabelsBecomeTombstonesAndAreNeverReturned) {
  RemoveEvery(5);  // 20%: below the rebuild threshold
  EXPECT_EQ(index_->Stats().tombstones, 1000);
  EXPECT_EQ(index_->Stats().live_vectors, 4000);
  ExpectNoRemovedLabelReturned();
  EXPECT_GE(MeanRecall(*index_, Metric::kL2, labels_, vectors_, {.k = 10, .ef_search = 64}), 0.95);
}

TEST_F(HnswIndexTest, TombstoneHeavyGraphIsRebuilt) {
  RemoveEvery(5);
  RemoveEvery(4);  // 40% of the original nodes now removed: past the 30% threshold
  EXPECT_EQ(index_->Stats().tombstones, 0);
  EXPECT_EQ(index_->Stats().live_vectors, static_cast<int64_t>(labels_.size()));
  for (const Label label : labels_) ASSERT_TRUE(index_->Contains(label));
  ExpectNoRemovedLabelReturned();
  EXPECT_GE(MeanRecall(*index_, Metric::kL2, labels_, vectors_, {.k = 10, .ef_search = 64}), 0.95);
  // The rebuilt index keeps accepting writes.
  ASSERT_OK(index_->Add(std::vector<Label>{123}, std::vector<float>(kDim, 5.0f)));
  ASSERT_OK_AND_ASSIGN(auto found, index_->Search(std::vector<float>(kDim, 5.0f), {.k = 1}));
  EXPECT_THAT(LabelsOf(found), ElementsAre(123));
}

TEST_F(HnswIndexTest, AddingAnExistingLabelReplacesIt) {
  const Label label = labels_[42];
  const std::vector<float> far(kDim, 3.0f);
  ASSERT_OK(index_->Add(std::vector<Label>{label}, far));
  EXPECT_EQ(index_->Stats().live_vectors, static_cast<int64_t>(kCount));
  EXPECT_EQ(index_->Stats().tombstones, 1);
  ASSERT_OK_AND_ASSIGN(auto found, index_->Search(far, {.k = 1}));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].label, label);
  EXPECT_FLOAT_EQ(found[0].distance, 0.0f);
  // Its old position no longer finds it.
  ASSERT_OK_AND_ASSIGN(
      auto old_place,
      index_->Search(std::span<const float>(vectors_.data() + 42 * kDim, kDim), {.k = 5}));
  for (const Neighbor& n : old_place) EXPECT_NE(n.label, label);
}

TEST_F(HnswIndexTest, FilteredSearchReturnsOnlyMembersWithGoodRecall) {
  std::set<Label> members;
  for (size_t i = 0; i < labels_.size(); i += 2) members.insert(labels_[i]);
  SetFilter filter(members);
  const std::vector<float> queries = RandomVectors(30, kDim, 11);
  double recall = 0;
  for (int q = 0; q < 30; ++q) {
    std::span<const float> query(queries.data() + q * kDim, kDim);
    ASSERT_OK_AND_ASSIGN(auto found, index_->Search(query, {.k = 10, .filter = &filter}));
    EXPECT_EQ(found.size(), 10u);
    for (const Neighbor& n : found) EXPECT_TRUE(members.count(n.label));
    recall += Recall(found, BruteForce(Metric::kL2, kDim, labels_, vectors_, query, 10, &filter));
  }
  EXPECT_GE(recall / 30, 0.9);

  // A filter with few members still returns all of them (the traversal keeps walking non-members).
  std::set<Label> few = {labels_[1], labels_[2000], labels_[4999]};
  SetFilter sparse(few);
  ASSERT_OK_AND_ASSIGN(auto found, index_->Search(std::span<const float>(queries.data(), kDim),
                                                  {.k = 10, .filter = &sparse}));
  EXPECT_THAT(LabelsOf(found), UnorderedElementsAreArray(few));
}

TEST_F(HnswIndexTest, TraversalGivesUpBeyondItsScoringLimit) {
  // Three members far apart: the traversal must score most of the graph to find all of them.
  std::set<Label> few = {labels_[1], labels_[2000], labels_[4999]};
  SetFilter sparse(few);
  const std::vector<float> query = RandomVectors(1, kDim, 17);
  ASSERT_OK_AND_ASSIGN(auto unlimited, index_->Search(query, {.k = 3, .filter = &sparse}));
  EXPECT_EQ(unlimited.size(), 3u);
  // With a limit far below that, it returns nothing rather than a partial answer.
  ASSERT_OK_AND_ASSIGN(auto limited,
                       index_->Search(query, {.k = 3, .filter = &sparse, .max_scored = 50}));
  EXPECT_TRUE(limited.empty());
  // A limit above what an unfiltered search scores does not change its answer.
  ASSERT_OK_AND_ASSIGN(auto plain, index_->Search(query, {.k = 10}));
  ASSERT_OK_AND_ASSIGN(auto plain_limited, index_->Search(query, {.k = 10, .max_scored = kCount}));
  EXPECT_EQ(LabelsOf(plain), LabelsOf(plain_limited));
}

TEST_F(HnswIndexTest, PerQueryEfIsIsolatedBetweenConcurrentSearches) {
  const std::vector<float> queries = RandomVectors(40, kDim, 13);
  const auto run_all = [&](int ef) {
    std::vector<std::vector<Neighbor>> results;
    for (int q = 0; q < 40; ++q) {
      auto found = index_->Search(std::span<const float>(queries.data() + q * kDim, kDim),
                                  {.k = 10, .ef_search = ef});
      EXPECT_TRUE(found.ok());
      results.push_back(found.ok() ? *found : std::vector<Neighbor>{});
    }
    return results;
  };
  const auto alone16 = run_all(16);
  const auto alone512 = run_all(512);
  ASSERT_NE(LabelsOf(alone16[0]).size(), 0u);
  bool any_difference = false;
  for (int q = 0; q < 40; ++q) any_difference |= LabelsOf(alone16[q]) != LabelsOf(alone512[q]);
  EXPECT_TRUE(any_difference)
      << "ef=16 and ef=512 should differ somewhere, or the test proves nothing";

  const auto same = [](const std::vector<std::vector<Neighbor>>& a,
                       const std::vector<std::vector<Neighbor>>& b) {
    for (size_t q = 0; q < a.size(); ++q) {
      if (a[q].size() != b[q].size()) return false;
      for (size_t i = 0; i < a[q].size(); ++i) {
        if (a[q][i].label != b[q][i].label || a[q][i].distance != b[q][i].distance) return false;
      }
    }
    return true;
  };
  for (int round = 0; round < 10; ++round) {
    std::vector<std::vector<Neighbor>> concurrent16, concurrent512;
    std::thread low([&] { concurrent16 = run_all(16); });
    std::thread high([&] { concurrent512 = run_all(512); });
    low.join();
    high.join();
    EXPECT_TRUE(same(concurrent16, alone16));
    EXPECT_TRUE(same(concurrent512, alone512));
  }
}

// With few links per node and many replacements, FAISS's pruning leaves nodes no list points to;
// the index must relink them, or a search for a stored vector can miss it at any ef.
TEST(HnswIndexReachabilityTest, EveryLiveVectorIsItsOwnNearestNeighbour) {
  constexpr size_t kDimension = 16;
  IndexSpec spec;
  spec.hnsw = {.m = 8, .ef_construction = 64, .ef_search = 16};
  ASSERT_OK_AND_ASSIGN(auto index, VectorIndex::Create(kDimension, Metric::kL2, spec));
  std::vector<float> current = RandomVectors(400, kDimension, 21);
  std::vector<Label> labels(400);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<Label>(i);
  ASSERT_OK(index->Add(labels, current));
  for (uint32_t round = 0; round < 20; ++round) {
    // Replace a fifth of the vectors each round, in batches of 20, as a changing collection does.
    for (size_t begin = (round * 80) % 400, batch = 0; batch < 4;
         ++batch, begin = (begin + 20) % 400) {
      const std::vector<float> replacement =
          RandomVectors(20, kDimension, 1000 + round * 4 + batch);
      std::copy(replacement.begin(), replacement.end(), current.begin() + begin * kDimension);
      ASSERT_OK(index->Add(std::span(labels).subspan(begin, 20), replacement));
    }
  }
  for (size_t i = 0; i < labels.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(auto found,
                         index->Search(std::span(current).subspan(i * kDimension, kDimension),
                                       {.k = 1, .ef_search = 400}));
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].label, labels[i]) << "label " << i << " is unreachable";
  }
}

TEST(HnswIndexEdgeTest, EmptyIndexAndLargeK) {
  ASSERT_OK_AND_ASSIGN(auto index, VectorIndex::Create(kDim, Metric::kL2, HnswSpec()));
  const std::vector<float> query(kDim, 0.0f);
  ASSERT_OK_AND_ASSIGN(auto none, index->Search(query, {.k = 5}));
  EXPECT_THAT(none, IsEmpty());

  const std::vector<Label> labels = SparseLabels(20);
  ASSERT_OK(index->Add(labels, RandomVectors(20, kDim, 3)));
  ASSERT_OK_AND_ASSIGN(auto all, index->Search(query, {.k = 50}));
  EXPECT_THAT(LabelsOf(all), UnorderedElementsAreArray(labels));

  ASSERT_OK(index->Remove(labels));
  EXPECT_EQ(index->Stats().live_vectors, 0);
  ASSERT_OK_AND_ASSIGN(auto emptied, index->Search(query, {.k = 5}));
  EXPECT_THAT(emptied, IsEmpty());
  ASSERT_OK(index->Add(std::vector<Label>{8}, std::vector<float>(kDim, 1.0f)));
  ASSERT_OK_AND_ASSIGN(auto one, index->Search(query, {.k = 5}));
  EXPECT_THAT(LabelsOf(one), ElementsAre(8));
}

}  // namespace
}  // namespace ember::index
