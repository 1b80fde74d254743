// The query planner for filtered searches: given how many documents a filter matches, choose
// between scoring every match exactly and traversing the vector index restricted to the matches,
// and how much effort the traversal gets.
#ifndef EMBER_DB_FILTER_PLANNER_H_
#define EMBER_DB_FILTER_PLANNER_H_

#include <cstdint>

#include "ember/options.h"

namespace ember::db {

enum class SearchStrategy { kEmpty, kExact, kFilteredIndex, kIndex };

// "empty", "exact", "filtered-index", "index": the names SearchPlan uses.
const char* SearchStrategyName(SearchStrategy strategy);

struct PlannedSearch {
  SearchStrategy strategy = SearchStrategy::kIndex;
  /// Effort for the index traversal (0 when unused).
  int ef_search = 0;
  int nprobe = 0;
  /// A filtered HNSW traversal gives up after scoring this many vectors (0: never), and the
  /// matches are scored exactly instead.
  int64_t max_scored = 0;
};

struct PlannerInput {
  /// Documents matching the filter (all documents when there is none), and documents stored.
  int64_t matching = 0;
  int64_t total = 0;
  bool filtered = false;
  int k = 10;
  int dimension = 0;
  IndexSpec index;
  /// The query's own effort overrides (0: the collection's defaults).
  int requested_ef_search = 0;
  int requested_nprobe = 0;
};

// Scoring `matching` vectors exactly costs matching * dimension multiply-adds, a traversal a
// roughly constant amount that grows as the filter gets more selective; below kExactScanBudget
// multiply-adds the exact scan wins (measured by bench/filtered_bench) and is exact besides.
inline constexpr int64_t kExactScanBudget = int64_t{4} << 20;

// A filtered traversal that has scored matching / kTraversalGiveUpRatio vectors without finishing
// is wading through matches that lie far from the query: it gives up, and the matches are scored
// exactly instead. A graph step (a random access) costs several sequential steps of the exact scan
// (about 200 ns against 30 on GloVe-sized rows, bench/filtered_bench), so giving up at an eighth
// bounds the waste to about as much again as the exact scan itself; traversals that succeed stay
// well inside it (at 50% selectivity on GloVe they scored at most 15,900 vectors, 95% of them under
// 13,500, of the 20,700 allowed).
inline constexpr int64_t kTraversalGiveUpRatio = 8;

PlannedSearch PlanSearch(const PlannerInput& input);

}  // namespace ember::db

#endif  // EMBER_DB_FILTER_PLANNER_H_
