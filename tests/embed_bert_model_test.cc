// BertModel and its kernels against reference outputs computed in float64 by an independent PyTorch
// implementation (../shared/fixtures/bert-tiny-random, and a model of all-MiniLM-L6-v2 shape made
// by make_reference_model.py when present).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "embed/bert_kernels.h"
#include "embed/bert_model.h"
#include "embed/model_config.h"
#include "embed/pooling.h"
#include "embed/safetensors.h"
#include "status_matchers.h"

namespace ember::embed {
namespace {

using ::ember::testing::StatusIs;
using ::testing::HasSubstr;

struct Reference {
  std::vector<int32_t> ids;
  std::vector<float> mean;
  std::vector<float> cls;
  std::vector<float> last;
};

std::vector<Reference> ReadReferences(const std::string& path) {
  std::vector<Reference> references;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json record = nlohmann::json::parse(line);
    references.push_back(
        {record["input_ids"].get<std::vector<int32_t>>(), record["mean"].get<std::vector<float>>(),
         record["cls"].get<std::vector<float>>(), record["last"].get<std::vector<float>>()});
  }
  return references;
}

double Cosine(std::span<const float> a, std::span<const float> b) {
  double dot = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += static_cast<double>(b[i]) * b[i];
  }
  return dot / std::sqrt(aa * bb);
}

// |a - b| / |b| over the whole vector.
double RelativeError(std::span<const float> a, std::span<const float> b) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    norm += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(diff / norm);
}

std::string TinyModelDir() { return std::string(EMBER_SHARED_DIR) + "/fixtures/bert-tiny-random"; }

// The MiniLM-shape model: $EMBER_MINILM_SHAPE_DIR, else <repo>/models/minilm-shape.
std::string MiniLmShapeDir() {
  if (const char* dir = std::getenv("EMBER_MINILM_SHAPE_DIR")) return dir;
  std::string shared = EMBER_SHARED_DIR;
  return shared.substr(0, shared.rfind("/../shared")) + "/models/minilm-shape";
}

struct LoadedModel {
  std::unique_ptr<BertModel> model;
  std::vector<Reference> references;
};

std::optional<LoadedModel> LoadWithReferences(const std::string& dir) {
  if (!std::filesystem::exists(dir + "/reference.jsonl")) return std::nullopt;
  auto config = LoadBertConfig(dir);
  EXPECT_TRUE(config.ok()) << config.status();
  auto weights = SafetensorsFile::Open(dir + "/model.safetensors");
  EXPECT_TRUE(weights.ok()) << weights.status();
  if (!config.ok() || !weights.ok()) return std::nullopt;
  auto model = BertModel::Load(*config, **weights);
  EXPECT_TRUE(model.ok()) << model.status();
  if (!model.ok()) return std::nullopt;
  return LoadedModel{std::move(*model), ReadReferences(dir + "/reference.jsonl")};
}

// Every reference text, run in batches of `batch_size` mixed-length texts: mean pooling within
// cosine 1e-5, CLS and last token within 1e-4 relative.
void ExpectMatchesReferences(const LoadedModel& loaded, size_t batch_size, int threads) {
  const size_t width = loaded.model->config().hidden_size;
  BertWorkspace workspace;
  std::vector<float> pooled(width);
  double worst_cosine = 1, worst_cls = 0, worst_last = 0;
  for (size_t begin = 0; begin < loaded.references.size(); begin += batch_size) {
    const size_t end = std::min(loaded.references.size(), begin + batch_size);
    std::vector<std::span<const int32_t>> batch;
    for (size_t i = begin; i < end; ++i) batch.emplace_back(loaded.references[i].ids);
    ASSERT_OK_AND_ASSIGN(const std::span<const float> states,
                         loaded.model->Forward(batch, threads, &workspace));
    const float* sequence_states = states.data();
    for (size_t i = begin; i < end; ++i) {
      const Reference& reference = loaded.references[i];
      const size_t length = reference.ids.size();
      Pool(PoolingMode::kMean, sequence_states, length, width, 0, pooled.data());
      NormalizeL2(pooled);
      worst_cosine = std::min(worst_cosine, Cosine(pooled, reference.mean));
      EXPECT_GE(Cosine(pooled, reference.mean), 0.99999) << "text " << i;
      Pool(PoolingMode::kCls, sequence_states, length, width, 0, pooled.data());
      worst_cls = std::max(worst_cls, RelativeError(pooled, reference.cls));
      EXPECT_LE(RelativeError(pooled, reference.cls), 1e-4) << "text " << i;
      Pool(PoolingMode::kLastToken, sequence_states, length, width, 0, pooled.data());
      worst_last = std::max(worst_last, RelativeError(pooled, reference.last));
      EXPECT_LE(RelativeError(pooled, reference.last), 1e-4) << "text " << i;
      sequence_states += length * width;
    }
  }
  std::cout << loaded.references.size() << " texts in batches of " << batch_size
            << ": worst mean cosine " << worst_cosine << ", worst cls relative error " << worst_cls
            << ", worst last " << worst_last << "\n";
}

