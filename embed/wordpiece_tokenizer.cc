#include "embed/wordpiece_tokenizer.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "embed/content_hash.h"
#include "embed/model_file.h"
#include "embed/unicode_text.h"
#include "ember/status.h"

namespace ember::embed {

// Everything a tokenizer is built from, whichever files described it.
struct WordPieceTokenizer::Settings {
  std::string source;  // the file that defined the vocabulary, for error messages
  std::vector<std::pair<std::string, int32_t>> vocab;
  std::string unk_token = "[UNK]";
  std::string continuing_subword_prefix = "##";
  int max_input_chars_per_word = 100;
  BertNormalization normalization;
  std::vector<std::string> added_tokens;  // matched verbatim in raw text
  std::vector<std::string> prefix_tokens;
  std::vector<std::string> suffix_tokens;
  std::string pad_token = "[PAD]";
  std::string cls_token = "[CLS]";
  std::string sep_token = "[SEP]";
};

namespace {

bool IsContinuationByte(char byte) { return (static_cast<unsigned char>(byte) & 0xC0) == 0x80; }

absl::Status Unsupported(const std::string& file, const char* what, const nlohmann::json& node) {
  return absl::UnimplementedError(
      absl::StrCat(file, ": ", what, " ", node.dump(),
                   " is not supported (Ember reads BERT WordPiece "
                   "tokenizers: BertNormalizer, BertPreTokenizer, WordPiece)"));
}

// A special token in tokenizer_config.json / special_tokens_map.json: "[CLS]" or {"content":
// "[CLS]"}.
std::optional<std::string> SpecialTokenContent(const nlohmann::json& config, const char* key) {
  const auto it = config.find(key);
  if (it == config.end()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object() && it->contains("content")) return it->at("content").get<std::string>();
  return std::nullopt;
}

// Reads the post-processor's frame for a single sequence: the special tokens before and after it.
absl::Status ReadPostProcessor(const nlohmann::json& processor, const std::string& file,
                               std::vector<std::string>* prefix, std::vector<std::string>* suffix) {
  if (processor.is_null()) return absl::OkStatus();
  const std::string type = processor.at("type").get<std::string>();
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    prefix->push_back(processor.at("cls").at(0).get<std::string>());
    suffix->push_back(processor.at("sep").at(0).get<std::string>());
    return absl::OkStatus();
  }
  if (type != "TemplateProcessing")
    return Unsupported(file, "post_processor", processor.at("type"));
  bool seen_sequence = false;
  for (const nlohmann::json& piece : processor.at("single")) {
    if (piece.contains("Sequence")) {
      seen_sequence = true;
      continue;
    }
    const std::string& name = piece.at("SpecialToken").at("id").get_ref<const std::string&>();
    for (const nlohmann::json& token : processor.at("special_tokens").at(name).at("tokens")) {
      (seen_sequence ? suffix : prefix)->push_back(token.get<std::string>());
    }
  }
  return absl::OkStatus();
}

// tokenizer.json, as written by Hugging Face tokenizers. Throws nlohmann::json::exception on a
// missing field or a field of the wrong type.
absl::Status ParseTokenizerJson(const nlohmann::json& root, const std::string& file,
                                WordPieceTokenizer::Settings* s) {
  const nlohmann::json& model = root.at("model");
  if (model.contains("type") && model.at("type") != "WordPiece") {
    return Unsupported(file, "model type", model.at("type"));
  }
  for (const auto& [token, id] : model.at("vocab").items()) {
    s->vocab.emplace_back(token, id.get<int32_t>());
  }
  if (model.contains("unk_token")) s->unk_token = model.at("unk_token").get<std::string>();
  if (model.contains("continuing_subword_prefix")) {
    s->continuing_subword_prefix = model.at("continuing_subword_prefix").get<std::string>();
  }
  if (model.contains("max_input_chars_per_word")) {
    s->max_input_chars_per_word = model.at("max_input_chars_per_word").get<int>();
  }

  const nlohmann::json& normalizer = root.value("normalizer", nlohmann::json());
  if (normalizer.is_null()) {
    s->normalization = {.clean_text = false,
                        .handle_chinese_chars = false,
                        .lowercase = false,
                        .strip_accents = false};
  } else if (normalizer.at("type") != "BertNormalizer") {
    return Unsupported(file, "normalizer", normalizer.at("type"));
  } else {
    BertNormalization& n = s->normalization;
    n.clean_text = normalizer.value("clean_text", true);
    n.handle_chinese_chars = normalizer.value("handle_chinese_chars", true);
    n.lowercase = normalizer.value("lowercase", true);
    const nlohmann::json& strip = normalizer.value("strip_accents", nlohmann::json());
    n.strip_accents = strip.is_null() ? n.lowercase : strip.get<bool>();
  }

  const nlohmann::json& pre_tokenizer = root.value("pre_tokenizer", nlohmann::json());
  if (pre_tokenizer.is_null() || pre_tokenizer.at("type") != "BertPreTokenizer") {
    return Unsupported(file, "pre_tokenizer", pre_tokenizer);
  }

  for (const nlohmann::json& added : root.value("added_tokens", nlohmann::json::array())) {
    s->added_tokens.push_back(added.at("content").get<std::string>());
  }
  EMBER_RETURN_IF_ERROR(ReadPostProcessor(root.value("post_processor", nlohmann::json()), file,
                                          &s->prefix_tokens, &s->suffix_tokens));
  if (!s->prefix_tokens.empty()) s->cls_token = s->prefix_tokens.front();
  if (!s->suffix_tokens.empty()) s->sep_token = s->suffix_tokens.front();
  const nlohmann::json& padding = root.value("padding", nlohmann::json());
  if (padding.is_object() && padding.contains("pad_token")) {
    s->pad_token = padding.at("pad_token").get<std::string>();
  }
  return absl::OkStatus();
}

// vocab.txt (one token per line; the line number is the id) with the switches of BertTokenizer's
// tokenizer_config.json.
absl::Status ParseVocabTxt(const std::string& model_dir, WordPieceTokenizer::Settings* s) {
  const std::string vocab_path = JoinPath(model_dir, "vocab.txt");
  EMBER_ASSIGN_OR_RETURN(const std::string vocab_text, ReadModelFile(vocab_path));
  s->source = vocab_path;
  int32_t id = 0;
  for (absl::string_view line : absl::StrSplit(vocab_text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    s->vocab.emplace_back(std::string(line), id++);
  }
  if (!s->vocab.empty() && s->vocab.back().first.empty()) s->vocab.pop_back();  // final newline

  nlohmann::json config = nlohmann::json::object();
  std::string config_path = JoinPath(model_dir, "tokenizer_config.json");
  if (IsRegularFile(config_path)) {
    EMBER_ASSIGN_OR_RETURN(config, ReadJsonFile(config_path));
  }
  const std::string map_path = JoinPath(model_dir, "special_tokens_map.json");
  nlohmann::json special_map = nlohmann::json::object();
  if (IsRegularFile(map_path)) {
    EMBER_ASSIGN_OR_RETURN(special_map, ReadJsonFile(map_path));
  }
  try {
    BertNormalization& n = s->normalization;
    n.lowercase = config.value("do_lower_case", true);
    const nlohmann::json& strip = config.value("strip_accents", nlohmann::json());
    n.strip_accents = strip.is_null() ? n.lowercase : strip.get<bool>();
    n.handle_chinese_chars = config.value("tokenize_chinese_chars", true);
    n.clean_text = true;  // BertTokenizer always cleans

    // tokenizer_config.json takes precedence over special_tokens_map.json, as in transformers.
    auto special = [&](const char* key, std::string* token) {
      if (auto content = SpecialTokenContent(special_map, key)) *token = *content;
      if (auto content = SpecialTokenContent(config, key)) *token = *content;
      s->added_tokens.push_back(*token);
    };
    std::string mask_token = "[MASK]";
    special("unk_token", &s->unk_token);
    special("sep_token", &s->sep_token);
    special("pad_token", &s->pad_token);
    special("cls_token", &s->cls_token);
    special("mask_token", &mask_token);
    for (const nlohmann::json* source : {&special_map, &config}) {
      for (const nlohmann::json& token :
           source->value("additional_special_tokens", nlohmann::json::array())) {
        s->added_tokens.push_back(token.is_string() ? token.get<std::string>()
                                                    : token.at("content").get<std::string>());
      }
    }
    const nlohmann::json added = config.value("added_tokens_decoder", nlohmann::json::object());
    for (const auto& [unused_id, token] : added.items()) {
      s->added_tokens.push_back(token.at("content").get<std::string>());
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        config_path, " or ", map_path, ": a setting has an unexpected type: ", e.what()));
  }
  s->prefix_tokens = {s->cls_token};
  s->suffix_tokens = {s->sep_token};
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<WordPieceTokenizer>> WordPieceTokenizer::Load(
    const std::string& model_dir) {
  Settings settings;
  const std::string json_path = JoinPath(model_dir, "tokenizer.json");
  if (IsRegularFile(json_path)) {
    EMBER_ASSIGN_OR_RETURN(const nlohmann::json root, ReadJsonFile(json_path));
    settings.source = json_path;
    try {
      EMBER_RETURN_IF_ERROR(ParseTokenizerJson(root, json_path, &settings));
    } catch (const nlohmann::json::exception& e) {
      return absl::InvalidArgumentError(
          absl::StrCat(json_path, ": not a Hugging Face tokenizer file: ", e.what()));
    }
  } else if (IsRegularFile(JoinPath(model_dir, "vocab.txt"))) {
    EMBER_RETURN_IF_ERROR(ParseVocabTxt(model_dir, &settings));
  } else {
    return absl::NotFoundError(
        absl::StrCat("no tokenizer in ", model_dir, ": neither tokenizer.json nor vocab.txt"));
  }
  return FromSettings(std::move(settings));
}

absl::StatusOr<std::unique_ptr<WordPieceTokenizer>> WordPieceTokenizer::FromSettings(
    Settings settings) {
  const std::string& file = settings.source;
  if (settings.vocab.empty())
    return absl::InvalidArgumentError(absl::StrCat(file, ": empty vocabulary"));
  if (settings.max_input_chars_per_word <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": max_input_chars_per_word must be > 0"));
  }
  std::sort(settings.vocab.begin(), settings.vocab.end(),
            [](const auto& a, const auto& b) { return a.second < b.second; });

