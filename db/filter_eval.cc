#include "db/filter_eval.h"

#include <algorithm>
#include <cmath>
#include <compare>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ember::db {
namespace {

using Op = Filter::Op;

// Exact comparison of an int64 with a double: converting either to the other's type would round
// (2^53 + 1 is not a double; 0.5 is not an int).
std::partial_ordering CompareIntDouble(int64_t i, double d) {
  if (std::isnan(d)) return std::partial_ordering::unordered;
  constexpr double kTwoTo63 = 9223372036854775808.0;
  if (d >= kTwoTo63) return std::partial_ordering::less;
  if (d < -kTwoTo63) return std::partial_ordering::greater;
  // Now trunc(d) is within int64's range, so the conversion is exact.
  const double whole = std::trunc(d);
  const int64_t whole_int = static_cast<int64_t>(whole);
  if (i != whole_int) return i <=> whole_int;
  return whole <=> d;  // i == whole: the fraction of d decides
}

// How an attribute value compares with a literal; unordered when they cannot be compared (null,
// lists, different kinds, NaN). Booleans are ordered here (false < true) only so that = and != can
// use this.
std::partial_ordering Compare(const Value& value, const Literal& literal) {
  if (const auto* s = std::get_if<std::string>(&value)) {
    const auto* l = std::get_if<std::string>(&literal);
    if (l == nullptr) return std::partial_ordering::unordered;
    return std::string_view(*s) <=> std::string_view(*l);  // byte-wise, as unsigned chars
  }
  if (const auto* i = std::get_if<int64_t>(&value)) {
    if (const auto* l = std::get_if<int64_t>(&literal)) return *i <=> *l;
    if (const auto* l = std::get_if<double>(&literal)) return CompareIntDouble(*i, *l);
    return std::partial_ordering::unordered;
  }
  if (const auto* d = std::get_if<double>(&value)) {
    if (const auto* l = std::get_if<double>(&literal)) return *d <=> *l;
    if (const auto* l = std::get_if<int64_t>(&literal)) return 0 <=> CompareIntDouble(*l, *d);
    return std::partial_ordering::unordered;
  }
  if (const auto* b = std::get_if<bool>(&value)) {
    const auto* l = std::get_if<bool>(&literal);
    if (l == nullptr) return std::partial_ordering::unordered;
    return *b <=> *l;
  }
  return std::partial_ordering::unordered;
}

// Compare for <, <=, >, >= and BETWEEN: booleans have no order.
std::partial_ordering CompareOrdered(const Value& value, const Literal& literal) {
  if (std::holds_alternative<bool>(value)) return std::partial_ordering::unordered;
  return Compare(value, literal);
}

bool ListHas(const std::vector<std::string>& list, const Literal& literal) {
  return std::find(list.begin(), list.end(), std::get<std::string>(literal)) != list.end();
}

bool ConditionMatches(const Filter& condition, const Value* value) {
  const Op op = condition.op();
  if (op == Op::kIsNull) return value == nullptr;
  if (value == nullptr) return false;
  if (op == Op::kIsNotNull) return true;
  const std::vector<Literal>& literals = condition.literals();
  const auto equals = [value](const Literal& literal) { return Compare(*value, literal) == 0; };
  switch (op) {
    case Op::kEq:
      return equals(literals[0]);
    case Op::kNe: {
      const std::partial_ordering order = Compare(*value, literals[0]);
      return order < 0 || order > 0;
    }
    case Op::kLt:
      return CompareOrdered(*value, literals[0]) < 0;
    case Op::kLe:
      return CompareOrdered(*value, literals[0]) <= 0;
    case Op::kGt:
      return CompareOrdered(*value, literals[0]) > 0;
    case Op::kGe:
      return CompareOrdered(*value, literals[0]) >= 0;
    case Op::kIn:
      return std::any_of(literals.begin(), literals.end(), equals);
    case Op::kNotIn:
      return std::all_of(literals.begin(), literals.end(), [value](const Literal& literal) {
        const std::partial_ordering order = Compare(*value, literal);
        return order < 0 || order > 0;
      });
    case Op::kBetween:
      return CompareOrdered(*value, literals[0]) >= 0 && CompareOrdered(*value, literals[1]) <= 0;
    default:
      break;
  }
  const auto* list = std::get_if<std::vector<std::string>>(value);
  if (list == nullptr) return false;
  const auto in_list = [list](const Literal& literal) { return ListHas(*list, literal); };
  switch (op) {
    case Op::kContains:
      return in_list(literals[0]);
    case Op::kContainsAny:
      return std::any_of(literals.begin(), literals.end(), in_list);
    case Op::kContainsAll:
      return std::all_of(literals.begin(), literals.end(), in_list);
    default:
      return false;
  }
}

}  // namespace

bool Matches(const Filter& filter, const Attributes& attributes) {
  const std::vector<Filter>& operands = filter.operands();
  const auto matches = [&attributes](const Filter& operand) {
    return Matches(operand, attributes);
  };
  switch (filter.op()) {
    case Op::kAll:
      return true;
    case Op::kNone:
      return false;
    case Op::kAnd:
      return std::all_of(operands.begin(), operands.end(), matches);
    case Op::kOr:
      return std::any_of(operands.begin(), operands.end(), matches);
    case Op::kNot:
      return !matches(operands[0]);
    default:
      break;
  }
  const auto it = attributes.find(filter.attribute());
  const bool present =
      it != attributes.end() && !std::holds_alternative<std::monostate>(it->second);
  return ConditionMatches(filter, present ? &it->second : nullptr);
}

}  // namespace ember::db
