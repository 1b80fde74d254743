// Distance kernels for the indexes' own scans (Flat search, Ember's HNSW traversal): squared L2 and
// inner product over float32 vectors, plus normalization for cosine collections.
//
// Why not faiss::fvec_L2sqr: Debian's libfaiss.a is built for baseline x86-64 and its fvec_L2sqr is
// the scalar reference loop; these kernels are compiled with -march=native (AVX-512 or AVX2 when
// available) and inline into the callers' hot loops.
//
// Thread-safety: pure functions.
#ifndef EMBER_INDEX_DISTANCE_H_
#define EMBER_INDEX_DISTANCE_H_

#include <cmath>
#include <cstddef>

#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

#include "ember/options.h"

namespace ember::index {

#if defined(__AVX2__) || defined(__AVX512F__)
// Sum of the 8 lanes, by halving shuffles (hadd costs three micro-ops a step).
inline float HorizontalSum(__m256 v) {
  __m128 sum = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
  sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
  return _mm_cvtss_f32(sum);
}
#endif
#if defined(__AVX512F__)
// Sum of the 16 lanes. GCC 12's unmasked 512-bit extracts, casts and reductions trip
// -Wmaybe-uninitialized (they start from an undefined register); the masked extract from a zeroed
// register is the same instruction without the warning, and avoids a round trip through memory.
inline float HorizontalSum(__m512 v) {
  const __m512d bits = _mm512_castps_pd(v);
  const __m256d low = _mm512_mask_extractf64x4_pd(_mm256_setzero_pd(), 0xF, bits, 0);
  const __m256d high = _mm512_mask_extractf64x4_pd(_mm256_setzero_pd(), 0xF, bits, 1);
  return HorizontalSum(_mm256_add_ps(_mm256_castpd_ps(low), _mm256_castpd_ps(high)));
}
#endif

// Squared Euclidean distance between a[0..d) and b[0..d).
inline float L2Sqr(const float* a, const float* b, size_t d) {
#if defined(__AVX512F__)
  __m512 acc0 = _mm512_setzero_ps();
  __m512 acc1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= d; i += 32) {
    const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    const __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
    acc0 = _mm512_fmadd_ps(d0, d0, acc0);
    acc1 = _mm512_fmadd_ps(d1, d1, acc1);
  }
  for (; i + 16 <= d; i += 16) {
    const __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    acc0 = _mm512_fmadd_ps(d0, d0, acc0);
  }
  if (i < d) {
    // Masked loads read nothing past the end of either vector.
    const __mmask16 mask = static_cast<__mmask16>((1u << (d - i)) - 1);
    const __m512 d0 =
        _mm512_sub_ps(_mm512_maskz_loadu_ps(mask, a + i), _mm512_maskz_loadu_ps(mask, b + i));
    acc1 = _mm512_fmadd_ps(d0, d0, acc1);
  }
  return HorizontalSum(_mm512_add_ps(acc0, acc1));
#elif defined(__AVX2__) && defined(__FMA__)
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= d; i += 16) {
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    const __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
    acc0 = _mm256_fmadd_ps(d0, d0, acc0);
    acc1 = _mm256_fmadd_ps(d1, d1, acc1);
  }
  for (; i + 8 <= d; i += 8) {
    const __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    acc0 = _mm256_fmadd_ps(d0, d0, acc0);
  }
  float result = HorizontalSum(_mm256_add_ps(acc0, acc1));
  for (; i < d; ++i) {
    const float diff = a[i] - b[i];
    result += diff * diff;
  }
  return result;
#else
  float acc[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= d; i += 4) {
    for (size_t j = 0; j < 4; ++j) {
      const float diff = a[i + j] - b[i + j];
      acc[j] += diff * diff;
    }
  }
  for (; i < d; ++i) {
    const float diff = a[i] - b[i];
    acc[0] += diff * diff;
  }
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
#endif
}

// Inner product of a[0..d) and b[0..d).
inline float InnerProduct(const float* a, const float* b, size_t d) {
#if defined(__AVX512F__)
  __m512 acc0 = _mm512_setzero_ps();
  __m512 acc1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= d; i += 32) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), acc1);
  }
  for (; i + 16 <= d; i += 16) {
    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), acc0);
  }
  if (i < d) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (d - i)) - 1);
    acc1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, a + i), _mm512_maskz_loadu_ps(mask, b + i),
                           acc1);
  }
  return HorizontalSum(_mm512_add_ps(acc0, acc1));
#elif defined(__AVX2__) && defined(__FMA__)
  __m256 acc0 = _mm256_setzero_ps();
  __m256 acc1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= d; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  for (; i + 8 <= d; i += 8) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  }
  float result = HorizontalSum(_mm256_add_ps(acc0, acc1));
  for (; i < d; ++i) result += a[i] * b[i];
  return result;
#else
  float acc[4] = {0, 0, 0, 0};
  size_t i = 0;
  for (; i + 4 <= d; i += 4) {
    for (size_t j = 0; j < 4; ++j) acc[j] += a[i + j] * b[i + j];
  }
  for (; i < d; ++i) acc[0] += a[i] * b[i];
  return (acc[0] + acc[1]) + (acc[2] + acc[3]);
#endif
}

// Scales v[0..d) to unit length. A zero vector stays zero (its cosine with anything is then 0).
inline void NormalizeInPlace(float* v, size_t d) {
  const float norm = std::sqrt(InnerProduct(v, v, d));
  if (norm == 0.0f) return;
  const float inverse = 1.0f / norm;
  for (size_t i = 0; i < d; ++i) v[i] *= inverse;
}

// An ordering key for `metric`: smaller is nearer. Indexes rank by it and report the metric's raw
// value (MetricValue) in Neighbor::distance.
inline float NearnessKey(Metric metric, const float* query, const float* vector, size_t d) {
  return metric == Metric::kL2 ? L2Sqr(query, vector, d) : -InnerProduct(query, vector, d);
}

// The raw metric value (squared L2, or the inner product) for an ordering key made by NearnessKey.
inline float MetricValue(Metric metric, float key) { return metric == Metric::kL2 ? key : -key; }

}  // namespace ember::index

#endif  // EMBER_INDEX_DISTANCE_H_
