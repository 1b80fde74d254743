// The text syntax of filters, both ways: ParseFilter (declared in include/ember/filter.h) reads it,
// and the functions here write it, so that what is printed always lexes the way the parser expects.
//
// Thread-safety: stateless; safe to call concurrently.
#ifndef EMBER_DB_FILTER_PARSER_H_
#define EMBER_DB_FILTER_PARSER_H_

#include <string>
#include <string_view>

#include "ember/filter.h"

namespace ember::db {

// Canonical text of `filter` (what Filter::ToString returns).
std::string FormatFilter(const Filter& filter);

// A literal as the parser reads it back: 12, -0.5, 1e+300, 2.0, 'it\'s', TRUE. Non-finite doubles
// print as inf / nan, which do not parse (CheckConditionLiterals rejects them).
std::string FormatLiteral(const Literal& literal);

// An attribute name, bare when it is an identifier that is not a keyword, otherwise `quoted`.
std::string FormatAttributeName(std::string_view name);

// The nesting depth of parentheses and NOTs in FormatFilter(filter), the measure ParseFilter limits
// to kMaxFilterDepth. Stops descending once the depth exceeds `limit` (and then returns a value
// above it), so that its own recursion stays bounded on arbitrarily deep built filters.
int FilterTextDepth(const Filter& filter, int limit);

}  // namespace ember::db

#endif  // EMBER_DB_FILTER_PARSER_H_
