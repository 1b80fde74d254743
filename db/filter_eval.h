// Direct evaluation of a filter against one document's attributes: the reference semantics of the
// filter language (see include/ember/filter.h), used for attributes without an index and as the
// oracle that index-based evaluation is tested against.
//
// Thread-safety: stateless; safe to call concurrently.
#ifndef EMBER_DB_FILTER_EVAL_H_
#define EMBER_DB_FILTER_EVAL_H_

#include "ember/document.h"
#include "ember/filter.h"

namespace ember::db {

// Whether a document with these attributes matches `filter`, in two-valued logic: a missing or null
// attribute, or a value of a kind the literal cannot be compared with, fails every condition except
// IS NULL, and NOT inverts that failure into a match. Recursion is as deep as the filter; filters
// that passed CheckFilterTypes or ParseFilter are at most kMaxFilterDepth deep.
bool Matches(const Filter& filter, const Attributes& attributes);

}  // namespace ember::db

#endif  // EMBER_DB_FILTER_EVAL_H_
