#include "text/analyzer.h"

#include <libstemmer.h>
#include <utf8proc.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <new>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ember/status.h"

namespace ember::text {
namespace {

// Bumped whenever a change to this file changes the terms some text produces.
constexpr int kAnalyzerVersion = 1;

bool IsNoStemmer(const std::string& name) { return name.empty() || name == "none"; }

// Copies `text`, replacing each maximal invalid UTF-8 subsequence's first byte by U+FFFD, so that
// utf8proc_map (which rejects invalid input) always succeeds.
std::string ReplaceInvalidUtf8(std::string_view text) {
  const auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  std::string out;
  size_t pos = 0;
  size_t copied = 0;  // text[copied, pos) is valid and not yet copied
  while (pos < text.size()) {
    utf8proc_int32_t cp;
    const utf8proc_ssize_t n = utf8proc_iterate(bytes + pos, text.size() - pos, &cp);
    if (n > 0) {
      pos += static_cast<size_t>(n);
      continue;
    }
    out.append(text.substr(copied, pos - copied));
    out.append("\xEF\xBF\xBD");
    copied = ++pos;
  }
  if (copied == 0) return std::string(text);
  out.append(text.substr(copied));
  return out;
}

// NFKC, full case folding, default ignorables removed, curly apostrophes made straight.
std::string Normalize(std::string_view text) {
  // ASCII is its own NFKC form, has no default-ignorable character, and folds to lower case: the
  // common case skips utf8proc's decomposition and recomposition.
  if (std::all_of(text.begin(), text.end(), [](char c) { return (c & 0x80) == 0; })) {
    std::string out(text);
    for (char& c : out) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
  }
  const std::string valid = ReplaceInvalidUtf8(text);
  utf8proc_uint8_t* mapped = nullptr;
  const utf8proc_ssize_t size = utf8proc_map(
      reinterpret_cast<const utf8proc_uint8_t*>(valid.data()),
      static_cast<utf8proc_ssize_t>(valid.size()), &mapped,
      static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT |
                                     UTF8PROC_CASEFOLD | UTF8PROC_IGNORE));
  if (size < 0) {
    if (size == UTF8PROC_ERROR_NOMEM) throw std::bad_alloc();
    return std::string();  // not reachable: the input is valid UTF-8
  }
  std::string out;
  out.reserve(static_cast<size_t>(size));
  for (utf8proc_ssize_t i = 0; i < size; ++i) {
    // U+2018 / U+2019 are E2 80 98 / E2 80 99: "don’t" and "don't" must be the same term.
    if (mapped[i] == 0xE2 && i + 2 < size && mapped[i + 1] == 0x80 &&
        (mapped[i + 2] == 0x98 || mapped[i + 2] == 0x99)) {
      out.push_back('\'');
      i += 2;
      continue;
    }
    out.push_back(static_cast<char>(mapped[i]));
  }
  std::free(mapped);
  return out;
}

// FNV-1a: a stable digest of the stop words for the fingerprint (not a security boundary).
uint64_t Fnv1a(std::string_view bytes, uint64_t hash = 14695981039346656037ull) {
  for (const char c : bytes) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 1099511628211ull;
  }
  return hash;
}

const char* JoiningName(WordJoining joining) {
  return joining == WordJoining::kUax29 ? "uax29" : "apostrophe";
}

}  // namespace

const std::vector<std::string>& LuceneEnglishStopWords() {
  static const auto* const words = new std::vector<std::string>{
      "a",   "an",    "and",  "are",   "as",    "at",   "be",   "but", "by",  "for",  "if",
      "in",  "into",  "is",   "it",    "no",    "not",  "of",   "on",  "or",  "such", "that",
      "the", "their", "then", "there", "these", "they", "this", "to",  "was", "will", "with"};
  return *words;
}

// libstemmer's stemmers keep per-word state, so each Analyze call borrows one for itself. The pool
// grows to the number of concurrent callers and no further. A std::mutex (pthreads) rather than
// absl::Mutex, as in embed/bert_model.cc: ThreadSanitizer cannot see Debian's uninstrumented
// Abseil locks.
class Analyzer::StemmerPool {
 public:
  explicit StemmerPool(std::string algorithm) : algorithm_(std::move(algorithm)) {}
  ~StemmerPool() {
    for (sb_stemmer* stemmer : free_) sb_stemmer_delete(stemmer);
  }

