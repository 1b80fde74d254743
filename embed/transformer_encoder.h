// TransformerEncoder: a Hugging Face / sentence-transformers BERT-family folder as an Encoder.
// Text -> (prompt) -> WordPiece ids -> BertModel -> Pooling -> Normalize -> Matryoshka truncation.
//
// Embed sorts the texts of a call by token count and cuts them into batches of neighbours, so each
// forward pass holds sequences of similar length; sequences are packed (see bert_model.h), so no
// padding is ever computed.
//
// Thread-safety: immutable after Load; Embed may be called concurrently (forward passes of one
// process take turns, each using `threads` cores: see bert_model.h).
#ifndef EMBER_EMBED_TRANSFORMER_ENCODER_H_
#define EMBER_EMBED_TRANSFORMER_ENCODER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "embed/bert_model.h"
#include "embed/encoder.h"
#include "embed/model_config.h"
#include "embed/wordpiece_tokenizer.h"

namespace ember::embed {

class TransformerEncoder final : public Encoder {
 public:
  // Loads config.json, model.safetensors, the tokenizer and the sentence-transformers modules of
  // `model_dir`; `options` override prompts and set threads, batch size and truncate_dim.
  // NotFound: a required file (named) is missing. InvalidArgument: a malformed file, a bad option
  // (batch_size < 1, threads < 0, truncate_dim outside [0, hidden size]), or a tokenizer whose ids
  // exceed the model's vocabulary. Unimplemented: an architecture, module or dtype Ember does not
  // run. `precision` chooses the linear layers' arithmetic (packed_gemm.h); it is part of the
  // fingerprint.
  static absl::StatusOr<std::unique_ptr<TransformerEncoder>> Load(
      const std::string& model_dir, const EncoderOptions& options,
      LinearPrecision precision = LinearPrecision::kFloat32);

  int dimension() const override { return dimension_; }
  absl::StatusOr<std::vector<float>> Embed(std::span<const std::string> texts,
                                           EmbedRole role) const override;
  int CountTokens(std::string_view text) const override {
    return static_cast<int>(tokenizer_->EncodeWithoutSpecialTokens(text, SIZE_MAX).size());
  }
  const std::string& fingerprint() const override { return fingerprint_; }
  std::string Describe() const override;

  // Embeds sequences that are already token ids (special tokens included), skipping tokenization
  // and prompts: for benchmarks and for tests against reference ids. Same output as Embed.
  // InvalidArgument: as BertModel::Forward.
  absl::StatusOr<std::vector<float>> EmbedTokenIds(
      std::span<const std::vector<int32_t>> sequences) const;

  // The ids Embed feeds the model for `text` in `role`: prompt prepended, truncated to
  // max_seq_length.
  std::vector<int32_t> Tokenize(std::string_view text, EmbedRole role) const;

  const BertModel& model() const { return *model_; }
  int max_seq_length() const { return max_length_; }

 private:
  TransformerEncoder() = default;
  // Pools, normalizes and truncates sequences[order[i]] for i in [begin, end) in batches, writing
  // row order[i] of `out`. `skip` gives per-sequence prompt tokens left out of pooling (may be
  // empty).
  absl::Status EmbedSorted(std::span<const std::vector<int32_t>> sequences,
                           std::span<const size_t> order, std::span<const int> skip,
                           float* out) const;

  std::string model_dir_;
  std::unique_ptr<WordPieceTokenizer> tokenizer_;
  std::unique_ptr<BertModel> model_;
  SentenceTransformersConfig modules_;
  std::string query_prompt_;
  std::string document_prompt_;
  int query_prompt_tokens_ = 0;  // tokens of [CLS] + query prompt, for include_prompt: false
  int document_prompt_tokens_ = 0;
  int max_length_ = 0;
  int threads_ = 1;
  int batch_size_ = 32;
  int truncate_dim_ = 0;
  int dimension_ = 0;
  std::string fingerprint_;
};

}  // namespace ember::embed

#endif  // EMBER_EMBED_TRANSFORMER_ENCODER_H_