  auto tokenizer = std::unique_ptr<WordPieceTokenizer>(new WordPieceTokenizer());
  WordPieceTokenizer& t = *tokenizer;
  t.normalization_ = settings.normalization;
  t.max_input_chars_per_word_ = settings.max_input_chars_per_word;

  size_t total_bytes = 0;
  for (const auto& [token, id] : settings.vocab) total_bytes += token.size();
  t.vocab_storage_.reserve(total_bytes);
  std::vector<std::pair<size_t, size_t>> spans;  // (offset, size) in vocab_storage_
  spans.reserve(settings.vocab.size());
  for (const auto& [token, id] : settings.vocab) {
    if (id < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": negative id ", id, " for \"", token, "\""));
    }
    spans.emplace_back(t.vocab_storage_.size(), token.size());
    t.vocab_storage_ += token;
    t.vocab_size_ = std::max(t.vocab_size_, id + 1);
  }
  t.token_spans_.assign(t.vocab_size_, {0, 0});
  for (size_t i = 0; i < spans.size(); ++i) {
    t.token_spans_[settings.vocab[i].second] = {static_cast<uint32_t>(spans[i].first),
                                                static_cast<uint32_t>(spans[i].second)};
  }
  // Keys view into vocab_storage_, which no longer changes. A duplicated token keeps its last id,
  // as transformers' load_vocab does.
  const std::string_view prefix = settings.continuing_subword_prefix;
  t.word_start_ids_.reserve(spans.size());
  for (size_t i = 0; i < spans.size(); ++i) {
    const std::string_view token(t.vocab_storage_.data() + spans[i].first, spans[i].second);
    const int32_t id = settings.vocab[i].second;
    t.word_start_ids_[token] = id;
    t.max_word_start_bytes_ = std::max(t.max_word_start_bytes_, token.size());
    if (token.size() >= prefix.size() && token.substr(0, prefix.size()) == prefix) {
      const std::string_view rest = token.substr(prefix.size());
      t.continuation_ids_[rest] = id;
      t.max_continuation_bytes_ = std::max(t.max_continuation_bytes_, rest.size());
    }
  }

  const std::optional<int32_t> unk = t.TokenId(settings.unk_token);
  if (!unk) {
    return absl::InvalidArgumentError(absl::StrCat(
        file, ": unknown-word token \"", settings.unk_token, "\" is not in the vocabulary"));
  }
  t.unk_id_ = *unk;
  t.pad_id_ = t.TokenId(settings.pad_token);
  t.cls_id_ = t.TokenId(settings.cls_token);
  t.sep_id_ = t.TokenId(settings.sep_token);
  for (const auto& [tokens, ids] : {std::pair(&settings.prefix_tokens, &t.prefix_ids_),
                                    std::pair(&settings.suffix_tokens, &t.suffix_ids_)}) {
    for (const std::string& token : *tokens) {
      const std::optional<int32_t> id = t.TokenId(token);
      if (!id) {
        return absl::InvalidArgumentError(
            absl::StrCat(file, ": special token \"", token, "\" is not in the vocabulary"));
      }
      ids->push_back(*id);
    }
  }
  // Longest first, so that of two tokens starting at the same place the longer wins, as with
  // Hugging Face's leftmost-longest matching. Tokens absent from the vocabulary cannot be emitted;
  // skip them.
  std::sort(settings.added_tokens.begin(), settings.added_tokens.end(),
            [](const std::string& a, const std::string& b) {
              return a.size() != b.size() ? a.size() > b.size() : a < b;
            });
  settings.added_tokens.erase(
      std::unique(settings.added_tokens.begin(), settings.added_tokens.end()),
      settings.added_tokens.end());
  for (std::string& token : settings.added_tokens) {
    const std::optional<int32_t> id = t.TokenId(token);
    if (!id || token.empty()) continue;
    t.added_token_first_bytes_[static_cast<unsigned char>(token[0])] = true;
    t.added_tokens_.push_back({std::move(token), *id});
  }

  ContentHasher hasher;
  hasher.UpdateField("ember.wordpiece/1");
  for (const auto& [token, id] : settings.vocab) {
    hasher.UpdateField(token);
    hasher.UpdateValue(id);
  }
  hasher.UpdateField(settings.unk_token);
  hasher.UpdateField(prefix);
  hasher.UpdateValue(settings.max_input_chars_per_word);
  const BertNormalization& n = t.normalization_;
  for (bool flag : {n.clean_text, n.handle_chinese_chars, n.lowercase, n.strip_accents}) {
    hasher.UpdateValue<uint8_t>(flag);
  }
  for (const AddedToken& added : t.added_tokens_) hasher.UpdateField(added.content);
  for (const std::vector<int32_t>* ids : {&t.prefix_ids_, &t.suffix_ids_}) {
    hasher.UpdateValue<uint64_t>(ids->size());
    for (int32_t id : *ids) hasher.UpdateValue(id);
  }
  t.fingerprint_ = hasher.HexDigest();
  return tokenizer;
}

