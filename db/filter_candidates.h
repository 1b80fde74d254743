// Which documents a filter selects, answered from the attribute index wherever it can be:
// conditions on indexed attributes become bitmap unions, intersections and differences; the rest is
// left as a residual filter that must be checked against each candidate's stored attributes.
#ifndef EMBER_DB_FILTER_CANDIDATES_H_
#define EMBER_DB_FILTER_CANDIDATES_H_

#include <set>
#include <string>

#include "db/attribute_index.h"
#include "ember/filter.h"

namespace ember::db {

struct FilterCandidates {
  /// Every document the filter matches; exactly those when `residual` is All.
  LabelSet labels;
  /// What the attribute index could not answer: documents in `labels` match the filter exactly when
  /// they also match `residual`.
  Filter residual;
  /// The attributes `residual` reads (undeclared or unindexed ones), for explaining the plan.
  std::set<std::string> unindexed_attributes;
};

// `all_labels` is every stored document. The filter must have passed CheckFilterTypes against the
// collection's declared types. Thread-compatible (reads `index`).
FilterCandidates SelectCandidates(const Filter& filter, const AttributeIndex& index,
                                  const LabelSet& all_labels);

}  // namespace ember::db

#endif  // EMBER_DB_FILTER_CANDIDATES_H_
