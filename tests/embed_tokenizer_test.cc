// Tests for embed/wordpiece_tokenizer.h: id-for-id agreement with Hugging Face's tokenizer on the
// shared fixtures, both ways of loading, truncation, special tokens in text, robustness to
// arbitrary bytes, and the load errors the contract promises.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "embed/wordpiece_tokenizer.h"
#include "status_matchers.h"
#include "temp_dir.h"

namespace ember::embed {
namespace {

using ::ember::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kSharedDir = EMBER_SHARED_DIR;
const std::string kMiniLmDir = kSharedDir + "/fixtures/tokenizer/all-MiniLM-L6-v2";
const std::string kTokenIdsPath = kSharedDir + "/fixtures/tokenizer/token_ids.jsonl";
const std::string kTinyBertDir = kSharedDir + "/fixtures/bert-tiny-random";
constexpr int kMaxLength = 256;  // the truncation the fixtures were made with

struct TokenizedText {
  std::string text;
  std::vector<int32_t> input_ids;
};

std::vector<TokenizedText> ReadReference(const std::string& path) {
  std::vector<TokenizedText> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json record = nlohmann::json::parse(line);
    lines.push_back(
        {record.at("text").get<std::string>(), record.at("input_ids").get<std::vector<int32_t>>()});
  }
  return lines;
}

// Encodes every reference text as the fixtures' generator (transformers.js) truncates, and returns
// how many lines match exactly, reporting the first misses.
int CountMatches(const WordPieceTokenizer& tokenizer, const std::vector<TokenizedText>& reference) {
  int matches = 0;
  int reported = 0;
  for (const TokenizedText& line : reference) {
    const std::vector<int32_t> ids =
        tokenizer.Encode(line.text, kMaxLength, TruncationStyle::kCutFramedSequence);
    if (ids == line.input_ids) {
      ++matches;
    } else if (reported++ < 5) {
      ADD_FAILURE() << "ids differ for text: " << line.text
                    << "\n  got:      " << ::testing::PrintToString(ids)
                    << "\n  expected: " << ::testing::PrintToString(line.input_ids);
    }
  }
  return matches;
}

using ::ember::testing::TempDir;

class FixtureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kTokenIdsPath) || !std::filesystem::exists(kMiniLmDir)) {
      GTEST_SKIP() << "shared fixtures not found at " << kSharedDir << "/fixtures";
    }
    reference_ = ReadReference(kTokenIdsPath);
    ASSERT_EQ(reference_.size(), 295u);
  }
  std::vector<TokenizedText> reference_;
};

TEST_F(FixtureTest, TokenizerJsonReproducesEveryReferenceLine) {
  ASSERT_OK_AND_ASSIGN(auto tokenizer, WordPieceTokenizer::Load(kMiniLmDir));
  EXPECT_EQ(tokenizer->vocab_size(), 30522);
  EXPECT_EQ(tokenizer->unk_id(), 100);
  EXPECT_EQ(tokenizer->cls_id(), 101);
  EXPECT_EQ(tokenizer->sep_id(), 102);
  EXPECT_EQ(tokenizer->pad_id(), 0);
  EXPECT_EQ(CountMatches(*tokenizer, reference_), 295);
}

// Hugging Face's Python / Rust tokenizers (what sentence-transformers runs) keep [SEP] when
// truncating: the fixture's truncated lines then agree on every id but the last, which is [SEP].
TEST_F(FixtureTest, DefaultTruncationKeepsTheClosingSeparator) {
  ASSERT_OK_AND_ASSIGN(auto tokenizer, WordPieceTokenizer::Load(kMiniLmDir));
  int truncated = 0;
  for (const TokenizedText& line : reference_) {
    const std::vector<int32_t> ids = tokenizer->Encode(line.text, kMaxLength);
    if (line.input_ids.back() == 102) {
      EXPECT_EQ(ids, line.input_ids) << line.text;
      continue;
    }
    ++truncated;
    ASSERT_EQ(ids.size(), static_cast<size_t>(kMaxLength)) << line.text;
    EXPECT_TRUE(std::equal(ids.begin(), ids.end() - 1, line.input_ids.begin())) << line.text;
    EXPECT_EQ(ids.back(), 102);
  }
  EXPECT_EQ(truncated, 79);
}

