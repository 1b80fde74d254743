// ChunkText: hand-checked cuts (sentence ends, abbreviations, long sentences and words, overlap),
// option validation, and a property test of the guarantees over thousands of random texts and
// several token counters, plus a run with the MiniLM WordPiece tokenizer when the fixtures exist.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "embed/chunker.h"
#include "embed/wordpiece_tokenizer.h"
#include "status_matchers.h"

namespace ember::embed {
namespace {

using ::ember::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// One token per whitespace-separated word.
int CountWords(std::string_view text) {
  int words = 0;
  bool in_word = false;
  for (const char c : text) {
    if (!IsSpace(c)) words += !in_word;
    in_word = !IsSpace(c);
  }
  return words;
}

// One token per non-whitespace byte.
int CountBytes(std::string_view text) {
  return static_cast<int>(
      std::count_if(text.begin(), text.end(), [](char c) { return !IsSpace(c); }));
}

// ceil(length / 3) tokens per word, like a subword tokenizer.
int CountSubwords(std::string_view text) {
  int tokens = 0;
  int length = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || IsSpace(text[i])) {
      tokens += (length + 2) / 3;
      length = 0;
    } else {
      ++length;
    }
  }
  return tokens;
}

// ceil(non-space bytes / 4) over the whole text: not additive over words (the sum over words
// overestimates), to exercise the chunker's corrections of its estimates.
int CountPooled(std::string_view text) { return (CountBytes(text) + 3) / 4; }

std::vector<std::string> Texts(const std::vector<Chunk>& chunks) {
  std::vector<std::string> texts;
  for (const Chunk& chunk : chunks) texts.push_back(chunk.text);
  return texts;
}

std::vector<std::string> ChunkWords(std::string_view text, int max_tokens, int overlap_tokens) {
  const absl::StatusOr<std::vector<Chunk>> chunks =
      ChunkText(text, CountWords, {.max_tokens = max_tokens, .overlap_tokens = overlap_tokens});
  EXPECT_TRUE(chunks.ok()) << chunks.status();
  return chunks.ok() ? Texts(*chunks) : std::vector<std::string>{};
}

// The length of the UTF-8 character at `pos`, or 1 for a byte that does not start a well-formed
// one.
size_t CharLength(std::string_view text, size_t pos) {
  const auto byte = static_cast<unsigned char>(text[pos]);
  const size_t length = byte >= 0xF0 && byte <= 0xF4   ? 4
                        : byte >= 0xE0 && byte <= 0xEF ? 3
                        : byte >= 0xC2 && byte <= 0xDF ? 2
                                                       : 1;
  if (pos + length > text.size()) return 1;
  for (size_t i = 1; i < length; ++i) {
    if ((static_cast<unsigned char>(text[pos + i]) & 0xC0) != 0x80) return 1;
  }
  return length;
}

// Checks every guarantee ChunkText documents.
void CheckGuarantees(std::string_view text, const std::vector<Chunk>& chunks,
                     const TokenCounter& count, const ChunkOptions& options) {
  const size_t first = text.find_first_not_of(" \t\n\r\f\v");
  if (first == std::string_view::npos) {
    EXPECT_TRUE(chunks.empty());
    return;
  }
  const size_t last = text.find_last_not_of(" \t\n\r\f\v") + 1;
  const std::string_view trimmed = text.substr(first, last - first);
  if (count(trimmed) <= options.max_tokens) {
    ASSERT_EQ(chunks.size(), 1);
    EXPECT_EQ(chunks[0].text, trimmed);
  }
  ASSERT_FALSE(chunks.empty());
  EXPECT_EQ(chunks.front().begin, first);
  EXPECT_EQ(chunks.back().end, last);
  for (size_t i = 0; i < chunks.size(); ++i) {
    const Chunk& chunk = chunks[i];
    SCOPED_TRACE(::testing::Message() << "chunk " << i);
    EXPECT_EQ(chunk.index, i);
    ASSERT_LT(chunk.begin, chunk.end);
    ASSERT_LE(chunk.end, text.size());
    EXPECT_EQ(chunk.text, text.substr(chunk.begin, chunk.end - chunk.begin));
    EXPECT_FALSE(IsSpace(chunk.text.front()));
    EXPECT_FALSE(IsSpace(chunk.text.back()));
    EXPECT_EQ(chunk.tokens, count(chunk.text));
    if (chunk.tokens > options.max_tokens) {
      EXPECT_EQ(chunk.end - chunk.begin, CharLength(text, chunk.begin))
          << "only a single character may exceed the budget";
    }
    if (i == 0) continue;
    const Chunk& previous = chunks[i - 1];
    EXPECT_GT(chunk.begin, previous.begin);
    EXPECT_GT(chunk.end, previous.end);
    if (chunk.begin < previous.end) {
      EXPECT_LE(count(text.substr(chunk.begin, previous.end - chunk.begin)),
                options.overlap_tokens);
    } else {
      // Coverage: only whitespace between consecutive chunks.
      for (size_t pos = previous.end; pos < chunk.begin; ++pos) {
        ASSERT_TRUE(IsSpace(text[pos])) << "byte " << pos << " is in no chunk";
      }
    }
  }
}

