#include "embed/chunker.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ember/status.h"

namespace ember::embed {
namespace {

// How good a place to cut the boundary between two units is. Ordered: a higher level is preferred.
enum Level : int8_t {
  kCharLevel = 0,      // inside a word longer than the budget
  kWordLevel = 1,      // whitespace
  kSentenceLevel = 2,  // end of a sentence or a line
  kTextLevel = 3,      // start or end of the text
};

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

bool IsLowerAscii(char c) { return c >= 'a' && c <= 'z'; }

// Strips closing quotes and brackets from the end of `word`: ASCII ones and the UTF-8 encodings of
// U+2019, U+201D (right quotation marks) and U+00BB (right guillemet).
std::string_view StripClosers(std::string_view word) {
  while (!word.empty()) {
    const char last = word.back();
    if (last == '"' || last == '\'' || last == ')' || last == ']' || last == '}') {
      word.remove_suffix(1);
    } else if (word.ends_with("\xE2\x80\x99") || word.ends_with("\xE2\x80\x9D")) {
      word.remove_suffix(3);
    } else if (word.ends_with("\xC2\xBB")) {
      word.remove_suffix(2);
    } else {
      break;
    }
  }
  return word;
}

// Strips opening quotes and brackets from the start of `word` (ASCII, U+2018, U+201C, U+00AB).
std::string_view StripOpeners(std::string_view word) {
  while (!word.empty()) {
    const char first = word.front();
    if (first == '"' || first == '\'' || first == '(' || first == '[' || first == '{') {
      word.remove_prefix(1);
    } else if (word.starts_with("\xE2\x80\x98") || word.starts_with("\xE2\x80\x9C")) {
      word.remove_prefix(3);
    } else if (word.starts_with("\xC2\xAB")) {
      word.remove_prefix(2);
    } else {
      break;
    }
  }
  return word;
}

// Abbreviations (lower case, without the final period) after which a period never ends a sentence:
// titles and others that are always followed by more of the sentence.
constexpr std::array<std::string_view, 35> kAbbreviations = {
    "mr",   "mrs", "ms",   "mx",  "dr",  "prof", "rev",  "hon",  "sr",  "jr", "st", "mt",
    "capt", "col", "gen",  "lt",  "sgt", "gov",  "sen",  "rep",  "vs",  "cf", "al", "approx",
    "ca",   "viz", "resp", "inc", "ltd", "corp", "dept", "univ", "est", "ed", "eds"};

// Abbreviations that do not end a sentence when a number follows ("Fig. 3", "No. 5", "Jan. 2020"),
// but may end one otherwise ("He said no.").
constexpr std::array<std::string_view, 26> kNumberAbbreviations = {
    "no",  "nos", "fig", "figs", "eq",  "eqs", "vol", "vols", "p",    "pp",  "ch",  "sec", "ref",
    "jan", "feb", "mar", "apr",  "jun", "jul", "aug", "sep",  "sept", "oct", "nov", "dec", "refs"};

template <size_t N>
bool Contains(const std::array<std::string_view, N>& list, std::string_view word) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

// Whether `word` (no whitespace) is made of single letters each followed by a period, as in
// "e.g.", "i.e.", "U.S.", "a.m." (given without the final period).
bool IsLetterDotSequence(std::string_view core) {
  if (core.size() < 3) return false;
  for (size_t i = 0; i < core.size(); ++i) {
    const bool letter_expected = i % 2 == 0;
    if (letter_expected ? !absl::ascii_isalpha(core[i]) : core[i] != '.') return false;
  }
  return true;
}

// Whether a sentence ends after `word`, which is followed by whitespace without a line break and
// then by a word starting with `next` ('\0' when there is none). `at_line_start`: `word` is the
// first on its line.
bool EndsSentence(std::string_view word, char next, bool at_line_start) {
  const std::string_view stripped = StripClosers(word);
  if (stripped.empty()) return false;
  const char last = stripped.back();
  if (last == '!' || last == '?') return true;
  if (last != '.') return false;
  // A period followed by a lower-case word is an abbreviation or a typo, not a sentence end.
  if (IsLowerAscii(next)) return false;
  std::string_view core = StripOpeners(stripped);
  const bool ellipsis = core.ends_with("..");
  while (!core.empty() && core.back() == '.') core.remove_suffix(1);
  if (ellipsis || core.empty()) return true;
  const std::string lower = absl::AsciiStrToLower(std::string(core));
  if (Contains(kAbbreviations, lower)) return false;
  if (absl::ascii_isdigit(next) && Contains(kNumberAbbreviations, lower)) return false;
  if (IsLetterDotSequence(core)) return false;
  // An initial, as in "J. R. R. Tolkien".
  if (core.size() == 1 && absl::ascii_isupper(core[0])) return false;
  // A list number: "1." at the start of a line.
  if (at_line_start && std::all_of(core.begin(), core.end(), absl::ascii_isdigit)) return false;
  return true;
}

// The end of the character starting at `pos` (< end): a well-formed UTF-8 sequence, or one byte.
size_t NextCharEnd(std::string_view text, size_t pos, size_t end) {
  const auto byte = static_cast<unsigned char>(text[pos]);
  size_t length = 1;
  if (byte >= 0xC2 && byte <= 0xDF) {
    length = 2;
  } else if (byte >= 0xE0 && byte <= 0xEF) {
    length = 3;
  } else if (byte >= 0xF0 && byte <= 0xF4) {
    length = 4;
  }
  if (pos + length > end) return pos + 1;
  for (size_t i = 1; i < length; ++i) {
    if ((static_cast<unsigned char>(text[pos + i]) & 0xC0) != 0x80) return pos + 1;
  }
  return pos + length;
}

// One chunking run over one text. Units are the smallest pieces a chunk is made of: words, or
// characters-runs of a word too long for the budget. A chunk is a range of units [x, y) and its
// text runs from the first byte of unit x to the last byte of unit y - 1.
class Chunker {
 public:
  Chunker(std::string_view text, const TokenCounter& count_tokens, const ChunkOptions& options)
      : text_(text), count_tokens_(count_tokens), options_(options) {}

