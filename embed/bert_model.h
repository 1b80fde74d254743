// A BERT encoder's weights and its forward pass (float32; optionally bfloat16 linear layers).
//
// Sequences are packed, not padded: the token rows of all sequences of a batch are stacked into one
// matrix, so the linear layers (nearly all of the work) run as one matrix product per weight matrix
// with no padding rows at all, and attention runs per sequence on its own rows. Query, key and
// value weights are fused into one matrix at load, so each layer makes four matrix products, run by
// Ember's AVX-512 kernel on weights packed at load (packed_gemm.h); attention's small per-head
// products go to OpenBLAS.
//
// Threads: a pass splits its sequences into `threads` contiguous runs of about equal work, and each
// thread takes its run through all layers alone, with single-threaded sgemm: no barrier, no thread
// pool spinning against OpenBLAS's (an OpenMP-per-operation version of this file ran 10-25x slower
// at 2 threads on a shared 2-core machine). OpenBLAS's thread count is process-global, so a pass
// sets it to 1 and restores it after, under a process-wide mutex: forward passes of one process
// take turns (the linear layers use Ember's own kernel; BLAS runs attention's small per-head
// products). Concurrent Forward calls are therefore safe and, on a machine one pass already fills,
// lose nothing. A single sequence runs on one thread.
//
// Thread-safety: immutable after Load; Forward may be called concurrently with distinct workspaces.
#ifndef EMBER_EMBED_BERT_MODEL_H_
#define EMBER_EMBED_BERT_MODEL_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "embed/model_config.h"
#include "embed/packed_gemm.h"

namespace ember::embed {

class SafetensorsFile;

// Buffers of one forward pass, grown to the largest batch seen and reused: no allocation per token
// or per layer. One workspace per concurrent caller.
class BertWorkspace {
 private:
  friend class BertModel;
  std::vector<float> hidden_;     // tokens x hidden: layer input and output
  std::vector<float> attended_;   // tokens x hidden: after attention + LayerNorm
  std::vector<float> qkv_;        // tokens x 3*hidden
  std::vector<float> context_;    // tokens x hidden
  std::vector<float> projected_;  // tokens x hidden
  std::vector<float> inner_;      // tokens x intermediate
  std::vector<float> scratch_;    // per thread: one head's attention scores
};

class BertModel {
 public:
  // Reads `weights` (tensor names with or without the "bert." prefix) for `config`; the linear
  // layers compute in `precision` (see packed_gemm.h; everything else is float32). NotFound: a
  // missing tensor. InvalidArgument: a tensor of the wrong shape. Unimplemented: an unsupported
  // dtype. Messages name the file and the tensor.
  static absl::StatusOr<std::unique_ptr<BertModel>> Load(
      const BertConfig& config, const SafetensorsFile& weights,
      LinearPrecision precision = LinearPrecision::kFloat32);

  const BertConfig& config() const { return config_; }
  // The precision the linear layers actually run in (kFloat32 where the CPU build lacks BF16).
  LinearPrecision precision() const { return layers_.front().qkv_weight.precision(); }

  // Runs the encoder over `sequences` (token ids; token type 0; no padding, no masking) using up to
  // `threads` threads (>= 1). Returns the final hidden states of every token, packed: sequence i
  // occupies rows [sum of the lengths before it, + its length) of a (total tokens) x hidden_size
  // matrix. The span lives in `workspace` and is valid until its next use.
  // InvalidArgument: an empty sequence, one longer than max_position_embeddings, or a token id
  // outside the vocabulary (the message names the sequence index).
  absl::StatusOr<std::span<const float>> Forward(
      std::span<const std::span<const int32_t>> sequences, int threads,
      BertWorkspace* workspace) const;

  // Floating-point operations of a forward pass over sequences of these lengths (multiply-adds
  // counted as two), for reporting achieved GFLOP/s.
  double ForwardFlops(std::span<const int> lengths) const;

 private:
  struct Layer {
    PackedMatrix qkv_weight;               // 3*hidden x hidden: query, key, value rows stacked
    std::vector<float> qkv_bias;           // 3*hidden
    PackedMatrix attention_output_weight;  // hidden x hidden
    std::vector<float> attention_output_bias;
    std::vector<float> attention_norm_gamma;
    std::vector<float> attention_norm_beta;
    PackedMatrix intermediate_weight;  // intermediate x hidden
    std::vector<float> intermediate_bias;
    PackedMatrix output_weight;  // hidden x intermediate
    std::vector<float> output_bias;
    std::vector<float> output_norm_gamma;
    std::vector<float> output_norm_beta;
  };

  // The rows of one thread's sequences in each workspace buffer, and that thread's attention
  // scratch.
  struct RowRange {
    size_t count;
    float* hidden;
    float* attended;
    float* qkv;
    float* context;
    float* projected;
    float* inner;
    float* scratch;
  };

  explicit BertModel(const BertConfig& config) : config_(config) {}
  // Embedding lookup + LayerNorm of `sequences` into consecutive rows of `hidden`.
  void Embed(std::span<const std::span<const int32_t>> sequences, float* hidden) const;
  void RunLayer(const Layer& layer, std::span<const std::span<const int32_t>> sequences,
                const RowRange& rows) const;

  BertConfig config_;
  std::vector<float> word_embeddings_;       // vocab x hidden
  std::vector<float> position_embeddings_;   // max positions x hidden
  std::vector<float> token_type_embedding_;  // row 0 of token_type_embeddings: hidden
  std::vector<float> embedding_norm_gamma_;
  std::vector<float> embedding_norm_beta_;
  std::vector<Layer> layers_;
};

}  // namespace ember::embed

#endif  // EMBER_EMBED_BERT_MODEL_H_
