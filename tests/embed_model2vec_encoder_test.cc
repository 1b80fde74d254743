// Tests for embed/model2vec_encoder.h on a model2vec folder built by the test: the real
// all-MiniLM-L6-v2 tokenizer (shared fixture) over a synthetic embedding table whose rows are
// known, so every expected vector is the mean of rows written here.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "embed/model2vec_encoder.h"
#include "embed/static_encoder.h"
#include "status_matchers.h"

namespace ember::embed {
namespace {

using ::ember::testing::StatusIs;
using ::testing::FloatNear;
using ::testing::HasSubstr;
using ::testing::Pointwise;

const std::string kTokenizerJson =
    std::string(EMBER_SHARED_DIR) + "/fixtures/tokenizer/all-MiniLM-L6-v2/tokenizer.json";
constexpr int kVocabSize = 30522;
constexpr int kDimension = 3;

// Row `id` of the synthetic table.
std::vector<float> Row(int id) {
  return {static_cast<float>(id % 7), static_cast<float>(id % 11) - 5.0f, 1.0f};
}

class Model2VecEncoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kTokenizerJson)) GTEST_SKIP() << "no fixture " << kTokenizerJson;
    dir_ = std::filesystem::temp_directory_path() /
           ("ember_model2vec_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::filesystem::copy_file(kTokenizerJson, dir_ / "tokenizer.json",
                               std::filesystem::copy_options::overwrite_existing);
    WriteConfig(R"({"model_type": "model2vec", "normalize": true, "hidden_dim": 3})");
    std::vector<float> table;
    for (int id = 0; id < kVocabSize; ++id) {
      const std::vector<float> row = Row(id);
      table.insert(table.end(), row.begin(), row.end());
    }
    WriteSafetensors("embeddings", {kVocabSize, kDimension}, table);
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  void WriteConfig(const std::string& json) const { std::ofstream(dir_ / "config.json") << json; }
  void WriteSafetensors(const std::string& name, std::vector<int64_t> shape,
                        const std::vector<float>& values) const {
    const size_t bytes = values.size() * sizeof(float);
    const std::string header = "{\"" + name + "\": {\"dtype\": \"F32\", \"shape\": [" +
                               std::to_string(shape[0]) + ", " + std::to_string(shape[1]) +
                               "], \"data_offsets\": [0, " + std::to_string(bytes) + "]}}";
    const uint64_t header_size = header.size();
    std::ofstream out(dir_ / "model.safetensors", std::ios::binary);
    out.write(reinterpret_cast<const char*>(&header_size), sizeof(header_size));
    out << header;
    out.write(reinterpret_cast<const char*>(values.data()), static_cast<std::streamsize>(bytes));
  }
  std::string dir() const { return dir_.string(); }

  std::filesystem::path dir_;
};

std::vector<float> MeanOfRows(const std::vector<int>& ids, bool normalize) {
  std::vector<double> sum(kDimension, 0.0);
  for (int id : ids) {
    const std::vector<float> row = Row(id);
    for (int j = 0; j < kDimension; ++j) sum[j] += row[j] / ids.size();
  }
  double norm = 0;
  for (double v : sum) norm += v * v;
  std::vector<float> out;
  for (double v : sum) out.push_back(static_cast<float>(normalize ? v / std::sqrt(norm) : v));
  return out;
}

EncoderOptions TruncatedTo(int dimension) {
  EncoderOptions options;
  options.truncate_dim = dimension;
  return options;
}

std::vector<float> EmbedOne(const Encoder& encoder, const std::string& text) {
  const std::vector<std::string> texts = {text};
  absl::StatusOr<std::vector<float>> vectors = encoder.Embed(texts, EmbedRole::kQuery);
  EXPECT_TRUE(vectors.ok()) << vectors.status();
  return vectors.ok() ? *vectors : std::vector<float>();
}