  std::vector<Chunk> Run() {
    Segment();
    std::vector<Chunk> chunks;
    const size_t unit_count = units_.size();
    size_t start = 0;
    size_t previous_end = 0;
    while (previous_end < unit_count) {
      const size_t end = ChooseEnd(&start, previous_end);
      Chunk& chunk = chunks.emplace_back();
      chunk.index = static_cast<int>(chunks.size() - 1);
      chunk.begin = units_[start].begin;
      chunk.end = units_[end - 1].end;
      chunk.tokens = Count(start, end);
      chunk.text = std::string(text_.substr(chunk.begin, chunk.end - chunk.begin));
      previous_end = end;
      start = OverlapStart(start, end);
    }
    return chunks;
  }

 private:
  struct Unit {
    size_t begin;
    size_t end;
  };

  int CountText(std::string_view text) const { return std::max(0, count_tokens_(text)); }

  // Tokens in units [x, y), x < y.
  int Count(size_t x, size_t y) const {
    return CountText(text_.substr(units_[x].begin, units_[y - 1].end - units_[x].begin));
  }

  // The sum of the units' own token counts: what Count(x, y) is for tokenizers that split at
  // whitespace first (BERT's do), used to guess before asking the real counter.
  int64_t Estimate(size_t x, size_t y) const { return prefix_tokens_[y] - prefix_tokens_[x]; }

  void AddUnit(size_t begin, size_t end, int tokens, Level level_after) {
    units_.push_back({begin, end});
    prefix_tokens_.push_back(prefix_tokens_.back() + tokens);
    levels_.push_back(level_after);
  }

