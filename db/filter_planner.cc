#include "db/filter_planner.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ember/search.h"

namespace ember::db {
namespace {

// The most effort a restricted traversal is given: beyond it the exact scan is cheaper anyway.
constexpr int kMaxFilteredEfSearch = 4096;

}  // namespace

const char* SearchStrategyName(SearchStrategy strategy) {
  switch (strategy) {
    case SearchStrategy::kEmpty:
      return "empty";
    case SearchStrategy::kExact:
      return "exact";
    case SearchStrategy::kFilteredIndex:
      return "filtered-index";
    case SearchStrategy::kIndex:
      return "index";
  }
  return "unknown";
}

PlannedSearch PlanSearch(const PlannerInput& input) {
  PlannedSearch plan;
  if (input.matching == 0) {
    plan.strategy = SearchStrategy::kEmpty;
    return plan;
  }
  const bool flat = input.index.kind == IndexKind::kFlat;
  if (input.filtered &&
      (flat || input.matching * std::max(input.dimension, 1) <= kExactScanBudget ||
       input.matching <= input.k)) {
    plan.strategy = SearchStrategy::kExact;
    return plan;
  }
  plan.strategy = input.filtered ? SearchStrategy::kFilteredIndex : SearchStrategy::kIndex;
  // A restricted traversal meets matches in proportion to the filter's selectivity; scaling the
  // effort by its inverse keeps the number of matches it weighs about what an unfiltered search
  // weighs.
  const double selectivity =
      input.filtered ? static_cast<double>(input.matching) / std::max<int64_t>(input.total, 1)
                     : 1.0;
  const double scale = 1.0 / std::clamp(selectivity, 1e-6, 1.0);
  switch (input.index.kind) {
    case IndexKind::kHnsw: {
      const int base =
          input.requested_ef_search > 0 ? input.requested_ef_search : input.index.hnsw.ef_search;
      const double ef = std::ceil(std::max(base, input.k) * scale);
      plan.ef_search = static_cast<int>(
          std::min<double>(ef, std::max(kMaxFilteredEfSearch, std::max(base, input.k))));
      if (input.filtered)
        plan.max_scored = std::max<int64_t>(input.matching / kTraversalGiveUpRatio, 1);
      break;
    }
    case IndexKind::kIvf: {
      const int base = input.requested_nprobe > 0 ? input.requested_nprobe : input.index.ivf.nprobe;
      plan.nprobe =
          static_cast<int>(std::min<double>(std::ceil(base * scale), input.index.ivf.nlist));
      break;
    }
    case IndexKind::kFlat:
      break;
  }
  return plan;
}

}  // namespace ember::db

namespace ember {

std::string SearchPlan::ToString() const {
  std::string out;
  if (!mode.empty()) absl::StrAppend(&out, "mode: ", mode, "\n");
  if (!strategy.empty()) absl::StrAppend(&out, "strategy: ", strategy, "\n");
  absl::StrAppend(&out, "candidates from attribute indexes: ", estimated_candidates, "\n");
  if (!unindexed_attributes.empty()) {
    absl::StrAppend(&out, "attributes checked by reading documents (not indexed): ",
                    absl::StrJoin(unindexed_attributes, ", "), "\n");
    absl::StrAppend(&out, "documents read: ", documents_scanned, "\n");
  }
  absl::StrAppend(&out, "matching documents: ", matching_documents, "\n");
  if (ef_search > 0) absl::StrAppend(&out, "hnsw ef_search: ", ef_search, "\n");
  if (nprobe > 0) absl::StrAppend(&out, "ivf nprobe: ", nprobe, "\n");
  if (exact_scored > 0) absl::StrAppend(&out, "vectors scored exactly: ", exact_scored, "\n");
  if (!text_strategy.empty()) {
    absl::StrAppend(&out, "text strategy: ", text_strategy, "\n");
    absl::StrAppend(&out, "query terms: ", absl::StrJoin(text_terms, " "), "\n");
  }
  if (!fusion.empty()) {
    absl::StrAppend(&out, "fusion: ", fusion, ", depth ", fusion_depth, "\n");
    absl::StrAppend(&out, "hits from the vector side: ", vector_hits,
                    ", from the text side: ", text_hits, "\n");
  } else if (!text_strategy.empty()) {
    absl::StrAppend(&out, "text hits: ", text_hits, "\n");
  }
  return out;
}

}  // namespace ember