TEST_F(FixtureTest, VocabTxtWithTokenizerConfigGivesIdenticalIds) {
  TempDir dir;
  for (const char* name : {"vocab.txt", "tokenizer_config.json", "special_tokens_map.json"}) {
    std::filesystem::copy_file(kMiniLmDir + "/" + name, dir.path() + "/" + name);
  }
  ASSERT_OK_AND_ASSIGN(auto from_vocab, WordPieceTokenizer::Load(dir.path()));
  ASSERT_OK_AND_ASSIGN(auto from_json, WordPieceTokenizer::Load(kMiniLmDir));
  EXPECT_EQ(CountMatches(*from_vocab, reference_), 295);
  EXPECT_EQ(from_vocab->fingerprint(), from_json->fingerprint());
}

TEST_F(FixtureTest, TinyBertFixtureTokenizerMatchesItsReference) {
  const std::string reference_path = kTinyBertDir + "/reference.jsonl";
  if (!std::filesystem::exists(reference_path)) GTEST_SKIP() << "no " << reference_path;
  ASSERT_OK_AND_ASSIGN(auto tokenizer, WordPieceTokenizer::Load(kTinyBertDir));
  const std::vector<TokenizedText> reference = ReadReference(reference_path);
  EXPECT_EQ(CountMatches(*tokenizer, reference), static_cast<int>(reference.size()));
}

TEST_F(FixtureTest, ConcurrentEncodingGivesTheSameIds) {
  ASSERT_OK_AND_ASSIGN(auto tokenizer, WordPieceTokenizer::Load(kMiniLmDir));
  std::vector<int> matches(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (const TokenizedText& line : reference_) {
        matches[t] += tokenizer->Encode(line.text, kMaxLength,
                                        TruncationStyle::kCutFramedSequence) == line.input_ids;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(matches, ElementsAre(295, 295, 295, 295));
}

class MiniLmTokenizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(kMiniLmDir)) GTEST_SKIP() << "no fixture " << kMiniLmDir;
    ASSERT_OK_AND_ASSIGN(tokenizer_, WordPieceTokenizer::Load(kMiniLmDir));
  }
  std::unique_ptr<WordPieceTokenizer> tokenizer_;
};

TEST_F(MiniLmTokenizerTest, TruncatesKeepingTheClosingSeparator) {
  // "hello" 7592, "world" 2088, "again" 2153
  EXPECT_THAT(tokenizer_->Encode("hello world again", 100),
              ElementsAre(101, 7592, 2088, 2153, 102));
  EXPECT_THAT(tokenizer_->Encode("hello world again", 4), ElementsAre(101, 7592, 2088, 102));
  EXPECT_THAT(tokenizer_->Encode("hello world again", 2), ElementsAre(101, 102));
  EXPECT_THAT(tokenizer_->Encode("hello world again", 0), ElementsAre(101, 102));
  EXPECT_THAT(tokenizer_->Encode("hello world again", -5), ElementsAre(101, 102));
  constexpr auto kCut = TruncationStyle::kCutFramedSequence;
  EXPECT_THAT(tokenizer_->Encode("hello world again", 5, kCut),
              ElementsAre(101, 7592, 2088, 2153, 102));
  EXPECT_THAT(tokenizer_->Encode("hello world again", 4, kCut), ElementsAre(101, 7592, 2088, 2153));
  EXPECT_THAT(tokenizer_->Encode("hello world again", 0, kCut), ElementsAre(101, 7592));
}

TEST_F(MiniLmTokenizerTest, TruncationCutsInsideAWordAfterItsPieces) {
  const std::vector<int32_t> full = tokenizer_->Encode("supercalifragilistic", 100);
  ASSERT_GT(full.size(), 4u);  // several pieces
  const std::vector<int32_t> cut = tokenizer_->Encode("supercalifragilistic", 4);
  EXPECT_THAT(cut, ElementsAre(101, full[1], full[2], 102));
}

TEST_F(MiniLmTokenizerTest, SpecialTokensWrittenInTextBecomeTheirIds) {
  EXPECT_THAT(tokenizer_->Encode("hello [SEP] world[MASK]", 100),
              ElementsAre(101, 7592, 102, 2088, 103, 102));
  // Matched verbatim, before lower-casing: "[sep]" is ordinary punctuation and a word.
  EXPECT_THAT(tokenizer_->Encode("[sep]", 100), ElementsAre(101, 1031, 19802, 1033, 102));
}

TEST_F(MiniLmTokenizerTest, AWordWithAnUncoverablePieceIsOneUnknownToken) {
  EXPECT_THAT(tokenizer_->Encode("hello\xF0\x9F\x98\x80", 100), ElementsAre(101, 100, 102));
}