TEST(EmbedChunkerTest, ValidatesOptions) {
  EXPECT_OK(ValidateChunkOptions({}));
  EXPECT_EQ(ChunkOptions().max_tokens, 256);
  EXPECT_EQ(ChunkOptions().overlap_tokens, 32);
  EXPECT_OK(ValidateChunkOptions({.max_tokens = 1, .overlap_tokens = 0}));
  EXPECT_THAT(ValidateChunkOptions({.max_tokens = 0, .overlap_tokens = 0}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("max_tokens")));
  EXPECT_THAT(ValidateChunkOptions({.max_tokens = 10, .overlap_tokens = 10}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("overlap_tokens")));
  EXPECT_THAT(ValidateChunkOptions({.max_tokens = 10, .overlap_tokens = -1}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("overlap_tokens")));
  EXPECT_THAT(ChunkText("text", CountWords, {.max_tokens = 4, .overlap_tokens = 5}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("overlap_tokens")));
  EXPECT_THAT(ChunkText("text", TokenCounter()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("count_tokens")));
}

TEST(EmbedChunkerTest, EmptyAndShortTexts) {
  ASSERT_OK_AND_ASSIGN(std::vector<Chunk> chunks, ChunkText("", CountWords));
  EXPECT_TRUE(chunks.empty());
  ASSERT_OK_AND_ASSIGN(chunks, ChunkText(" \n\t\r\n ", CountWords));
  EXPECT_TRUE(chunks.empty());
  const std::string text = "\n  Short text. Two sentences!\n\n";
  ASSERT_OK_AND_ASSIGN(chunks, ChunkText(text, CountWords));
  ASSERT_EQ(chunks.size(), 1);
  EXPECT_EQ(chunks[0].text, "Short text. Two sentences!");
  EXPECT_EQ(chunks[0].begin, 3);
  EXPECT_EQ(chunks[0].end, 29);
  EXPECT_EQ(chunks[0].tokens, 4);
  EXPECT_EQ(chunks[0].index, 0);
}

TEST(EmbedChunkerTest, PacksWholeSentences) {
  // 3 + 3 words fit in 7; adding the 5-word third sentence would not.
  EXPECT_THAT(ChunkWords("One two three. Four five six. Seven eight nine ten eleven.", 7, 0),
              ElementsAre("One two three. Four five six.", "Seven eight nine ten eleven."));
  // Line and paragraph breaks end sentences too.
  EXPECT_THAT(ChunkWords("Title line\nfirst body line\n\nSecond paragraph here", 5, 0),
              ElementsAre("Title line\nfirst body line", "Second paragraph here"));
}

TEST(EmbedChunkerTest, OverlapRepeatsTrailingSentences) {
  // Four 3-word sentences, 7 words per chunk, up to 4 words of overlap: each chunk holds two
  // sentences and the next one starts with the second of them (3 words of overlap).
  EXPECT_THAT(ChunkWords("Alpha one two. Beta one two. Gamma one two. Delta one two.", 7, 4),
              ElementsAre("Alpha one two. Beta one two.", "Beta one two. Gamma one two.",
                          "Gamma one two. Delta one two."));
  // With room for 6 words of overlap but not 7 of chunk after it, the overlap is shortened so that
  // the next sentence still ends its chunk.
  EXPECT_THAT(ChunkWords("Alpha one two. Beta one two. Gamma one two.", 7, 6),
              ElementsAre("Alpha one two. Beta one two.", "Beta one two. Gamma one two."));
  // When even the last sentence is longer than the overlap, whole words are repeated.
  EXPECT_THAT(
      ChunkWords("Alpha one two three four five. Beta one two three four five.", 8, 2),
      ElementsAre("Alpha one two three four five.", "four five. Beta one two three four five."));
}

