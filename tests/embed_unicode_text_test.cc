// Tests for embed/unicode_text.h: the UTF-8 decoder's replacement policy (one U+FFFD per maximal
// ill-formed subpart, as in the Unicode standard's and WHATWG's examples) and BERT's classes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "embed/unicode_text.h"

namespace ember::embed::unicode {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;

std::vector<char32_t> DecodeAll(const std::string& text) {
  std::vector<char32_t> out;
  for (size_t pos = 0; pos < text.size();) out.push_back(DecodeUtf8(text, &pos));
  return out;
}

constexpr char32_t kFffd = kReplacementCharacter;

TEST(UnicodeTextTest, DecodesWellFormedUtf8) {
  EXPECT_THAT(DecodeAll("a\xC3\xA9\xE6\x9D\xB1\xF0\x9F\x98\x80"),
              ElementsAre(U'a', 0xE9, 0x6771, 0x1F600));
  EXPECT_THAT(DecodeAll(std::string("\0z", 2)), ElementsAre(0, U'z'));
  EXPECT_THAT(DecodeAll("\xF4\x8F\xBF\xBF"), ElementsAre(0x10FFFF));
}

TEST(UnicodeTextTest, ReplacesEachMaximalIllFormedSubpart) {
  // Overlong forms, surrogates and values above U+10FFFF fail at the second byte.
  EXPECT_THAT(DecodeAll("\xC0\xAF"), ElementsAre(kFffd, kFffd));
  EXPECT_THAT(DecodeAll("\xE0\x80\xAF"), ElementsAre(kFffd, kFffd, kFffd));
  EXPECT_THAT(DecodeAll("\xED\xA0\x80"), ElementsAre(kFffd, kFffd, kFffd));
  EXPECT_THAT(DecodeAll("\xF4\x90\x80\x80"), ElementsAre(kFffd, kFffd, kFffd, kFffd));
  EXPECT_THAT(DecodeAll("\xF8\x88\x80\x80\x80"), ElementsAreArray(std::vector<char32_t>(5, kFffd)));
  // A truncated sequence is one replacement, and the next character survives.
  EXPECT_THAT(DecodeAll("\xF0\x9F\x98z"), ElementsAre(kFffd, U'z'));
  EXPECT_THAT(DecodeAll("\xE6\x9D"), ElementsAre(kFffd));
  EXPECT_THAT(DecodeAll("\x80z\xFF"), ElementsAre(kFffd, U'z', kFffd));
}

TEST(UnicodeTextTest, AppendUtf8RoundTrips) {
  std::string text;
  for (char32_t cp : {U'a', char32_t{0x7FF}, char32_t{0xFFFD}, char32_t{0x10FFFF}}) {
    AppendUtf8(cp, &text);
  }
  EXPECT_THAT(DecodeAll(text), ElementsAre(U'a', 0x7FF, 0xFFFD, 0x10FFFF));
}

TEST(UnicodeTextTest, BertCharacterClasses) {
  EXPECT_TRUE(IsWhitespace(U' '));
  EXPECT_TRUE(IsWhitespace(U'\n'));
  EXPECT_TRUE(IsWhitespace(0x3000));   // ideographic space
  EXPECT_TRUE(IsWhitespace(0x2028));   // line separator
  EXPECT_FALSE(IsWhitespace(0x200B));  // zero-width space is a format character
  EXPECT_TRUE(IsControl(0x200B));
  EXPECT_TRUE(IsControl(0x07));
  EXPECT_TRUE(IsControl(0xE000));  // private use
  EXPECT_FALSE(IsControl(U'\t'));
  EXPECT_TRUE(IsBertPunctuation(U'$'));  // ASCII symbols count although Unicode says Sc
  EXPECT_TRUE(IsBertPunctuation(U'^'));
  EXPECT_TRUE(IsBertPunctuation(0x2014));   // em dash
  EXPECT_FALSE(IsBertPunctuation(0x20AC));  // the euro sign is a symbol, not ASCII
  EXPECT_TRUE(IsCjkIdeograph(0x6771));
  EXPECT_TRUE(IsCjkIdeograph(0x20000));
  EXPECT_FALSE(IsCjkIdeograph(0x306F));  // hiragana
  EXPECT_TRUE(IsNonspacingMark(0x301));
  EXPECT_TRUE(IsWordCharacter(0xE9));
  EXPECT_TRUE(IsWordCharacter(U'7'));
  EXPECT_FALSE(IsWordCharacter(U'-'));
  EXPECT_EQ(ToLower(U'A'), U'a');
  EXPECT_EQ(ToLower(0xC9), 0xE9u);
  EXPECT_EQ(ToLower(0x3A3), 0x3C3u);  // Σ -> σ: simple mapping, no final-sigma rule
}

TEST(UnicodeTextTest, CanonicalDecomposition) {
  char32_t out[kMaxDecompositionLength];
  ASSERT_EQ(DecomposeCanonical(0xE9, out), 2);  // é -> e + U+0301
  EXPECT_EQ(out[0], U'e');
  EXPECT_EQ(out[1], 0x301u);
  ASSERT_EQ(DecomposeCanonical(0xD55C, out), 3);  // 한 -> three jamo
  EXPECT_EQ(out[0], 0x1112u);
  ASSERT_EQ(DecomposeCanonical(0x1F82, out), 4);  // the longest canonical decomposition
  ASSERT_EQ(DecomposeCanonical(0xFB01, out), 1);  // ﬁ: a compatibility, not canonical, mapping
  EXPECT_EQ(out[0], 0xFB01u);
}

}  // namespace
}  // namespace ember::embed::unicode
