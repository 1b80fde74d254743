#include "embed/unicode_text.h"

#include <utf8proc.h>

#include <cstdint>

namespace ember::embed::unicode {
namespace {

utf8proc_category_t Category(char32_t cp) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}

bool IsContinuationByte(unsigned char byte) { return (byte & 0xC0) == 0x80; }

}  // namespace

char32_t DecodeUtf8(std::string_view text, size_t* pos) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(text.data());
  const size_t size = text.size();
  size_t i = *pos;
  const unsigned char lead = bytes[i++];
  if (lead < 0x80) {
    *pos = i;
    return lead;
  }
  // The valid range of the second byte depends on the lead byte (Unicode Table 3-7): it is what
  // rules out overlong forms, surrogates and values above U+10FFFF.
  int continuation_count;
  unsigned char second_min = 0x80;
  unsigned char second_max = 0xBF;
  char32_t cp;
  if (lead >= 0xC2 && lead <= 0xDF) {
    continuation_count = 1;
    cp = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    continuation_count = 2;
    cp = lead & 0x0F;
    if (lead == 0xE0) second_min = 0xA0;
    if (lead == 0xED) second_max = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    continuation_count = 3;
    cp = lead & 0x07;
    if (lead == 0xF0) second_min = 0x90;
    if (lead == 0xF4) second_max = 0x8F;
  } else {
    *pos = i;
    return kReplacementCharacter;
  }
  for (int k = 0; k < continuation_count; ++k) {
    const bool in_range = i < size && (k == 0 ? bytes[i] >= second_min && bytes[i] <= second_max
                                              : IsContinuationByte(bytes[i]));
    if (!in_range) {
      *pos = i;  // the maximal ill-formed subpart ends before the offending byte
      return kReplacementCharacter;
    }
    cp = (cp << 6) | (bytes[i++] & 0x3F);
  }
  *pos = i;
  return cp;
}

void AppendUtf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool IsWhitespace(char32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= '\t' && cp <= '\r');
  if (cp == 0x85) return true;
  const utf8proc_category_t category = Category(cp);
  return category == UTF8PROC_CATEGORY_ZS || category == UTF8PROC_CATEGORY_ZL ||
         category == UTF8PROC_CATEGORY_ZP;
}

bool IsControl(char32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  if (cp < 0x80) return cp < 0x20 || cp == 0x7F;
  const utf8proc_category_t category = Category(cp);
  return category == UTF8PROC_CATEGORY_CN || category >= UTF8PROC_CATEGORY_CC;
}

bool IsBertPunctuation(char32_t cp) {
  if (cp < 0x80) {
    return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
           (cp >= 123 && cp <= 126);
  }
  const utf8proc_category_t category = Category(cp);
  return category >= UTF8PROC_CATEGORY_PC && category <= UTF8PROC_CATEGORY_PO;
}

bool IsCjkIdeograph(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

bool IsNonspacingMark(char32_t cp) { return cp >= 0x300 && Category(cp) == UTF8PROC_CATEGORY_MN; }

bool IsWordCharacter(char32_t cp) {
  if (cp < 0x80) {
    return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  }
  const utf8proc_category_t category = Category(cp);
  return category >= UTF8PROC_CATEGORY_LU && category <= UTF8PROC_CATEGORY_NO;
}

char32_t ToLower(char32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + ('a' - 'A') : cp;
  return static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
}

int DecomposeCanonical(char32_t cp, char32_t* out) {
  // Latin-1 below U+00C0 has no canonical decompositions: the common case skips utf8proc.
  if (cp < 0xC0) {
    out[0] = cp;
    return 1;
  }
  utf8proc_int32_t buffer[kMaxDecompositionLength];
  int boundclass = 0;
  const utf8proc_ssize_t length =
      utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), buffer, kMaxDecompositionLength,
                              UTF8PROC_DECOMPOSE, &boundclass);
  if (length <= 0 || length > kMaxDecompositionLength) {
    out[0] = cp;
    return 1;
  }
  for (utf8proc_ssize_t k = 0; k < length; ++k) out[k] = static_cast<char32_t>(buffer[k]);
  return static_cast<int>(length);
}

}  // namespace ember::embed::unicode
