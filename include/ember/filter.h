// Filters: which documents a search may return, as a boolean expression over their attributes.
//
// A filter is built in C++ or parsed from text; both give equal filters:
//
//   ember::Filter f = ember::Filter::And(ember::Filter::Ge("release_year", 2015),
//                                        ember::Filter::Contains("country", "India"));
//   EMBER_ASSIGN_OR_RETURN(
//       ember::Filter g, ember::ParseFilter("release_year >= 2015 AND country CONTAINS 'India'"));
//   // f == g, and f.ToString() == "release_year >= 2015 AND country CONTAINS 'India'"
//
// Text syntax (keywords are case-insensitive):
//   expr    := or            or := and (OR and)*            and := unary (AND unary)*
//   unary   := NOT unary | primary
//   primary := '(' expr ')' | TRUE | FALSE
//            | attr cmp literal                  cmp := = | != | <> | < | <= | > | >=
//            | attr [NOT] IN '(' literal (',' literal)* ')'
//            | attr BETWEEN literal AND literal  (inclusive; this AND belongs to BETWEEN)
//            | attr CONTAINS string
//            | attr CONTAINS ANY '(' string (',' string)* ')'
//            | attr CONTAINS ALL '(' string (',' string)* ')'
//            | attr IS [NOT] NULL
//   attr    := an identifier [A-Za-z_][A-Za-z0-9_.-]* that is not a keyword
//            | `any name` (`` inside is one `)  |  "any name" ("" inside is one ")
//   literal := integer (int64) | number with '.' or exponent (double) | string | TRUE | FALSE
//   string  := 'text', with escapes \' \" \\ \n \r \t \uXXXX (UTF-16; surrogate pairs combine)
//              and '' for one '. Other bytes, including non-ASCII UTF-8, are taken as they are.
// Keywords: AND OR NOT IN BETWEEN CONTAINS ANY ALL IS NULL TRUE FALSE; quote an attribute that has
// one of these names (`in`). NULL appears only after IS: "x = NULL" is an error.
//
// Semantics: two-valued logic, not SQL's three-valued one. Every condition on an attribute is
// either true or false for a document:
//   - a missing or null attribute fails every condition except IS NULL. So NOT (x = 1) matches
//     the documents without x, while x != 1 does not;
//   - a value fails a condition whose literal it cannot be compared with: a string attribute
//     against a number, CONTAINS on anything but a list, a list with anything but CONTAINS.
//     A search rejects such a filter with InvalidArgument when the attributes' types are known;
//   - numbers compare numerically and exactly across int and double (2 = 2.0); strings compare
//     byte by byte (Unicode code point order for UTF-8); booleans take only =, !=, IN and NOT IN;
//   - NOT IN matches a present, comparable value that equals none of the literals;
//   - CONTAINS matches a list attribute that holds the string; CONTAINS ANY: at least one of the
//     strings; CONTAINS ALL: every one of them.
//
// Thread-safety: a Filter is immutable. Copies share their nodes (copying is cheap) and any number
// of threads may use one filter concurrently.
#ifndef EMBER_FILTER_H_
#define EMBER_FILTER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"

namespace ember {

// A constant in a filter: a boolean, an int64, a double or a string. (Attribute values may also be
// null or lists, but a filter never compares with those: it uses IS NULL and CONTAINS.)
using Literal = std::variant<bool, int64_t, double, std::string>;

// The deepest nesting of parentheses and NOTs ParseFilter accepts, and hence the deepest filter
// that prints as parseable text (searches reject deeper built filters). Bounds the recursion of
// everything that walks a filter.
inline constexpr int kMaxFilterDepth = 256;

// The longest text ParseFilter accepts, in bytes.
inline constexpr size_t kMaxFilterTextBytes = 64 * 1024;

// An immutable filter expression. The default filter, All(), matches every document.
//
// Builders normalize so that equal meanings built in different ways compare equal: And and Or
// flatten nested operands of the same kind (And(a, And(b, c)) == And(a, b, c)), drop operands that
// cannot change the result (And drops All, Or drops None), short-circuit on ones that decide it
// (And with None is None, Or with All is All), and return their only remaining operand; Not(All) is
// None and Not(None) is All. Nothing else is rewritten: Not(Not(x)) stays as it is, and NOT (x = 1)
// is not x != 1 (see semantics).
class Filter {
 public:
  // What a node of the expression is. The accessors below say which fields each kind uses.
  enum class Op : uint8_t {
    kAll,          // TRUE: matches every document.
    kNone,         // FALSE: matches no document.
    kAnd,          // operands(): at least two, none of them kAnd, kAll or kNone.
    kOr,           // operands(): at least two, none of them kOr, kAll or kNone.
    kNot,          // operands(): exactly one, never kAll or kNone.
    kEq,           // attribute() = literals()[0]
    kNe,           // attribute() != literals()[0]
    kLt,           // attribute() < literals()[0]
    kLe,           // attribute() <= literals()[0]
    kGt,           // attribute() > literals()[0]
    kGe,           // attribute() >= literals()[0]
    kIn,           // attribute() IN literals()
    kNotIn,        // attribute() NOT IN literals()
    kBetween,      // literals()[0] <= attribute() <= literals()[1]
    kContains,     // attribute() CONTAINS literals()[0] (a string)
    kContainsAny,  // attribute() CONTAINS ANY literals() (strings)
    kContainsAll,  // attribute() CONTAINS ALL literals() (strings)
    kIsNull,       // attribute() IS NULL: missing or null.
    kIsNotNull,    // attribute() IS NOT NULL
  };

