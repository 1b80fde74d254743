#include "db/filter_candidates.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <span>
#include <utility>
#include <vector>

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

bool IsNonIntegralForInt(AttributeType type, const Literal& literal) {
  const double* d = std::get_if<double>(&literal);
  return type == AttributeType::kInt && d != nullptr && std::trunc(*d) != *d;
}

// Evaluates filters over the attribute index within a scope: the documents the conditions already
// evaluated left standing (nullptr: every document). Conjunctions go from the most selective
// condition to the least, each evaluated within the previous ones' result, so that a selective
// condition is never paid for by materializing a broad one (a range over most values, say).
class CandidateSelector {
 public:
  CandidateSelector(const AttributeIndex& index, const LabelSet& all_labels)
      : index_(index), all_labels_(all_labels) {}

  // The exact set a filter selects within `scope`, or nullopt when part of it cannot be answered
  // from the index.
  std::optional<LabelSet> Exact(const Filter& filter, const LabelSet* scope = nullptr) {
    switch (filter.op()) {
      case Op::kAll:
        return scope ? *scope : all_labels_;
      case Op::kNone:
        return LabelSet();
      case Op::kAnd: {
        std::vector<std::pair<uint64_t, const Filter*>> order;
        for (const Filter& operand : filter.operands())
          order.push_back({Estimate(operand), &operand});
        std::stable_sort(order.begin(), order.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        std::optional<LabelSet> result;
        for (const auto& [estimate, operand] : order) {
          std::optional<LabelSet> part = Exact(*operand, result ? &*result : scope);
          if (!part) return std::nullopt;
          result = std::move(part);
        }
        if (!result) return scope ? *scope : all_labels_;
        return result;
      }
      case Op::kOr: {
        LabelSet result;
        for (const Filter& operand : filter.operands()) {
          std::optional<LabelSet> part = Exact(operand, scope);
          if (!part) return std::nullopt;
          result |= *part;
        }
        return result;
      }
      case Op::kNot: {
        std::optional<LabelSet> part = Exact(filter.operands()[0], scope);
        if (!part) return std::nullopt;
        return (scope ? *scope : all_labels_) - *part;
      }
      default:
        return Condition(filter, scope);
    }
  }

 private:
  // About how many documents a filter selects, to order conjunctions; unknown counts as all.
  uint64_t Estimate(const Filter& filter) const {
    const uint64_t all = all_labels_.cardinality();
    switch (filter.op()) {
      case Op::kNone:
        return 0;
      case Op::kAnd: {
        uint64_t least = all;
        for (const Filter& operand : filter.operands()) least = std::min(least, Estimate(operand));
        return least;
      }
      case Op::kOr: {
        uint64_t sum = 0;
        for (const Filter& operand : filter.operands()) sum += Estimate(operand);
        return std::min(sum, all);
      }
      default: {
        // Conditions answered as a union of value sets: the sum of their sizes bounds the union.
        const std::optional<std::vector<const LabelSet*>> parts = UnionParts(filter);
        if (!parts) return all;
        uint64_t sum = 0;
        for (const LabelSet* part : *parts) sum += part->cardinality();
        return std::min(sum, all);
      }
    }
  }

  // `set` within the scope.
  LabelSet Restrict(const LabelSet& set, const LabelSet* scope) const {
    return scope ? *scope & set : set;
  }

  // The union of `parts` within the scope: when the scope is much smaller than the parts, each
  // part is intersected with it rather than the whole union being built first.
  LabelSet UnionWithin(const std::vector<const LabelSet*>& parts, const LabelSet* scope) const {
    if (parts.empty()) return LabelSet();
    if (scope != nullptr) {
      uint64_t total = 0;
      for (const LabelSet* part : parts) total += part->cardinality();
      if (scope->cardinality() * parts.size() < total) {
        LabelSet result;
        for (const LabelSet* part : parts) result |= *scope & *part;
        return result;
      }
    }
    // CRoaring declares the array of inputs non-const; it only reads it.
    return Restrict(LabelSet::fastunion(parts.size(), const_cast<const LabelSet**>(parts.data())),
                    scope);
  }

  // For a condition whose matches are a union of the index's value sets (=, CONTAINS, IN,
  // CONTAINS ANY, the ranges): those sets. IS NOT NULL and ranges open on both sides give the
  // attribute's presence set. nullopt for other conditions, unindexed attributes, and literals the
  // index cannot encode exactly.
  std::optional<std::vector<const LabelSet*>> UnionParts(const Filter& condition) const {
    const AttributeSpec* spec = index_.Find(condition.attribute());
    if (spec == nullptr) return std::nullopt;
    const std::string& name = condition.attribute();
    const AttributeType type = spec->type;
    const std::vector<Literal>& literals = condition.literals();
    const auto value_sets = [&]() -> std::optional<std::vector<const LabelSet*>> {
      std::vector<const LabelSet*> sets;
      for (const Literal& literal : literals) {
        if (IsNonIntegralForInt(type, literal)) continue;  // no int equals it
        std::optional<std::string> key = EncodeLiteral(type, literal);
        if (!key) return std::nullopt;
        sets.push_back(&index_.Equal(name, *key));
      }
      return sets;
    };
    // [low, high) over encoded keys; a nullopt key on a present side means "not exactly encodable".
    const auto range =
        [&](std::optional<Bound> low,
            std::optional<Bound> high) -> std::optional<std::vector<const LabelSet*>> {
      if (!low || !high) return std::nullopt;
      if (!low->key && !high->key) return std::vector<const LabelSet*>{&index_.Present(name)};
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
      case Op::kIsNotNull:
        return std::vector<const LabelSet*>{&index_.Present(name)};
      case Op::kEq:
      case Op::kContains:
      case Op::kIn:
      case Op::kContainsAny:
        return value_sets();
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

  std::optional<LabelSet> Condition(const Filter& condition, const LabelSet* scope) {
    const AttributeSpec* spec = index_.Find(condition.attribute());
    if (spec == nullptr) return std::nullopt;
    const std::string& name = condition.attribute();
    switch (condition.op()) {
      case Op::kIsNull:
        return (scope ? *scope : all_labels_) - index_.Present(name);
      case Op::kNe:
      case Op::kNotIn: {
        // Present, and none of the values.
        Filter any = condition.op() == Op::kNe ? Filter::Eq(name, condition.literals()[0])
                                               : Filter::In(name, condition.literals());
        std::optional<std::vector<const LabelSet*>> parts = UnionParts(any);
        if (!parts) return std::nullopt;
        return Restrict(index_.Present(name), scope) - UnionWithin(*parts, scope);
      }
      case Op::kContainsAll: {
        std::optional<std::vector<const LabelSet*>> sets =
            UnionParts(Filter::In(name, condition.literals()));
        if (!sets) return std::nullopt;
        if (sets->empty()) return LabelSet();
        std::sort(sets->begin(), sets->end(), [](const LabelSet* a, const LabelSet* b) {
          return a->cardinality() < b->cardinality();
        });
        LabelSet result = Restrict(*sets->front(), scope);
        for (size_t i = 1; i < sets->size() && !result.isEmpty(); ++i) result &= *(*sets)[i];
        return result;
      }
      default: {
        std::optional<std::vector<const LabelSet*>> parts = UnionParts(condition);
        if (!parts) return std::nullopt;
        return UnionWithin(*parts, scope);
      }
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
    std::optional<LabelSet> part = selector.Exact(conjunct, labels ? &*labels : nullptr);
    if (!part) {
      residual.push_back(conjunct);
      CollectAttributes(conjunct, result.unindexed_attributes);
    } else {
      labels = std::move(part);
    }
  }
  result.labels = labels ? *std::move(labels) : all_labels;
  result.residual = Filter::And(std::move(residual));
  return result;
}

}  // namespace ember::db
