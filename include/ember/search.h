// Search requests and their answers, and a collection's statistics.
#ifndef EMBER_SEARCH_H_
#define EMBER_SEARCH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "ember/document.h"
#include "ember/filter.h"
#include "ember/options.h"

namespace ember {

// The largest k a search accepts.
inline constexpr int kMaxSearchK = 10000;

// Which index answers a search.
enum class SearchMode {
  /// kHybrid when the collection has both vectors and a full-text index and the request has a
  /// text; kText on a text-only collection; kVector otherwise.
  kAuto,
  /// Nearest vectors: the query `vector`, or `text` embedded by the collection's query model.
  kVector,
  /// BM25 over the full-text index, for `text`. Only documents holding at least one of the query's
  /// terms are returned, so fewer than k come back when fewer do.
  kText,
  /// Both, fused into one ranking (FusionOptions): documents found by either side.
  kHybrid,
};

// "auto", "vector", "text", "hybrid".
const char* SearchModeName(SearchMode mode);

// The mode a search in `mode` runs in on a collection of `spec` (the request has a query text or
// not): `mode` itself unless it is kAuto, which resolves as documented there. Whether the
// collection can serve the result is Collection::Search's to check.
SearchMode ResolveSearchMode(SearchMode mode, const CollectionSpec& spec, bool has_text);
// InvalidArgument listing the accepted names when `name` is none of them.
absl::StatusOr<SearchMode> ParseSearchMode(std::string_view name);

enum class FusionMethod {
  /// Reciprocal-rank fusion (Cormack et al., 2009): score = sum over the two sides of
  /// 1 / (rank_constant + rank). Needs no calibration between BM25 and vector scores.
  kReciprocalRank,
  /// Each side's scores scaled to [0, 1] by its own minimum and maximum, then
  /// score = vector_weight * vector side + (1 - vector_weight) * text side.
  kWeighted,
};

// "rrf", "weighted".
const char* FusionMethodName(FusionMethod method);
absl::StatusOr<FusionMethod> ParseFusionMethod(std::string_view name);

// How SearchMode::kHybrid combines its two rankings. The defaults were chosen with the default
// (static) encoder, whose vectors are far weaker than BM25 on retrieval benchmarks: weighted fusion
// leaning on BM25. Measured by bench/hybrid_bench, nDCG@10 on SciFact (BM25 alone 0.6777, vectors
// alone 0.3095): weighted 0.2 gives 0.6810, weighted 0.5 0.5963, rrf 60 0.4882; recall@10 on
// LIMIT-small (BM25 1.0, vectors 0.523): weighted 0.2 1.0, rrf 60 0.9165. With a trained encoder,
// raise vector_weight (0.5 weighs both sides equally) or use reciprocal-rank fusion.
struct FusionOptions {
  /// Default: kWeighted.
  FusionMethod method = FusionMethod::kWeighted;
  /// kReciprocalRank's constant: larger values flatten the difference between top ranks. >= 0.
  /// Default: 60 (the paper's).
  double rank_constant = 60;
  /// kWeighted's weight of the vector side, in [0, 1]. Default: 0.2.
  double vector_weight = 0.2;
  /// Hits each side contributes before fusion. 0: max(k, 100). Otherwise at least k (raised to k
  /// when smaller) and at most kMaxSearchK. Default: 0.
  int depth = 0;
};

struct SearchRequest {
  /// The query vector: exactly the collection's dimension, every component finite. May be left
  /// empty on a collection with an encoder when `text` is given.
  std::vector<float> vector;
  /// The query as text: embedded with the collection's query model and query prompt when the
  /// vector side runs and `vector` is empty (FailedPrecondition on a collection without an
  /// encoder), and analyzed into terms for the text side. Default: empty.
  std::string text;
  /// How many results to return: 1..kMaxSearchK. When the collection holds at least k documents,
  /// exactly k are returned. Default: 10.
  int k = 10;
  /// Which index answers. FailedPrecondition when the collection lacks it (kText or kHybrid
  /// without a full-text index, kVector or kHybrid on a text-only collection); InvalidArgument
  /// when kText or kHybrid has no `text`. Default: kAuto.
  SearchMode mode = SearchMode::kAuto;
  /// How kHybrid fuses its two sides. Default: each side's top 100, min-max normalized, weighted
  /// 0.2 (vectors) to 0.8 (BM25).
  FusionOptions fusion;
  /// HNSW: candidate list size for this query only (raised to k when smaller). 0: the collection's
  /// ef_search. Concurrent queries with different values do not affect each other. Default: 0.
  int ef_search = 0;
  /// IVF: lists to visit for this query only. 0: the collection's nprobe. Default: 0.
  int nprobe = 0;
  /// Only documents matching the filter are returned; whenever at least k documents match, k are
  /// returned. Filters on declared attributes are type-checked (InvalidArgument on a mismatch) and
  /// answered from the attribute index; others are checked against each candidate's stored
  /// attributes. Default: all documents.
  Filter filter;
  /// When set, at most one hit per value of this attribute: the nearest document of each value
  /// (say, the best chunk of each parent document with "parent_id"). Documents without the
  /// attribute are groups of their own. k counts groups. Default: empty, no grouping.
  std::string group_by;
  /// Which document fields each hit carries. Defaults: text and attributes yes, vector no.
  bool include_text = true;
  bool include_attributes = true;
  bool include_vector = false;
};

struct SearchHit {
  std::string id;
  /// Higher is better. kVector: cosine similarity, inner product, or minus the squared L2
  /// distance. kText: the BM25 score. kHybrid: the fused score.
  float score = 0;
  /// The metric's distance (1 - cosine, inner product, or squared L2) when the vector side found
  /// the hit; 0 otherwise.
  float distance = 0;
  /// Where each side ranked the hit (1 is best; 0 when that side did not return it) and the score
  /// it gave there (vector side: as `score` in kVector mode; text side: BM25). For explaining a
  /// hybrid ranking.
  int vector_rank = 0;
  float vector_score = 0;
  int text_rank = 0;
  float text_score = 0;
  /// Present when requested and the document has them.
  std::optional<std::string> text;
  Attributes attributes;
  std::vector<float> vector;
};

// How a search ran: what `explain` shows.
struct SearchPlan {
  /// The mode that ran (kAuto resolved): "vector", "text" or "hybrid".
  std::string mode;
  /// "index" (the vector index, unfiltered), "filtered-index" (the vector index restricted to the
  /// filter's matches), "exact" (every match scored exactly), "filtered-index, then exact" (the
  /// traversal gave up because the matches lie far from the query, and they were scored exactly),
  /// or "empty" (nothing matches).
  std::string strategy;
  /// Documents the attribute index selected before any per-document check, and documents matching
  /// the whole filter. Both equal the collection's count without a filter.
  int64_t estimated_candidates = 0;
  int64_t matching_documents = 0;
  /// Documents whose stored attributes were read to check conditions the attribute index cannot
  /// answer, and the attributes concerned.
  int64_t documents_scanned = 0;
  std::vector<std::string> unindexed_attributes;
  /// The effort given to the vector index (0 when not used): HNSW ef_search, IVF nprobe.
  int ef_search = 0;
  int nprobe = 0;
  /// Vectors scored exactly (the "exact" strategy, or a fallback after a traversal came up short).
  int64_t exact_scored = 0;
  /// The text side (kText, kHybrid): "block-max" (block-max MaxScore over the terms' postings,
  /// matches checked per candidate hit) or "candidates" (each of a few matches scored directly);
  /// empty when it did not run.
  std::string text_strategy;
  /// The query's distinct terms after analysis (text and hybrid modes).
  std::vector<std::string> text_terms;
  /// kHybrid: the fusion ("rrf, rank constant 60" or "weighted, vector weight 0.5"), its depth, and
  /// the hits each side contributed.
  std::string fusion;
  int fusion_depth = 0;
  int64_t vector_hits = 0;
  int64_t text_hits = 0;

  /// One line per fact, for people.
  std::string ToString() const;
};

struct SearchResponse {
  /// Best first.
  std::vector<SearchHit> hits;
  SearchPlan plan;
};

struct CollectionStats {
  /// Documents stored.
  int64_t document_count = 0;
  /// Vectors the in-memory index holds, including deleted ones not yet purged (HNSW tombstones).
  int64_t index_vectors = 0;
  /// Deleted or replaced vectors still in the HNSW graph, skipped by searches, purged by a rebuild.
  int64_t index_tombstones = 0;
  /// IVF: whether the coarse quantizer is trained (searches are exact until it is). Others: true.
  bool index_trained = true;
  /// Changes made since the last index snapshot; opening replays them.
  int64_t changes_since_snapshot = 0;
  /// Approximate memory of the in-memory index, in bytes.
  int64_t index_memory_bytes = 0;
  /// The full-text index: distinct terms, (term, document) postings, and approximate memory in
  /// bytes. 0 without one.
  int64_t text_terms = 0;
  int64_t text_postings = 0;
  int64_t text_memory_bytes = 0;
};

}  // namespace ember

#endif  // EMBER_SEARCH_H_
