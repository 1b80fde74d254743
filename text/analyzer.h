// Analyzer: turns text into the terms that full-text (BM25) search indexes and queries, the way
// Lucene's EnglishAnalyzer does:
//   1. invalid UTF-8 becomes U+FFFD; Unicode NFKC normalization and full case folding (utf8proc),
//      default-ignorable characters (soft hyphen, zero-width joiner, ...) removed, and the curly
//      apostrophes U+2018 / U+2019 read as "'";
//   2. word segmentation (text/word_breaker.h): letters and digits form words, punctuation and
//      spaces separate them, with UAX #29's exceptions such as "don't", "3.14" and "u.s";
//   3. English possessives: a trailing "'s" is removed ("john's" -> "john");
//   4. stop words removed;
//   5. Snowball stemming (libstemmer: "porter", "english", "french", ...).
// The same Analyzer must process documents and queries, and documents indexed with one
// configuration cannot be searched with another: fingerprint() names the configuration so that a
// caller that stores terms can detect a change.
//
// Thread-safety: immutable after Create; Analyze may be called concurrently from any number of
// threads (each call borrows a stemmer from an internal pool, since libstemmer's are not
// thread-safe).
#ifndef EMBER_TEXT_ANALYZER_H_
#define EMBER_TEXT_ANALYZER_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "text/term_frequencies.h"
#include "text/word_breaker.h"

namespace ember::text {

// Lucene's English stop words (EnglishAnalyzer.ENGLISH_STOP_WORDS_SET, 33 words), the set Anserini
// removes in its BEIR baselines: a an and are as at be but by for if in into is it no not of on or
// such that the their then there these they this to was will with.
const std::vector<std::string>& LuceneEnglishStopWords();

// How text becomes terms. The defaults reproduce Anserini's BEIR "flat" BM25 setup (Lucene's
// StandardTokenizer, possessive removal, lower-casing, English stop words, Porter stemming).
// Measured on SciFact (BM25 k1 0.9, b 0.4; bench/bm25_bench --ablation 1), nDCG@10 / recall@100:
// defaults 0.6777 / 0.9253; without stemming 0.6651 / 0.8859; "english" (Porter2) 0.6821 /
// 0.9193; no stop words 0.6811 / 0.9263; kApostropheOnly 0.6768 / 0.9287; possessives kept
// 0.6777 / 0.9253. Stemming is what matters; the rest moves nDCG@10 by less than 0.005.
struct AnalyzerOptions {
  /// Snowball algorithm applied to every term: any name libstemmer knows ("porter", "english"
  /// (Porter2), "french", "german", "spanish", ..., or ISO 639 codes such as "fr"); "none" or ""
  /// disables stemming. Default: "porter", the algorithm of Lucene's PorterStemFilter, which
  /// Anserini uses.
  std::string stemmer = "porter";
  /// Words removed before stemming, matched after case folding (the list is folded at Create, so
  /// "The" removes "the"). Empty: keep every word. Default: LuceneEnglishStopWords().
  std::vector<std::string> stop_words = LuceneEnglishStopWords();
  /// Which punctuation stays inside words (see WordJoining). Default: kUax29, as Lucene.
  WordJoining word_joining = WordJoining::kUax29;
  /// Remove a trailing "'s" from each word (Lucene's EnglishPossessiveFilter). Default: true.
  bool strip_possessives = true;
  /// Words longer than this many bytes (after folding, before stemming) are dropped: they are
  /// noise (base64, long URLs) that would only bloat the index. Between 1 and kMaxTermBytes.
  /// Default: 255 (Lucene's StandardTokenizer cuts tokens at 255 characters).
  int max_word_bytes = 255;
};

// InvalidArgument naming the field when `options` is out of range or names a stemmer that
// libstemmer does not have.
absl::Status ValidateAnalyzerOptions(const AnalyzerOptions& options);

class Analyzer {
 public:
  // Builds an analyzer. InvalidArgument as ValidateAnalyzerOptions.
  static absl::StatusOr<std::unique_ptr<Analyzer>> Create(const AnalyzerOptions& options = {});
  ~Analyzer();
  Analyzer(const Analyzer&) = delete;
  Analyzer& operator=(const Analyzer&) = delete;

  // The terms of `text`, in text order (a term repeats as often as it occurs). Never fails: any
  // byte string is accepted (invalid UTF-8 is replaced); text without words gives no terms.
  std::vector<std::string> Analyze(std::string_view text) const;

  // The bag of terms of `text` (CountTerms(Analyze(text))): what a document stores and what
  // Bm25Index::Add takes.
  TermFrequencies AnalyzeToFrequencies(std::string_view text) const;

  const AnalyzerOptions& options() const { return options_; }

  // A short text naming everything that changes the terms this analyzer produces (format version,
  // stemmer, stop words digest, joining, possessives, length limit), e.g.
  // "ember-text-analyzer/1 stemmer=porter stop=33:8c1f... join=uax29 possessive=1 max=255".
  // Equal fingerprints mean equal terms for every text.
  const std::string& fingerprint() const { return fingerprint_; }

 private:
  class StemmerPool;
  explicit Analyzer(const AnalyzerOptions& options);

  AnalyzerOptions options_;
  absl::flat_hash_set<std::string> stop_words_;  // folded
  std::unique_ptr<StemmerPool> stemmers_;        // null: no stemming
  std::string fingerprint_;
};

}  // namespace ember::text

#endif  // EMBER_TEXT_ANALYZER_H_
