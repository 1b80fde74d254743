// WordPieceTokenizer: BERT's tokenizer, reproducing Hugging Face's (BertNormalizer +
// BertPreTokenizer + WordPiece + [CLS] ... [SEP] post-processing) id for id: all 295 texts of
// ../shared/fixtures/tokenizer/token_ids.jsonl (accents, CJK, emoji, control and zero-width
// characters, over-long words, truncation).
//
// Known departures, none met by the fixtures: characters unassigned in utf8proc's Unicode version
// are removed as control characters (as Python / Rust do, unlike transformers.js); combining marks
// that survive accent stripping are not canonically reordered; added tokens flagged "normalized"
// are matched in the raw text like special tokens.
//
// Immutable after Load: Encode may be called concurrently from any number of threads.
#ifndef EMBER_EMBED_WORDPIECE_TOKENIZER_H_
#define EMBER_EMBED_WORDPIECE_TOKENIZER_H_

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace ember::embed {

// BertNormalizer's switches. Defaults are those of uncased BERT.
struct BertNormalization {
  /// Remove NUL, U+FFFD and control characters; turn every whitespace character into a space.
  /// Default: true.
  bool clean_text = true;
  /// Surround CJK ideographs with spaces, so each becomes a word of its own. Default: true.
  bool handle_chinese_chars = true;
  /// Lower-case the text. Default: true.
  bool lowercase = true;
  /// Remove accents (NFD, then drop nonspacing marks). Hugging Face's `null` means "as lowercase".
  /// Default: true.
  bool strip_accents = true;
};

// How a text longer than max_length tokens is cut. The two Hugging Face implementations differ.
enum class TruncationStyle {
  // Hugging Face tokenizers (Python / Rust), hence sentence-transformers: the text's tokens are
  // cut so that the framed sequence fits, and it still ends with [SEP].
  kKeepClosingTokens,
  // transformers.js: the framed sequence is cut to max_length, so a truncated text loses its [SEP].
  // The shared fixtures (token_ids.jsonl, reference.jsonl) were made this way.
  kCutFramedSequence,
};

class WordPieceTokenizer {
 public:
  // Loads the tokenizer of the model in folder `model_dir`: tokenizer.json when present, else
  // vocab.txt with tokenizer_config.json (optional; uncased BERT defaults) and
  // special_tokens_map.json (optional). NotFound: neither tokenizer.json nor vocab.txt exists.
  // InvalidArgument: a file is malformed or inconsistent (not JSON, no vocabulary, a special token
  // missing from the vocabulary, ...); the message names the file. Unimplemented: tokenizer.json
  // describes another kind of tokenizer (BPE, Unigram, or a normalizer / pre-tokenizer other than
  // BERT's).
  static absl::StatusOr<std::unique_ptr<WordPieceTokenizer>> Load(const std::string& model_dir);

  // Token ids of `text`, framed by the post-processor's special tokens ([CLS] ... [SEP] for BERT)
  // and truncated to at most `max_length` ids in total, as `truncation` says. `max_length` smaller
  // than the number of special tokens is treated as that number. Any byte string is accepted:
  // invalid UTF-8 decodes as U+FFFD, which clean_text removes. Special tokens written in the text
  // ("[SEP]") become their ids, as in Hugging Face.
  std::vector<int32_t> Encode(
      std::string_view text, int max_length,
      TruncationStyle truncation = TruncationStyle::kKeepClosingTokens) const;
  // Same as Encode, writing into `ids` (cleared first) so a caller can reuse its capacity.
  void EncodeInto(std::string_view text, int max_length, std::vector<int32_t>* ids,
                  TruncationStyle truncation = TruncationStyle::kKeepClosingTokens) const;

  // The ids of `text` alone, without the post-processor's special tokens, at most `max_tokens` of
  // them (what Hugging Face gives with add_special_tokens=False, truncated).
  std::vector<int32_t> EncodeWithoutSpecialTokens(std::string_view text, size_t max_tokens) const;

  // The id of `token` in the vocabulary (special tokens included), or nullopt.
  std::optional<int32_t> TokenId(std::string_view token) const;
  // The vocabulary entry of `id` ("##ing" for a continuation piece); empty for an id outside
  // [0, vocab_size()) or unused.
  std::string_view Token(int32_t id) const;

  int32_t unk_id() const { return unk_id_; }
  // nullopt when the model has no such token.
  std::optional<int32_t> pad_id() const { return pad_id_; }
  std::optional<int32_t> cls_id() const { return cls_id_; }
  std::optional<int32_t> sep_id() const { return sep_id_; }
  // One more than the largest id: the number of rows of the embedding table the ids index.
  int vocab_size() const { return vocab_size_; }
  const BertNormalization& normalization() const { return normalization_; }
  // A hex digest of the vocabulary, special tokens and normalization settings: two tokenizers with
  // equal fingerprints produce the same ids for every text.
  const std::string& fingerprint() const { return fingerprint_; }

  // The parsed content of the tokenizer files (defined in the .cc file; not for use by callers).
  struct Settings;

 private:
  struct AddedToken {
    std::string content;
    int32_t id;
  };

  WordPieceTokenizer() = default;
  static absl::StatusOr<std::unique_ptr<WordPieceTokenizer>> FromSettings(Settings settings);

  // Appends the ids of `text` (special tokens written in it included) to `ids` while it holds fewer
  // than `limit` ids.
  void AppendText(std::string_view text, size_t limit, std::vector<int32_t>* ids) const;
  // Appends the ids of `segment` (text with no special token in it) to `ids`, stopping once `ids`
  // holds `limit` ids. Returns false when the limit was reached (the rest of the text cannot
  // contribute).
  bool AppendSegment(std::string_view segment, size_t limit, std::vector<int32_t>* ids) const;
  // Appends the WordPiece ids of one pre-tokenized, normalized word of `char_count` code points.
  void AppendWord(std::string_view word, size_t char_count, std::vector<int32_t>* ids) const;

  BertNormalization normalization_;
  // Token strings live in vocab_storage_; the maps' keys view into it. Pieces that continue a word
  // are keyed without their "##" prefix so lookups need no string building.
  std::string vocab_storage_;
  // By id: (offset, size) of the token in vocab_storage_.
  std::vector<std::pair<uint32_t, uint32_t>> token_spans_;
  std::unordered_map<std::string_view, int32_t> word_start_ids_;
  std::unordered_map<std::string_view, int32_t> continuation_ids_;
  // Lengths in bytes of the longest keys: longer candidate pieces are not looked up.
  size_t max_word_start_bytes_ = 0;
  size_t max_continuation_bytes_ = 0;
  size_t max_input_chars_per_word_ = 100;
  int32_t unk_id_ = 0;
  std::optional<int32_t> pad_id_;
  std::optional<int32_t> cls_id_;
  std::optional<int32_t> sep_id_;
  // Special tokens matched verbatim in the raw text before normalization, longest first.
  std::vector<AddedToken> added_tokens_;
  std::array<bool, 256> added_token_first_bytes_ = {};  // cheap rejection before comparing tokens
  std::vector<int32_t> prefix_ids_;                     // e.g. [CLS]
  std::vector<int32_t> suffix_ids_;                     // e.g. [SEP]
  int vocab_size_ = 0;
  std::string fingerprint_;
};

}  // namespace ember::embed

#endif  // EMBER_EMBED_WORDPIECE_TOKENIZER_H_
