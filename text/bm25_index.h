// Bm25Index: an in-memory inverted index over documents identified by 64-bit labels, answering
// exact top-k BM25 queries with block-max MaxScore (Turtle & Flood's MaxScore with per-block
// bounds, as in Lucene 9 and PISA) over blocked postings, so a query scores a fraction of the
// postings of its terms rather than all of them.
//
// Scoring (Lucene's BM25Similarity, as Anserini runs it, with exact document lengths): for a query
// given as terms (repeats allowed: a term occurring c times counts c times, as a Lucene
// BooleanQuery of one SHOULD clause per occurrence does) and a document d of length dl,
//   score(d) = sum over the distinct query terms t that d contains (tf = occurrences in d) of
//              (c(t) * idf(t)) * (tf / (tf + k1 * (1 - b + b * dl / avgdl)))
//   idf(t)   = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))
// (dl rounded as Lucene stores it when Bm25Params::lucene_length_encoding is set) with N the number
// of documents in the index, df(t) the number containing t, avgdl the mean document length
// (TermFrequencies::length), each addend computed in double and then rounded to a multiple of 2^-40
// (about 1e-12), so that a document's addends sum exactly in any order: its score does not depend
// on how a search reached it, and equal scores tie exactly. Without Lucene's (k1 + 1) factor, as
// Lucene 8+: it does not change rankings. Terms the index does not know score nothing.
//
// Results are exact: the same documents and scores as scoring every document (the top k of all
// documents by score, ties broken by smaller label first), found by block-max MaxScore, which
// skips most postings of the query's frequent terms once k good documents are known.
//
// Thread-safety: const methods (Search, Explain, Stats, ...) may run concurrently with each other;
// Add and Remove need exclusive access (no concurrent call of any kind) — the caller serializes
// them, e.g. with a reader-writer lock.
#ifndef EMBER_TEXT_BM25_INDEX_H_
#define EMBER_TEXT_BM25_INDEX_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "text/posting_list.h"
#include "text/term_frequencies.h"

namespace ember::text {

// BM25's free parameters, chosen per query.
struct Bm25Params {
  /// Term-frequency saturation: how quickly repeated occurrences stop adding score. >= 0, finite.
  /// Default: 0.9 (Anserini's BEIR baselines).
  double k1 = 0.9;
  /// Length normalization: 0 ignores document length, 1 normalizes fully. In [0, 1].
  /// Default: 0.4 (Anserini's BEIR baselines).
  double b = 0.4;
  /// Score with document lengths rounded as Lucene stores them (one byte per document: exact below
  /// 24 tokens, then 4 significant bits, rounded down), to reproduce Lucene / Anserini rankings
  /// exactly; avgdl stays exact, as in Lucene. On SciFact: nDCG@10 0.6777 with exact lengths,
  /// 0.6789 with Lucene's (Anserini's published figure), recall@100 0.9253 either way.
  /// Default: false (exact lengths).
  bool lucene_length_encoding = false;
};

// InvalidArgument naming the field when a parameter is out of range.
absl::Status ValidateBm25Params(const Bm25Params& params);

// Restricts a search to some labels. Search calls Accepts only for a document whose score would
// place it in the top k found so far (so a few times per result, plus once per better-scoring
// document the filter rejects), possibly concurrently from concurrent searches.
class LabelFilter {
 public:
  virtual ~LabelFilter() = default;
  virtual bool Accepts(uint64_t label) const = 0;
};

// A LabelFilter calling a function, e.g. a lookup in a bitmap.
class FunctionLabelFilter final : public LabelFilter {
 public:
  explicit FunctionLabelFilter(std::function<bool(uint64_t)> accepts)
      : accepts_(std::move(accepts)) {}
  bool Accepts(uint64_t label) const override { return accepts_(label); }

 private:
  std::function<bool(uint64_t)> accepts_;
};

struct Bm25Hit {
  uint64_t label = 0;
  double score = 0;

  friend bool operator==(const Bm25Hit&, const Bm25Hit&) = default;
};

// One distinct query term's part of a document's score.
struct Bm25TermExplanation {
  std::string term;
  uint32_t query_count = 0;         ///< occurrences in the query
  uint32_t term_frequency = 0;      ///< occurrences in the document (0: no contribution)
  uint64_t document_frequency = 0;  ///< documents containing the term
  double idf = 0;                   ///< 0 when the index does not know the term
  double score = 0;                 ///< this term's addend of the document's score
};

// Why a document scores what it does for a query.
struct Bm25Explanation {
  uint64_t label = 0;
  double score = 0;  ///< equals the score Search reports for the document
  uint32_t document_length = 0;
  double average_document_length = 0;
  uint64_t documents = 0;  ///< N
  Bm25Params params;
  std::vector<Bm25TermExplanation> terms;  ///< distinct query terms, in order of first occurrence
};

struct Bm25IndexStats {
  uint64_t documents = 0;              ///< N
  uint64_t terms = 0;                  ///< distinct terms in at least one document
  uint64_t postings = 0;               ///< (term, document) pairs
  uint64_t total_length = 0;           ///< sum of document lengths
  double average_document_length = 0;  ///< 0 when empty
  uint64_t memory_bytes = 0;  ///< heap held by the index (approximate: containers' capacities)
};

class Bm25Index {
 public:
  // The longest query Search and Explain take (a bound that keeps fixed-point sums from
  // overflowing; real queries are far shorter).
  static constexpr size_t kMaxQueryTerms = 65536;