TEST_F(Model2VecEncoderTest, MeanOfTokenRowsWithoutSpecialOrUnknownTokens) {
  ASSERT_TRUE(IsModel2VecModel(dir()));
  ASSERT_TRUE(IsStaticModel(dir()));
  ASSERT_OK_AND_ASSIGN(auto encoder, LoadStaticEncoder(dir(), {}));
  EXPECT_EQ(encoder->dimension(), kDimension);
  // "hello" 7592, "world" 2088; no [CLS] / [SEP]; the emoji word is [UNK] and left out.
  EXPECT_THAT(EmbedOne(*encoder, "Hello world \xF0\x9F\x98\x80"),
              Pointwise(FloatNear(1e-6f), MeanOfRows({7592, 2088}, true)));
  EXPECT_THAT(EmbedOne(*encoder, "hello hello world"),
              Pointwise(FloatNear(1e-6f), MeanOfRows({7592, 7592, 2088}, true)));
  EXPECT_THAT(EmbedOne(*encoder, "\xF0\x9F\x98\x80 !"),
              Pointwise(FloatNear(1e-6f), MeanOfRows({999}, true)));
  EXPECT_THAT(EmbedOne(*encoder, "\xF0\x9F\x98\x80"), ::testing::ElementsAre(0, 0, 0));
  EXPECT_THAT(encoder->Describe(), HasSubstr("model2vec"));
}

TEST_F(Model2VecEncoderTest, UnnormalizedModelsReturnTheMean) {
  WriteConfig(R"({"model_type": "model2vec", "normalize": false})");
  ASSERT_OK_AND_ASSIGN(auto encoder, Model2VecEncoder::Load(dir()));
  EXPECT_THAT(EmbedOne(*encoder, "hello world"),
              Pointwise(FloatNear(1e-6f), MeanOfRows({7592, 2088}, false)));
}

TEST_F(Model2VecEncoderTest, KeepsAtMost512KnownTokens) {
  ASSERT_OK_AND_ASSIGN(auto encoder, Model2VecEncoder::Load(dir()));
  std::string text;
  for (int i = 0; i < 512; ++i) text += "hello ";
  for (int i = 0; i < 100; ++i) text += "world ";
  EXPECT_THAT(EmbedOne(*encoder, text), Pointwise(FloatNear(1e-6f), MeanOfRows({7592}, true)));
}

TEST_F(Model2VecEncoderTest, FingerprintTracksTableAndSettings) {
  ASSERT_OK_AND_ASSIGN(auto a, Model2VecEncoder::Load(dir()));
  ASSERT_OK_AND_ASSIGN(auto a2, Model2VecEncoder::Load(dir()));
  ASSERT_OK_AND_ASSIGN(auto truncated, Model2VecEncoder::Load(dir(), TruncatedTo(2)));
  EXPECT_EQ(truncated->dimension(), 2);
  WriteConfig(R"({"model_type": "model2vec", "normalize": false})");
  ASSERT_OK_AND_ASSIGN(auto unnormalized, Model2VecEncoder::Load(dir()));
  EXPECT_EQ(a->fingerprint(), a2->fingerprint());
  EXPECT_NE(a->fingerprint(), truncated->fingerprint());
  EXPECT_NE(a->fingerprint(), unnormalized->fingerprint());
}

TEST_F(Model2VecEncoderTest, LoadErrorsNameTheFile) {
  EXPECT_THAT(Model2VecEncoder::Load(dir(), TruncatedTo(4)),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("truncate_dim")));
  WriteSafetensors("embeddings", {100, kDimension}, std::vector<float>(100 * kDimension));
  EXPECT_THAT(Model2VecEncoder::Load(dir()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("model.safetensors")));
  WriteSafetensors("emb", {kVocabSize, kDimension}, std::vector<float>(kVocabSize * kDimension));
  EXPECT_THAT(Model2VecEncoder::Load(dir()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("embeddings")));
  WriteSafetensors("mapping", {kVocabSize, 1}, std::vector<float>(kVocabSize));
  EXPECT_THAT(Model2VecEncoder::Load(dir()),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("mapping")));
  std::filesystem::remove(dir_ / "model.safetensors");
  EXPECT_THAT(Model2VecEncoder::Load(dir()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("model.safetensors")));
  WriteConfig("{\"model_type\": ");
  EXPECT_FALSE(IsModel2VecModel(dir()));
  EXPECT_THAT(Model2VecEncoder::Load(dir()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("config.json")));
}

}  // namespace
}  // namespace ember::embed