// The first `count` references in one mixed-length batch give the same states as each text alone.
void ExpectBatchEqualsSingle(const LoadedModel& loaded, size_t count, int threads) {
  const size_t width = loaded.model->config().hidden_size;
  BertWorkspace batch_workspace, single_workspace;
  std::vector<std::span<const int32_t>> batch;
  for (size_t i = 0; i < std::min(count, loaded.references.size()); ++i) {
    batch.emplace_back(loaded.references[i].ids);
  }
  ASSERT_OK_AND_ASSIGN(const std::span<const float> states,
                       loaded.model->Forward(batch, threads, &batch_workspace));
  const std::vector<float> batched(states.begin(), states.end());
  size_t row = 0;
  for (size_t s = 0; s < batch.size(); ++s) {
    ASSERT_OK_AND_ASSIGN(const std::span<const float> single,
                         loaded.model->Forward({&batch[s], 1}, threads, &single_workspace));
    for (size_t j = 0; j < single.size(); ++j) {
      ASSERT_NEAR(batched[row * width + j], single[j], 1e-5f * (1 + std::fabs(single[j])))
          << "sequence " << s << " component " << j;
    }
    row += batch[s].size();
  }
}

TEST(BertKernelsTest, ExpMatchesLibm) {
  for (float x = -87.0f; x <= 88.0f; x += 0.0137f) {
    ASSERT_NEAR(ExpApprox(x), std::exp(x), 3e-7 * std::exp(x)) << x;
  }
  EXPECT_EQ(ExpApprox(-1000.0f), ExpApprox(-87.3f));
  EXPECT_LT(ExpApprox(-1000.0f), 1e-37f);
}

TEST(BertKernelsTest, ErfMatchesLibm) {
  for (float x = -8.0f; x <= 8.0f; x += 0.00071f) {
    ASSERT_NEAR(ErfApprox(x), std::erf(static_cast<double>(x)), 2e-7) << x;
  }
  EXPECT_EQ(ErfApprox(1e30f), 1.0f);
  EXPECT_EQ(ErfApprox(-1e30f), -1.0f);
}

TEST(BertKernelsTest, AttentionOfOneTokenReturnsItsValue) {
  // One token attends only to itself: the output is its value vector, whatever the scores.
  const std::vector<float> qkv = {1, 2, 3, 4, 5, 6};  // q = {1, 2}, k = {3, 4}, v = {5, 6}
  std::vector<float> out(2), scratch(AttentionScratchFloats(1, 2));
  AttendOneHead(&qkv[0], &qkv[2], &qkv[4], 6, 1, 2, out.data(), 2, scratch.data());
  EXPECT_FLOAT_EQ(out[0], 5);
  EXPECT_FLOAT_EQ(out[1], 6);
}

TEST(BertKernelsTest, LayerNormNormalizesThenScales) {
  const std::vector<float> y = {1, 2, 3, 4};
  const std::vector<float> zero = {0, 0, 0, 0}, gamma = {1, 1, 2, 2}, beta = {0, 0, 0, 1};
  std::vector<float> out(4);
  BiasResidualLayerNorm(y.data(), zero.data(), nullptr, gamma.data(), beta.data(), 0.0f, 1, 4,
                        out.data());
  const float inv_std = 1.0f / std::sqrt(1.25f);
  EXPECT_NEAR(out[0], -1.5f * inv_std, 1e-6);
  EXPECT_NEAR(out[1], -0.5f * inv_std, 1e-6);
  EXPECT_NEAR(out[2], 2 * 0.5f * inv_std, 1e-6);
  EXPECT_NEAR(out[3], 2 * 1.5f * inv_std + 1, 1e-6);
}

class TinyBertTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(TinyModelDir())) {
      GTEST_SKIP() << "no fixtures at " << TinyModelDir() << " (../shared is absent)";
    }
    loaded_ = LoadWithReferences(TinyModelDir());
    ASSERT_TRUE(loaded_.has_value());
  }
  std::optional<LoadedModel> loaded_;
};

