// StaticEncoder: an Encoder that averages pre-trained word vectors (GloVe and the like), optionally
// with SIF weighting and common-component removal, then L2-normalizes. No neural network runs:
// embedding a text costs one table lookup per word, so this is the encoder that works on any
// machine, with no model download beyond the vectors (scripts/fetch-default-model.sh builds Ember's
// default one).
//
// Texts are split into words Unicode-aware: lower-cased, cut at every character that is not a
// letter, mark or number. Words missing from the vocabulary are skipped. A text with no known word
// (empty, punctuation only, unknown words) embeds as the ZERO vector, not a unit vector: callers
// that need unit vectors (cosine search) must treat it, e.g. reject it or store it unindexed.
//
// Immutable after loading; Embed may be called concurrently from any number of threads.
#ifndef EMBER_EMBED_STATIC_ENCODER_H_
#define EMBER_EMBED_STATIC_ENCODER_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "embed/encoder.h"

namespace ember::embed {

// How word vectors become a text vector.
struct StaticEncoderOptions {
  /// SIF weighting (Arora et al. 2017): each word counts a / (a + p(w)), with p(w) the word's
  /// frequency estimated from its rank by Zipf's law (vector files list words most frequent first),
  /// so frequent words ("the", "of") count little. 0 disables weighting (plain average). Default:
  /// 3e-5, chosen on SciFact's train queries with GloVe 6B 100-d and common-component removal
  /// (nDCG@10 on its 809 train queries: a=1e-3 0.314, 1e-4 0.339, 3e-5 0.347, 1e-5 0.345, 3e-6
  /// 0.342; plain average 0.203). Zipf's estimate is not the paper's corpus count, so the paper's
  /// 1e-3 does not carry over.
  double sif_a = 3e-5;
  /// Subtract the text vector's projection on the first principal component of the (frequency- and
  /// SIF-weighted) word vectors: the direction every text shares, which otherwise dominates cosine
  /// similarity. Default: true.
  bool remove_common_component = true;
  /// Keep only the first truncate_dim components (then normalize). 0: keep all. Default: 0.
  int truncate_dim = 0;
};

class StaticEncoder final : public Encoder {
 public:
  // Reads a GloVe text file: one word per line followed by its vector ("the 0.418 0.24968 ..."),
  // words most frequent first; a first line holding only "<count> <dimension>" (word2vec text) is
  // accepted. Of a word listed twice, the first (more frequent) vector is kept. NotFound: no such
  // file. InvalidArgument: an empty file, a line whose number of values differs from the first
  // line's (truncated file included), a value that is not a finite number, or options out of range;
  // the message names the file and line.
  static absl::StatusOr<std::unique_ptr<StaticEncoder>> LoadGloveText(
      const std::string& path, const StaticEncoderOptions& options = {});

  // Reads Ember's static model folder (written by scripts/fetch-default-model.sh):
  // ember_static.json (format, dimension and the SIF settings, which take the place of `options`'
  // sif_a and remove_common_component), vocab.txt (one word per line, most frequent first) and
  // vectors.bin (magic "EMBERSWV", format version, float32 rows, CRC-32 checksums of header,
  // vocabulary and vectors). NotFound: a file is missing. InvalidArgument: a file is malformed or
  // inconsistent with another. DataLoss: a checksum does not match (a corrupt or truncated file).
  // Unimplemented: a newer format version. Every message names the file.
  static absl::StatusOr<std::unique_ptr<StaticEncoder>> LoadEmberFolder(
      const std::string& model_dir, const StaticEncoderOptions& options = {});

  int dimension() const override { return output_dimension_; }
  // Roles and prompts do not apply to static models: both roles give the same vectors. Never fails.
  absl::StatusOr<std::vector<float>> Embed(std::span<const std::string> texts,
                                           EmbedRole role) const override;
  int CountTokens(std::string_view text) const override;
  const std::string& fingerprint() const override { return fingerprint_; }
  std::string Describe() const override;

  int vocab_size() const { return static_cast<int>(words_.size()); }
  // The stored (unweighted) vector of `word` as spelled in the vocabulary, or an empty span.
  std::span<const float> WordVector(std::string_view word) const;

 private:
  StaticEncoder() = default;
  // Builds the lookup table, weights, common component and fingerprint once words_ and vectors_ are
  // set. `content_digest` identifies the vectors' source content.
  absl::Status Finish(const StaticEncoderOptions& options, const std::string& content_digest);
  void EmbedOne(std::string_view text, float* out) const;

  std::string source_;  // the file or folder loaded, for Describe
  int dimension_ = 0;
  int output_dimension_ = 0;
  std::vector<std::string> words_;                      // by row, most frequent first
  std::unordered_map<std::string_view, int32_t> rows_;  // views into words_
  std::vector<float> vectors_;                          // words_.size() x dimension_
  std::vector<float> weights_;                          // per row: SIF weight, or 1
  std::vector<float> common_component_;                 // unit vector, or empty
  StaticEncoderOptions options_;
  std::string fingerprint_;
};

// True when `path` looks like a static embedding model: a folder holding ember_static.json, a
// model2vec folder (see IsModel2VecModel), or a regular file (taken as GloVe text).
bool IsStaticModel(const std::string& path);

// Loads the static model at `path` (see IsStaticModel) for LoadEncoder: Ember's folder with its own
// SIF settings, a GloVe file with the default ones, or a model2vec folder (Model2VecEncoder).
// options.truncate_dim applies; threads, batch size and prompts do not. Errors as LoadEmberFolder,
// LoadGloveText and Model2VecEncoder::Load.
absl::StatusOr<std::unique_ptr<Encoder>> LoadStaticEncoder(const std::string& path,
                                                           const EncoderOptions& options);

}  // namespace ember::embed

#endif  // EMBER_EMBED_STATIC_ENCODER_H_
