// Pool and NormalizeL2 on hand-computed examples.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "embed/pooling.h"

namespace ember::embed {
namespace {

using ::testing::ElementsAre;
using ::testing::FloatEq;

// Three tokens of width 2.
const std::vector<float> kStates = {1, -4,  //
                                    3, 2,   //
                                    8, -1};

std::vector<float> PoolStates(PoolingMode mode, size_t first_token = 0) {
  std::vector<float> out(2);
  Pool(mode, kStates.data(), 3, 2, first_token, out.data());
  return out;
}

TEST(PoolingTest, EachMode) {
  EXPECT_THAT(PoolStates(PoolingMode::kMean), ElementsAre(FloatEq(4), FloatEq(-1)));
  EXPECT_THAT(PoolStates(PoolingMode::kCls), ElementsAre(1, -4));
  EXPECT_THAT(PoolStates(PoolingMode::kLastToken), ElementsAre(8, -1));
  EXPECT_THAT(PoolStates(PoolingMode::kMax), ElementsAre(8, 2));
  EXPECT_THAT(PoolStates(PoolingMode::kMeanSqrtLen),
              ElementsAre(FloatEq(12 / std::sqrt(3.0f)), FloatEq(-3 / std::sqrt(3.0f))));
}

TEST(PoolingTest, PromptTokensLeftOutExceptForClsAndLast) {
  EXPECT_THAT(PoolStates(PoolingMode::kMean, 1), ElementsAre(FloatEq(5.5f), FloatEq(0.5f)));
  EXPECT_THAT(PoolStates(PoolingMode::kMax, 2), ElementsAre(8, -1));
  EXPECT_THAT(PoolStates(PoolingMode::kMeanSqrtLen, 1),
              ElementsAre(FloatEq(11 / std::sqrt(2.0f)), FloatEq(1 / std::sqrt(2.0f))));
  EXPECT_THAT(PoolStates(PoolingMode::kCls, 2), ElementsAre(1, -4));
  EXPECT_THAT(PoolStates(PoolingMode::kLastToken, 2), ElementsAre(8, -1));
}

TEST(PoolingTest, NormalizeL2) {
  std::vector<float> v = {3, -4};
  NormalizeL2(v);
  EXPECT_THAT(v, ElementsAre(FloatEq(0.6f), FloatEq(-0.8f)));
  std::vector<float> zero = {0, 0, 0};
  NormalizeL2(zero);
  EXPECT_THAT(zero, ElementsAre(0, 0, 0));
}

TEST(PoolingTest, ModeNames) {
  EXPECT_EQ(PoolingModeName(PoolingMode::kMean), "mean");
  EXPECT_EQ(PoolingModeName(PoolingMode::kCls), "cls");
  EXPECT_EQ(PoolingModeName(PoolingMode::kLastToken), "lasttoken");
  EXPECT_EQ(PoolingModeName(PoolingMode::kMax), "max");
  EXPECT_EQ(PoolingModeName(PoolingMode::kMeanSqrtLen), "mean_sqrt_len_tokens");
}

}  // namespace
}  // namespace ember::embed