TEST(EmbedChunkerTest, LongSentenceIsCutAtWords) {
  // 30 words without a sentence end, 8 per chunk, 2 of overlap: chunk k holds words [6k, 6k + 8).
  std::vector<std::string> words;
  for (int i = 0; i < 30; ++i) words.push_back(absl::StrCat("w", i));
  const std::string text = absl::StrJoin(words, " ");
  const std::vector<std::string> chunks = ChunkWords(text, 8, 2);
  ASSERT_EQ(chunks.size(), 5);
  for (int k = 0; k < 5; ++k) {
    const std::vector<std::string> expected(words.begin() + 6 * k,
                                            words.begin() + std::min(30, 6 * k + 8));
    EXPECT_EQ(chunks[k], absl::StrJoin(expected, " ")) << k;
  }
  // A long sentence after a short one: the short one is its own chunk rather than being glued to
  // the first words of the long one.
  EXPECT_THAT(ChunkWords("Short one. A b c d e f g h i j.", 6, 0),
              ElementsAre("Short one.", "A b c d e f", "g h i j."));
}

TEST(EmbedChunkerTest, LongWordIsCutAtCharacters) {
  // One token per byte: a 20-byte word in chunks of 8, 8 and 4 bytes.
  const std::string word(20, 'a');
  ASSERT_OK_AND_ASSIGN(
      std::vector<Chunk> chunks,
      ChunkText("Go " + word + " now", CountBytes, {.max_tokens = 8, .overlap_tokens = 0}));
  EXPECT_THAT(Texts(chunks), ElementsAre("Go", "aaaaaaaa", "aaaaaaaa", "aaaa now"));
  EXPECT_EQ(chunks[1].begin, 3);
  EXPECT_EQ(chunks[2].begin, 11);
  // Two-byte characters are never split: 5 bytes allow two of them.
  std::string accents;
  for (int i = 0; i < 7; ++i) accents += "\xC3\xA9";  // é
  ASSERT_OK_AND_ASSIGN(chunks,
                       ChunkText(accents, CountBytes, {.max_tokens = 5, .overlap_tokens = 1}));
  EXPECT_THAT(Texts(chunks),
              ElementsAre("\xC3\xA9\xC3\xA9", "\xC3\xA9\xC3\xA9", "\xC3\xA9\xC3\xA9", "\xC3\xA9"));
}

TEST(EmbedChunkerTest, CharacterAboveBudgetIsItsOwnChunk) {
  // Every byte counts 3 tokens against a budget of 2: nothing fits, each character goes alone.
  const TokenCounter triple = [](std::string_view text) { return 3 * CountBytes(text); };
  ASSERT_OK_AND_ASSIGN(const std::vector<Chunk> chunks,
                       ChunkText("ab \xC3\xA9", triple, {.max_tokens = 2, .overlap_tokens = 1}));
  EXPECT_THAT(Texts(chunks), ElementsAre("a", "b", "\xC3\xA9"));
}

// The first chunk when the budget is one word less than the text: it ends at the last sentence end
// found before the last word, which shows whether a period was taken for one.
std::string FirstCut(const std::string& text) {
  const std::vector<std::string> chunks = ChunkWords(text, CountWords(text) - 1, 0);
  return chunks.empty() ? "" : chunks[0];
}

TEST(EmbedChunkerTest, AbbreviationsAndDecimalsDoNotEndSentences) {
  EXPECT_EQ(FirstCut("Start here. Dr. Smith came home."), "Start here.");
  EXPECT_EQ(FirstCut("Start here. Mr. and Mrs. Smith came."), "Start here.");
  EXPECT_EQ(FirstCut("Start here. We use e.g. Cats today."), "Start here.");
  EXPECT_EQ(FirstCut("Start here. We use (i.e. Dogs) today."), "Start here.");
  EXPECT_EQ(FirstCut("Start here. In the U.S. Army now."), "Start here.");
  EXPECT_EQ(FirstCut("Start here. J. R. R. Tolkien wrote."), "Start here.");
  EXPECT_EQ(FirstCut("Start here. See Fig. 3 for more."), "Start here.");
  EXPECT_EQ(FirstCut("Start here. It grew 3.5 percent."), "Start here.");
  EXPECT_EQ(FirstCut("Start here. It costs approx. five dollars."), "Start here.");
  EXPECT_EQ(FirstCut("Start here. Smith et al. Showed it."), "Start here.");
  EXPECT_EQ(FirstCut("Start here. Go to example.com now."), "Start here.");
  EXPECT_EQ(FirstCut("Start here. Foo bar.Baz qux now."), "Start here.");
  EXPECT_EQ(FirstCut("Items:\n1. Apples are red"), "Items:");
}

