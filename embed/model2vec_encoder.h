// Model2VecEncoder: a static encoder in model2vec's folder format (minishlab's potion-* and M2V_*
// models): a token embedding table, tensor "embeddings" [vocabulary, dimension] in
// model.safetensors, indexed by the ids of the model's tokenizer.json. A text's vector is the mean
// of its tokens' rows, special and unknown tokens left out, L2-normalized when config.json says
// "normalize": true: what model2vec's StaticModel.encode computes (its max_length 512 tokens
// included).
//
// Only WordPiece tokenizers are read (models distilled from BERT-family encoders); others are
// Unimplemented, as are vocabulary-quantized files (a "mapping" or "weights" tensor). A text with
// no known token embeds as the zero vector.
//
// Immutable after loading; Embed may be called concurrently from any number of threads.
#ifndef EMBER_EMBED_MODEL2VEC_ENCODER_H_
#define EMBER_EMBED_MODEL2VEC_ENCODER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "embed/encoder.h"
#include "embed/wordpiece_tokenizer.h"

namespace ember::embed {

class Model2VecEncoder final : public Encoder {
 public:
  // Loads the model2vec folder `model_dir` (config.json, model.safetensors, tokenizer.json).
  // options.truncate_dim applies (first components, then normalization); threads, batch size and
  // prompts do not. NotFound: a file or the "embeddings" tensor is missing. InvalidArgument: a file
  // is malformed, the table has fewer rows than the tokenizer has ids, or truncate_dim is out of
  // range. Unimplemented: another tokenizer kind, or a quantized vocabulary. Messages name the
  // file.
  static absl::StatusOr<std::unique_ptr<Model2VecEncoder>> Load(const std::string& model_dir,
                                                                const EncoderOptions& options = {});

  int dimension() const override { return output_dimension_; }
  // Both roles give the same vectors. Never fails.
  absl::StatusOr<std::vector<float>> Embed(std::span<const std::string> texts,
                                           EmbedRole role) const override;
  int CountTokens(std::string_view text) const override {
    return static_cast<int>(tokenizer_->EncodeWithoutSpecialTokens(text, SIZE_MAX).size());
  }
  const std::string& fingerprint() const override { return fingerprint_; }
  std::string Describe() const override;

 private:
  Model2VecEncoder() = default;
  void EmbedOne(std::string_view text, float* out) const;

  std::string model_dir_;
  std::unique_ptr<WordPieceTokenizer> tokenizer_;
  std::vector<float> embeddings_;  // rows x dimension_
  int rows_ = 0;
  int dimension_ = 0;
  int output_dimension_ = 0;
  bool normalize_ = false;
  // model2vec cuts a text to max_tokens * (median vocabulary entry length) characters before
  // tokenizing, then keeps max_tokens known tokens.
  size_t max_chars_ = 0;
  std::string fingerprint_;
};

// True when `model_dir` holds a config.json whose model_type is "model2vec".
bool IsModel2VecModel(const std::string& model_dir);

}  // namespace ember::embed

#endif  // EMBER_EMBED_MODEL2VEC_ENCODER_H_
