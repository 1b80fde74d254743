// Unicode primitives shared by Ember's tokenizers: forgiving UTF-8 decoding and the character
// classes that BERT-style text normalization and word splitting are defined by, on top of utf8proc.
// Stateless functions; safe to call from any thread.
#ifndef EMBER_EMBED_UNICODE_TEXT_H_
#define EMBER_EMBED_UNICODE_TEXT_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace ember::embed::unicode {

inline constexpr char32_t kReplacementCharacter = 0xFFFD;

// Decodes the code point starting at text[*pos] (requires *pos < text.size()) and advances *pos
// past it. Malformed input never fails: overlong forms, encoded surrogates, code points above
// U+10FFFF, stray continuation bytes and truncated sequences decode as U+FFFD, one per maximal
// ill-formed subpart (the W3C / WHATWG policy), so decoding always makes progress.
char32_t DecodeUtf8(std::string_view text, size_t* pos);

// Appends the UTF-8 encoding of `cp` (a valid scalar value) to `out`.
void AppendUtf8(char32_t cp, std::string* out);

// White_Space in the Unicode sense (Zs, Zl, Zp, and \t \n \v \f \r U+0085): what Hugging Face's
// BertNormalizer turns into a space and BertPreTokenizer splits on.
bool IsWhitespace(char32_t cp);

// General category C* (Cc, Cf, Cs, Co, Cn) except \t \n \r, which BERT counts as whitespace: the
// characters BERT's clean_text removes.
bool IsControl(char32_t cp);

// BERT's punctuation: general category P*, plus every ASCII symbol
// (!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~), which BERT splits off as punctuation although Unicode files
// some of them under S*.
bool IsBertPunctuation(char32_t cp);

// A CJK Unified / Compatibility Ideograph in the blocks BERT surrounds with spaces (Hangul,
// Hiragana and Katakana are deliberately not included, as in the reference implementation).
bool IsCjkIdeograph(char32_t cp);

// General category Mn (nonspacing mark): what BERT's accent stripping removes after NFD.
bool IsNonspacingMark(char32_t cp);

// Letters (L*), marks (M*) and numbers (N*): the characters that form words for the static encoder.
bool IsWordCharacter(char32_t cp);

// Simple (one-to-one) lower-case mapping.
char32_t ToLower(char32_t cp);

// Writes the canonical decomposition (NFD, without reordering of combining marks) of `cp` to `out`,
// which must hold kMaxDecompositionLength code points, and returns its length (1 when `cp` does not
// decompose).
inline constexpr int kMaxDecompositionLength = 4;
int DecomposeCanonical(char32_t cp, char32_t* out);

}  // namespace ember::embed::unicode

#endif  // EMBER_EMBED_UNICODE_TEXT_H_
