#include "db/filter_candidates.h"

#include <cmath>
#include <limits>
#include <optional>

#include "storage/key_encoding.h"

namespace ember::db {
namespace {

using Op = Filter::Op;

// The smallest key greater than `encoded` among attribute value encodings: every encoding is either
// fixed-width or terminated, so no other encoding starts with encoded + '\0'.
std::string Successor(std::string encoded) {
  encoded.push_back('\0');
  return encoded;
}

// A condition's bound as an encoded key, or nullopt when the index cannot represent it exactly
// (then the condition is left to the residual filter).
struct Bound {
  std::optional<std::string> key;  // nullopt: unbounded on that side
};

// Encodes `literal` for an attribute of `type` when the encoding is exact. For an int attribute and
// a non-integral double, `round` picks the integer (floor or ceil) that preserves the comparison.
std::optional<std::string> EncodeLiteral(AttributeType type, const Literal& literal,
                                         double (*round)(double) = nullptr) {
  if (type == AttributeType::kInt) {
    if (const double* d = std::get_if<double>(&literal)) {
      if (std::abs(*d) >= 9.2e18) return std::nullopt;
      if (std::trunc(*d) != *d && round == nullptr) return std::nullopt;
      std::string out;
      storage::AppendInt64(&out, static_cast<int64_t>(round ? round(*d) : *d));
      return out;
    }
  }
  if (type == AttributeType::kDouble) {
    // Ints beyond 2^53 do not convert to doubles exactly.
    constexpr int64_t kExactInDouble = int64_t{1} << 53;
    if (const int64_t* i = std::get_if<int64_t>(&literal);
        i != nullptr && (*i > kExactInDouble || *i < -kExactInDouble)) {
      return std::nullopt;
    }
  }
  const Value value = std::visit([](const auto& v) -> Value { return v; }, literal);
  return EncodeAttributeValue(type, value);
}

// Intersects `part` into `result`; an empty optional stands for "no operand yet" (everything).
void IntersectInto(std::optional<LabelSet>& result, LabelSet part) {
  if (result) {
    *result &= part;
  } else {
    result = std::move(part);
  }
}

bool IsNonIntegralForInt(AttributeType type, const Literal& literal) {
  const double* d = std::get_if<double>(&literal);
  return type == AttributeType::kInt && d != nullptr && std::trunc(*d) != *d;
}

class CandidateSelector {
 public:
  CandidateSelector(const AttributeIndex& index, const LabelSet& all_labels)
      : index_(index), all_labels_(all_labels) {}

  // The exact set a filter selects, or nullopt when part of it cannot be answered from the index.
  std::optional<LabelSet> Exact(const Filter& filter) {
    switch (filter.op()) {
      case Op::kAll:
        return all_labels_;
      case Op::kNone:
        return LabelSet();
      case Op::kAnd: {
        std::optional<LabelSet> result;
        for (const Filter& operand : filter.operands()) {
          std::optional<LabelSet> part = Exact(operand);
          if (!part) return std::nullopt;
          IntersectInto(result, *std::move(part));
        }
        return result;
      }
      case Op::kOr: {
        LabelSet result;
        for (const Filter& operand : filter.operands()) {
          std::optional<LabelSet> part = Exact(operand);
          if (!part) return std::nullopt;
          result |= *part;
        }
        return result;
      }
      case Op::kNot: {
        std::optional<LabelSet> part = Exact(filter.operands()[0]);
        if (!part) return std::nullopt;
        return all_labels_ - *part;
      }
      default:
        return Condition(filter);
    }
  }

