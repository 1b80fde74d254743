// Text encoders: turn texts into embedding vectors inside the process.
// embed/ is a library of its own: it knows nothing of db/, index/ or storage/.
#ifndef EMBER_EMBED_ENCODER_H_
#define EMBER_EMBED_ENCODER_H_

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ember::embed {

// Whether a text is a query or a document: models such as e5 and bge prepend different prompts.
enum class EmbedRole { kQuery, kDocument };

struct EncoderOptions {
  /// Threads for the forward pass (BLAS and the encoder's own loops). 0: all cores. Default: 0.
  int threads = 0;
  /// Texts per forward pass; longer inputs are split into batches of this size. Default: 32.
  int batch_size = 32;
  /// Prompt prepended to queries / documents, overriding the model's config_sentence_transformers.json.
  /// nullopt: use the model's. Default: nullopt.
  std::optional<std::string> query_prompt;
  std::optional<std::string> document_prompt;
  /// Matryoshka truncation: keep the first truncate_dim components, then re-normalize. 0: keep all.
  /// Default: 0.
  int truncate_dim = 0;
  /// Transformers: multiply the linear layers' weights in bfloat16 (AVX-512 BF16 dot products, float32
  /// accumulation): about 2x the float32 throughput, cosine >= 0.9999 to float32 outputs (measured by
  /// bench/encoder_bench). Part of the fingerprint. Ignored by static models. Default: false.
  bool bfloat16_weights = false;
};

// An Encoder is immutable after loading; Embed may be called concurrently from any number of threads.
class Encoder {
 public:
  virtual ~Encoder() = default;

  // Length of each output vector.
  virtual int dimension() const = 0;

  // Embeds `texts` for `role`, returning texts.size() * dimension() floats, row-major.
  // Any byte string is accepted (invalid UTF-8 is replaced, never a crash); over-long texts are truncated
  // to the model's max_seq_length.
  virtual absl::StatusOr<std::vector<float>> Embed(std::span<const std::string> texts,
                                                   EmbedRole role) const = 0;

  // How many tokens the model reads from `text`, before truncation and without special tokens or
  // prompts: the measure chunking budgets in. Transformers and model2vec models count WordPiece
  // tokens; static word-vector models count words.
  virtual int CountTokens(std::string_view text) const = 0;

  // A hex digest of everything that changes the output: architecture, weights, tokenizer, pooling,
  // normalization, prompts, truncate_dim. Two encoders with equal fingerprints give the same vectors.
  virtual const std::string& fingerprint() const = 0;

  // A short human-readable description ("bert 6x384 mean-pooled, normalized, from /models/minilm").
  virtual std::string Describe() const = 0;
};

// Loads the model in folder `model_dir`: a sentence-transformers / Hugging Face transformer folder
// (config.json + model.safetensors + tokenizer) or a static word-vector model.
// NotFound: no such folder or a required file is missing (named). InvalidArgument: a file is malformed,
// truncated, or inconsistent (the message names the file and, for weights, the tensor).
// Unimplemented: an architecture Ember does not support.
absl::StatusOr<std::unique_ptr<Encoder>> LoadEncoder(const std::string& model_dir,
                                                     const EncoderOptions& options = {});

}  // namespace ember::embed

#endif  // EMBER_EMBED_ENCODER_H_
