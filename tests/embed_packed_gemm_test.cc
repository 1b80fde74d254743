// Linear over PackedMatrix against a double-precision product: every row-tail height of the
// micro-kernel, depths that need several passes, the cblas fallback, and the bfloat16 path.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "embed/packed_gemm.h"

namespace ember::embed {
namespace {

std::vector<float> RandomMatrix(size_t size, std::mt19937& random) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> values(size);
  for (float& v : values) v = normal(random);
  return values;
}

// Largest |y - x W^T| over all entries, relative to the largest |x W^T|.
double RelativeError(size_t count, size_t rows, size_t cols, LinearPrecision precision) {
  std::mt19937 random(static_cast<unsigned>(count * 1000 + rows + cols));
  const std::vector<float> x = RandomMatrix(count * cols, random);
  const std::vector<float> w = RandomMatrix(rows * cols, random);
  const PackedMatrix packed = PackedMatrix::Pack(w, rows, cols, precision);
  EXPECT_EQ(packed.rows(), rows);
  EXPECT_EQ(packed.cols(), cols);
  std::vector<float> y(count * rows, -1.0f);
  Linear(x.data(), count, packed, y.data());
  double worst = 0, scale = 0;
  for (size_t i = 0; i < count; ++i) {
    for (size_t j = 0; j < rows; ++j) {
      double exact = 0;
      for (size_t k = 0; k < cols; ++k) {
        exact += static_cast<double>(x[i * cols + k]) * w[j * cols + k];
      }
      worst = std::max(worst, std::fabs(exact - y[i * rows + j]));
      scale = std::max(scale, std::fabs(exact));
    }
  }
  return worst / scale;
}

TEST(PackedGemmTest, Float32MatchesExactProduct) {
  for (const size_t count : {1, 5, 12, 13, 25, 191, 193, 400}) {
    EXPECT_LT(RelativeError(count, 64, 384, LinearPrecision::kFloat32), 1e-5) << count;
  }
  EXPECT_LT(RelativeError(37, 96, 1536, LinearPrecision::kFloat32), 1e-5);  // several depth passes
  EXPECT_LT(RelativeError(30, 32, 7, LinearPrecision::kFloat32), 1e-5);     // shallow
}

TEST(PackedGemmTest, UnpackableShapesUseBlas) {
  std::vector<float> w(50 * 8, 1.0f);
  EXPECT_FALSE(PackedMatrix::Pack(w, 50, 8).packed());
  EXPECT_LT(RelativeError(17, 50, 8, LinearPrecision::kFloat32), 1e-5);
}

TEST(PackedGemmTest, Bfloat16StaysNearExactProduct) {
  // bfloat16 keeps 8 significant bits: each product is off by up to ~2^-8 relative, and random
  // errors over hundreds of terms stay near 1e-2 of the largest output.
  for (const size_t count : {1, 12, 13, 200}) {
    EXPECT_LT(RelativeError(count, 64, 384, LinearPrecision::kBfloat16), 2e-2) << count;
  }
  EXPECT_LT(RelativeError(29, 64, 1537, LinearPrecision::kBfloat16), 2e-2);  // odd depth, passes
  const std::vector<float> w(64 * 16, 0.5f);
  const PackedMatrix packed = PackedMatrix::Pack(w, 64, 16, LinearPrecision::kBfloat16);
#if defined(__AVX512BF16__)
  EXPECT_EQ(packed.precision(), LinearPrecision::kBfloat16);
#else
  EXPECT_EQ(packed.precision(), LinearPrecision::kFloat32);
#endif
}

}  // namespace
}  // namespace ember::embed
