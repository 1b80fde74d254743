#include "embed/model2vec_encoder.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "embed/content_hash.h"
#include "embed/model_file.h"
#include "embed/safetensors.h"
#include "embed/unicode_text.h"
#include "ember/status.h"

namespace ember::embed {
namespace {

constexpr char kEmbeddingsTensor[] = "embeddings";
constexpr size_t kMaxTokens = 512;  // StaticModel.encode's default max_length

size_t CodePointCount(std::string_view text) {
  size_t count = 0;
  for (size_t pos = 0; pos < text.size(); ++count) unicode::DecodeUtf8(text, &pos);
  return count;
}

// The byte length of the first `count` code points of `text` (all of it when shorter).
size_t PrefixBytes(std::string_view text, size_t count) {
  size_t pos = 0;
  for (size_t i = 0; i < count && pos < text.size(); ++i) unicode::DecodeUtf8(text, &pos);
  return pos;
}

}  // namespace

bool IsModel2VecModel(const std::string& model_dir) {
  const std::string config_path = JoinPath(model_dir, "config.json");
  if (!IsRegularFile(config_path)) return false;
  absl::StatusOr<nlohmann::json> config = ReadJsonFile(config_path);
  return config.ok() && config->is_object() && config->value("model_type", "") == "model2vec";
}

absl::StatusOr<std::unique_ptr<Model2VecEncoder>> Model2VecEncoder::Load(
    const std::string& model_dir, const EncoderOptions& options) {
  auto encoder = std::unique_ptr<Model2VecEncoder>(new Model2VecEncoder());
  encoder->model_dir_ = model_dir;
  const std::string config_path = JoinPath(model_dir, "config.json");
  EMBER_ASSIGN_OR_RETURN(const nlohmann::json config, ReadJsonFile(config_path));
  try {
    encoder->normalize_ = config.value("normalize", false);
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(config_path, ": ", e.what()));
  }
  EMBER_ASSIGN_OR_RETURN(encoder->tokenizer_, WordPieceTokenizer::Load(model_dir));

  const std::string weights_path = JoinPath(model_dir, "model.safetensors");
  EMBER_ASSIGN_OR_RETURN(const std::unique_ptr<SafetensorsFile> weights,
                         SafetensorsFile::Open(weights_path));
  for (const char* quantized : {"mapping", "weights"}) {
    if (weights->Find(quantized) != nullptr) {
      return absl::UnimplementedError(absl::StrCat(weights_path, ": tensor '", quantized,
                                                   "' (a quantized vocabulary) is not supported"));
    }
  }
  const SafetensorsFile::Tensor* table = weights->Find(kEmbeddingsTensor);
  if (table == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(weights_path, ": missing tensor '", kEmbeddingsTensor, "'"));
  }
  if (table->shape.size() != 2 || table->shape[0] < encoder->tokenizer_->vocab_size() ||
      table->shape[1] <= 0 || table->shape[0] > std::numeric_limits<int>::max() ||
      table->shape[1] > std::numeric_limits<int>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat(weights_path, ": tensor '", kEmbeddingsTensor, "' must have shape [rows >= ",
                     encoder->tokenizer_->vocab_size(), " (the tokenizer's ids), dimension]"));
  }
  encoder->rows_ = static_cast<int>(table->shape[0]);
  encoder->dimension_ = static_cast<int>(table->shape[1]);
  EMBER_ASSIGN_OR_RETURN(encoder->embeddings_, weights->ReadFloat(kEmbeddingsTensor, table->shape));
  if (options.truncate_dim < 0 || options.truncate_dim > encoder->dimension_) {
    return absl::InvalidArgumentError(absl::StrCat("EncoderOptions.truncate_dim ",
                                                   options.truncate_dim, " is outside [0, ",
                                                   encoder->dimension_, "]"));
  }
  encoder->output_dimension_ =
      options.truncate_dim > 0 ? options.truncate_dim : encoder->dimension_;

  // int(np.median(len(token) for token in vocabulary)), lengths in code points.
  std::vector<size_t> lengths;
  lengths.reserve(encoder->tokenizer_->vocab_size());
  for (int32_t id = 0; id < encoder->tokenizer_->vocab_size(); ++id) {
    lengths.push_back(CodePointCount(encoder->tokenizer_->Token(id)));
  }
  std::sort(lengths.begin(), lengths.end());
  const size_t middle = lengths.size() / 2;
  const size_t median =
      lengths.size() % 2 == 1 ? lengths[middle] : (lengths[middle - 1] + lengths[middle]) / 2;
  encoder->max_chars_ = kMaxTokens * median;

  ContentHasher hasher;
  hasher.UpdateField("ember.model2vec/1");
  hasher.UpdateValue(weights->content_hash());
  hasher.UpdateField(encoder->tokenizer_->fingerprint());
  hasher.UpdateValue<uint8_t>(encoder->normalize_);
  hasher.UpdateValue(encoder->output_dimension_);
  encoder->fingerprint_ = hasher.HexDigest();
  return encoder;
}

absl::StatusOr<std::vector<float>> Model2VecEncoder::Embed(std::span<const std::string> texts,
                                                           EmbedRole /*role*/) const {
  std::vector<float> out(texts.size() * output_dimension_);
  for (size_t i = 0; i < texts.size(); ++i) EmbedOne(texts[i], &out[i * output_dimension_]);
  return out;
}

void Model2VecEncoder::EmbedOne(std::string_view text, float* out) const {
  const std::string_view cut = text.substr(0, PrefixBytes(text, max_chars_));
  std::vector<int32_t> ids =
      tokenizer_->EncodeWithoutSpecialTokens(cut, std::numeric_limits<size_t>::max());
  // Unknown tokens are dropped before the count is cut to max_length, as model2vec does.
  ids.erase(std::remove(ids.begin(), ids.end(), tokenizer_->unk_id()), ids.end());
  if (ids.size() > kMaxTokens) ids.resize(kMaxTokens);
  std::fill(out, out + output_dimension_, 0.0f);
  if (ids.empty()) return;
  std::vector<double> sum(output_dimension_, 0.0);
  for (int32_t id : ids) {
    const float* row = &embeddings_[static_cast<size_t>(id) * dimension_];
    for (int j = 0; j < output_dimension_; ++j) sum[j] += row[j];
  }
  double norm = 0;
  for (double& value : sum) {
    value /= static_cast<double>(ids.size());
    norm += value * value;
  }
  // model2vec divides by (norm + 1e-32); truncate_dim re-normalizes as for every Ember encoder.
  const bool normalize = normalize_ || output_dimension_ != dimension_;
  const double scale = normalize ? 1.0 / (std::sqrt(norm) + 1e-32) : 1.0;
  for (int j = 0; j < output_dimension_; ++j) out[j] = static_cast<float>(sum[j] * scale);
}

std::string Model2VecEncoder::Describe() const {
  std::string dimensions = absl::StrCat(dimension_);
  if (output_dimension_ != dimension_) {
    absl::StrAppend(&dimensions, " truncated to ", output_dimension_);
  }
  return absl::StrCat("model2vec static embeddings ", rows_, " x ", dimensions, ", mean of tokens",
                      normalize_ ? ", normalized" : "", ", from ", model_dir_);
}

}  // namespace ember::embed