  // Splits the text into units and records the level of every boundary between them.
  void Segment() {
    levels_.assign(1, kTextLevel);
    prefix_tokens_.assign(1, 0);
    const size_t size = text_.size();
    size_t pos = 0;
    while (pos < size && IsSpace(text_[pos])) ++pos;
    bool at_line_start = true;
    while (pos < size) {
      const size_t word_begin = pos;
      while (pos < size && !IsSpace(text_[pos])) ++pos;
      const size_t word_end = pos;
      bool line_break = false;
      while (pos < size && IsSpace(text_[pos])) {
        line_break |= text_[pos] == '\n' || text_[pos] == '\r';
        ++pos;
      }
      const std::string_view word = text_.substr(word_begin, word_end - word_begin);
      const bool sentence_end =
          line_break || pos == size || EndsSentence(word, text_[pos], at_line_start);
      AddWord(word_begin, word_end, sentence_end ? kSentenceLevel : kWordLevel);
      at_line_start = line_break;
    }
    levels_.back() = kTextLevel;
    // next_boundary_[L - 1][p]: the first q > p with levels_[q] >= L, for L = word, sentence.
    for (int level = kWordLevel; level <= kSentenceLevel; ++level) {
      std::vector<size_t>& next = next_boundary_[level - 1];
      next.assign(units_.size() + 1, units_.size());
      for (size_t p = units_.size(); p-- > 0;) {
        next[p] = levels_[p + 1] >= level ? p + 1 : next[p + 1];
      }
    }
  }

  // Adds a word as one unit, or, when it alone exceeds the budget, as runs of characters that each
  // fit (the longest such runs, found by galloping then bisecting on the run's end).
  void AddWord(size_t begin, size_t end, Level level_after) {
    const int tokens = CountText(text_.substr(begin, end - begin));
    if (tokens <= options_.max_tokens) {
      AddUnit(begin, end, tokens, level_after);
      return;
    }
    std::vector<size_t> char_ends;
    for (size_t pos = begin; pos < end;) {
      pos = NextCharEnd(text_, pos, end);
      char_ends.push_back(pos);
    }
    size_t start = begin;
    size_t first = 0;  // index in char_ends of the first end after `start`
    while (first < char_ends.size()) {
      auto fits = [&](size_t i) {
        return CountText(text_.substr(start, char_ends[i] - start)) <= options_.max_tokens;
      };
      size_t last = first;  // one character is taken even when it alone exceeds the budget
      if (fits(first)) {
        size_t step = 1;
        while (last + step < char_ends.size() && fits(last + step)) {
          last += step;
          step *= 2;
        }
        size_t beyond = std::min(last + step, char_ends.size());
        while (beyond - last > 1) {
          const size_t middle = last + (beyond - last) / 2;
          (fits(middle) ? last : beyond) = middle;
        }
      }
      const size_t piece_end = char_ends[last];
      const bool word_done = last + 1 == char_ends.size();
      AddUnit(start, piece_end, CountText(text_.substr(start, piece_end - start)),
              word_done ? level_after : kCharLevel);
      start = piece_end;
      first = last + 1;
    }
  }

  size_t NextBoundary(size_t p, int level) const {
    return level == kCharLevel ? p + 1 : next_boundary_[level - 1][p];
  }

  // The largest y > x such that units [x, y) fit the budget (x + 1 when none does).
  size_t Fit(size_t x) const {
    const size_t unit_count = units_.size();
    const int budget = options_.max_tokens;
    auto fits = [&](size_t y) { return Count(x, y) <= budget; };
    // The estimate's answer, then corrected with real counts (usually one call each way).
    const auto limit = prefix_tokens_[x] + budget;
    const auto after = std::upper_bound(prefix_tokens_.begin() + static_cast<ptrdiff_t>(x) + 1,
                                        prefix_tokens_.end(), limit);
    size_t y = static_cast<size_t>(after - prefix_tokens_.begin()) - 1;
    y = std::max(y, x + 1);
    if (fits(y)) {
      size_t step = 1;
      while (y + step <= unit_count && fits(y + step)) {
        y += step;
        step *= 2;
      }
      size_t beyond = std::min(y + step, unit_count + 1);
      while (beyond - y > 1) {
        const size_t middle = y + (beyond - y) / 2;
        (fits(middle) ? y : beyond) = middle;
      }
      return y;
    }
    size_t low = x + 1;
    while (y - low > 1) {
      const size_t middle = low + (y - low) / 2;
      (fits(middle) ? low : y) = middle;
    }
    return low;
  }