  // All(): matches every document. Also what a moved-from Filter is.
  Filter() = default;

  static Filter All();
  static Filter None();

  static Filter Eq(std::string attribute, Literal value);
  static Filter Ne(std::string attribute, Literal value);
  static Filter Lt(std::string attribute, Literal value);
  static Filter Le(std::string attribute, Literal value);
  static Filter Gt(std::string attribute, Literal value);
  static Filter Ge(std::string attribute, Literal value);
  // An empty list is kept as given (IN () matches nothing), but searches reject it as invalid: the
  // text syntax has no way to write it.
  static Filter In(std::string attribute, std::vector<Literal> values);
  static Filter NotIn(std::string attribute, std::vector<Literal> values);
  // Inclusive at both ends; a low above high matches nothing.
  static Filter Between(std::string attribute, Literal low, Literal high);
  static Filter Contains(std::string attribute, std::string value);
  static Filter ContainsAny(std::string attribute, std::vector<std::string> values);
  static Filter ContainsAll(std::string attribute, std::vector<std::string> values);
  static Filter IsNull(std::string attribute);
  static Filter IsNotNull(std::string attribute);

  // And of no operands is All(); Or of no operands is None().
  static Filter And(Filter a, Filter b);
  static Filter And(std::vector<Filter> operands);
  static Filter Or(Filter a, Filter b);
  static Filter Or(std::vector<Filter> operands);
  static Filter Not(Filter operand);

  Op op() const;
  // The attribute a condition tests; empty for kAll, kNone, kAnd, kOr and kNot.
  const std::string& attribute() const;
  // The condition's literals, as listed in Op; empty for kAll .. kNot, kIsNull and kIsNotNull.
  const std::vector<Literal>& literals() const;
  // The operands of kAnd, kOr and kNot; empty otherwise.
  const std::vector<Filter>& operands() const;

  // Canonical text: ParseFilter(ToString()) returns a filter equal to this one whenever the filter
  // can be written as text at all, which every parsed filter can, and the text is at most
  // kMaxFilterTextBytes long (escapes and canonical numbers may make it longer than what was
  // parsed). Built filters that cannot be written, and that searches reject as invalid: an empty
  // attribute name, an empty list, a NaN or infinite double, literals of different types in one
  // condition, an ordering with a boolean, nesting deeper than kMaxFilterDepth. Keywords print in
  // upper case, attribute names are quoted only when needed, doubles always show a '.' or an
  // exponent. All() prints as "TRUE", None() as "FALSE".
  std::string ToString() const;

  // Structural equality: same ops, attributes and literals in the same order. Literals compare as
  // variants, so the int 2 differs from the double 2.0 here even though both match the same
  // documents.
  friend bool operator==(const Filter& a, const Filter& b);

 private:
  struct Node;
  explicit Filter(std::shared_ptr<const Node> node);
  const Node& node() const;
  static Filter Condition(Op op, std::string attribute, std::vector<Literal> literals);
  static Filter Junction(Op op, std::vector<Filter> operands);

  std::shared_ptr<const Node> node_;  // null for All()
};

// Parses the text syntax above. An empty or all-whitespace text is All().
// InvalidArgument, with a message "filter: at position P: expected X, found Y" (P is the 0-based
// byte offset; multi-line texts also give the 1-based line and column), for a syntax error, an
// integer that does not fit in int64, a number outside the range of a double, a bad string escape,
// a name that is a keyword, NULL outside IS [NOT] NULL, literals of different types in one
// condition (x IN (1, 'a')), an ordering with a boolean (x < TRUE), nesting deeper than
// kMaxFilterDepth, or a text longer than kMaxFilterTextBytes. Never crashes on any input.
absl::StatusOr<Filter> ParseFilter(std::string_view text);

}  // namespace ember

#endif  // EMBER_FILTER_H_