std::optional<int32_t> WordPieceTokenizer::TokenId(std::string_view token) const {
  const auto it = word_start_ids_.find(token);
  if (it == word_start_ids_.end()) return std::nullopt;
  return it->second;
}

std::string_view WordPieceTokenizer::Token(int32_t id) const {
  if (id < 0 || id >= vocab_size_) return {};
  const auto [offset, size] = token_spans_[id];
  return std::string_view(vocab_storage_).substr(offset, size);
}

std::vector<int32_t> WordPieceTokenizer::Encode(std::string_view text, int max_length,
                                                TruncationStyle truncation) const {
  std::vector<int32_t> ids;
  EncodeInto(text, max_length, &ids, truncation);
  return ids;
}

void WordPieceTokenizer::EncodeInto(std::string_view text, int max_length,
                                    std::vector<int32_t>* ids, TruncationStyle truncation) const {
  ids->clear();
  const size_t total =
      std::max<size_t>(std::max(max_length, 0), prefix_ids_.size() + suffix_ids_.size());
  // The limit bounds the prefix and the text's tokens together.
  const size_t limit =
      truncation == TruncationStyle::kKeepClosingTokens ? total - suffix_ids_.size() : total;
  ids->insert(ids->end(), prefix_ids_.begin(), prefix_ids_.end());
  AppendText(text, limit, ids);
  ids->insert(ids->end(), suffix_ids_.begin(), suffix_ids_.end());
  if (ids->size() > total) ids->resize(total);
}