  // The last boundary of at least `level` in [first, last] (levels_[first] >= level).
  size_t LastBoundary(size_t first, size_t last, int level) const {
    while (last > first && levels_[last] < level) --last;
    return last;
  }

  // The smallest x in (start, limit] that begins a word (or is `limit`) with units [x, end) within
  // `budget` tokens, where [limit, end) is known to fit.
  size_t SmallestStart(size_t start, size_t limit, size_t end, int budget) const {
    for (size_t x = start + 1; x < limit; ++x) {
      if (levels_[x] < kWordLevel || Estimate(x, end) > budget) continue;
      if (Count(x, end) <= budget) return x;
    }
    return limit;
  }

  // Where the chunk starting at unit *start ends, given that the previous chunk ended at
  // previous_end (>= *start): as late as fits, at the best boundary level the units after
  // previous_end allow. Moves *start forward (shortening the overlap) when that turns a cut inside
  // a sentence (or word) into one at its end. Only spans about a chunk long are ever counted, so a
  // text without sentence ends costs no more than one with them.
  size_t ChooseEnd(size_t* start, size_t previous_end) const {
    const size_t fit = Fit(*start);
    size_t fit_without_overlap = 0;  // Fit(previous_end), computed when first needed
    for (int level = kSentenceLevel; level >= kCharLevel; --level) {
      const size_t first = NextBoundary(previous_end, level);
      if (first <= fit) return LastBoundary(first, fit, level);
      if (*start == previous_end) continue;
      if (fit_without_overlap == 0) fit_without_overlap = Fit(previous_end);
      if (first <= fit_without_overlap) {
        *start = SmallestStart(*start, previous_end, first, options_.max_tokens);
        return LastBoundary(first, std::max(first, Fit(*start)), level);
      }
    }
    // Unreachable: Fit(previous_end) > previous_end, the first boundary of any level.
    *start = previous_end;
    return previous_end + 1;
  }

  // Where the chunk after [start, end) begins: the earliest sentence start, else word start, in
  // (start, end) whose run to `end` fits overlap_tokens; `end` (no overlap) when none does.
  size_t OverlapStart(size_t start, size_t end) const {
    const int budget = options_.overlap_tokens;
    if (budget == 0 || end == units_.size()) return end;
    for (int level = kSentenceLevel; level >= kWordLevel; --level) {
      for (size_t x = start + 1; x < end; ++x) {
        if (levels_[x] < level || Estimate(x, end) > budget) continue;
        if (Count(x, end) <= budget) return x;
      }
    }
    return end;
  }

  std::string_view text_;
  const TokenCounter& count_tokens_;
  const ChunkOptions& options_;
  std::vector<Unit> units_;
  std::vector<int64_t> prefix_tokens_;  // prefix_tokens_[i]: sum of the units' counts before unit i
  std::vector<Level> levels_;           // levels_[i]: the boundary before unit i (0 <= i <= size)
  std::array<std::vector<size_t>, 2> next_boundary_;
};

}  // namespace

absl::Status ValidateChunkOptions(const ChunkOptions& options) {
  if (options.max_tokens < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("ChunkOptions.max_tokens must be at least 1, not ", options.max_tokens));
  }
  if (options.overlap_tokens < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ChunkOptions.overlap_tokens must not be negative, not ", options.overlap_tokens));
  }
  if (options.overlap_tokens >= options.max_tokens) {
    return absl::InvalidArgumentError(
        absl::StrCat("ChunkOptions.overlap_tokens (", options.overlap_tokens,
                     ") must be less than ChunkOptions.max_tokens (", options.max_tokens, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Chunk>> ChunkText(std::string_view text,
                                             const TokenCounter& count_tokens,
                                             const ChunkOptions& options) {
  EMBER_RETURN_IF_ERROR(ValidateChunkOptions(options));
  if (!count_tokens) return absl::InvalidArgumentError("ChunkText: count_tokens is empty");
  return Chunker(text, count_tokens, options).Run();
}

}  // namespace ember::embed
