// Which documents a filter selects, answered from the attribute index wherever it can be:
// conditions on indexed attributes become bitmap unions, intersections and differences, or lookups
// of a few documents' values in the value columns; the rest is left as a residual filter that must
// be checked against each candidate's stored attributes.
#ifndef EMBER_DB_FILTER_CANDIDATES_H_
#define EMBER_DB_FILTER_CANDIDATES_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "db/attribute_index.h"
#include "db/label_set.h"
#include "ember/filter.h"

namespace ember::db {

// Not thread-safe (labels() may build its set on first use); one per search.
struct FilterCandidates {
  /// Every document the filter matches; exactly those when `residual` is All. Either a set
  /// computed for this filter (`owned`), or, when the filter is a single value's condition or
  /// matches everything, the attribute index's or `all_labels`' own set, used where it lies
  /// (`borrowed`: valid until the index or `all_labels` changes), or, when value-column checks
  /// kept the documents, a set built from `list` on the first call.
  const LabelSet& labels() const;
  /// How many documents labels() holds, without building it.
  int64_t count() const;
  /// When value-column checks kept the documents: them, each once, in no particular order (until
  /// labels() sorts them), which an exact scan can use as they are (building a set of them costs
  /// more than the scan of a few hundred). nullptr otherwise.
  const std::vector<Label>* list() const { return listed ? &list_labels : nullptr; }

  // Set only when owned (a borrowed result constructs no set at all).
  mutable std::optional<LabelSet> owned;
  const LabelSet* borrowed = nullptr;
  mutable std::vector<Label> list_labels;
  bool listed = false;
  mutable bool list_sorted = false;
  mutable bool list_in_owned = false;
  /// What the attribute index could not answer: documents in labels() match the filter exactly
  /// when they also match `residual`.
  Filter residual;
  /// The attributes `residual` reads (undeclared or unindexed ones), for explaining the plan.
  std::set<std::string> unindexed_attributes;
  /// Documents whose value was looked up in a value column (ValueColumn) to check a condition,
  /// rather than the condition's value sets being combined.
  int64_t column_lookups = 0;
};

// The documents a search's filter matches, whichever form they came in: the candidates themselves
// when the attribute index answered the whole filter, or the candidates that also passed the
// residual filter's check against their stored attributes.
struct FilterMatches {
  FilterCandidates candidates;
  /// Set when the residual was checked: the matches (candidates are then only a superset).
  std::optional<LabelSet> checked;

  /// The matches as a set (built on first use when value-column checks listed them).
  const LabelSet& set() const { return checked ? *checked : candidates.labels(); }
  /// The matches in increasing order when value-column checks listed them; nullptr otherwise.
  const std::vector<Label>* list() const { return checked ? nullptr : candidates.list(); }
  int64_t count() const {
    return checked ? static_cast<int64_t>(checked->cardinality()) : candidates.count();
  }
};

// `all_labels` is every stored document. The filter must have passed CheckFilterTypes against the
// collection's declared types. Thread-compatible (reads `index` and `all_labels`, which must not
// change while the result is in use when it borrows from them).
FilterCandidates SelectCandidates(const Filter& filter, const AttributeIndex& index,
                                  const LabelSet& all_labels);

}  // namespace ember::db

#endif  // EMBER_DB_FILTER_CANDIDATES_H_
