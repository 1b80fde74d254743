// Tests for text/analyzer.h, text/word_breaker.h and text/term_frequencies.h: Unicode
// normalization, word segmentation (punctuation, apostrophes, scripts), possessives, stop words,
// Snowball stemming checked against hand-applied rules, thread safety, and the binary encoding of
// term frequencies including hostile input.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <thread>
#include <vector>

#include "status_matchers.h"
#include "text/analyzer.h"
#include "text/term_frequencies.h"
#include "text/word_breaker.h"

namespace ember::text {
namespace {

using ::ember::testing::IsOk;
using ::ember::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// An analyzer that only normalizes and segments: no stop words, no stemming.
std::unique_ptr<Analyzer> Plain(WordJoining joining = WordJoining::kUax29) {
  auto analyzer = Analyzer::Create({.stemmer = "none", .stop_words = {}, .word_joining = joining});
  EXPECT_THAT(analyzer, IsOk());
  return std::move(analyzer).value();
}

std::vector<std::string> Words(std::string_view text, WordJoining joining) {
  std::vector<std::string> words;
  for (std::string_view word : BreakWords(text, joining)) words.emplace_back(word);
  return words;
}

TEST(WordBreakerTest, LettersAndDigitsFormWordsPunctuationSeparates) {
  EXPECT_THAT(Words("hello, world! (x2) covid19-related", WordJoining::kUax29),
              ElementsAre("hello", "world", "x2", "covid19", "related"));
  EXPECT_THAT(Words("  \t\n ...!?", WordJoining::kUax29), IsEmpty());
  EXPECT_THAT(Words("", WordJoining::kUax29), IsEmpty());
}

TEST(WordBreakerTest, Uax29KeepsInnerPunctuationBetweenLikeCharacters) {
  EXPECT_THAT(Words("3.14 1,000 u.s.a. e.g. don't a:b 1:2 a,b snake_case ___ 'quoted'",
                    WordJoining::kUax29),
              ElementsAre("3.14", "1,000", "u.s.a", "e.g", "don't", "a:b", "1", "2", "a", "b",
                          "snake_case", "quoted"));
  // Punctuation between a letter and a digit, or doubled, ends the word.
  EXPECT_THAT(Words("a.1 1.a x..y il-6 p<0.001", WordJoining::kUax29),
              ElementsAre("a", "1", "1", "a", "x", "y", "il", "6", "p", "0.001"));
}

TEST(WordBreakerTest, ApostropheOnlySplitsEverythingElse) {
  EXPECT_THAT(Words("3.14 1,000 u.s.a. don't snake_case 'quoted' rock'n'roll",
                    WordJoining::kApostropheOnly),
              ElementsAre("3", "14", "1", "000", "u", "s", "a", "don't", "snake", "case", "quoted",
                          "rock'n'roll"));
}

TEST(WordBreakerTest, IdeographsAndHiraganaAreOneWordPerCharacter) {
  // 東京 (Han), タワー (Katakana: one word), ひらがな (Hiragana), Korean stays a word.
  EXPECT_THAT(Words("東京タワー ひら 한국어", WordJoining::kUax29),
              ElementsAre("東", "京", "タワー", "ひ", "ら", "한국어"));
}

TEST(WordBreakerTest, MarksStayWithTheirLetter) {
  // "e" + COMBINING ACUTE ACCENT, and a Devanagari word with vowel signs.
  EXPECT_THAT(Words("cafe\xCC\x81 \xE0\xA4\xB9\xE0\xA4\xBF\xE0\xA4\x82\xE0\xA4\xA6\xE0\xA5\x80",
                    WordJoining::kUax29),
              ElementsAre("cafe\xCC\x81",
                          "\xE0\xA4\xB9\xE0\xA4\xBF\xE0\xA4\x82\xE0\xA4\xA6\xE0"
                          "\xA5\x80"));
}

TEST(AnalyzerTest, NormalizesUnicodeAndFoldsCase) {
  auto analyzer = Plain();
  // Fullwidth letters (NFKC), upper case, German sharp s (full case folding), decomposed accent
  // recomposed (NFKC), ligature "ﬁ" expanded, superscript two -> 2.
  EXPECT_THAT(analyzer->Analyze("\xEF\xBC\xA6\xEF\xBD\x95\xEF\xBD\x8C\xEF\xBD\x8C ÉCOLE Straße "
                                "cafe\xCC\x81 \xEF\xAC\x81nd x\xC2\xB2"),
              ElementsAre("full", "école", "strasse", "café", "find", "x2"));
}

TEST(AnalyzerTest, RemovesDefaultIgnorablesInsideWords) {
  auto analyzer = Plain();
  // SOFT HYPHEN and ZERO WIDTH SPACE inside a word do not split it.
  EXPECT_THAT(analyzer->Analyze("co\xC2\xADoperate zero\xE2\x80\x8Bwidth"),
              ElementsAre("cooperate", "zerowidth"));
}

TEST(AnalyzerTest, InvalidUtf8IsReplacedNotFatal) {
  auto analyzer = Plain();
  EXPECT_THAT(analyzer->Analyze("abc\xFF"
                                "def \xC3 gh\xE2\x82"),
              ElementsAre("abc", "def", "gh"));
  EXPECT_THAT(analyzer->Analyze(std::string("a\0b", 3)), ElementsAre("a", "b"));
}

TEST(AnalyzerTest, ApostrophesAndPossessives) {
  auto analyzer = Plain();
  // Possessive 's goes (curly or straight), contractions stay one word, quotes are not words.
  EXPECT_THAT(analyzer->Analyze("John's dog\xE2\x80\x99s bone isn't 'theirs' don\xE2\x80\x99t "
                                "JAMES'S o'neill"),
              ElementsAre("john", "dog", "bone", "isn't", "theirs", "don't", "james", "o'neill"));
  auto keep = Analyzer::Create({.stemmer = "none", .stop_words = {}, .strip_possessives = false});
  ASSERT_THAT(keep, IsOk());
  EXPECT_THAT((*keep)->Analyze("John's"), ElementsAre("john's"));
}

TEST(AnalyzerTest, DropsOverlongWords) {
  auto analyzer = Plain();
  EXPECT_THAT(analyzer->Analyze(std::string(255, 'a') + " ok " + std::string(256, 'b')),
              ElementsAre(std::string(255, 'a'), "ok"));
}

TEST(AnalyzerTest, DefaultStopWordsAreLucenesEnglishSet) {
  EXPECT_EQ(LuceneEnglishStopWords().size(), 33u);
  auto analyzer = Analyzer::Create({.stemmer = "none"});
  ASSERT_THAT(analyzer, IsOk());
  // "it's" loses its possessive-looking "'s" first (as in Lucene), then "it" is a stop word.
  EXPECT_THAT((*analyzer)->Analyze("The cat is on THE mat, and it's not there; such is life"),
              ElementsAre("cat", "mat", "life"));
  // Custom stop words are folded like the text.
  auto custom = Analyzer::Create({.stemmer = "none", .stop_words = {"CAT", "Straße"}});
  ASSERT_THAT(custom, IsOk());
  EXPECT_THAT((*custom)->Analyze("the Cat in STRASSE"), ElementsAre("the", "in"));
}

TEST(AnalyzerTest, PorterStemmingMatchesHandAppliedRules) {
  auto analyzer = Analyzer::Create({.stop_words = {}});
  ASSERT_THAT(analyzer, IsOk());
  // Each checked step by step against Porter (1980): step 1a (sses->ss, ies->i, s->), 1b (eed, ed,
  // ing with the at/bl/iz, double consonant and *o rules), 1c (y->i), steps 2-4 (suffixes by
  // measure m), step 5 (e, ll).
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"caresses", "caress"},    {"ponies", "poni"},     {"ties", "ti"},
      {"cats", "cat"},           {"feed", "feed"},       {"agreed", "agre"},
      {"plastered", "plaster"},  {"motoring", "motor"},  {"sing", "sing"},
      {"conflated", "conflat"},  {"troubled", "troubl"}, {"sized", "size"},
      {"hopping", "hop"},        {"falling", "fall"},    {"filing", "file"},
      {"happy", "happi"},        {"sky", "sky"},         {"relational", "relat"},
      {"conditional", "condit"}, {"rational", "ration"}, {"generalization", "gener"},
      {"oscillators", "oscil"},  {"running", "run"},     {"dying", "dy"},
      {"skies", "ski"},
  };
  for (const auto& [word, stem] : cases) {
    EXPECT_THAT((*analyzer)->Analyze(word), ElementsAre(stem)) << word;
  }
  // Stop words are removed before stemming: with the default set "this" and "was" go, without
  // it they become what Porter makes of them.
  EXPECT_THAT((*analyzer)->Analyze("this was running"), ElementsAre("thi", "wa", "run"));
  auto with_stop_words = Analyzer::Create();
  ASSERT_THAT(with_stop_words, IsOk());
  EXPECT_THAT((*with_stop_words)->Analyze("this was running"), ElementsAre("run"));
}