TEST_F(TinyBertTest, MatchesReferenceAlone) { ExpectMatchesReferences(*loaded_, 1, 1); }
TEST_F(TinyBertTest, MatchesReferenceInBatches) { ExpectMatchesReferences(*loaded_, 32, 2); }
TEST_F(TinyBertTest, MatchesReferenceInOneBatchOnThreeThreads) {
  ExpectMatchesReferences(*loaded_, loaded_->references.size(), 3);
}
TEST_F(TinyBertTest, BatchEqualsSingle) {
  ExpectBatchEqualsSingle(*loaded_, loaded_->references.size(), 2);
}

TEST_F(TinyBertTest, Bfloat16LinearLayersStayClose) {
  ASSERT_OK_AND_ASSIGN(const BertConfig config, LoadBertConfig(TinyModelDir()));
  ASSERT_OK_AND_ASSIGN(const auto weights,
                       SafetensorsFile::Open(TinyModelDir() + "/model.safetensors"));
  ASSERT_OK_AND_ASSIGN(auto model, BertModel::Load(config, *weights, LinearPrecision::kBfloat16));
  BertWorkspace workspace;
  std::vector<float> pooled(32);
  double worst = 1;
  for (const Reference& reference : loaded_->references) {
    const std::span<const int32_t> ids = reference.ids;
    ASSERT_OK_AND_ASSIGN(const std::span<const float> states,
                         model->Forward({&ids, 1}, 1, &workspace));
    Pool(PoolingMode::kMean, states.data(), ids.size(), 32, 0, pooled.data());
    NormalizeL2(pooled);
    worst = std::min(worst, Cosine(pooled, reference.mean));
  }
  std::cout << "bf16 linear layers: worst mean cosine " << worst << "\n";
  EXPECT_GE(worst, 0.999);
}

TEST_F(TinyBertTest, RejectsBadSequences) {
  BertWorkspace workspace;
  const std::vector<int32_t> empty;
  const std::vector<int32_t> out_of_vocabulary = {101, 30522, 102};
  const std::vector<int32_t> negative = {101, -1, 102};
  const std::vector<int32_t> too_long(513, 1000);
  for (const auto* ids : {&empty, &out_of_vocabulary, &negative, &too_long}) {
    const std::span<const int32_t> good_then_bad[] = {loaded_->references[0].ids, *ids};
    EXPECT_THAT(loaded_->model->Forward(good_then_bad, 1, &workspace),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sequence 1")));
  }
}

TEST_F(TinyBertTest, CountsFlops) {
  const BertConfig& c = loaded_->model->config();
  const int lengths[] = {10};
  const double linear = 2.0 * 10 * (4 * 32 * 32 + 2 * 32 * 64);
  const double attention = 4.0 * 10 * 10 * 32;
  EXPECT_DOUBLE_EQ(loaded_->model->ForwardFlops(lengths),
                   c.num_hidden_layers * (linear + attention));
}

TEST(BertModelLoadTest, NamesMissingAndMisshapenTensors) {
  const std::string dir = TinyModelDir();
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "no fixtures at " << dir;
  ASSERT_OK_AND_ASSIGN(const BertConfig config, LoadBertConfig(dir));
  ASSERT_OK_AND_ASSIGN(const auto weights, SafetensorsFile::Open(dir + "/model.safetensors"));
  BertConfig more_layers = config;
  more_layers.num_hidden_layers = 3;
  EXPECT_THAT(BertModel::Load(more_layers, *weights),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("encoder.layer.2.attention.self.query.weight")));
  BertConfig wider = config;
  wider.intermediate_size = 128;
  EXPECT_THAT(BertModel::Load(wider, *weights),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("encoder.layer.0.intermediate.dense.weight")));
}

TEST(MiniLmShapeTest, MatchesReferenceAndBatching) {
  const std::string dir = MiniLmShapeDir();
  if (!std::filesystem::exists(dir + "/reference.jsonl")) {
    GTEST_SKIP()
        << "no MiniLM-shape model at " << dir
        << "; make it with ../shared/tools/make_reference_model.py (see tools/README.md) or "
           "set EMBER_MINILM_SHAPE_DIR";
  }
  const std::optional<LoadedModel> loaded = LoadWithReferences(dir);
  ASSERT_TRUE(loaded.has_value());
  ExpectMatchesReferences(*loaded, 32, 2);
  ExpectBatchEqualsSingle(*loaded, 48, 2);
}

}  // namespace
}  // namespace ember::embed
