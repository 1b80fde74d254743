#include "embed/packed_gemm.h"

#include <cblas.h>

#include <algorithm>
#include <cstring>

#if defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace ember::embed {
namespace {

constexpr size_t kPanel = 32;  // output columns per packed panel: two 16-float registers
#if defined(__AVX512F__)
constexpr bool kHaveKernel = true;
#else
constexpr bool kHaveKernel = false;
#endif

#if defined(__AVX512F__)
// Rows of x per micro-kernel call: 12 rows x 2 registers = 24 accumulators, leaving room for the
// two panel registers and the broadcast.
constexpr size_t kRows = 12;
// Depth of one pass: a 12 x 384 block of x (18 KiB) and a 384 x 32 panel slice (48 KiB) stay in
// L1/L2.
constexpr size_t kDepth = 384;
// Rows of x per outer block: 192 x 384 floats (288 KiB) stay in L2 while every panel streams past.
constexpr size_t kRowBlock = 192;

// y[R x 32] (+)= x[R x depth] * panel[depth x 32]; x rows `x_stride` apart, y rows `y_stride`
// apart.
template <size_t R>
void MicroKernel(const float* x, size_t x_stride, const float* panel, size_t depth, float* y,
                 size_t y_stride, bool accumulate) {
  __m512 acc[R][2];
#pragma GCC unroll 12
  for (size_t r = 0; r < R; ++r) {
    acc[r][0] = accumulate ? _mm512_loadu_ps(y + r * y_stride) : _mm512_setzero_ps();
    acc[r][1] = accumulate ? _mm512_loadu_ps(y + r * y_stride + 16) : _mm512_setzero_ps();
  }
  for (size_t p = 0; p < depth; ++p) {
    const __m512 b0 = _mm512_loadu_ps(panel + p * kPanel);
    const __m512 b1 = _mm512_loadu_ps(panel + p * kPanel + 16);
#pragma GCC unroll 12
    for (size_t r = 0; r < R; ++r) {
      const __m512 a = _mm512_set1_ps(x[r * x_stride + p]);
      acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
    }
  }
#pragma GCC unroll 12
  for (size_t r = 0; r < R; ++r) {
    _mm512_storeu_ps(y + r * y_stride, acc[r][0]);
    _mm512_storeu_ps(y + r * y_stride + 16, acc[r][1]);
  }
}

using MicroKernelFunction = void (*)(const float*, size_t, const float*, size_t, float*, size_t,
                                     bool);
constexpr MicroKernelFunction kMicroKernels[kRows + 1] = {
    nullptr,         MicroKernel<1>,  MicroKernel<2>, MicroKernel<3>, MicroKernel<4>,
    MicroKernel<5>,  MicroKernel<6>,  MicroKernel<7>, MicroKernel<8>, MicroKernel<9>,
    MicroKernel<10>, MicroKernel<11>, MicroKernel<12>};

void PackedLinear(const float* x, size_t count, const float* packed, size_t rows, size_t cols,
                  float* y) {
  const size_t panels = rows / kPanel;
  for (size_t depth_begin = 0; depth_begin < cols; depth_begin += kDepth) {
    const size_t depth = std::min(kDepth, cols - depth_begin);
    const bool accumulate = depth_begin > 0;
    for (size_t block = 0; block < count; block += kRowBlock) {
      const size_t block_end = std::min(count, block + kRowBlock);
      for (size_t p = 0; p < panels; ++p) {
        const float* panel = packed + (p * cols + depth_begin) * kPanel;
        for (size_t r = block; r < block_end; r += kRows) {
          const size_t height = std::min(kRows, block_end - r);
          kMicroKernels[height](x + r * cols + depth_begin, cols, panel, depth,
                                y + r * rows + p * kPanel, rows, accumulate);
        }
      }
    }
  }
}
#endif

// float32 -> bfloat16 bits, rounding to nearest even (inputs here are finite).
inline uint16_t ToBfloat16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  return static_cast<uint16_t>((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
}

#if defined(__AVX512BF16__)
constexpr bool kHaveBf16Kernel = true;

// y[R x 32] (+)= x[R x 2*pairs] * panel, both bfloat16, accumulated in float32. x rows `x_stride`
// uint16 apart.
template <size_t R>
void MicroKernelBf16(const uint16_t* x, size_t x_stride, const uint16_t* panel, size_t pairs,
                     float* y, size_t y_stride, bool accumulate) {
  __m512 acc[R][2];
#pragma GCC unroll 12
  for (size_t r = 0; r < R; ++r) {
    acc[r][0] = accumulate ? _mm512_loadu_ps(y + r * y_stride) : _mm512_setzero_ps();
    acc[r][1] = accumulate ? _mm512_loadu_ps(y + r * y_stride + 16) : _mm512_setzero_ps();
  }
  for (size_t q = 0; q < pairs; ++q) {
    const __m512bh b0 = (__m512bh)_mm512_loadu_si512(panel + q * 2 * kPanel);
    const __m512bh b1 = (__m512bh)_mm512_loadu_si512(panel + q * 2 * kPanel + kPanel);
#pragma GCC unroll 12
    for (size_t r = 0; r < R; ++r) {
      int32_t pair;
      std::memcpy(&pair, x + r * x_stride + 2 * q, 4);
      const __m512bh a = (__m512bh)_mm512_set1_epi32(pair);
      acc[r][0] = _mm512_dpbf16_ps(acc[r][0], a, b0);
      acc[r][1] = _mm512_dpbf16_ps(acc[r][1], a, b1);
    }
  }
#pragma GCC unroll 12
  for (size_t r = 0; r < R; ++r) {
    _mm512_storeu_ps(y + r * y_stride, acc[r][0]);
    _mm512_storeu_ps(y + r * y_stride + 16, acc[r][1]);
  }
}

using MicroKernelBf16Function = void (*)(const uint16_t*, size_t, const uint16_t*, size_t, float*,
                                         size_t, bool);
constexpr MicroKernelBf16Function kMicroKernelsBf16[kRows + 1] = {nullptr,
                                                                  MicroKernelBf16<1>,
                                                                  MicroKernelBf16<2>,
                                                                  MicroKernelBf16<3>,
                                                                  MicroKernelBf16<4>,
                                                                  MicroKernelBf16<5>,
                                                                  MicroKernelBf16<6>,
                                                                  MicroKernelBf16<7>,
                                                                  MicroKernelBf16<8>,
                                                                  MicroKernelBf16<9>,
                                                                  MicroKernelBf16<10>,
                                                                  MicroKernelBf16<11>,
                                                                  MicroKernelBf16<12>};

void PackedLinearBf16(const float* x, size_t count, const uint16_t* packed, size_t rows,
                      size_t cols, float* y) {
  const size_t padded = cols + cols % 2;
  thread_local std::vector<uint16_t> rounded;
  if (rounded.size() < count * padded) rounded.resize(count * padded);
  for (size_t r = 0; r < count; ++r) {
    uint16_t* dst = rounded.data() + r * padded;
    const float* src = x + r * cols;
    for (size_t c = 0; c < cols; ++c) dst[c] = ToBfloat16(src[c]);
    if (padded != cols) dst[cols] = 0;
  }
  const size_t panels = rows / kPanel;
  const size_t pairs = padded / 2;
  constexpr size_t kDepthPairs = kDepth / 2;
  for (size_t pair_begin = 0; pair_begin < pairs; pair_begin += kDepthPairs) {
    const size_t depth = std::min(kDepthPairs, pairs - pair_begin);
    const bool accumulate = pair_begin > 0;
    for (size_t block = 0; block < count; block += kRowBlock) {
      const size_t block_end = std::min(count, block + kRowBlock);
      for (size_t p = 0; p < panels; ++p) {
        const uint16_t* panel = packed + (p * pairs + pair_begin) * 2 * kPanel;
        for (size_t r = block; r < block_end; r += kRows) {
          const size_t height = std::min(kRows, block_end - r);
          kMicroKernelsBf16[height](rounded.data() + r * padded + 2 * pair_begin, padded, panel,
                                    depth, y + r * rows + p * kPanel, rows, accumulate);
        }
      }
    }
  }
}
#else
constexpr bool kHaveBf16Kernel = false;
#endif

}  // namespace

PackedMatrix PackedMatrix::Pack(const std::vector<float>& weight, size_t rows, size_t cols,
                                LinearPrecision precision) {
  PackedMatrix matrix;
  matrix.rows_ = rows;
  matrix.cols_ = cols;
  matrix.packed_ = kHaveKernel && rows % kPanel == 0;
  if (matrix.packed_ && kHaveBf16Kernel && precision == LinearPrecision::kBfloat16) {
    matrix.precision_ = LinearPrecision::kBfloat16;
    const size_t pairs = (cols + 1) / 2;
    matrix.bf16_values_.assign(rows / kPanel * pairs * 2 * kPanel, 0);
    for (size_t p = 0; p < rows / kPanel; ++p) {
      for (size_t k = 0; k < cols; ++k) {
        for (size_t j = 0; j < kPanel; ++j) {
          matrix.bf16_values_[((p * pairs + k / 2) * kPanel + j) * 2 + k % 2] =
              ToBfloat16(weight[(p * kPanel + j) * cols + k]);
        }
      }
    }
    return matrix;
  }
  if (!matrix.packed_) {
    matrix.values_ = weight;
    return matrix;
  }
  matrix.values_.resize(rows * cols);
  for (size_t p = 0; p < rows / kPanel; ++p) {
    for (size_t k = 0; k < cols; ++k) {
      for (size_t j = 0; j < kPanel; ++j) {
        matrix.values_[(p * cols + k) * kPanel + j] = weight[(p * kPanel + j) * cols + k];
      }
    }
  }
  return matrix;
}

const char* LinearKernelName() { return kHaveKernel ? "avx512-packed" : "cblas"; }

void Linear(const float* x, size_t count, const PackedMatrix& weight, float* y) {
#if defined(__AVX512BF16__)
  if (weight.precision_ == LinearPrecision::kBfloat16) {
    PackedLinearBf16(x, count, weight.bf16_values_.data(), weight.rows_, weight.cols_, y);
    return;
  }
#endif
#if defined(__AVX512F__)
  if (weight.packed_) {
    PackedLinear(x, count, weight.values_.data(), weight.rows_, weight.cols_, y);
    return;
  }
#endif
  const int in = static_cast<int>(weight.cols_);
  const int out = static_cast<int>(weight.rows_);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(count), out, in, 1.0f, x,
              in, weight.values_.data(), in, 0.0f, y, out);
}

}  // namespace ember::embed
