// Search requests and their answers, and a collection's statistics.
#ifndef EMBER_SEARCH_H_
#define EMBER_SEARCH_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ember/document.h"
#include "ember/filter.h"
#include "ember/options.h"

namespace ember {

// The largest k a search accepts.
inline constexpr int kMaxSearchK = 10000;

struct SearchRequest {
  /// The query vector: exactly the collection's dimension, every component finite. May be left
  /// empty on a collection with an encoder when `text` is given.
  std::vector<float> vector;
  /// The query as text, embedded with the collection's query model and query prompt when `vector`
  /// is empty. FailedPrecondition on a collection without an encoder. Default: empty.
  std::string text;
  /// How many results to return: 1..kMaxSearchK. When the collection holds at least k documents,
  /// exactly k are returned. Default: 10.
  int k = 10;
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
  /// Higher is better: cosine similarity, inner product, or minus the squared L2 distance.
  float score = 0;
  /// The metric's distance: 1 - cosine, inner product, or squared L2.
  float distance = 0;
  /// Present when requested and the document has them.
  std::optional<std::string> text;
  Attributes attributes;
  std::vector<float> vector;
};

// How a search ran: what `explain` shows.
struct SearchPlan {
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
};

}  // namespace ember

#endif  // EMBER_SEARCH_H_