  // A stemmer for the caller alone until Release. Null only when the algorithm is unknown.
  sb_stemmer* Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!free_.empty()) {
        sb_stemmer* stemmer = free_.back();
        free_.pop_back();
        return stemmer;
      }
    }
    return sb_stemmer_new(algorithm_.c_str(), "UTF_8");
  }

  void Release(sb_stemmer* stemmer) {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(stemmer);
  }

 private:
  const std::string algorithm_;
  std::mutex mu_;
  std::vector<sb_stemmer*> free_;  // guarded by mu_
};

absl::Status ValidateAnalyzerOptions(const AnalyzerOptions& options) {
  if (options.max_word_bytes < 1 || options.max_word_bytes > static_cast<int>(kMaxTermBytes)) {
    return absl::InvalidArgumentError(absl::StrCat("max_word_bytes must be in [1, ", kMaxTermBytes,
                                                   "], got ", options.max_word_bytes));
  }
  if (options.word_joining != WordJoining::kUax29 &&
      options.word_joining != WordJoining::kApostropheOnly) {
    return absl::InvalidArgumentError("word_joining: unknown value");
  }
  if (!IsNoStemmer(options.stemmer)) {
    sb_stemmer* stemmer = sb_stemmer_new(options.stemmer.c_str(), "UTF_8");
    if (stemmer == nullptr) {
      std::string known;
      for (const char** name = sb_stemmer_list(); *name != nullptr; ++name) {
        absl::StrAppend(&known, known.empty() ? "" : ", ", *name);
      }
      return absl::InvalidArgumentError(absl::StrCat(
          "stemmer: unknown algorithm '", options.stemmer, "' (known: none, ", known, ")"));
    }
    sb_stemmer_delete(stemmer);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<Analyzer>> Analyzer::Create(const AnalyzerOptions& options) {
  EMBER_RETURN_IF_ERROR(ValidateAnalyzerOptions(options));
  return std::unique_ptr<Analyzer>(new Analyzer(options));
}

Analyzer::Analyzer(const AnalyzerOptions& options) : options_(options) {
  std::vector<std::string> folded;
  for (const std::string& word : options_.stop_words) {
    std::string normalized = Normalize(word);
    if (!normalized.empty()) folded.push_back(std::move(normalized));
  }
  std::sort(folded.begin(), folded.end());
  folded.erase(std::unique(folded.begin(), folded.end()), folded.end());
  uint64_t digest = Fnv1a("");
  for (const std::string& word : folded) digest = Fnv1a(absl::StrCat(word, "\n"), digest);
  stop_words_.insert(folded.begin(), folded.end());
  if (!IsNoStemmer(options_.stemmer)) stemmers_ = std::make_unique<StemmerPool>(options_.stemmer);
  fingerprint_ = absl::StrFormat(
      "ember-text-analyzer/%d stemmer=%s stop=%d:%016x join=%s possessive=%d max=%d",
      kAnalyzerVersion, IsNoStemmer(options_.stemmer) ? "none" : options_.stemmer, folded.size(),
      digest, JoiningName(options_.word_joining), options_.strip_possessives ? 1 : 0,
      options_.max_word_bytes);
}

Analyzer::~Analyzer() = default;

std::vector<std::string> Analyzer::Analyze(std::string_view text) const {
  const std::string normalized = Normalize(text);
  const std::vector<std::string_view> words = BreakWords(normalized, options_.word_joining);
  sb_stemmer* stemmer = nullptr;
  if (stemmers_ != nullptr) {
    stemmer = stemmers_->Acquire();
    if (stemmer == nullptr) throw std::bad_alloc();  // the algorithm was checked at Create
  }
  std::vector<std::string> terms;
  terms.reserve(words.size());
  std::string word;
  for (std::string_view view : words) {
    if (options_.strip_possessives && view.size() >= 2 && view.ends_with("'s")) {
      view.remove_suffix(2);
    }
    if (view.empty() || view.size() > static_cast<size_t>(options_.max_word_bytes)) continue;
    word.assign(view);
    if (stop_words_.contains(word)) continue;
    if (stemmer != nullptr) {
      const sb_symbol* stem = sb_stemmer_stem(
          stemmer, reinterpret_cast<const sb_symbol*>(word.data()), static_cast<int>(word.size()));
      if (stem == nullptr) {
        stemmers_->Release(stemmer);
        throw std::bad_alloc();
      }
      const int length = sb_stemmer_length(stemmer);
      if (length <= 0) continue;
      terms.emplace_back(reinterpret_cast<const char*>(stem), static_cast<size_t>(length));
    } else {
      terms.push_back(word);
    }
  }
  if (stemmer != nullptr) stemmers_->Release(stemmer);
  return terms;
}

TermFrequencies Analyzer::AnalyzeToFrequencies(std::string_view text) const {
  return CountTerms(Analyze(text));
}

}  // namespace ember::text
