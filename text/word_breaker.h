// Word segmentation for full-text search: the word rules of Unicode's UAX #29 that Lucene's
// StandardTokenizer (and so Anserini's BEIR baselines) applies, on text already normalized by the
// analyzer. Stateless functions; safe to call from any thread.
#ifndef EMBER_TEXT_WORD_BREAKER_H_
#define EMBER_TEXT_WORD_BREAKER_H_

#include <string_view>
#include <vector>

namespace ember::text {

// How much punctuation may stay inside a word.
enum class WordJoining {
  /// UAX #29 (Lucene's StandardTokenizer): letters and digits form words; an apostrophe, '.' or ':'
  /// between two letters, and an apostrophe, '.', ',' or ';' between two digits stay inside the
  /// word ("don't", "u.s", "3.14", "1,000"); '_' joins ("snake_case"). A word needs a letter or a
  /// digit.
  kUax29,
  /// Only the apostrophe between two letters stays inside a word ("don't"); every other character
  /// that is not a letter, mark or number ends it ("u", "s", "3", "14").
  kApostropheOnly,
};

// Splits `text` (valid UTF-8) into words, returned as views into `text` in order. Letters (L*),
// numbers (N*) and marks (M*) attached to them make up words; Han ideographs and Hiragana are
// words of one character each (with their marks), as in StandardTokenizer; every other character
// separates words. Marks and format characters inside a word stay in it. The caller is expected to
// have folded case and normalized (NFKC) the text: only ASCII apostrophes count as apostrophes.
std::vector<std::string_view> BreakWords(std::string_view text, WordJoining joining);

}  // namespace ember::text

#endif  // EMBER_TEXT_WORD_BREAKER_H_