  Bm25Index();
  ~Bm25Index();
  Bm25Index(const Bm25Index&) = delete;
  Bm25Index& operator=(const Bm25Index&) = delete;

  // Adds a document. O(distinct terms) amortized: postings are appended, never rebuilt.
  // InvalidArgument: `frequencies` breaks the TermFrequencies invariants
  // (ValidateTermFrequencies). AlreadyExists: the label is in the index (Remove it first to
  // replace it). ResourceExhausted: 2^32 - 2 documents. The index is unchanged on error.
  // A document without terms counts in N and in avgdl, and matches no query.
  absl::Status Add(uint64_t label, const TermFrequencies& frequencies);

  // Removes a document: afterwards N, avgdl, every df and every score are exactly what they would
  // be had it never been added. O(distinct terms of the document) amortized; postings are dropped
  // lazily and compacted once enough of a list is dead. NotFound: no such label (index unchanged).
  absl::Status Remove(uint64_t label);

  bool Contains(uint64_t label) const { return labels_.contains(label); }
  uint64_t size() const { return labels_.size(); }

  // The top `k` documents for `query_terms` (terms as the Analyzer produced them), best first
  // (score descending, then label ascending), among those `filter` accepts (all when null). Only
  // documents containing at least one query term are returned, so fewer than k come back when
  // fewer match; k come back whenever at least k accepted documents contain a query term. An empty
  // query, or one whose terms the index does not know, returns no hit. InvalidArgument: k < 1,
  // more than kMaxQueryTerms terms, or params out of range (ValidateBm25Params).
  absl::StatusOr<std::vector<Bm25Hit>> Search(absl::Span<const std::string> query_terms, int k,
                                              const LabelFilter* filter = nullptr,
                                              const Bm25Params& params = {}) const;

  // The top `k` of `candidates` (labels; unknown ones and repeats are ignored) for `query_terms`,
  // as Search with a filter accepting exactly them would return, by scoring each candidate
  // directly: one skip per candidate and query term (a galloping search within the term's
  // postings), whatever the postings' lengths. Meant for filters that accept few documents, for
  // which Search would score most postings of the frequent terms before finding k accepted ones.
  // InvalidArgument: as Search.
  absl::StatusOr<std::vector<Bm25Hit>> SearchCandidates(absl::Span<const std::string> query_terms,
                                                        absl::Span<const uint64_t> candidates,
                                                        int k, const Bm25Params& params = {}) const;

  // Each query term's part of `label`'s score (the explanation's score is the one Search gives).
  // NotFound: no such label. InvalidArgument: as Search.
  absl::StatusOr<Bm25Explanation> Explain(absl::Span<const std::string> query_terms, uint64_t label,
                                          const Bm25Params& params = {}) const;

  // The number of documents containing `term` (0 when none does).
  uint64_t DocumentFrequency(const std::string& term) const;

  Bm25IndexStats Stats() const;

 private:
  // Per-term state. A dead posting is one whose document was removed; it stays in the list (and
  // its block's frontier, still a valid upper bound) until the list is rewritten.
  struct TermEntry {
    PostingList postings;
    uint32_t df = 0;    // live postings
    uint32_t dead = 0;  // dead postings still in `postings`
  };
  static constexpr uint32_t kDeadLength = kEndDoc;

  // Drops dead postings from the term's list, or frees it when the term has no document left.
  void CompactTerm(TermEntry& entry);
  // Renumbers documents densely (dropping removed documents' slots and postings) and forgets
  // terms without documents. Amortized: runs when most slots are dead.
  void CompactAll();

  struct Query;
  static absl::Status ValidateQuery(absl::Span<const std::string> query_terms,
                                    const Bm25Params& params);
  Query PrepareQuery(absl::Span<const std::string> query_terms) const;

  absl::flat_hash_map<std::string, uint32_t> term_ids_;
  std::vector<TermEntry> terms_;  // by term id
  // Documents by internal id (dense, in order of addition; the order of every posting list).
  std::vector<uint64_t> doc_labels_;
  std::vector<uint32_t> doc_lengths_;               // kDeadLength once removed
  std::vector<std::vector<uint32_t>> doc_terms_;    // term ids, for Remove; emptied once removed
  absl::flat_hash_map<uint64_t, uint32_t> labels_;  // live label -> internal id
  uint64_t total_length_ = 0;
  uint64_t live_postings_ = 0;
  uint64_t live_terms_ = 0;
  uint64_t dead_slots_ = 0;
};

}  // namespace ember::text

#endif  // EMBER_TEXT_BM25_INDEX_H_
