#include "embed/transformer_encoder.h"

#include <algorithm>
#include <numeric>
#include <thread>

#include "absl/strings/str_cat.h"
#include "embed/content_hash.h"
#include "embed/model_file.h"
#include "embed/pooling.h"
#include "embed/safetensors.h"
#include "ember/status.h"

namespace ember::embed {

absl::StatusOr<std::unique_ptr<TransformerEncoder>> TransformerEncoder::Load(
    const std::string& model_dir, const EncoderOptions& options, LinearPrecision precision) {
  if (options.batch_size < 1) {
    return absl::InvalidArgumentError("EncoderOptions.batch_size must be at least 1");
  }
  if (options.threads < 0) {
    return absl::InvalidArgumentError("EncoderOptions.threads must be 0 (all cores) or positive");
  }
  std::unique_ptr<TransformerEncoder> encoder(new TransformerEncoder());
  encoder->model_dir_ = model_dir;
  EMBER_ASSIGN_OR_RETURN(const BertConfig config, LoadBertConfig(model_dir));
  EMBER_ASSIGN_OR_RETURN(encoder->modules_, LoadSentenceTransformersConfig(model_dir));
  EMBER_ASSIGN_OR_RETURN(encoder->tokenizer_, WordPieceTokenizer::Load(model_dir));
  if (encoder->tokenizer_->vocab_size() > config.vocab_size) {
    return absl::InvalidArgumentError(
        absl::StrCat(model_dir, ": the tokenizer has ", encoder->tokenizer_->vocab_size(),
                     " ids but config.json's vocab_size is ", config.vocab_size));
  }
  const std::string weights_path = JoinPath(model_dir, "model.safetensors");
  uint64_t weights_hash = 0;
  {
    EMBER_ASSIGN_OR_RETURN(const std::unique_ptr<SafetensorsFile> weights,
                           SafetensorsFile::Open(weights_path));
    EMBER_ASSIGN_OR_RETURN(encoder->model_, BertModel::Load(config, *weights, precision));
    weights_hash = weights->content_hash();
  }  // unmapped here: the model holds its own float32 copy

  if (options.truncate_dim < 0 || options.truncate_dim > config.hidden_size) {
    return absl::InvalidArgumentError(absl::StrCat("EncoderOptions.truncate_dim ",
                                                   options.truncate_dim, " is outside [0, ",
                                                   config.hidden_size, "]"));
  }
  encoder->truncate_dim_ = options.truncate_dim;
  encoder->dimension_ = options.truncate_dim > 0 ? options.truncate_dim : config.hidden_size;
  encoder->threads_ = options.threads > 0
                          ? options.threads
                          : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  encoder->batch_size_ = options.batch_size;
  encoder->max_length_ =
      encoder->modules_.max_seq_length > 0
          ? std::min(encoder->modules_.max_seq_length, config.max_position_embeddings)
          : config.max_position_embeddings;
  encoder->query_prompt_ = options.query_prompt.value_or(encoder->modules_.query_prompt);
  encoder->document_prompt_ = options.document_prompt.value_or(encoder->modules_.document_prompt);
  // sentence-transformers counts a prompt as its tokenization without the closing [SEP].
  const auto prompt_tokens = [&](const std::string& prompt) {
    if (prompt.empty()) return 0;
    return static_cast<int>(encoder->tokenizer_->Encode(prompt, encoder->max_length_).size()) - 1;
  };
  encoder->query_prompt_tokens_ = prompt_tokens(encoder->query_prompt_);
  encoder->document_prompt_tokens_ = prompt_tokens(encoder->document_prompt_);

  ContentHasher hasher;
  hasher.UpdateField("bert");
  for (const int value :
       {config.vocab_size, config.hidden_size, config.num_hidden_layers, config.num_attention_heads,
        config.intermediate_size, config.max_position_embeddings, config.type_vocab_size}) {
    hasher.UpdateValue(value);
  }
  hasher.UpdateValue(config.layer_norm_eps);
  hasher.UpdateValue(weights_hash);
  if (encoder->model_->precision() != LinearPrecision::kFloat32) hasher.UpdateField("bf16");
  hasher.UpdateField(encoder->tokenizer_->fingerprint());
  hasher.UpdateField(PoolingModeName(encoder->modules_.pooling));
  hasher.UpdateValue(encoder->modules_.pool_prompt_tokens);
  hasher.UpdateValue(encoder->modules_.normalize);
  hasher.UpdateValue(encoder->max_length_);
  hasher.UpdateField(encoder->query_prompt_);
  hasher.UpdateField(encoder->document_prompt_);
  hasher.UpdateValue(encoder->truncate_dim_);
  encoder->fingerprint_ = hasher.HexDigest();
  return encoder;
}

std::string TransformerEncoder::Describe() const {
  const BertConfig& config = model_->config();
  return absl::StrCat(
      "bert ", config.num_hidden_layers, "x", config.hidden_size, " ",
      std::string(PoolingModeName(modules_.pooling)), "-pooled",
      modules_.normalize ? ", normalized" : "",
      truncate_dim_ > 0 ? absl::StrCat(", truncated to ", truncate_dim_) : "",
      model_->precision() == LinearPrecision::kBfloat16 ? ", bf16 linear layers" : "", ", max ",
      max_length_, " tokens, from ", model_dir_);
}

std::vector<int32_t> TransformerEncoder::Tokenize(std::string_view text, EmbedRole role) const {
  const std::string& prompt = role == EmbedRole::kQuery ? query_prompt_ : document_prompt_;
  if (prompt.empty()) return tokenizer_->Encode(text, max_length_);
  return tokenizer_->Encode(absl::StrCat(prompt, absl::string_view(text.data(), text.size())),
                            max_length_);
}

absl::StatusOr<std::vector<float>> TransformerEncoder::Embed(std::span<const std::string> texts,
                                                             EmbedRole role) const {
  std::vector<std::vector<int32_t>> sequences(texts.size());
  for (size_t i = 0; i < texts.size(); ++i) sequences[i] = Tokenize(texts[i], role);
  std::vector<int> skip;
  if (!modules_.pool_prompt_tokens) {
    skip.assign(texts.size(),
                role == EmbedRole::kQuery ? query_prompt_tokens_ : document_prompt_tokens_);
  }
  std::vector<size_t> order(sequences.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return sequences[a].size() < sequences[b].size(); });
  std::vector<float> out(texts.size() * dimension_);
  EMBER_RETURN_IF_ERROR(EmbedSorted(sequences, order, skip, out.data()));
  return out;
}

