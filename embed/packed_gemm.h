// PackedMatrix: a Linear layer's weight matrix laid out for Ember's own AVX-512 sgemm kernel, and
// Linear(), which computes x * W^T with it.
//
// Why not OpenBLAS for the linear layers: a DYNAMIC_ARCH OpenBLAS picks its kernels at load from
// the CPU it recognizes or from OPENBLAS_CORETYPE, and Debian's 0.3.21 does not recognize recent
// AMD cores (it falls back to, or is pinned by the environment to, its AVX2 "Haswell" kernels:
// about half the sgemm speed AVX-512 gives on the same core). Packing the weights once at load into
// 32-column panels lets a short register-blocked kernel run at AVX-512 speed regardless. Shapes the
// kernel does not cover (an output width that is not a multiple of 32, or a build without AVX-512)
// go to cblas_sgemm.
//
// Thread-safety: a PackedMatrix is immutable after Pack; Linear is single-threaded and reentrant.
#ifndef EMBER_EMBED_PACKED_GEMM_H_
#define EMBER_EMBED_PACKED_GEMM_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ember::embed {

// The arithmetic of Linear. kBfloat16 rounds weights (at Pack) and inputs (per call) to bfloat16
// and multiplies them with AVX-512 BF16 dot products, accumulating in float32: twice the arithmetic
// rate of float32, at about 3 significant digits per product.
enum class LinearPrecision { kFloat32, kBfloat16 };

class PackedMatrix {
 public:
  PackedMatrix() = default;
  // Packs `weight`, row-major `rows` x `cols` (PyTorch's Linear layout: out_features x
  // in_features). kBfloat16 falls back to kFloat32 where the CPU build lacks AVX-512 BF16 or rows %
  // 32 != 0.
  static PackedMatrix Pack(const std::vector<float>& weight, size_t rows, size_t cols,
                           LinearPrecision precision = LinearPrecision::kFloat32);

  size_t rows() const { return rows_; }
  size_t cols() const { return cols_; }
  // True when Linear runs Ember's kernel rather than cblas_sgemm.
  bool packed() const { return packed_; }
  LinearPrecision precision() const { return precision_; }

 private:
  friend void Linear(const float* x, size_t count, const PackedMatrix& weight, float* y);

  // "avx512-packed" when this build runs Ember's kernel, else "cblas" (for benchmark reports).
  const char* LinearKernelName();
  size_t rows_ = 0;
  size_t cols_ = 0;
  bool packed_ = false;
  LinearPrecision precision_ = LinearPrecision::kFloat32;
  // packed_ float32: panel p holds rows [32p, 32p + 32) of the weight, stored column by column
  // (cols x 32). Otherwise: the weight as given.
  std::vector<float> values_;
  // bfloat16: panel p, column pair q holds, for each of its 32 rows j, the pair (w[j][2q],
  // w[j][2q + 1]) as 2 x 16 bits: one 32-bit lane of the BF16 dot product. cols padded to even.
  std::vector<uint16_t> bf16_values_;
};

// y = x * weight^T: x is `count` x weight.cols(), y is `count` x weight.rows(), both row-major and
// dense. Single-threaded; the bfloat16 path keeps a per-thread buffer for the rounded x.
void Linear(const float* x, size_t count, const PackedMatrix& weight, float* y);

// "avx512-packed" when this build runs Ember's kernel, else "cblas" (for benchmark reports).
const char* LinearKernelName();

}  // namespace ember::embed

#endif  // EMBER_EMBED_PACKED_GEMM_H_
