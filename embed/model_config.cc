#include "embed/model_config.h"

#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "embed/model_file.h"
#include "ember/status.h"
#include "nlohmann/json.hpp"

namespace ember::embed {
namespace {

using nlohmann::json;

absl::StatusOr<json> ParseObject(const json& value, const std::string& path) {
  if (!value.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a JSON object"));
  }
  return value;
}

// The JSON object in `path`, or nullopt when there is no such file (each sentence-transformers file
// is optional).
absl::StatusOr<std::optional<json>> LoadOptionalObject(const std::string& path) {
  if (!IsRegularFile(path)) return std::nullopt;
  EMBER_ASSIGN_OR_RETURN(json value, ReadJsonFile(path));
  EMBER_ASSIGN_OR_RETURN(value, ParseObject(value, path));
  return value;
}

// `object[key]` as a positive int, or InvalidArgument naming the file and key.
absl::StatusOr<int> PositiveInt(const json& object, const std::string& key,
                                const std::string& path) {
  const auto it = object.find(key);
  if (it == object.end() || !it->is_number_integer() || it->get<int64_t>() <= 0 ||
      it->get<int64_t>() > (1 << 30)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": '", key, "' must be a positive integer"));
  }
  return static_cast<int>(it->get<int64_t>());
}

std::string StringOr(const json& object, std::string_view key, std::string fallback) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : fallback;
}

bool TrueAt(const json& object, std::string_view key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_boolean() && it->get<bool>();
}

absl::Status ParsePooling(const json& config, const std::string& path,
                          SentenceTransformersConfig* result) {
  if (TrueAt(config, "pooling_mode_weightedmean_tokens")) {
    return absl::UnimplementedError(absl::StrCat(path, ": weighted-mean pooling is not supported"));
  }
  const std::pair<std::string_view, PoolingMode> kModes[] = {
      {"pooling_mode_mean_tokens", PoolingMode::kMean},
      {"pooling_mode_cls_token", PoolingMode::kCls},
      {"pooling_mode_lasttoken", PoolingMode::kLastToken},
      {"pooling_mode_max_tokens", PoolingMode::kMax},
      {"pooling_mode_mean_sqrt_len_tokens", PoolingMode::kMeanSqrtLen},
  };
  int chosen = 0;
  for (const auto& [key, mode] : kModes) {
    if (TrueAt(config, key)) {
      result->pooling = mode;
      ++chosen;
    }
  }
  if (chosen > 1) {
    return absl::UnimplementedError(
        absl::StrCat(path, ": several pooling modes at once (concatenated) are not supported"));
  }
  if (chosen == 0) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": no pooling mode is enabled"));
  }
  const auto include_prompt = config.find("include_prompt");
  if (include_prompt != config.end() && include_prompt->is_boolean()) {
    result->pool_prompt_tokens = include_prompt->get<bool>();
  }
  return absl::OkStatus();
}

absl::Status ParseModules(const std::string& model_dir, SentenceTransformersConfig* result) {
  const std::string path = JoinPath(model_dir, "modules.json");
  if (!IsRegularFile(path)) return absl::OkStatus();
  EMBER_ASSIGN_OR_RETURN(const json modules, ReadJsonFile(path));
  if (!modules.is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a JSON array of modules"));
  }
  bool has_pooling = false;
  for (const json& module : modules) {
    if (!module.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": a module is not an object"));
    }
    const std::string type = StringOr(module, "type", "");
    if (absl::EndsWith(type, ".Transformer")) continue;
    if (absl::EndsWith(type, ".Normalize")) {
      result->normalize = true;
    } else if (absl::EndsWith(type, ".Pooling")) {
      const std::string pooling_path =
          absl::StrCat(model_dir, "/", StringOr(module, "path", "1_Pooling"), "/config.json");
      EMBER_ASSIGN_OR_RETURN(std::optional<json> pooling, LoadOptionalObject(pooling_path));
      if (!pooling) return absl::NotFoundError(absl::StrCat(pooling_path, ": no such file"));
      EMBER_RETURN_IF_ERROR(ParsePooling(*pooling, pooling_path, result));
      has_pooling = true;
    } else {
      return absl::UnimplementedError(
          absl::StrCat(path, ": module type '", type, "' is not supported"));
    }
  }
  if (!has_pooling) {
    return absl::UnimplementedError(absl::StrCat(path, ": no Pooling module"));
  }
  return absl::OkStatus();
}

absl::Status ParsePrompts(const std::string& model_dir, SentenceTransformersConfig* result) {
  const std::string path = JoinPath(model_dir, "config_sentence_transformers.json");
  EMBER_ASSIGN_OR_RETURN(std::optional<json> config, LoadOptionalObject(path));
  if (!config) return absl::OkStatus();
  const auto prompts = config->find("prompts");
  if (prompts == config->end() || prompts->is_null()) return absl::OkStatus();
  if (!prompts->is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": 'prompts' is not an object"));
  }
  const std::string default_prompt = [&]() -> std::string {
    const std::string name = StringOr(*config, "default_prompt_name", "");
    return name.empty() ? "" : StringOr(*prompts, name, "");
  }();
  const auto first_present = [&](std::initializer_list<std::string_view> names) {
    for (std::string_view name : names) {
      const auto it = prompts->find(name);
      if (it != prompts->end() && it->is_string()) return it->get<std::string>();
    }
    return default_prompt;
  };
  result->query_prompt = first_present({"query"});
  result->document_prompt = first_present({"document", "passage", "corpus"});
  return absl::OkStatus();
}

}  // namespace

