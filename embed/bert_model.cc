#include "embed/bert_model.h"

#include <cblas.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "embed/bert_kernels.h"
#include "embed/safetensors.h"
#include "ember/status.h"

namespace ember::embed {
namespace {

// Guards OpenBLAS's process-global thread count for the whole of a forward pass: the pass sets it
// to 1 (its own threads each run single-threaded sgemm) and restores the caller's setting
// afterwards. A std::mutex (pthreads) rather than absl::Mutex: ThreadSanitizer cannot see the
// synchronization of Debian's Abseil, which is not built for it.
std::mutex& ForwardMutex() {
  static std::mutex* mutex = new std::mutex();
  return *mutex;
}

// Splits sequences [0, n) into `parts` contiguous ranges of about equal work: a sequence of length
// L costs L token-rows of linear layers plus L^2 of attention (in the same units for this shape).
// Returns parts + 1 boundaries.
std::vector<size_t> BalancedRanges(std::span<const std::span<const int32_t>> sequences,
                                   size_t parts, const BertConfig& config) {
  const double per_token = 4.0 * config.hidden_size + 2.0 * config.intermediate_size;
  std::vector<double> prefix(sequences.size() + 1, 0);
  for (size_t s = 0; s < sequences.size(); ++s) {
    const double length = static_cast<double>(sequences[s].size());
    prefix[s + 1] = prefix[s] + length * per_token + 2.0 * length * length;
  }
  std::vector<size_t> bounds(parts + 1, sequences.size());
  bounds[0] = 0;
  size_t s = 0;
  for (size_t p = 1; p < parts; ++p) {
    const double target = prefix.back() * static_cast<double>(p) / static_cast<double>(parts);
    while (s < sequences.size() && prefix[s + 1] <= target) ++s;
    bounds[p] = std::max(s, bounds[p - 1]);
  }
  return bounds;
}

}  // namespace

absl::StatusOr<std::unique_ptr<BertModel>> BertModel::Load(const BertConfig& config,
                                                           const SafetensorsFile& weights,
                                                           LinearPrecision precision) {
  const int64_t hidden = config.hidden_size;
  const int64_t inner = config.intermediate_size;
  std::unique_ptr<BertModel> model(new BertModel(config));
  const auto read =
      [&](const std::string& name,
          std::initializer_list<int64_t> shape) -> absl::StatusOr<std::vector<float>> {
    return weights.ReadFloat(name, std::vector<int64_t>(shape));
  };
  EMBER_ASSIGN_OR_RETURN(model->word_embeddings_,
                         read("embeddings.word_embeddings.weight", {config.vocab_size, hidden}));
  EMBER_ASSIGN_OR_RETURN(
      model->position_embeddings_,
      read("embeddings.position_embeddings.weight", {config.max_position_embeddings, hidden}));
  EMBER_ASSIGN_OR_RETURN(
      model->token_type_embedding_,
      read("embeddings.token_type_embeddings.weight", {config.type_vocab_size, hidden}));
  model->token_type_embedding_.resize(hidden);  // Ember feeds token type 0 only
  EMBER_ASSIGN_OR_RETURN(model->embedding_norm_gamma_,
                         read("embeddings.LayerNorm.weight", {hidden}));
  EMBER_ASSIGN_OR_RETURN(model->embedding_norm_beta_, read("embeddings.LayerNorm.bias", {hidden}));

  for (int i = 0; i < config.num_hidden_layers; ++i) {
    const std::string prefix = absl::StrCat("encoder.layer.", i, ".");
    Layer layer;
    std::vector<float> qkv_weight;
    qkv_weight.reserve(3 * hidden * hidden);
    layer.qkv_bias.reserve(3 * hidden);
    for (const char* part : {"query", "key", "value"}) {
      const std::string name = absl::StrCat(prefix, "attention.self.", part);
      EMBER_ASSIGN_OR_RETURN(std::vector<float> weight, read(name + ".weight", {hidden, hidden}));
      EMBER_ASSIGN_OR_RETURN(std::vector<float> bias, read(name + ".bias", {hidden}));
      qkv_weight.insert(qkv_weight.end(), weight.begin(), weight.end());
      layer.qkv_bias.insert(layer.qkv_bias.end(), bias.begin(), bias.end());
    }
    layer.qkv_weight = PackedMatrix::Pack(qkv_weight, 3 * hidden, hidden, precision);
    EMBER_ASSIGN_OR_RETURN(const std::vector<float> attention_output_weight,
                           read(prefix + "attention.output.dense.weight", {hidden, hidden}));
    layer.attention_output_weight =
        PackedMatrix::Pack(attention_output_weight, hidden, hidden, precision);
    EMBER_ASSIGN_OR_RETURN(layer.attention_output_bias,
                           read(prefix + "attention.output.dense.bias", {hidden}));
    EMBER_ASSIGN_OR_RETURN(layer.attention_norm_gamma,
                           read(prefix + "attention.output.LayerNorm.weight", {hidden}));
    EMBER_ASSIGN_OR_RETURN(layer.attention_norm_beta,
                           read(prefix + "attention.output.LayerNorm.bias", {hidden}));
    EMBER_ASSIGN_OR_RETURN(const std::vector<float> intermediate_weight,
                           read(prefix + "intermediate.dense.weight", {inner, hidden}));
    layer.intermediate_weight = PackedMatrix::Pack(intermediate_weight, inner, hidden, precision);
    EMBER_ASSIGN_OR_RETURN(layer.intermediate_bias,
                           read(prefix + "intermediate.dense.bias", {inner}));
    EMBER_ASSIGN_OR_RETURN(const std::vector<float> output_weight,
                           read(prefix + "output.dense.weight", {hidden, inner}));
    layer.output_weight = PackedMatrix::Pack(output_weight, hidden, inner, precision);
    EMBER_ASSIGN_OR_RETURN(layer.output_bias, read(prefix + "output.dense.bias", {hidden}));
    EMBER_ASSIGN_OR_RETURN(layer.output_norm_gamma,
                           read(prefix + "output.LayerNorm.weight", {hidden}));
    EMBER_ASSIGN_OR_RETURN(layer.output_norm_beta,
                           read(prefix + "output.LayerNorm.bias", {hidden}));
    model->layers_.push_back(std::move(layer));
  }
  return model;
}

void BertModel::Embed(std::span<const std::span<const int32_t>> sequences, float* hidden) const {
  const size_t width = config_.hidden_size;
  size_t row = 0;
  for (const auto& sequence : sequences) {
    for (size_t position = 0; position < sequence.size(); ++position, ++row) {
      const float* word = word_embeddings_.data() + static_cast<size_t>(sequence[position]) * width;
      const float* place = position_embeddings_.data() + position * width;
      float* dst = hidden + row * width;
      for (size_t c = 0; c < width; ++c) dst[c] = word[c] + place[c];
    }
  }
  BiasResidualLayerNorm(hidden, token_type_embedding_.data(), nullptr, embedding_norm_gamma_.data(),
                        embedding_norm_beta_.data(), config_.layer_norm_eps, row, width, hidden);
}

void BertModel::RunLayer(const Layer& layer, std::span<const std::span<const int32_t>> sequences,
                         const RowRange& rows) const {
  const size_t hidden = config_.hidden_size;
  const size_t inner = config_.intermediate_size;
  const size_t heads = config_.num_attention_heads;
  const size_t head_dim = hidden / heads;
  const float eps = config_.layer_norm_eps;
  const size_t tokens = rows.count;
  float* x = rows.hidden;
  float* qkv = rows.qkv;
  float* context = rows.context;
  float* attended = rows.attended;
  float* projected = rows.projected;
  float* intermediate = rows.inner;

  Linear(x, tokens, layer.qkv_weight, qkv);
  AddBias(qkv, layer.qkv_bias.data(), tokens, 3 * hidden);
  size_t row = 0;
  for (const auto& sequence : sequences) {
    for (size_t h = 0; h < heads; ++h) {
      const float* q = qkv + row * 3 * hidden + h * head_dim;
      AttendOneHead(q, q + hidden, q + 2 * hidden, 3 * hidden, sequence.size(), head_dim,
                    context + row * hidden + h * head_dim, hidden, rows.scratch);
    }
    row += sequence.size();
  }
  Linear(context, tokens, layer.attention_output_weight, projected);
  BiasResidualLayerNorm(projected, layer.attention_output_bias.data(), x,
                        layer.attention_norm_gamma.data(), layer.attention_norm_beta.data(), eps,
                        tokens, hidden, attended);
  Linear(attended, tokens, layer.intermediate_weight, intermediate);
  AddBiasGelu(intermediate, layer.intermediate_bias.data(), tokens, inner);
  Linear(intermediate, tokens, layer.output_weight, projected);
  BiasResidualLayerNorm(projected, layer.output_bias.data(), attended,
                        layer.output_norm_gamma.data(), layer.output_norm_beta.data(), eps, tokens,
                        hidden, x);
}

absl::StatusOr<std::span<const float>> BertModel::Forward(
    std::span<const std::span<const int32_t>> sequences, int threads,
    BertWorkspace* workspace) const {
  size_t tokens = 0;
  size_t max_length = 0;
  for (size_t s = 0; s < sequences.size(); ++s) {
    const auto& sequence = sequences[s];
    if (sequence.empty() ||
        sequence.size() > static_cast<size_t>(config_.max_position_embeddings)) {
      return absl::InvalidArgumentError(absl::StrCat("sequence ", s, " has ", sequence.size(),
                                                     " tokens; the model takes 1 to ",
                                                     config_.max_position_embeddings));
    }
    for (const int32_t id : sequence) {
      if (id < 0 || id >= config_.vocab_size) {
        return absl::InvalidArgumentError(absl::StrCat("sequence ", s, " holds token id ", id,
                                                       " outside the vocabulary of ",
                                                       config_.vocab_size));
      }
    }
    tokens += sequence.size();
    max_length = std::max(max_length, sequence.size());
  }
  const size_t hidden = config_.hidden_size;
  const size_t inner = config_.intermediate_size;
  if (tokens == 0) return std::span<const float>();
  const size_t parts = std::clamp<size_t>(threads, 1, sequences.size());
  const size_t scratch = AttentionScratchFloats(max_length, hidden / config_.num_attention_heads);
  const auto grow = [](std::vector<float>& buffer, size_t size) {
    if (buffer.size() < size) buffer.resize(size);
  };
  grow(workspace->hidden_, tokens * hidden);
  grow(workspace->attended_, tokens * hidden);
  grow(workspace->qkv_, tokens * 3 * hidden);
  grow(workspace->context_, tokens * hidden);
  grow(workspace->projected_, tokens * hidden);
  grow(workspace->inner_, tokens * inner);
  grow(workspace->scratch_, parts * scratch);

  // Each part is a contiguous run of sequences, hence of rows in every buffer: the parts share no
  // data, so they run start to finish with no synchronization.
  const std::vector<size_t> bounds = BalancedRanges(sequences, parts, config_);
  std::vector<std::pair<std::span<const std::span<const int32_t>>, RowRange>> work;
  size_t row = 0;
  for (size_t p = 0; p < parts; ++p) {
    const auto part = sequences.subspan(bounds[p], bounds[p + 1] - bounds[p]);
    size_t count = 0;
    for (const auto& sequence : part) count += sequence.size();
    if (count == 0) continue;
    work.push_back({part, RowRange{count, workspace->hidden_.data() + row * hidden,
                                   workspace->attended_.data() + row * hidden,
                                   workspace->qkv_.data() + row * 3 * hidden,
                                   workspace->context_.data() + row * hidden,
                                   workspace->projected_.data() + row * hidden,
                                   workspace->inner_.data() + row * inner,
                                   workspace->scratch_.data() + p * scratch}});
    row += count;
  }
  const auto run = [&](size_t w) {
    Embed(work[w].first, work[w].second.hidden);
    for (const Layer& layer : layers_) RunLayer(layer, work[w].first, work[w].second);
  };

  std::lock_guard<std::mutex> lock(ForwardMutex());
  const int blas_threads = openblas_get_num_threads();
  openblas_set_num_threads(1);
  {
    std::vector<std::jthread> helpers;
    for (size_t w = 1; w < work.size(); ++w) helpers.emplace_back(run, w);
    run(0);
  }  // joins the helpers
  openblas_set_num_threads(blas_threads);
  return std::span<const float>(workspace->hidden_.data(), tokens * hidden);
}

double BertModel::ForwardFlops(std::span<const int> lengths) const {
  const double hidden = config_.hidden_size;
  const double inner = config_.intermediate_size;
  double flops = 0;
  for (const int length : lengths) {
    const double linear = 2.0 * length * (4 * hidden * hidden + 2 * hidden * inner);
    const double attention = 2.0 * 2.0 * length * static_cast<double>(length) * hidden;
    flops += config_.num_hidden_layers * (linear + attention);
  }
  return flops;
}

}  // namespace ember::embed