std::vector<int32_t> WordPieceTokenizer::EncodeWithoutSpecialTokens(std::string_view text,
                                                                    size_t max_tokens) const {
  std::vector<int32_t> ids;
  AppendText(text, max_tokens, &ids);
  return ids;
}

void WordPieceTokenizer::AppendText(std::string_view text, size_t limit,
                                    std::vector<int32_t>* ids) const {
  size_t segment_start = 0;
  bool room = true;
  for (size_t pos = 0; room && pos < text.size() && !added_tokens_.empty(); ++pos) {
    if (!added_token_first_bytes_[static_cast<unsigned char>(text[pos])]) continue;
    const AddedToken* match = nullptr;
    for (const AddedToken& added : added_tokens_) {
      if (text.compare(pos, added.content.size(), added.content) == 0) {
        match = &added;
        break;
      }
    }
    if (match == nullptr) continue;
    room = AppendSegment(text.substr(segment_start, pos - segment_start), limit, ids);
    if (room && ids->size() < limit) ids->push_back(match->id);
    room = room && ids->size() < limit;
    pos += match->content.size() - 1;
    segment_start = pos + 1;
  }
  if (room) AppendSegment(text.substr(segment_start), limit, ids);
}

bool WordPieceTokenizer::AppendSegment(std::string_view segment, size_t limit,
                                       std::vector<int32_t>* ids) const {
  if (ids->size() >= limit) return false;
  // Capacity survives across calls on the same thread: tokenizing allocates nothing in steady
  // state.
  thread_local std::string word;
  word.clear();
  size_t char_count = 0;
  auto end_word = [&]() {
    if (word.empty()) return true;
    AppendWord(word, char_count, ids);
    word.clear();
    char_count = 0;
    if (ids->size() < limit) return true;
    ids->resize(limit);
    return false;
  };
  // Lower-casing and accent stripping, then BertPreTokenizer's split on whitespace and punctuation.
  // Hugging Face splits after normalizing: decomposition can turn a symbol into ASCII punctuation.
  const BertNormalization& n = normalization_;
  auto add_normalized = [&](char32_t cp) {
    char32_t lowered[2] = {cp, 0};
    int lowered_count = 1;
    if (n.lowercase) {
      if (cp == 0x130) {  // the one full lower-case mapping that is not one-to-one: İ -> i + U+0307
        lowered[0] = 'i';
        lowered[1] = 0x307;
        lowered_count = 2;
      } else {
        lowered[0] = unicode::ToLower(cp);
      }
    }
    for (int i = 0; i < lowered_count; ++i) {
      char32_t pieces[unicode::kMaxDecompositionLength];
      int piece_count = 1;
      pieces[0] = lowered[i];
      if (n.strip_accents) piece_count = unicode::DecomposeCanonical(lowered[i], pieces);
      for (int k = 0; k < piece_count; ++k) {
        const char32_t c = pieces[k];
        if (n.strip_accents && unicode::IsNonspacingMark(c)) continue;
        if (unicode::IsWhitespace(c)) {
          if (!end_word()) return false;
        } else if (unicode::IsBertPunctuation(c)) {
          if (!end_word()) return false;
          unicode::AppendUtf8(c, &word);
          char_count = 1;
          if (!end_word()) return false;
        } else {
          unicode::AppendUtf8(c, &word);
          ++char_count;
        }
      }
    }
    return true;
  };

  for (size_t pos = 0; pos < segment.size();) {
    char32_t cp = unicode::DecodeUtf8(segment, &pos);
    if (n.clean_text) {
      if (cp == 0 || cp == unicode::kReplacementCharacter || unicode::IsControl(cp)) continue;
      if (unicode::IsWhitespace(cp)) cp = ' ';
    }
    if (n.handle_chinese_chars && unicode::IsCjkIdeograph(cp)) {
      if (!end_word() || !add_normalized(cp) || !end_word()) return false;
      continue;
    }
    if (!add_normalized(cp)) return false;
  }
  return end_word();
}

void WordPieceTokenizer::AppendWord(std::string_view word, size_t char_count,
                                    std::vector<int32_t>* ids) const {
  if (char_count > max_input_chars_per_word_) {
    ids->push_back(unk_id_);
    return;
  }
  // Greedy longest match first, as BERT does: a word that cannot be covered entirely is one [UNK].
  const size_t first_piece = ids->size();
  size_t start = 0;
  while (start < word.size()) {
    const bool at_start = start == 0;
    const auto& pieces = at_start ? word_start_ids_ : continuation_ids_;
    size_t end =
        std::min(word.size(), start + (at_start ? max_word_start_bytes_ : max_continuation_bytes_));
    while (end > start && end < word.size() && IsContinuationByte(word[end])) --end;
    int32_t id = -1;
    while (end > start) {
      const auto it = pieces.find(word.substr(start, end - start));
      if (it != pieces.end()) {
        id = it->second;
        break;
      }
      do {
        --end;
      } while (end > start && IsContinuationByte(word[end]));
    }
    if (id < 0) {
      ids->resize(first_piece);
      ids->push_back(unk_id_);
      return;
    }
    ids->push_back(id);
    start = end;
  }
}

}  // namespace ember::embed
