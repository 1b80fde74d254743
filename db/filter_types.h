// Type checking of filters against the types of a collection's attributes: a filter that compares
// an attribute with a literal of the wrong type is an error, not an empty result.
//
// Thread-safety: stateless functions; safe to call concurrently.
#ifndef EMBER_DB_FILTER_TYPES_H_
#define EMBER_DB_FILTER_TYPES_H_

#include <functional>
#include <optional>
#include <string_view>

#include "absl/status/status.h"
#include "ember/filter.h"
#include "ember/options.h"

namespace ember::db {

// The declared type of an attribute, or nullopt when it is not declared.
using AttributeTypeLookup = std::function<std::optional<AttributeType>(std::string_view attribute)>;

// Checks the literals of one condition (a node with an attribute), whatever the attribute's type:
// a non-empty attribute name; at least one literal in IN, NOT IN, CONTAINS ANY and CONTAINS ALL;
// finite doubles; literals of one kind in IN, NOT IN and BETWEEN (numbers, strings or booleans —
// ints and doubles mix freely); no boolean in an ordering (<, <=, >, >=, BETWEEN). OK for nodes
// without an attribute. Otherwise InvalidArgument "<condition>: <reason>"; the parser prefixes the
// condition's position.
absl::Status CheckConditionLiterals(const Filter& condition);

// Checks a whole filter: its nesting is at most kMaxFilterDepth (as ToString prints it), every
// condition passes CheckConditionLiterals, and every condition on an attribute of known type can be
// true for some value of that type:
//   - bool attributes take =, !=, IN, NOT IN with boolean literals;
//   - int and double attributes take =, !=, <, <=, >, >=, IN, NOT IN, BETWEEN with int or double
//     literals (numbers compare numerically);
//   - string attributes take the same comparisons with string literals;
//   - list attributes take only CONTAINS, CONTAINS ANY and CONTAINS ALL (and only they take them);
//   - IS NULL and IS NOT NULL apply to every attribute.
// Conditions on undeclared attributes pass: each document's value is compared as it comes (see
// Matches: a value that cannot be compared fails the condition).
// OK, or InvalidArgument naming the condition, the attribute, its type and the offending literal:
// "filter: year = 'x': attribute year is int and cannot be compared with string 'x'".
absl::Status CheckFilterTypes(const Filter& filter, const AttributeTypeLookup& attribute_type);

}  // namespace ember::db

#endif  // EMBER_DB_FILTER_TYPES_H_