absl::StatusOr<std::vector<float>> TransformerEncoder::EmbedTokenIds(
    std::span<const std::vector<int32_t>> sequences) const {
  std::vector<size_t> order(sequences.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return sequences[a].size() < sequences[b].size(); });
  std::vector<float> out(sequences.size() * dimension_);
  EMBER_RETURN_IF_ERROR(EmbedSorted(sequences, order, {}, out.data()));
  return out;
}

absl::Status TransformerEncoder::EmbedSorted(std::span<const std::vector<int32_t>> sequences,
                                             std::span<const size_t> order,
                                             std::span<const int> skip, float* out) const {
  const size_t width = model_->config().hidden_size;
  BertWorkspace workspace;
  std::vector<std::span<const int32_t>> batch;
  std::vector<float> pooled(width);
  for (size_t begin = 0; begin < order.size(); begin += batch_size_) {
    const size_t end = std::min(order.size(), begin + batch_size_);
    batch.clear();
    for (size_t i = begin; i < end; ++i) batch.emplace_back(sequences[order[i]]);
    EMBER_ASSIGN_OR_RETURN(const std::span<const float> states,
                           model_->Forward(batch, threads_, &workspace));
    size_t row = 0;
    for (size_t i = begin; i < end; ++i) {
      const size_t index = order[i];
      const size_t length = sequences[index].size();
      const size_t first = skip.empty() ? 0 : std::min<size_t>(skip[index], length - 1);
      Pool(modules_.pooling, states.data() + row * width, length, width, first, pooled.data());
      row += length;
      if (modules_.normalize) NormalizeL2(pooled);
      float* dst = out + index * dimension_;
      std::copy(pooled.begin(), pooled.begin() + dimension_, dst);
      if (truncate_dim_ > 0) NormalizeL2(std::span<float>(dst, dimension_));
    }
  }
  return absl::OkStatus();
}

}  // namespace ember::embed