TEST(EmbedChunkerTest, SentenceEnds) {
  EXPECT_EQ(FirstCut("Start here. He said no. Then left."), "Start here. He said no.");
  EXPECT_EQ(FirstCut("Start here. Really? Yes it is."), "Start here. Really?");
  EXPECT_EQ(FirstCut("Start here. Stop! Now go."), "Start here. Stop!");
  EXPECT_EQ(FirstCut("Start here. He said \"Stop.\" Then went."), "Start here. He said \"Stop.\"");
  EXPECT_EQ(FirstCut("Start here. (It ended.) Then went."), "Start here. (It ended.)");
  EXPECT_EQ(FirstCut("Start here. Wait... Then it came."), "Start here. Wait...");
  EXPECT_EQ(FirstCut("Start here. It cost 3.5. Then more."), "Start here. It cost 3.5.");
  EXPECT_EQ(FirstCut("Start here\nnext line goes on"), "Start here");
  EXPECT_EQ(FirstCut("Start here\r\nnext line goes on"), "Start here");
  EXPECT_EQ(FirstCut("Start here. Made in 1999. The end came."), "Start here. Made in 1999.");
}

TEST(EmbedChunkerTest, InvalidUtf8) {
  const std::string text = "Bad \xFF\xFE bytes. \xC3 lone lead. \x80\x80\x80\x80 tails.";
  for (const int max_tokens : {1, 2, 3, 5, 100}) {
    const ChunkOptions options{.max_tokens = max_tokens, .overlap_tokens = max_tokens / 2};
    for (const TokenCounter& count : {TokenCounter(CountBytes), TokenCounter(CountWords)}) {
      ASSERT_OK_AND_ASSIGN(const std::vector<Chunk> chunks, ChunkText(text, count, options));
      CheckGuarantees(text, chunks, count, options);
    }
  }
}

// Random texts from pieces chosen to hit the chunker's cases: words, sentence ends, abbreviations,
// decimals, line breaks, long words, multi-byte and invalid UTF-8.
std::string RandomText(std::mt19937& random) {
  static const std::vector<std::string> kPieces = {"word",
                                                   "a",
                                                   "Some",
                                                   "longerword",
                                                   "x",
                                                   "Dr.",
                                                   "e.g.",
                                                   "3.5",
                                                   "end.",
                                                   "Why?",
                                                   "Yes!",
                                                   "U.S.",
                                                   "\xC3\xA9t\xC3\xA9",
                                                   "\xE6\x97\xA5\xE6\x9C\xAC",
                                                   "\xF0\x9F\x98\x80",
                                                   "\xFF",
                                                   "\xC3",
                                                   "\x80",
                                                   "\"quoted.\"",
                                                   "(aside)",
                                                   "...",
                                                   "1.",
                                                   "Fig.",
                                                   ".",
                                                   "?",
                                                   "!"};
  static const std::vector<std::string> kSpaces = {" ",    " ",  " ",    "  ", "\n",
                                                   "\n\n", "\t", "\r\n", ""};
  std::string text;
  const int pieces = std::uniform_int_distribution<int>(0, 80)(random);
  for (int i = 0; i < pieces; ++i) {
    if (std::uniform_int_distribution<int>(0, 30)(random) == 0) {
      // A long run without spaces.
      text += std::string(std::uniform_int_distribution<int>(1, 60)(random),
                          "ab.\xC3\xA9"[std::uniform_int_distribution<int>(0, 4)(random)]);
    } else {
      text += kPieces[std::uniform_int_distribution<size_t>(0, kPieces.size() - 1)(random)];
    }
    text += kSpaces[std::uniform_int_distribution<size_t>(0, kSpaces.size() - 1)(random)];
  }
  return text;
}