TEST(AnalyzerTest, OtherSnowballAlgorithmsByName) {
  // Porter2 ("english") treats -ying and -ies differently from Porter.
  auto english = Analyzer::Create({.stemmer = "english", .stop_words = {}});
  ASSERT_THAT(english, IsOk());
  EXPECT_THAT((*english)->Analyze("dying skies generously"), ElementsAre("die", "sky", "generous"));
  auto french = Analyzer::Create({.stemmer = "french", .stop_words = {}});
  ASSERT_THAT(french, IsOk());
  // French plural -aux -> -al (Snowball French, step 1).
  EXPECT_THAT((*french)->Analyze("chevaux"), ElementsAre("cheval"));
  EXPECT_THAT(Analyzer::Create({.stemmer = "klingon"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("klingon")));
  EXPECT_THAT(Analyzer::Create({.max_word_bytes = 0}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_word_bytes")));
  EXPECT_THAT(Analyzer::Create({.max_word_bytes = 5000}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_word_bytes")));
}

TEST(AnalyzerTest, FingerprintNamesTheConfiguration) {
  auto a = Analyzer::Create();
  auto b = Analyzer::Create();
  auto c = Analyzer::Create({.stemmer = "english"});
  auto d = Analyzer::Create({.stop_words = {"x"}});
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  ASSERT_THAT(c, IsOk());
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ((*a)->fingerprint(), (*b)->fingerprint());
  EXPECT_THAT((*a)->fingerprint(), HasSubstr("stemmer=porter stop=33:"));
  EXPECT_NE((*a)->fingerprint(), (*c)->fingerprint());
  EXPECT_NE((*a)->fingerprint(), (*d)->fingerprint());
}

TEST(AnalyzerTest, FrequenciesCountTermsAndLength) {
  auto analyzer = Analyzer::Create();
  ASSERT_THAT(analyzer, IsOk());
  const TermFrequencies tf = (*analyzer)->AnalyzeToFrequencies("Cats and cat's cats; the dog.");
  EXPECT_EQ(tf.length, 4u);  // cat cat cat dog
  EXPECT_THAT(tf.terms, ElementsAre(std::pair<std::string, uint32_t>("cat", 3),
                                    std::pair<std::string, uint32_t>("dog", 1)));
  EXPECT_THAT(ValidateTermFrequencies(tf), IsOk());
}

TEST(AnalyzerTest, ConcurrentCallsAgreeWithSequentialOnes) {
  auto analyzer = Analyzer::Create();
  ASSERT_THAT(analyzer, IsOk());
  const std::vector<std::string> texts = {
      "Generalization of oscillators running relational databases",
      "Microstructural development of human newborn cerebral white matter",
      "The ties and ponies were conflated by the troubled motoring caresses",
  };
  std::vector<std::vector<std::string>> expected;
  for (const std::string& text : texts) expected.push_back((*analyzer)->Analyze(text));
  std::vector<std::thread> threads;
  std::vector<int> mismatches(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        const size_t which = (i + t) % texts.size();
        if ((*analyzer)->Analyze(texts[which]) != expected[which]) ++mismatches[t];
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(mismatches, ElementsAre(0, 0, 0, 0));
}

TermFrequencies Bag(std::vector<std::pair<std::string, uint32_t>> terms) {
  TermFrequencies tf;
  tf.terms = std::move(terms);
  for (const auto& [term, count] : tf.terms) tf.length += count;
  return tf;
}

TEST(TermFrequenciesTest, ValidateRejectsBrokenInvariants) {
  EXPECT_THAT(ValidateTermFrequencies(Bag({{"a", 1}, {"b", 2}})), IsOk());
  EXPECT_THAT(ValidateTermFrequencies({}), IsOk());
  EXPECT_THAT(ValidateTermFrequencies(Bag({{"b", 1}, {"a", 1}})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("sorted")));
  EXPECT_THAT(ValidateTermFrequencies(Bag({{"a", 1}, {"a", 1}})),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateTermFrequencies(Bag({{"", 1}})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("empty")));
  EXPECT_THAT(ValidateTermFrequencies(Bag({{"a", 0}})),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("count 0")));
  EXPECT_THAT(ValidateTermFrequencies(Bag({{std::string(kMaxTermBytes + 1, 'x'), 1}})),
              StatusIs(absl::StatusCode::kInvalidArgument));
  TermFrequencies wrong_length = Bag({{"a", 2}});
  wrong_length.length = 3;
  EXPECT_THAT(ValidateTermFrequencies(wrong_length),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("length 3")));
}

TEST(TermFrequenciesTest, EncodeDecodeRoundTrip) {
  const TermFrequencies empty;
  ASSERT_THAT(DecodeTermFrequencies(EncodeTermFrequencies(empty)), IsOk());
  EXPECT_EQ(*DecodeTermFrequencies(EncodeTermFrequencies(empty)), empty);

  const TermFrequencies small = Bag({{"cell", 3}, {"cells", 70000}, {"cellular", 1}, {"é", 2}});
  const std::string encoded = EncodeTermFrequencies(small);
  // Format byte, 4 terms, length 70006 (3 varint bytes), then front-coded terms: "cellular"
  // shares "cell" with "cells" and stores 4 bytes, not 8.
  EXPECT_EQ(encoded.substr(0, 5), std::string("\x01\x04\xF6\xA2\x04", 5));
  auto decoded = DecodeTermFrequencies(encoded);
  ASSERT_THAT(decoded, IsOk());
  EXPECT_EQ(*decoded, small);

  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<std::string> tokens;
    const int n = rng() % 300;
    for (int i = 0; i < n; ++i) {
      std::string token(1 + rng() % 12, 'a');
      for (char& c : token) c = static_cast<char>('a' + rng() % 4);
      tokens.push_back(token);
    }
    const TermFrequencies bag = CountTerms(tokens);
    ASSERT_THAT(ValidateTermFrequencies(bag), IsOk());
    auto round_trip = DecodeTermFrequencies(EncodeTermFrequencies(bag));
    ASSERT_THAT(round_trip, IsOk());
    EXPECT_EQ(*round_trip, bag);
  }
}

TEST(TermFrequenciesTest, DecodeRejectsMalformedInput) {
  const std::string valid = EncodeTermFrequencies(Bag({{"alpha", 2}, {"alphabet", 1}}));
  EXPECT_THAT(DecodeTermFrequencies(""), StatusIs(absl::StatusCode::kDataLoss, HasSubstr("empty")));
  std::string newer_format = valid;
  newer_format[0] = '\x02';
  EXPECT_THAT(DecodeTermFrequencies(newer_format),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("format")));
  for (size_t size = 1; size < valid.size(); ++size) {
    EXPECT_THAT(DecodeTermFrequencies(valid.substr(0, size)), StatusIs(absl::StatusCode::kDataLoss))
        << "prefix of " << size << " bytes";
  }
  EXPECT_THAT(DecodeTermFrequencies(valid + "x"),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("trailing")));
  // Hand-built: 1 term claimed but length 5 while its count is 1.
  EXPECT_THAT(DecodeTermFrequencies(std::string("\x01\x01\x05\x00\x01z\x01", 7)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("length")));
  // Two terms out of order ("b" then "a").
  EXPECT_THAT(DecodeTermFrequencies(std::string("\x01\x02\x02\x00\x01"
                                                "b\x01\x00\x01"
                                                "a\x01",
                                                11)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("order")));
  // Sharing more bytes than the previous term has.
  EXPECT_THAT(DecodeTermFrequencies(std::string("\x01\x02\x02\x00\x01"
                                                "b\x01\x05\x01"
                                                "c\x01",
                                                11)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("shares")));
  // Count 0.
  EXPECT_THAT(DecodeTermFrequencies(std::string("\x01\x01\x00\x00\x01z\x00", 7)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("count 0")));
  // A term count no input of this size can hold (no huge allocation).
  EXPECT_THAT(DecodeTermFrequencies(std::string("\x01\xFF\xFF\xFF\xFF\x0F\x00", 7)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("term count")));
  // A varint longer than 64 bits.
  EXPECT_THAT(DecodeTermFrequencies(std::string("\x01") + std::string(11, '\xFF')),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST(TermFrequenciesTest, GarbageNeverCrashesAndWhatDecodesIsValid) {
  const std::string valid =
      EncodeTermFrequencies(Bag({{"alpha", 2}, {"alphabet", 1}, {"beta", 300}, {"gamma", 1}}));
  std::mt19937_64 rng(11);
  int accepted = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    std::string bytes;
    if (trial % 2 == 0) {
      bytes = valid;  // a valid encoding with a few bytes changed
      const int flips = 1 + rng() % 3;
      for (int f = 0; f < flips; ++f) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    } else {
      bytes.resize(rng() % 40);
      for (char& c : bytes) c = static_cast<char>(rng());
      if (!bytes.empty() && rng() % 2 == 0) bytes[0] = '\x01';
    }
    auto decoded = DecodeTermFrequencies(bytes);
    if (decoded.ok()) {
      ++accepted;
      EXPECT_THAT(ValidateTermFrequencies(*decoded), IsOk());
      auto again = DecodeTermFrequencies(EncodeTermFrequencies(*decoded));
      ASSERT_THAT(again, IsOk());
      EXPECT_EQ(*again, *decoded);
    } else {
      EXPECT_EQ(decoded.status().code(), absl::StatusCode::kDataLoss);
    }
  }
  EXPECT_LT(accepted, 20000);
}

}  // namespace
}  // namespace ember::text
