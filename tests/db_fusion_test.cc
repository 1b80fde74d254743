// Rank fusion, checked against scores worked out by hand.
#include <vector>

#include "db/fusion.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ember::db {
namespace {

using ::testing::ElementsAre;

std::vector<Label> Labels(const std::vector<FusedHit>& hits) {
  std::vector<Label> labels;
  for (const FusedHit& hit : hits) labels.push_back(hit.label);
  return labels;
}

TEST(FusionTest, ReciprocalRankAddsOneOverConstantPlusRank) {
  const std::vector<std::vector<RankedHit>> lists = {
      {{.label = 1, .score = 0.9}, {.label = 2, .score = 0.8}, {.label = 3, .score = 0.1}},
      {{.label = 3, .score = 12.0}, {.label = 1, .score = 7.0}, {.label = 4, .score = 1.0}}};
  const std::vector<FusedHit> fused = FuseReciprocalRank(lists, 60, 10);
  // 1: 1/61 + 1/62; 3: 1/63 + 1/61; 2: 1/62; 4: 1/63.
  ASSERT_THAT(Labels(fused), ElementsAre(1, 3, 2, 4));
  EXPECT_DOUBLE_EQ(fused[0].score, 1.0 / 61 + 1.0 / 62);
  EXPECT_DOUBLE_EQ(fused[1].score, 1.0 / 63 + 1.0 / 61);
  EXPECT_DOUBLE_EQ(fused[2].score, 1.0 / 62);
  EXPECT_THAT(fused[0].ranks, ElementsAre(1, 2));
  EXPECT_THAT(fused[2].ranks, ElementsAre(2, 0)) << "absent from the text list";
  EXPECT_THAT(fused[1].scores, ElementsAre(0.1, 12.0));
  // The limit keeps the best.
  EXPECT_THAT(Labels(FuseReciprocalRank(lists, 60, 2)), ElementsAre(1, 3));
}

TEST(FusionTest, WeightedSumsMinMaxScaledScores) {
  const std::vector<std::vector<RankedHit>> lists = {
      {{.label = 1, .score = 0.9}, {.label = 2, .score = 0.7}, {.label = 3, .score = 0.5}},
      {{.label = 3, .score = 20.0}, {.label = 1, .score = 10.0}}};
  const std::vector<double> weights = {0.5, 0.5};
  const std::vector<FusedHit> fused = FuseWeighted(lists, weights, 10);
  // Vector list scaled: 1 -> 1, 2 -> 0.5, 3 -> 0; text list: 3 -> 1, 1 -> 0.
  // 1: 0.5*1 + 0.5*0 = 0.5; 3: 0 + 0.5 = 0.5; 2: 0.25. Ties by label: 1 before 3.
  ASSERT_THAT(Labels(fused), ElementsAre(1, 3, 2));
  EXPECT_DOUBLE_EQ(fused[0].score, 0.5);
  EXPECT_DOUBLE_EQ(fused[1].score, 0.5);
  EXPECT_DOUBLE_EQ(fused[2].score, 0.25);
  // Weighting the text list more moves 3 ahead.
  const std::vector<double> text_heavy = {0.2, 0.8};
  EXPECT_THAT(Labels(FuseWeighted(lists, text_heavy, 10)), ElementsAre(3, 1, 2));
}

TEST(FusionTest, EmptyAndSingleScoreListsAreHandled) {
  const std::vector<std::vector<RankedHit>> lists = {{}, {{.label = 7, .score = 3.0}}};
  const std::vector<double> weights = {1.0, 1.0};
  const std::vector<FusedHit> fused = FuseWeighted(lists, weights, 5);
  ASSERT_EQ(fused.size(), 1u);
  EXPECT_DOUBLE_EQ(fused[0].score, 1.0) << "one score scales to 1";
  EXPECT_TRUE(FuseReciprocalRank(std::vector<std::vector<RankedHit>>{}, 60, 5).empty());
  EXPECT_TRUE(FuseReciprocalRank(lists, 60, 0).empty());
}

}  // namespace
}  // namespace ember::db