TEST(EmbedChunkerTest, RandomTextsKeepEveryGuarantee) {
  std::mt19937 random(20240611);
  const std::vector<std::pair<std::string, TokenCounter>> counters = {{"words", CountWords},
                                                                      {"bytes", CountBytes},
                                                                      {"subwords", CountSubwords},
                                                                      {"pooled", CountPooled}};
  for (int iteration = 0; iteration < 5000; ++iteration) {
    const std::string text = RandomText(random);
    const int max_tokens = std::uniform_int_distribution<int>(1, 40)(random);
    const ChunkOptions options{
        .max_tokens = max_tokens,
        .overlap_tokens = std::uniform_int_distribution<int>(0, max_tokens - 1)(random)};
    const auto& [name, count] = counters[iteration % counters.size()];
    SCOPED_TRACE(::testing::Message() << "iteration " << iteration << ", counter " << name
                                      << ", max " << options.max_tokens << ", overlap "
                                      << options.overlap_tokens << ", text '" << text << "'");
    ASSERT_OK_AND_ASSIGN(const std::vector<Chunk> chunks, ChunkText(text, count, options));
    CheckGuarantees(text, chunks, count, options);
    if (HasFatalFailure() || HasNonfatalFailure()) return;
  }
}

TEST(EmbedChunkerTest, OverlapIsPresentWhenItFits) {
  // Sentences of 4 words, chunks of up to 10 words, overlap up to 5: every chunk after the first
  // starts inside the previous one, by one whole sentence.
  std::string text;
  for (int i = 0; i < 20; ++i) text += "Sentence number " + std::to_string(i) + " here. ";
  ASSERT_OK_AND_ASSIGN(const std::vector<Chunk> chunks,
                       ChunkText(text, CountWords, {.max_tokens = 10, .overlap_tokens = 5}));
  ASSERT_GT(chunks.size(), 5);
  for (size_t i = 1; i < chunks.size(); ++i) {
    ASSERT_LT(chunks[i].begin, chunks[i - 1].end) << i;
    EXPECT_EQ(CountWords(text.substr(chunks[i].begin, chunks[i - 1].end - chunks[i].begin)), 4);
    EXPECT_TRUE(chunks[i].text.starts_with("Sentence number")) << chunks[i].text;
    EXPECT_TRUE(chunks[i].text.ends_with("here.")) << chunks[i].text;
  }
}

TEST(EmbedChunkerTest, WordPieceTokenizerBudget) {
  const std::string model = std::string(EMBER_SHARED_DIR) + "/fixtures/tokenizer/all-MiniLM-L6-v2";
  const std::string corpus = std::string(EMBER_SHARED_DIR) + "/data/scifact/corpus.jsonl";
  if (!std::filesystem::exists(model) || !std::filesystem::exists(corpus)) {
    GTEST_SKIP() << "needs " << model << " and " << corpus;
  }
  ASSERT_OK_AND_ASSIGN(const std::unique_ptr<WordPieceTokenizer> tokenizer,
                       WordPieceTokenizer::Load(model));
  const TokenCounter count = [&](std::string_view text) {
    return static_cast<int>(tokenizer->EncodeWithoutSpecialTokens(text, SIZE_MAX).size());
  };
  // The first 40 SciFact abstracts as one text, one per paragraph.
  std::ifstream lines(corpus);
  std::string line, text;
  for (int i = 0; i < 40 && std::getline(lines, line); ++i) {
    const size_t at = line.find("\"text\": \"");
    ASSERT_NE(at, std::string::npos);
    text += line.substr(at + 9, line.rfind('"') - at - 9) + "\n\n";
  }
  const ChunkOptions options{.max_tokens = 64, .overlap_tokens = 16};
  ASSERT_OK_AND_ASSIGN(const std::vector<Chunk> chunks, ChunkText(text, count, options));
  CheckGuarantees(text, chunks, count, options);
  EXPECT_GT(chunks.size(), count(text) / 64);
  int sentence_ends = 0;
  for (const Chunk& chunk : chunks) sentence_ends += chunk.text.back() == '.';
  // Nearly every chunk ends a sentence (only sentences longer than 64 tokens are cut).
  EXPECT_GT(sentence_ends, chunks.size() * 8 / 10) << sentence_ends << " of " << chunks.size();
}

}  // namespace
}  // namespace ember::embed