 private:
  std::optional<LabelSet> Condition(const Filter& condition) {
    const AttributeSpec* spec = index_.Find(condition.attribute());
    if (spec == nullptr) return std::nullopt;
    const std::string& name = condition.attribute();
    const AttributeType type = spec->type;
    const std::vector<Literal>& literals = condition.literals();
    const auto equal = [&](const Literal& literal) -> std::optional<LabelSet> {
      if (IsNonIntegralForInt(type, literal)) return LabelSet();
      std::optional<std::string> key = EncodeLiteral(type, literal);
      if (!key) return std::nullopt;
      return index_.Equal(name, *key);
    };
    const auto any_equal = [&]() -> std::optional<LabelSet> {
      LabelSet result;
      for (const Literal& literal : literals) {
        std::optional<LabelSet> part = equal(literal);
        if (!part) return std::nullopt;
        result |= *part;
      }
      return result;
    };
    // [low, high) over encoded keys; a nullopt key on a present side means "not exactly encodable".
    const auto range = [&](std::optional<Bound> low,
                           std::optional<Bound> high) -> std::optional<LabelSet> {
      if (!low || !high) return std::nullopt;
      return index_.Range(name, low->key, high->key);
    };
    // On an int attribute, a non-integral d moves to an integer: x > 2.5 and x >= 2.5 both mean x
    // >= 3, x < 2.5 and x <= 2.5 both mean x <= 2.
    const auto lower = [&](const Literal& literal, bool inclusive) -> std::optional<Bound> {
      std::optional<std::string> key = EncodeLiteral(type, literal, std::ceil);
      if (!key) return std::nullopt;
      const bool exclusive = !inclusive && !IsNonIntegralForInt(type, literal);
      return Bound{exclusive ? Successor(*key) : *key};
    };
    const auto upper = [&](const Literal& literal, bool inclusive) -> std::optional<Bound> {
      std::optional<std::string> key = EncodeLiteral(type, literal, std::floor);
      if (!key) return std::nullopt;
      const bool exclusive = !inclusive && !IsNonIntegralForInt(type, literal);
      return Bound{exclusive ? *key : Successor(*key)};
    };
    const auto no_bound = std::optional<Bound>(Bound{});
    switch (condition.op()) {
      case Op::kIsNull:
        return all_labels_ - index_.Present(name);
      case Op::kIsNotNull:
        return index_.Present(name);
      case Op::kEq:
      case Op::kContains:
        return equal(literals[0]);
      case Op::kNe: {
        std::optional<LabelSet> matches = equal(literals[0]);
        if (!matches) return std::nullopt;
        return index_.Present(name) - *matches;
      }
      case Op::kIn:
      case Op::kContainsAny:
        return any_equal();
      case Op::kNotIn: {
        std::optional<LabelSet> matches = any_equal();
        if (!matches) return std::nullopt;
        return index_.Present(name) - *matches;
      }
      case Op::kContainsAll: {
        std::optional<LabelSet> result;
        for (const Literal& literal : literals) {
          std::optional<LabelSet> part = equal(literal);
          if (!part) return std::nullopt;
          IntersectInto(result, *std::move(part));
        }
        return result;
      }
      case Op::kLt:
        return range(no_bound, upper(literals[0], false));
      case Op::kLe:
        return range(no_bound, upper(literals[0], true));
      case Op::kGt:
        return range(lower(literals[0], false), no_bound);
      case Op::kGe:
        return range(lower(literals[0], true), no_bound);
      case Op::kBetween:
        return range(lower(literals[0], true), upper(literals[1], true));
      default:
        return std::nullopt;
    }
  }

  const AttributeIndex& index_;
  const LabelSet& all_labels_;
};

void CollectAttributes(const Filter& filter, std::set<std::string>& out) {
  if (!filter.attribute().empty()) out.insert(filter.attribute());
  for (const Filter& operand : filter.operands()) CollectAttributes(operand, out);
}

}  // namespace

FilterCandidates SelectCandidates(const Filter& filter, const AttributeIndex& index,
                                  const LabelSet& all_labels) {
  CandidateSelector selector(index, all_labels);
  FilterCandidates result;
  if (std::optional<LabelSet> exact = selector.Exact(filter)) {
    result.labels = *std::move(exact);
    return result;
  }
  // Answer the conjuncts the index can, and leave the others to be checked per document.
  const std::vector<Filter> conjuncts =
      filter.op() == Op::kAnd ? filter.operands() : std::vector<Filter>{filter};
  std::optional<LabelSet> labels;
  std::vector<Filter> residual;
  for (const Filter& conjunct : conjuncts) {
    std::optional<LabelSet> part = selector.Exact(conjunct);
    if (!part) {
      residual.push_back(conjunct);
      CollectAttributes(conjunct, result.unindexed_attributes);
    } else {
      IntersectInto(labels, *std::move(part));
    }
  }
  result.labels = labels ? *std::move(labels) : all_labels;
  result.residual = Filter::And(std::move(residual));
  return result;
}

}  // namespace ember::db
