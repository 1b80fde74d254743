// Splits long text into overlapping chunks that each fit an encoder's token budget, for
// retrieval-augmented generation: store one document per chunk, search the chunks.
//
// Chunks are exact substrings of the input (their byte offsets are recorded), trimmed of ASCII
// whitespace. Cuts are made at the best boundary that keeps a chunk within budget, in this order of
// preference: the end of a sentence (".", "!" or "?" before whitespace, or a line break), the end
// of a word (ASCII whitespace), and, for a single word longer than the budget, a character boundary
// (a UTF-8 sequence, or a single byte where the text is not valid UTF-8). Abbreviations ("e.g.",
// "Dr.", "U.S.", initials, "Fig. 3"), decimals ("3.5"), list numbers at the start of a line ("1.")
// and a period followed by a lower-case word do not end sentences.
//
// Stateless and thread-safe, provided `count_tokens` is.
#ifndef EMBER_EMBED_CHUNKER_H_
#define EMBER_EMBED_CHUNKER_H_

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ember::embed {

// The number of tokens in a piece of text, as the encoder will see it, WITHOUT special tokens such
// as [CLS] / [SEP] (leave room for those in ChunkOptions::max_tokens). Called with non-empty
// substrings of the input; negative results are read as 0. For a WordPiece tokenizer:
//   [&](std::string_view text) {
//     return static_cast<int>(tokenizer.EncodeWithoutSpecialTokens(text, SIZE_MAX).size());
//   }
using TokenCounter = std::function<int(std::string_view)>;

struct ChunkOptions {
  /// Largest number of tokens in a chunk (per the TokenCounter). At least 1.
  /// Default: 256 (the sequence length of MiniLM-class encoders, less room for special tokens).
  int max_tokens = 256;
  /// About how many tokens at the end of a chunk are repeated at the start of the next, so that a
  /// passage cut in two is still found whole in one of them. The overlap is the longest run of
  /// whole sentences ending the previous chunk that fits in overlap_tokens, or, when even its last
  /// sentence is longer, the longest run of whole words that fits; it is shortened, or dropped,
  /// when that lets the next chunk end at a better boundary. 0 disables overlap. At least 0 and
  /// less than max_tokens. Default: 32.
  int overlap_tokens = 32;
};

// OK, or InvalidArgument naming the field: max_tokens < 1, overlap_tokens < 0, or
// overlap_tokens >= max_tokens.
absl::Status ValidateChunkOptions(const ChunkOptions& options);

// One chunk: text.substr(begin, end - begin) of the input.
struct Chunk {
  int index = 0;     ///< 0, 1, 2, ... in order of position.
  size_t begin = 0;  ///< Byte offset of the first byte in the input (never whitespace).
  size_t end = 0;    ///< Byte offset one past the last byte (the byte before is never whitespace).
  int tokens = 0;    ///< count_tokens of the chunk's text.
  std::string text;  ///< The chunk's bytes, copied from the input.
};

// Splits `text` (any bytes) into chunks as described at the top. Guarantees:
//  - every chunk is non-empty, trimmed, and equal to the input bytes [begin, end);
//  - every chunk has at most max_tokens tokens, except a chunk of a single character (or byte) that
//    alone counts more, provided count_tokens never counts a text as fewer tokens than a part of it
//    (the search for the longest fitting chunk relies on that; WordPiece breaks it only for words
//    over 100 characters, which it counts as one [UNK]);
//  - every non-whitespace byte of the input is in at least one chunk; chunks are in order, each
//    begins after the previous one begins and ends after it ends, and consecutive chunks overlap
//    by at most overlap_tokens tokens (or touch / leave only whitespace between them);
//  - empty or all-whitespace text gives no chunks; text whose trimmed form fits in max_tokens gives
//    exactly that one chunk.
// InvalidArgument when the options are invalid (see ValidateChunkOptions) or count_tokens is empty.
// The cost is about one count_tokens call per word plus a few per chunk, each on at most a chunk's
// worth of text.
absl::StatusOr<std::vector<Chunk>> ChunkText(std::string_view text,
                                             const TokenCounter& count_tokens,
                                             const ChunkOptions& options = {});

}  // namespace ember::embed

#endif  // EMBER_EMBED_CHUNKER_H_