std::string_view PoolingModeName(PoolingMode mode) {
  switch (mode) {
    case PoolingMode::kMean:
      return "mean";
    case PoolingMode::kCls:
      return "cls";
    case PoolingMode::kLastToken:
      return "lasttoken";
    case PoolingMode::kMax:
      return "max";
    case PoolingMode::kMeanSqrtLen:
      return "mean_sqrt_len_tokens";
  }
  return "unknown";
}

absl::StatusOr<BertConfig> ParseBertConfig(std::string_view json_text, const std::string& path) {
  const json parsed = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not valid JSON"));
  }
  EMBER_ASSIGN_OR_RETURN(json config, ParseObject(parsed, path));
  std::string model_type = StringOr(config, "model_type", "");
  if (model_type.empty()) {
    const auto architectures = config.find("architectures");
    if (architectures != config.end() && architectures->is_array() && !architectures->empty() &&
        (*architectures)[0].is_string() &&
        absl::StartsWith((*architectures)[0].get<std::string>(), "Bert")) {
      model_type = "bert";
    }
  }
  if (model_type != "bert") {
    return absl::UnimplementedError(absl::StrCat(
        path, ": model_type '", model_type, "' is not supported (Ember runs the BERT family)"));
  }
  const std::string activation = StringOr(config, "hidden_act", "gelu");
  if (activation != "gelu") {
    return absl::UnimplementedError(
        absl::StrCat(path, ": hidden_act '", activation, "' is not supported (only exact gelu)"));
  }
  const std::string positions = StringOr(config, "position_embedding_type", "absolute");
  if (positions != "absolute") {
    return absl::UnimplementedError(absl::StrCat(path, ": position_embedding_type '", positions,
                                                 "' is not supported (only absolute)"));
  }
  BertConfig result;
  EMBER_ASSIGN_OR_RETURN(result.vocab_size, PositiveInt(config, "vocab_size", path));
  EMBER_ASSIGN_OR_RETURN(result.hidden_size, PositiveInt(config, "hidden_size", path));
  EMBER_ASSIGN_OR_RETURN(result.num_hidden_layers, PositiveInt(config, "num_hidden_layers", path));
  EMBER_ASSIGN_OR_RETURN(result.num_attention_heads,
                         PositiveInt(config, "num_attention_heads", path));
  EMBER_ASSIGN_OR_RETURN(result.intermediate_size, PositiveInt(config, "intermediate_size", path));
  EMBER_ASSIGN_OR_RETURN(result.max_position_embeddings,
                         PositiveInt(config, "max_position_embeddings", path));
  result.type_vocab_size = 2;
  if (config.contains("type_vocab_size")) {
    EMBER_ASSIGN_OR_RETURN(result.type_vocab_size, PositiveInt(config, "type_vocab_size", path));
  }
  const auto eps = config.find("layer_norm_eps");
  if (eps != config.end()) {
    if (!eps->is_number() || !(eps->get<double>() > 0) || eps->get<double>() > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": 'layer_norm_eps' must be a number in (0, 1]"));
    }
    result.layer_norm_eps = static_cast<float>(eps->get<double>());
  }
  if (result.hidden_size % result.num_attention_heads != 0) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": hidden_size ", result.hidden_size,
                                                   " is not divisible by num_attention_heads ",
                                                   result.num_attention_heads));
  }
  return result;
}

absl::StatusOr<BertConfig> LoadBertConfig(const std::string& model_dir) {
  const std::string path = JoinPath(model_dir, "config.json");
  EMBER_ASSIGN_OR_RETURN(const std::string text, ReadModelFile(path));
  return ParseBertConfig(text, path);
}

absl::StatusOr<SentenceTransformersConfig> LoadSentenceTransformersConfig(
    const std::string& model_dir) {
  SentenceTransformersConfig result;
  EMBER_RETURN_IF_ERROR(ParseModules(model_dir, &result));
  const std::string bert_config_path = JoinPath(model_dir, "sentence_bert_config.json");
  EMBER_ASSIGN_OR_RETURN(std::optional<json> bert_config, LoadOptionalObject(bert_config_path));
  if (bert_config && bert_config->contains("max_seq_length") &&
      !(*bert_config)["max_seq_length"].is_null()) {
    EMBER_ASSIGN_OR_RETURN(result.max_seq_length,
                           PositiveInt(*bert_config, "max_seq_length", bert_config_path));
  }
  EMBER_RETURN_IF_ERROR(ParsePrompts(model_dir, &result));
  return result;
}

}  // namespace ember::embed