TEST_F(MiniLmTokenizerTest, InvalidUtf8IsDroppedLikeTheReplacementCharacter) {
  // U+FFFD is removed by clean_text, so malformed bytes vanish and join their neighbours.
  const std::vector<int32_t> clean = tokenizer_->Encode("hello world", 100);
  EXPECT_EQ(tokenizer_->Encode("hel\xFFlo wor\xC0\xAFld", 100), clean);
  EXPECT_EQ(tokenizer_->Encode("hello\xED\xA0\x80 world\xF0\x9F", 100), clean);
  EXPECT_EQ(tokenizer_->Encode(std::string("hello\0 world", 12), 100), clean);
}

TEST_F(MiniLmTokenizerTest, ArbitraryBytesNeverBreakTheFrame) {
  std::mt19937_64 random(20240611);
  // Pieces that stress the decoder and the normalizer, mixed with random bytes.
  const std::vector<std::string> pieces = {
      "\xED\xA0\x80",
      "\xED\xBF\xBF",
      "\xC0\xAF",
      "\xE0\x80\xAF",
      "\xF0\x80\x80\xAF",
      "\xF4\x90\x80\x80",
      "\xF8\x88\x80\x80",
      std::string(1, '\0'),
      "\xE6\x9D\xB1",
      "\xCC\x81",
      "\xC4\xB0",
      "[SEP]",
      "[CLS",
      " ",
      "\xE2\x80\x8B",
      "\xEF\xBF\xBD",
      "\xF0\x9F\x98\x80",
      "a",
      "##",
      std::string(150, 'x'),
  };
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    const int parts = random() % 40;
    for (int p = 0; p < parts; ++p) {
      if (random() % 2) {
        text += pieces[random() % pieces.size()];
      } else {
        const int bytes = random() % 8;
        for (int b = 0; b < bytes; ++b) text.push_back(static_cast<char>(random() & 0xFF));
      }
    }
    const int max_length = static_cast<int>(random() % 40);
    const std::vector<int32_t> ids = tokenizer_->Encode(text, max_length);
    ASSERT_GE(ids.size(), 2u);
    ASSERT_LE(ids.size(), static_cast<size_t>(std::max(max_length, 2)));
    ASSERT_EQ(ids.front(), 101);
    ASSERT_EQ(ids.back(), 102);
    for (int32_t id : ids) {
      ASSERT_GE(id, 0);
      ASSERT_LT(id, tokenizer_->vocab_size());
    }
    const std::vector<int32_t> cut =
        tokenizer_->Encode(text, max_length, TruncationStyle::kCutFramedSequence);
    ASSERT_LE(cut.size(), static_cast<size_t>(std::max(max_length, 2)));
    // Both styles agree up to the last kept token of the text.
    ASSERT_TRUE(std::equal(ids.begin(), ids.end() - 1, cut.begin()));
  }
}

TEST_F(MiniLmTokenizerTest, TokenIdLooksUpTheVocabulary) {
  EXPECT_EQ(tokenizer_->TokenId("hello"), 7592);
  EXPECT_EQ(tokenizer_->TokenId("[CLS]"), 101);
  EXPECT_EQ(tokenizer_->TokenId("no-such-token"), std::nullopt);
}

