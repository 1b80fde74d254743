#include "db/filter_types.h"

#include <cmath>
#include <string>
#include <variant>

#include "absl/strings/str_cat.h"
#include "db/filter_parser.h"
#include "ember/status.h"

namespace ember::db {
namespace {

using Op = Filter::Op;

// Conditions test an attribute; the other nodes combine conditions or are constants.
bool IsCondition(Op op) {
  return op != Op::kAll && op != Op::kNone && op != Op::kAnd && op != Op::kOr && op != Op::kNot;
}

bool IsOrdering(Op op) {
  return op == Op::kLt || op == Op::kLe || op == Op::kGt || op == Op::kGe || op == Op::kBetween;
}

bool IsContains(Op op) {
  return op == Op::kContains || op == Op::kContainsAny || op == Op::kContainsAll;
}

bool HasList(Op op) {
  return op == Op::kIn || op == Op::kNotIn || op == Op::kContainsAny || op == Op::kContainsAll;
}

// Literals of one family can meet in one condition: ints and doubles compare with each other.
enum class Family { kBool, kNumber, kString };

Family FamilyOf(const Literal& literal) {
  if (std::holds_alternative<bool>(literal)) return Family::kBool;
  if (std::holds_alternative<std::string>(literal)) return Family::kString;
  return Family::kNumber;
}

bool Compatible(AttributeType type, const Literal& literal) {
  switch (type) {
    case AttributeType::kBool:
      return FamilyOf(literal) == Family::kBool;
    case AttributeType::kInt:
    case AttributeType::kDouble:
      return FamilyOf(literal) == Family::kNumber;
    case AttributeType::kString:
      return FamilyOf(literal) == Family::kString;
    case AttributeType::kStringList:
      return false;
  }
  return false;
}

// "int 5", "string 'x'": how messages show a literal.
std::string DescribeLiteral(const Literal& literal) {
  static constexpr const char* kNames[] = {"bool", "int", "double", "string"};
  std::string text = FormatLiteral(literal);
  constexpr size_t kMaxShown = 60;
  if (text.size() > kMaxShown) text = absl::StrCat(text.substr(0, kMaxShown), "...");
  return absl::StrCat(kNames[literal.index()], " ", text);
}

// A condition as messages show it: its text, cut short when long (IN lists may hold thousands).
std::string DescribeCondition(const Filter& condition) {
  constexpr size_t kMaxShown = 100;
  std::string text = FormatFilter(condition);
  if (text.size() > kMaxShown) text = absl::StrCat(text.substr(0, kMaxShown), "...");
  return text;
}

absl::Status ConditionError(const Filter& condition, std::string_view reason) {
  return absl::InvalidArgumentError(
      absl::StrCat(DescribeCondition(condition), ": ", std::string(reason)));
}

absl::Status CheckAttributeType(const Filter& condition, AttributeType type) {
  const Op op = condition.op();
  if (op == Op::kIsNull || op == Op::kIsNotNull) return absl::OkStatus();
  // Built only for an error: this check runs on every search.
  const auto attribute = [&] {
    return absl::StrCat("attribute ", FormatAttributeName(condition.attribute()), " is ",
                        AttributeTypeName(type));
  };
  if (IsContains(op) != (type == AttributeType::kStringList)) {
    return ConditionError(
        condition, type == AttributeType::kStringList
                       ? absl::StrCat(attribute(), "; use CONTAINS, CONTAINS ANY or CONTAINS ALL")
                       : absl::StrCat(attribute(), "; CONTAINS applies only to list attributes"));
  }
  if (type == AttributeType::kStringList) return absl::OkStatus();
  if (type == AttributeType::kBool && IsOrdering(op)) {
    return ConditionError(condition,
                          absl::StrCat(attribute(), "; booleans take only =, !=, IN and NOT IN"));
  }
  for (const Literal& literal : condition.literals()) {
    if (!Compatible(type, literal)) {
      return ConditionError(condition, absl::StrCat(attribute(), " and cannot be compared with ",
                                                    DescribeLiteral(literal)));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckTypesBelow(const Filter& filter, const AttributeTypeLookup& attribute_type) {
  for (const Filter& operand : filter.operands()) {
    EMBER_RETURN_IF_ERROR(CheckTypesBelow(operand, attribute_type));
  }
  if (!IsCondition(filter.op())) return absl::OkStatus();
  EMBER_RETURN_IF_ERROR(CheckConditionLiterals(filter));
  const std::optional<AttributeType> type = attribute_type(filter.attribute());
  if (!type.has_value()) return absl::OkStatus();
  return CheckAttributeType(filter, *type);
}

}  // namespace

absl::Status CheckConditionLiterals(const Filter& condition) {
  const Op op = condition.op();
  if (!IsCondition(op)) return absl::OkStatus();
  if (condition.attribute().empty())
    return ConditionError(condition, "the attribute name is empty");
  const std::vector<Literal>& literals = condition.literals();
  if (HasList(op) && literals.empty()) return ConditionError(condition, "the list is empty");
  for (const Literal& literal : literals) {
    if (const double* d = std::get_if<double>(&literal); d != nullptr && !std::isfinite(*d)) {
      return ConditionError(condition,
                            absl::StrCat(FormatLiteral(literal), " is not a finite number"));
    }
    if (FamilyOf(literal) != FamilyOf(literals[0])) {
      return ConditionError(condition,
                            absl::StrCat("cannot compare with both ", DescribeLiteral(literals[0]),
                                         " and ", DescribeLiteral(literal)));
    }
    if (IsOrdering(op) && FamilyOf(literal) == Family::kBool) {
      return ConditionError(condition, "booleans have no order; compare them with = or !=");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckFilterTypes(const Filter& filter, const AttributeTypeLookup& attribute_type) {
  // A single condition is one level deep (the common case, checked on every search).
  if (!filter.operands().empty() && FilterTextDepth(filter, kMaxFilterDepth) > kMaxFilterDepth) {
    return absl::InvalidArgumentError(absl::StrCat("filter: nesting deeper than ", kMaxFilterDepth,
                                                   " levels of parentheses and NOT"));
  }
  if (absl::Status status = CheckTypesBelow(filter, attribute_type); !status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("filter: ", std::string(status.message())));
  }
  return absl::OkStatus();
}

}  // namespace ember::db
