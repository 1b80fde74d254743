#include "text/word_breaker.h"

#include <utf8proc.h>

#include <cstddef>
#include <cstdint>

namespace ember::text {
namespace {

// The word-break classes of UAX #29 that matter once text is NFKC-normalized (compatibility forms
// such as U+FF0E FULLWIDTH FULL STOP have become their ASCII counterparts by then).
enum class CharClass : uint8_t {
  kOther,         // separates words
  kLetter,        // ALetter (and Katakana, Hangul, Southeast Asian scripts: they join alike here)
  kNumeric,       // N*
  kSingleChar,    // Han ideographs and Hiragana: one word per character
  kExtend,        // marks and format characters: belong to the character before them
  kMidLetter,     // ':' '·' ...: inside a word between two letters
  kMidNum,        // ',' ';' ...: inside a word between two digits
  kMidNumLet,     // '.': between two letters or between two digits
  kSingleQuote,   // '\'': between two letters or between two digits
  kExtendNumLet,  // '_' ...: joins whatever word characters surround it
};

bool IsSingleCharScript(int32_t cp) {
  return (cp >= 0x3040 && cp <= 0x309F) ||    // Hiragana
         (cp >= 0x3400 && cp <= 0x4DBF) ||    // CJK Extension A
         (cp >= 0x4E00 && cp <= 0x9FFF) ||    // CJK Unified Ideographs
         (cp >= 0xF900 && cp <= 0xFAFF) ||    // CJK Compatibility Ideographs
         (cp >= 0x20000 && cp <= 0x2FA1F) ||  // Extensions B-F, Compatibility Supplement
         (cp >= 0x30000 && cp <= 0x3134F);    // Extension G
}

CharClass Classify(int32_t cp) {
  if (cp < 0x80) {  // the common case, without a table lookup in utf8proc
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z')) return CharClass::kLetter;
    if (cp >= '0' && cp <= '9') return CharClass::kNumeric;
  }
  switch (cp) {
    case '\'':
      return CharClass::kSingleQuote;
    case '.':
      return CharClass::kMidNumLet;
    case ':':
    case 0x00B7:
    case 0x0387:
    case 0x05F4:
    case 0x2027:
      return CharClass::kMidLetter;
    case ',':
    case ';':
    case 0x0589:
    case 0x060C:
    case 0x060D:
    case 0x066C:
    case 0x07F8:
    case 0x2044:
      return CharClass::kMidNum;
    case '_':
    case 0x203F:
    case 0x2040:
    case 0x2054:
      return CharClass::kExtendNumLet;
    default:
      break;
  }
  switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return IsSingleCharScript(cp) ? CharClass::kSingleChar : CharClass::kLetter;
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return CharClass::kNumeric;
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_CF:
      return CharClass::kExtend;
    default:
      return CharClass::kOther;
  }
}

struct Unit {
  size_t begin;
  size_t end;
  CharClass cls;
};

bool IsWordCore(CharClass c) { return c == CharClass::kLetter || c == CharClass::kNumeric; }

// Whether `mid` may sit between a word character of class `before` and one of class `after`.
bool JoinsAcross(CharClass before, CharClass mid, CharClass after, WordJoining joining) {
  if (before != after) return false;
  if (joining == WordJoining::kApostropheOnly) {
    return before == CharClass::kLetter && mid == CharClass::kSingleQuote;
  }
  if (before == CharClass::kLetter) {
    return mid == CharClass::kMidLetter || mid == CharClass::kMidNumLet ||
           mid == CharClass::kSingleQuote;
  }
  if (before == CharClass::kNumeric) {
    return mid == CharClass::kMidNum || mid == CharClass::kMidNumLet ||
           mid == CharClass::kSingleQuote;
  }
  return false;
}

}  // namespace

std::vector<std::string_view> BreakWords(std::string_view text, WordJoining joining) {
  std::vector<Unit> units;
  units.reserve(text.size());
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  for (size_t pos = 0; pos < text.size();) {
    if (static_cast<unsigned char>(text[pos]) < 0x80) {
      units.push_back({pos, pos + 1, Classify(static_cast<unsigned char>(text[pos]))});
      ++pos;
      continue;
    }
    utf8proc_int32_t cp = 0;
    const utf8proc_ssize_t n = utf8proc_iterate(bytes + pos, text.size() - pos, &cp);
    if (n <= 0) {  // malformed: the caller promised valid UTF-8, but never loop or read past it
      units.push_back({pos, pos + 1, CharClass::kOther});
      ++pos;
      continue;
    }
    units.push_back({pos, pos + static_cast<size_t>(n), Classify(cp)});
    pos += static_cast<size_t>(n);
  }

  std::vector<std::string_view> words;
  const size_t count = units.size();
  // Index of the first unit at or after i that is not a mark (marks extend what precedes them).
  auto skip_extend = [&](size_t i) {
    while (i < count && units[i].cls == CharClass::kExtend) ++i;
    return i;
  };
  const bool underscore_joins = joining == WordJoining::kUax29;
  size_t i = 0;
  while (i < count) {
    const CharClass c = units[i].cls;
    if (c == CharClass::kSingleChar) {
      const size_t end = skip_extend(i + 1);
      words.push_back(text.substr(units[i].begin, units[end - 1].end - units[i].begin));
      i = end;
      continue;
    }
    const bool starts_word = IsWordCore(c) || (underscore_joins && c == CharClass::kExtendNumLet);
    if (!starts_word) {
      ++i;
      continue;
    }
    const size_t start = i;
    bool has_core = IsWordCore(c);
    CharClass last = c;
    size_t end = skip_extend(i + 1);  // one past the last unit of the word so far
    while (end < count) {
      const CharClass next = units[end].cls;
      if (IsWordCore(next)) {
        has_core = true;
        last = next;
        end = skip_extend(end + 1);
      } else if (underscore_joins && next == CharClass::kExtendNumLet) {
        last = next;
        end = skip_extend(end + 1);
      } else {
        const size_t after = skip_extend(end + 1);
        if (after < count && JoinsAcross(last, next, units[after].cls, joining)) {
          end = after;  // the following iteration takes the word character at `after`
        } else {
          break;
        }
      }
    }
    if (has_core) {
      words.push_back(text.substr(units[start].begin, units[end - 1].end - units[start].begin));
    }
    i = end;
  }
  return words;
}

}  // namespace ember::text
