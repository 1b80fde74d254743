// config.json and the sentence-transformers module files: what is accepted, each promised error,
// and garbled configs that must give errors, never crashes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "embed/model_config.h"
#include "status_matchers.h"

namespace ember::embed {
namespace {

using ::ember::testing::StatusIs;
using ::testing::HasSubstr;

constexpr char kMiniLmConfig[] = R"({
  "architectures": ["BertModel"], "model_type": "bert", "hidden_act": "gelu", "hidden_size": 384,
  "num_hidden_layers": 6, "num_attention_heads": 12, "intermediate_size": 1536,
  "max_position_embeddings": 512, "type_vocab_size": 2, "vocab_size": 30522,
  "layer_norm_eps": 1e-12, "position_embedding_type": "absolute"})";

TEST(BertConfigTest, ParsesMiniLm) {
  ASSERT_OK_AND_ASSIGN(const BertConfig config, ParseBertConfig(kMiniLmConfig, "config.json"));
  EXPECT_EQ(config.vocab_size, 30522);
  EXPECT_EQ(config.hidden_size, 384);
  EXPECT_EQ(config.num_hidden_layers, 6);
  EXPECT_EQ(config.num_attention_heads, 12);
  EXPECT_EQ(config.intermediate_size, 1536);
  EXPECT_EQ(config.max_position_embeddings, 512);
  EXPECT_EQ(config.type_vocab_size, 2);
  EXPECT_FLOAT_EQ(config.layer_norm_eps, 1e-12f);
}

TEST(BertConfigTest, ArchitecturesStandInForModelType) {
  std::string text = kMiniLmConfig;
  text.replace(text.find("\"model_type\": \"bert\","), 21, "");
  EXPECT_THAT(ParseBertConfig(text, "c.json"), ::ember::testing::IsOk());
}

