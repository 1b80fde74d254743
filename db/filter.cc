// Filter: the immutable expression tree and its normalizing builders.
#include "ember/filter.h"

#include <utility>

#include "db/filter_parser.h"

namespace ember {

struct Filter::Node {
  explicit Node(Op op, std::string attribute = {}, std::vector<Literal> literals = {},
                std::vector<Filter> operands = {})
      : op(op),
        attribute(std::move(attribute)),
        literals(std::move(literals)),
        operands(std::move(operands)) {}

  const Op op;
  const std::string attribute;
  const std::vector<Literal> literals;
  const std::vector<Filter> operands;
};

Filter::Filter(std::shared_ptr<const Node> node) : node_(std::move(node)) {}

Filter Filter::All() { return Filter(); }

Filter Filter::None() {
  // Shared and leaked on purpose, so that filters in static storage may outlive it.
  static const auto* const kNone = new std::shared_ptr<const Node>(new Node(Op::kNone));
  return Filter(*kNone);
}

Filter Filter::Condition(Op op, std::string attribute, std::vector<Literal> literals) {
  return Filter(std::make_shared<const Node>(op, std::move(attribute), std::move(literals)));
}

Filter Filter::Eq(std::string attribute, Literal value) {
  return Condition(Op::kEq, std::move(attribute), {std::move(value)});
}
Filter Filter::Ne(std::string attribute, Literal value) {
  return Condition(Op::kNe, std::move(attribute), {std::move(value)});
}
Filter Filter::Lt(std::string attribute, Literal value) {
  return Condition(Op::kLt, std::move(attribute), {std::move(value)});
}
Filter Filter::Le(std::string attribute, Literal value) {
  return Condition(Op::kLe, std::move(attribute), {std::move(value)});
}
Filter Filter::Gt(std::string attribute, Literal value) {
  return Condition(Op::kGt, std::move(attribute), {std::move(value)});
}
Filter Filter::Ge(std::string attribute, Literal value) {
  return Condition(Op::kGe, std::move(attribute), {std::move(value)});
}
Filter Filter::In(std::string attribute, std::vector<Literal> values) {
  return Condition(Op::kIn, std::move(attribute), std::move(values));
}
Filter Filter::NotIn(std::string attribute, std::vector<Literal> values) {
  return Condition(Op::kNotIn, std::move(attribute), std::move(values));
}
Filter Filter::Between(std::string attribute, Literal low, Literal high) {
  return Condition(Op::kBetween, std::move(attribute), {std::move(low), std::move(high)});
}
Filter Filter::Contains(std::string attribute, std::string value) {
  return Condition(Op::kContains, std::move(attribute), {std::move(value)});
}

namespace {

std::vector<Literal> StringLiterals(std::vector<std::string> values) {
  std::vector<Literal> literals;
  literals.reserve(values.size());
  for (std::string& value : values) literals.emplace_back(std::move(value));
  return literals;
}

}  // namespace

Filter Filter::ContainsAny(std::string attribute, std::vector<std::string> values) {
  return Condition(Op::kContainsAny, std::move(attribute), StringLiterals(std::move(values)));
}
Filter Filter::ContainsAll(std::string attribute, std::vector<std::string> values) {
  return Condition(Op::kContainsAll, std::move(attribute), StringLiterals(std::move(values)));
}
Filter Filter::IsNull(std::string attribute) {
  return Condition(Op::kIsNull, std::move(attribute), {});
}
Filter Filter::IsNotNull(std::string attribute) {
  return Condition(Op::kIsNotNull, std::move(attribute), {});
}

Filter Filter::Junction(Op op, std::vector<Filter> operands) {
  // For And, All is the identity and None decides; for Or the other way round.
  const Op identity = op == Op::kAnd ? Op::kAll : Op::kNone;
  const Op absorbing = op == Op::kAnd ? Op::kNone : Op::kAll;
  std::vector<Filter> flat;
  flat.reserve(operands.size());
  for (Filter& operand : operands) {
    const Op operand_op = operand.op();
    if (operand_op == absorbing) return operand;
    if (operand_op == identity) continue;
    if (operand_op == op) {
      // Already normalized, so one level of flattening is enough.
      for (const Filter& inner : operand.operands()) flat.push_back(inner);
    } else {
      flat.push_back(std::move(operand));
    }
  }
  if (flat.empty()) return identity == Op::kAll ? All() : None();
  if (flat.size() == 1) return std::move(flat[0]);
  return Filter(
      std::make_shared<const Node>(op, std::string(), std::vector<Literal>(), std::move(flat)));
}

Filter Filter::And(Filter a, Filter b) {
  std::vector<Filter> operands;
  operands.reserve(2);
  operands.push_back(std::move(a));
  operands.push_back(std::move(b));
  return Junction(Op::kAnd, std::move(operands));
}
Filter Filter::And(std::vector<Filter> operands) { return Junction(Op::kAnd, std::move(operands)); }
Filter Filter::Or(Filter a, Filter b) {
  std::vector<Filter> operands;
  operands.reserve(2);
  operands.push_back(std::move(a));
  operands.push_back(std::move(b));
  return Junction(Op::kOr, std::move(operands));
}
Filter Filter::Or(std::vector<Filter> operands) { return Junction(Op::kOr, std::move(operands)); }

Filter Filter::Not(Filter operand) {
  if (operand.op() == Op::kAll) return None();
  if (operand.op() == Op::kNone) return All();
  std::vector<Filter> operands;
  operands.push_back(std::move(operand));
  return Filter(std::make_shared<const Node>(Op::kNot, std::string(), std::vector<Literal>(),
                                             std::move(operands)));
}

// All() has no node: the default filter costs no allocation, and a moved-from filter is All().
const Filter::Node& Filter::node() const {
  static const Node* const kAll = new Node(Op::kAll);
  return node_ != nullptr ? *node_ : *kAll;
}

Filter::Op Filter::op() const { return node().op; }
const std::string& Filter::attribute() const { return node().attribute; }
const std::vector<Literal>& Filter::literals() const { return node().literals; }
const std::vector<Filter>& Filter::operands() const { return node().operands; }

std::string Filter::ToString() const { return db::FormatFilter(*this); }

bool operator==(const Filter& a, const Filter& b) {
  if (a.node_ == b.node_) return true;
  return a.op() == b.op() && a.attribute() == b.attribute() && a.literals() == b.literals() &&
         a.operands() == b.operands();
}

}  // namespace ember
