// The configuration files of a Hugging Face / sentence-transformers model folder: `config.json`
// (the transformer's architecture) and the sentence-transformers modules around it (`modules.json`,
// `1_Pooling/config.json`, Normalize, `sentence_bert_config.json`,
// `config_sentence_transformers.json`).
//
// Thread-safety: plain values and free functions; no shared state.
#ifndef EMBER_EMBED_MODEL_CONFIG_H_
#define EMBER_EMBED_MODEL_CONFIG_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ember::embed {

// A BERT-family encoder's shape, from config.json.
struct BertConfig {
  int vocab_size = 0;
  int hidden_size = 0;
  int num_hidden_layers = 0;
  int num_attention_heads = 0;
  int intermediate_size = 0;
  int max_position_embeddings = 0;
  int type_vocab_size = 0;
  float layer_norm_eps = 1e-12f;
};

// Parses the text of a config.json (`path` names it in messages). Accepted: model_type "bert" or,
// when model_type is absent, an architectures entry starting with "Bert"; hidden_act "gelu" (exact
// erf); absolute position embeddings. InvalidArgument: not JSON, a missing or non-positive size,
// hidden_size not divisible by num_attention_heads. Unimplemented: another model_type, activation
// or position embedding (named).
absl::StatusOr<BertConfig> ParseBertConfig(std::string_view json_text, const std::string& path);

// Reads `model_dir`/config.json. NotFound: no such file; otherwise as ParseBertConfig.
absl::StatusOr<BertConfig> LoadBertConfig(const std::string& model_dir);

// How token states become one vector (sentence-transformers' Pooling module).
enum class PoolingMode {
  kMean,         // average of the token states
  kCls,          // the first token's state
  kLastToken,    // the last token's state
  kMax,          // per-component maximum
  kMeanSqrtLen,  // sum of the token states / sqrt(token count)
};
std::string_view PoolingModeName(PoolingMode mode);

// The sentence-transformers modules wrapped around the transformer.
struct SentenceTransformersConfig {
  /// From 1_Pooling/config.json. Default (a plain Hugging Face folder): mean, as
  /// sentence-transformers does when it wraps a bare transformer.
  PoolingMode pooling = PoolingMode::kMean;
  /// false when the pooling config says include_prompt: false, i.e. prompt tokens are left out of
  /// the pooled average. Default: true.
  bool pool_prompt_tokens = true;
  /// A Normalize module follows pooling. Default: false.
  bool normalize = false;
  /// sentence_bert_config.json's max_seq_length (tokens, special ones included). 0: not given.
  int max_seq_length = 0;
  /// From config_sentence_transformers.json: the prompt sentence-transformers' encode_query /
  /// encode_document would use ("query"; "document", "passage" or "corpus"; else
  /// default_prompt_name). Default: empty.
  std::string query_prompt;
  std::string document_prompt;
};

// Reads the sentence-transformers files of `model_dir`; each file is optional (a plain Hugging Face
// folder has none of them). InvalidArgument: a present file is malformed (named). Unimplemented: a
// module Ember does not run (e.g. Dense), weighted-mean pooling, or several pooling modes at once.
absl::StatusOr<SentenceTransformersConfig> LoadSentenceTransformersConfig(
    const std::string& model_dir);

}  // namespace ember::embed

#endif  // EMBER_EMBED_MODEL_CONFIG_H_