TEST(BertConfigTest, NamesWhatIsUnsupportedOrWrong) {
  const auto with = [](const std::string& from, const std::string& to) {
    std::string text = kMiniLmConfig;
    text.replace(text.find(from), from.size(), to);
    return text;
  };
  EXPECT_THAT(ParseBertConfig(with("\"bert\"", "\"xlm-roberta\""), "c.json"),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("xlm-roberta")));
  EXPECT_THAT(ParseBertConfig(with("\"gelu\"", "\"relu\""), "c.json"),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("relu")));
  EXPECT_THAT(ParseBertConfig(with("\"absolute\"", "\"relative_key\""), "c.json"),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("relative_key")));
  EXPECT_THAT(
      ParseBertConfig(with("\"num_attention_heads\": 12", "\"num_attention_heads\": 7"), "c.json"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("divisible")));
  EXPECT_THAT(ParseBertConfig(with("\"hidden_size\": 384", "\"hidden_size\": -384"), "c.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("hidden_size")));
  EXPECT_THAT(ParseBertConfig(with("\"vocab_size\": 30522", "\"vocab_size\": \"many\""), "c.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("vocab_size")));
  EXPECT_THAT(
      ParseBertConfig(with("\"layer_norm_eps\": 1e-12", "\"layer_norm_eps\": -1"), "c.json"),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("layer_norm_eps")));
  EXPECT_THAT(ParseBertConfig("{not json", "c.json"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("c.json")));
  EXPECT_THAT(ParseBertConfig("[]", "c.json"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(BertConfigTest, GarbledConfigsNeverCrash) {
  std::mt19937 random(7);
  const std::string original = kMiniLmConfig;
  for (int round = 0; round < 5000; ++round) {
    std::string text = original;
    for (int e = 0; e < 1 + round % 5; ++e) {
      const size_t at = random() % text.size();
      switch (random() % 3) {
        case 0:
          text[at] = static_cast<char>(random() % 256);
          break;
        case 1:
          text.erase(at, 1 + random() % 8);
          break;
        default:
          text.insert(at, 1, "0-9e[]{}\",:"[random() % 11]);
      }
    }
    const auto config = ParseBertConfig(text, "c.json");
    if (config.ok()) {
      EXPECT_GT(config->hidden_size, 0);
      EXPECT_EQ(config->hidden_size % config->num_attention_heads, 0);
    }
  }
}

class ModulesTest : public ::testing::Test {
 protected:
  void SetUp() override { std::filesystem::create_directories(dir_ + "/1_Pooling"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Put(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name) << text;
  }
  void PutStandardModules() {
    Put("modules.json",
        R"([{"idx": 0, "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}])");
  }
  std::string dir_ =
      std::filesystem::temp_directory_path() / ("ember_modules_test_" + std::to_string(::getpid()));
};

TEST_F(ModulesTest, PlainFolderMeansMeanPoolingUnnormalized) {
  ASSERT_OK_AND_ASSIGN(const auto config, LoadSentenceTransformersConfig(dir_));
  EXPECT_EQ(config.pooling, PoolingMode::kMean);
  EXPECT_FALSE(config.normalize);
  EXPECT_EQ(config.max_seq_length, 0);
  EXPECT_TRUE(config.pool_prompt_tokens);
  EXPECT_EQ(config.query_prompt, "");
}

TEST_F(ModulesTest, ReadsPoolingNormalizeLengthAndPrompts) {
  PutStandardModules();
  Put("1_Pooling/config.json",
      R"({"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false,
          "include_prompt": false})");
  Put("sentence_bert_config.json", R"({"max_seq_length": 128, "do_lower_case": false})");
  Put("config_sentence_transformers.json",
      R"({"prompts": {"query": "query: ", "passage": "passage: "}, "default_prompt_name": null})");
  ASSERT_OK_AND_ASSIGN(const auto config, LoadSentenceTransformersConfig(dir_));
  EXPECT_EQ(config.pooling, PoolingMode::kCls);
  EXPECT_TRUE(config.normalize);
  EXPECT_FALSE(config.pool_prompt_tokens);
  EXPECT_EQ(config.max_seq_length, 128);
  EXPECT_EQ(config.query_prompt, "query: ");
  EXPECT_EQ(config.document_prompt, "passage: ");
}

TEST_F(ModulesTest, DefaultPromptFillsMissingRoles) {
  PutStandardModules();
  Put("1_Pooling/config.json", R"({"pooling_mode_lasttoken": true})");
  Put("config_sentence_transformers.json",
      R"({"prompts": {"retrieval": "Represent this: ", "document": ""},
          "default_prompt_name": "retrieval"})");
  ASSERT_OK_AND_ASSIGN(const auto config, LoadSentenceTransformersConfig(dir_));
  EXPECT_EQ(config.pooling, PoolingMode::kLastToken);
  EXPECT_EQ(config.query_prompt, "Represent this: ");
  EXPECT_EQ(config.document_prompt, "");
}

TEST_F(ModulesTest, EachPoolingMode) {
  PutStandardModules();
  const std::pair<const char*, PoolingMode> modes[] = {
      {"pooling_mode_mean_tokens", PoolingMode::kMean},
      {"pooling_mode_cls_token", PoolingMode::kCls},
      {"pooling_mode_lasttoken", PoolingMode::kLastToken},
      {"pooling_mode_max_tokens", PoolingMode::kMax},
      {"pooling_mode_mean_sqrt_len_tokens", PoolingMode::kMeanSqrtLen}};
  for (const auto& [key, mode] : modes) {
    Put("1_Pooling/config.json", std::string("{\"") + key + "\": true}");
    ASSERT_OK_AND_ASSIGN(const auto config, LoadSentenceTransformersConfig(dir_));
    EXPECT_EQ(config.pooling, mode) << key;
  }
}

TEST_F(ModulesTest, Errors) {
  PutStandardModules();
  Put("1_Pooling/config.json", R"({"pooling_mode_weightedmean_tokens": true})");
  EXPECT_THAT(LoadSentenceTransformersConfig(dir_),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("weighted")));
  Put("1_Pooling/config.json",
      R"({"pooling_mode_cls_token": true, "pooling_mode_max_tokens": true})");
  EXPECT_THAT(LoadSentenceTransformersConfig(dir_),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("several")));
  Put("1_Pooling/config.json", R"({"pooling_mode_cls_token": false})");
  EXPECT_THAT(LoadSentenceTransformersConfig(dir_), StatusIs(absl::StatusCode::kInvalidArgument));
  Put("1_Pooling/config.json", "{garbage");
  EXPECT_THAT(LoadSentenceTransformersConfig(dir_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("1_Pooling/config.json")));
  Put("1_Pooling/config.json", R"({"pooling_mode_mean_tokens": true})");
  Put("sentence_bert_config.json", R"({"max_seq_length": -3})");
  EXPECT_THAT(LoadSentenceTransformersConfig(dir_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_seq_length")));
  Put("sentence_bert_config.json", R"({"max_seq_length": 256})");
  Put("config_sentence_transformers.json", R"({"prompts": ["query: "]})");
  EXPECT_THAT(LoadSentenceTransformersConfig(dir_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("prompts")));
  Put("config_sentence_transformers.json", R"({"prompts": {}})");
  Put("modules.json", R"([{"type": "sentence_transformers.models.Transformer"},
      {"type": "sentence_transformers.models.Pooling", "path": "1_Pooling"},
      {"type": "sentence_transformers.models.Dense", "path": "2_Dense"}])");
  EXPECT_THAT(LoadSentenceTransformersConfig(dir_),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("Dense")));
  Put("modules.json", R"({"type": "x"})");
  EXPECT_THAT(LoadSentenceTransformersConfig(dir_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("modules.json")));
  Put("modules.json", R"([{"type": "sentence_transformers.models.Pooling", "path": "nowhere"}])");
  EXPECT_THAT(LoadSentenceTransformersConfig(dir_),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("nowhere")));
}

}  // namespace
}  // namespace ember::embed