// A small vocabulary whose ids are easy to follow.
const char kSmallVocab[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhe\n##llo\nhello\ncafe\ncafé\n,\n";

TEST(WordPieceTokenizerLoadTest, CasedVocabularyKeepsCaseAndAccents) {
  TempDir dir;
  dir.Write("vocab.txt", kSmallVocab);
  dir.Write("tokenizer_config.json", R"({"do_lower_case": false})");
  ASSERT_OK_AND_ASSIGN(auto tokenizer, WordPieceTokenizer::Load(dir.path()));
  EXPECT_FALSE(tokenizer->normalization().lowercase);
  EXPECT_FALSE(tokenizer->normalization().strip_accents);
  EXPECT_THAT(tokenizer->Encode("hello Hello café, cafe", 100), ElementsAre(2, 7, 1, 9, 10, 8, 3));
}

TEST(WordPieceTokenizerLoadTest, UncasedDefaultsWithoutTokenizerConfig) {
  TempDir dir;
  dir.Write("vocab.txt", kSmallVocab);
  ASSERT_OK_AND_ASSIGN(auto tokenizer, WordPieceTokenizer::Load(dir.path()));
  // "HeLLo" -> "hello" (7); "CAFÉ" -> "cafe" (8); "hexllo" -> he ##?? fails -> [UNK].
  EXPECT_THAT(tokenizer->Encode("HeLLo CAFÉ hexllo", 100), ElementsAre(2, 7, 8, 1, 3));
}

TEST(WordPieceTokenizerLoadTest, MissingFolderOrFilesIsNotFound) {
  EXPECT_THAT(WordPieceTokenizer::Load("/nonexistent/ember/model"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/nonexistent/ember/model")));
  TempDir dir;
  EXPECT_THAT(WordPieceTokenizer::Load(dir.path()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("tokenizer.json")));
}

TEST(WordPieceTokenizerLoadTest, GarbledTokenizerJsonIsInvalidArgumentNamingTheFile) {
  const std::vector<std::string> garbled = {
      "",
      "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {\"a\": 0",
      "not json at all",
      "[1, 2, 3]",
      R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": "zero"}}})",
      R"({"model": {"type": "WordPiece", "vocab": {}}, "pre_tokenizer": {"type": "BertPreTokenizer"}})",
      R"({"model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"a": 0}},
          "pre_tokenizer": {"type": "BertPreTokenizer"}})",
      R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}},
          "pre_tokenizer": {"type": "BertPreTokenizer"},
          "post_processor": {"type": "BertProcessing", "cls": ["[CLS]", 1], "sep": ["[SEP]", 2]}})",
  };
  for (const std::string& content : garbled) {
    TempDir dir;
    dir.Write("tokenizer.json", content);
    EXPECT_THAT(WordPieceTokenizer::Load(dir.path()),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tokenizer.json")))
        << content;
  }
}

TEST(WordPieceTokenizerLoadTest, OtherTokenizerKindsAreUnimplemented) {
  TempDir dir;
  dir.Write("tokenizer.json", R"({"model": {"type": "BPE", "vocab": {}, "merges": []}})");
  EXPECT_THAT(WordPieceTokenizer::Load(dir.path()),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("BPE")));
  dir.Write("tokenizer.json", R"({"model": {"type": "WordPiece", "vocab": {"[UNK]": 0}},
                                  "pre_tokenizer": {"type": "Metaspace"}})");
  EXPECT_THAT(WordPieceTokenizer::Load(dir.path()),
              StatusIs(absl::StatusCode::kUnimplemented, HasSubstr("Metaspace")));
}

TEST(WordPieceTokenizerLoadTest, GarbledTokenizerConfigIsInvalidArgumentNamingTheFile) {
  TempDir dir;
  dir.Write("vocab.txt", kSmallVocab);
  dir.Write("tokenizer_config.json", "{\"do_lower_case\": tru");
  EXPECT_THAT(WordPieceTokenizer::Load(dir.path()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tokenizer_config.json")));
  dir.Write("tokenizer_config.json", R"({"do_lower_case": "yes"})");
  EXPECT_THAT(WordPieceTokenizer::Load(dir.path()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("tokenizer_config.json")));
}

TEST(WordPieceTokenizerLoadTest, VocabularyWithoutItsSpecialTokensIsInvalidArgument) {
  TempDir dir;
  dir.Write("vocab.txt", "[UNK]\nhello\n");
  EXPECT_THAT(WordPieceTokenizer::Load(dir.path()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("[CLS]")));
  dir.Write("vocab.txt", "[CLS]\n[SEP]\nhello\n");
  EXPECT_THAT(WordPieceTokenizer::Load(dir.path()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("[UNK]")));
}

TEST(WordPieceTokenizerLoadTest, FingerprintChangesWithVocabularyAndSettings) {
  TempDir a, b, c;
  a.Write("vocab.txt", kSmallVocab);
  b.Write("vocab.txt", std::string(kSmallVocab) + "extra\n");
  c.Write("vocab.txt", kSmallVocab);
  c.Write("tokenizer_config.json", R"({"do_lower_case": false})");
  ASSERT_OK_AND_ASSIGN(auto ta, WordPieceTokenizer::Load(a.path()));
  ASSERT_OK_AND_ASSIGN(auto ta2, WordPieceTokenizer::Load(a.path()));
  ASSERT_OK_AND_ASSIGN(auto tb, WordPieceTokenizer::Load(b.path()));
  ASSERT_OK_AND_ASSIGN(auto tc, WordPieceTokenizer::Load(c.path()));
  EXPECT_EQ(ta->fingerprint(), ta2->fingerprint());
  EXPECT_EQ(ta->fingerprint().size(), 16u);
  EXPECT_NE(ta->fingerprint(), tb->fingerprint());
  EXPECT_NE(ta->fingerprint(), tc->fingerprint());
}

}  // namespace
}  // namespace ember::embed
