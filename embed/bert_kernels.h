// The element-wise and attention kernels of the BERT forward pass (the matrix products go to BLAS).
//
// Attention's two small products per head go to BLAS too. The rest is written as plain loops over
// contiguous floats, free of branches in the inner loops, so that the compiler vectorizes them
// (AVX-512 with -march=native). exp and erf are polynomial approximations accurate to about one
// float32 ulp: libm's scalar erff costs as much as all the matrix products of a layer, which is why
// they are here at all.
//
// Thread-safety: pure functions of their arguments; callers parallelize over rows / heads.
#ifndef EMBER_EMBED_BERT_KERNELS_H_
#define EMBER_EMBED_BERT_KERNELS_H_

#include <cstddef>

namespace ember::embed {

// e^x for x in float32's range; 0 below -87.3, e^88.7 above. Relative error below 3e-7.
float ExpApprox(float x);
// erf(x), absolute error below 2e-7 (Juffa's faithfully-rounded polynomials).
float ErfApprox(float x);

// x[r][c] = gelu(x[r][c] + bias[c]) with the exact (erf) GELU, in place. x is rows x width.
void AddBiasGelu(float* x, const float* bias, size_t rows, size_t width);

// x[r][c] += bias[c], in place. x is rows x width.
void AddBias(float* x, const float* bias, size_t rows, size_t width);

// out[r] = LayerNorm(y[r] + bias + residual[r]) * gamma + beta for each row; `residual` may be
// null. `out` may alias `y` (not `residual`). All matrices are rows x width.
void BiasResidualLayerNorm(const float* y, const float* bias, const float* residual,
                           const float* gamma, const float* beta, float eps, size_t rows,
                           size_t width, float* out);

// One head of scaled dot-product self-attention over one sequence of `length` tokens, with no
// masking needed because the sequence is unpadded. q, k and v point at the head's first component
// in the first token's row of a row-major matrix with `qkv_stride` floats per row; out likewise
// with `out_stride`. `scratch` holds at least AttentionScratchFloats(length, head_dim) floats.
// Calls BLAS (expects it single-threaded: see bert_model.h).
void AttendOneHead(const float* q, const float* k, const float* v, size_t qkv_stride, size_t length,
                   size_t head_dim, float* out, size_t out_stride, float* scratch);
size_t AttentionScratchFloats(size_t length, size_t head_dim);

}  // namespace ember::embed

#endif  // EMBER_EMBED_BERT_KERNELS_H_
