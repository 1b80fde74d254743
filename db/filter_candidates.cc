#include "db/filter_candidates.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
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
  if (const std::string* text = std::get_if<std::string>(&literal)) {
    // As EncodeAttributeValue would, without copying the string into a Value first.
    if (type != AttributeType::kString && type != AttributeType::kStringList) return std::nullopt;
    std::string out;
    out.reserve(text->size() + 2);  // the terminator's two bytes; escapes are rare
    storage::AppendOrderedString(&out, *text);
    return out;
  }
  const Value value = std::visit([](const auto& v) -> Value { return v; }, literal);
  return EncodeAttributeValue(type, value);
}

bool IsNonIntegralForInt(AttributeType type, const Literal& literal) {
  const double* d = std::get_if<double>(&literal);
  return type == AttributeType::kInt && d != nullptr && std::trunc(*d) != *d;
}

// A set the selector computed, or one it uses where it lies (the index's own, `all_labels`, or the
// scope it was given) without copying it, or the increasing list of labels value-column checks
// kept, made a set only when get() is called.
class SetRef {
 public:
  SetRef() = default;
  explicit SetRef(LabelSet owned) : owned_(std::move(owned)) {}
  SetRef(SetRef&&) = default;
  SetRef& operator=(SetRef&&) = default;

  static SetRef Borrow(const LabelSet& set) {
    SetRef ref;
    ref.borrowed_ = &set;
    return ref;
  }
  // `labels` holds each label once; `sorted`: in increasing order.
  static SetRef List(std::vector<Label> labels, bool sorted) {
    SetRef ref;
    ref.list_ = std::move(labels);
    ref.listed_ = true;
    ref.sorted_ = sorted;
    return ref;
  }
  const LabelSet& get() const {
    if (borrowed_ != nullptr) return *borrowed_;
    if (listed_ && !built_) {
      if (!sorted_) std::sort(list_.begin(), list_.end());
      sorted_ = true;
      owned_ = LabelSet::FromSorted(std::span<const Label>(list_));
      built_ = true;
    }
    return owned_;
  }
  bool borrowed() const { return borrowed_ != nullptr; }
  // Hands the result to `candidates` without building a set of a list.
  void MoveTo(FilterCandidates& candidates) && {
    if (borrowed_ != nullptr) {
      candidates.borrowed = borrowed_;
    } else if (listed_) {
      candidates.list_labels = std::move(list_);
      candidates.listed = true;
      candidates.list_sorted = sorted_;
      if (built_) {
        candidates.owned = std::move(owned_);
        candidates.list_in_owned = true;
      }
    } else {
      candidates.owned = std::move(owned_);
    }
  }

 private:
  const LabelSet* borrowed_ = nullptr;
  mutable LabelSet owned_;
  mutable std::vector<Label> list_;  // sorted in place when a set is built of it
  bool listed_ = false;
  mutable bool sorted_ = false;
  mutable bool built_ = false;
};

using SetList = absl::InlinedVector<const LabelSet*, 8>;

// What a condition selects as the index holds it: the union of some values' sets, or the
// attribute's presence set (IS NOT NULL, a range open on both sides). The sets' sizes are counted
// once, when first asked for (a roaring bitmap counts its labels container by container on every
// call, and a lone condition never needs them).
struct ValueParts {
  AttributeValues values;
  const LabelSet* present = nullptr;
  // A literal no document holds (or that no value of the attribute's type can equal).
  bool missing = false;
  // `present` (when set) and the values' sets.
  SetList sets;

  static ValueParts Of(AttributeValues values, const LabelSet* present, bool missing = false) {
    ValueParts parts;
    parts.values = std::move(values);
    parts.present = present;
    parts.missing = missing;
    if (present != nullptr) parts.sets.push_back(present);
    for (const AttributeValue* value : parts.values) parts.sets.push_back(&value->labels);
    return parts;
  }
  // The sets' sizes, and their sum: the size of their union when they are disjoint (a scalar's
  // values), a bound of it otherwise.
  const absl::InlinedVector<uint64_t, 8>& sizes() const {
    if (!counted_) {
      for (const LabelSet* set : sets) {
        sizes_.push_back(set->cardinality());
        total_ += sizes_.back();
      }
      counted_ = true;
    }
    return sizes_;
  }
  uint64_t total() const {
    sizes();
    return total_;
  }

 private:
  mutable absl::InlinedVector<uint64_t, 8> sizes_;
  mutable uint64_t total_ = 0;
  mutable bool counted_ = false;
};

// A condition on a scalar attribute checked document by document through the attribute's value
// column: accepts[slot] says whether a document holding that slot's value (0: none) matches.
struct ColumnCheck {
  const ValueColumn* column = nullptr;
  absl::InlinedVector<uint8_t, 128> accepts;
};

// Rough relative costs, in units of one label handled by a bitmap operation: a value column
// look-up is a random read, about twice that; filling a check's table costs a unit per 8 slots;
// each bitmap operation has a fixed cost (allocation, container bookkeeping). Only orders of
// magnitude matter: on GloVe-sized sets (bench/filtered_bench), checking the 3,300 labels of
// `category < 10` against the percentile column took 4 us, while merely uniting the 10 value sets
// of `percentile < 10` took 40 us.
constexpr uint64_t kLookupCost = 2;
constexpr uint64_t kSlotsPerUnit = 8;
constexpr uint64_t kSetOperationCost = 64;

// Labels kept by value-column checks are gathered in a vector reserved for all of them up to this
// many (the checks may keep every one); beyond, it grows.
constexpr uint64_t kReserveLimit = 1 << 16;

// Conditions whose matches are a union of value sets (ValueParts).
bool IsUnionCondition(Op op) {
  switch (op) {
    case Op::kEq:
    case Op::kContains:
    case Op::kIn:
    case Op::kContainsAny:
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe:
    case Op::kBetween:
    case Op::kIsNotNull:
      return true;
    default:
      return false;
  }
}

// Evaluates filters over the attribute index within a scope: the documents the conditions already
// evaluated left standing (nullptr: every document). Conjunctions go from the most selective
// condition to the least, each evaluated within the previous ones' result, so that a selective
// condition is never paid for by materializing a broad one (a range over most values, say); where a
// value column can check the few documents left more cheaply than the sets can be combined, it
// does.
class CandidateSelector {
 public:
  CandidateSelector(const AttributeIndex& index, const LabelSet& all_labels)
      : index_(index), all_labels_(all_labels) {}

  int64_t column_lookups() const { return column_lookups_; }

  // The exact set a filter selects within `scope`, or nullopt when part of it cannot be answered
  // from the index. A borrowed result is the index's own set, all_labels, or `scope` itself.
  std::optional<SetRef> Exact(const Filter& filter, const LabelSet* scope = nullptr) {
    switch (filter.op()) {
      case Op::kAll:
        return SetRef::Borrow(Within(scope));
      case Op::kNone:
        return SetRef();
      case Op::kAnd:
        return And(filter.operands(), scope);
      case Op::kOr: {
        std::vector<SetRef> parts;
        parts.reserve(filter.operands().size());
        for (const Filter& operand : filter.operands()) {
          std::optional<SetRef> part = Exact(operand, scope);
          if (!part) return std::nullopt;
          parts.push_back(*std::move(part));
        }
        SetList sets;
        for (const SetRef& part : parts) sets.push_back(&part.get());
        return SetRef(LabelSet::Union(sets));
      }
      case Op::kNot: {
        std::optional<SetRef> part = Exact(filter.operands()[0], scope);
        if (!part) return std::nullopt;
        return SetRef(Within(scope) - part->get());
      }
      default: {
        const Attribute* attribute = AttributeOf(filter);
        if (attribute == nullptr) return std::nullopt;
        return Condition(filter, *attribute, scope, nullptr);
      }
    }
  }

 private:
  using Attribute = AttributeIndex::Attribute;

  // The indexed attribute a condition tests; nullptr for other nodes and unindexed attributes.
  const Attribute* AttributeOf(const Filter& filter) const {
    return filter.attribute().empty() ? nullptr : index_.Get(filter.attribute());
  }

  const LabelSet& Within(const LabelSet* scope) const {
    return scope != nullptr ? *scope : all_labels_;
  }

  std::optional<SetRef> And(const std::vector<Filter>& operands, const LabelSet* scope) {
    struct Operand {
      const Filter* filter;
      const Attribute* attribute;       // for conditions on an indexed attribute
      std::optional<ValueParts> parts;  // for conditions answered as a union of value sets
      uint64_t estimate = 0;
      bool done = false;
    };
    const uint64_t all = all_labels_.cardinality();
    absl::InlinedVector<Operand, 4> order;
    for (const Filter& operand : operands) {
      Operand entry{.filter = &operand, .attribute = AttributeOf(operand)};
      if (entry.attribute != nullptr) entry.parts = UnionParts(operand, *entry.attribute);
      entry.estimate = entry.parts ? std::min(entry.parts->total(), all) : Estimate(operand);
      order.push_back(std::move(entry));
    }
    std::stable_sort(order.begin(), order.end(),
                     [](const Operand& a, const Operand& b) { return a.estimate < b.estimate; });

    // A union of no documents: nothing else matters.
    if (!order.empty() && order[0].parts && order[0].estimate == 0) return SetRef();
    std::optional<SetRef> result;
    // The most selective condition's value sets are read label by label, and every other condition
    // a value column checks more cheaply than the sets combine is checked on each label as it
    // comes: neither the first condition's union nor theirs is ever built.
    if (scope == nullptr && !order.empty() && order[0].parts) {
      absl::InlinedVector<ColumnCheck, 2> checks;
      for (size_t i = 1; i < order.size(); ++i) {
        if (order[i].attribute == nullptr) continue;
        const ValueParts* parts = order[i].parts ? &*order[i].parts : nullptr;
        if (std::optional<ColumnCheck> check = CheaperColumnCheck(
                *order[i].filter, *order[i].attribute, parts, order[0].estimate)) {
          checks.push_back(*std::move(check));
          order[i].done = true;
        }
      }
      if (!checks.empty()) {
        const bool disjoint = order[0].attribute->spec().type != AttributeType::kStringList;
        result = Survivors(*order[0].parts, disjoint, checks);
        order[0].done = true;
      }
    }
    for (Operand& operand : order) {
      if (operand.done) continue;
      // Nothing left: the remaining conditions cannot add to it, answerable or not.
      if (result && result->get().isEmpty()) break;
      const LabelSet* within = result ? &result->get() : scope;
      std::optional<SetRef> part = operand.attribute != nullptr
                                       ? Condition(*operand.filter, *operand.attribute, within,
                                                   operand.parts ? &*operand.parts : nullptr)
                                       : Exact(*operand.filter, within);
      if (!part) return std::nullopt;
      // The scope itself, borrowed: nothing was removed (and moving it in would lose it).
      if (part->borrowed() && &part->get() == within) continue;
      result = std::move(part);
    }
    if (!result) return SetRef::Borrow(Within(scope));
    return result;
  }

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
        const Attribute* attribute = AttributeOf(filter);
        if (attribute == nullptr) return all;
        const std::optional<ValueParts> parts = UnionParts(filter, *attribute);
        return parts ? std::min(parts->total(), all) : all;
      }
    }
  }

  // The union of `parts`' sets within `scope`: each set intersected with the scope when that
  // touches fewer labels than building the union first.
  LabelSet UnionWithin(const ValueParts& parts, const LabelSet* scope) const {
    const SetList& sets = parts.sets;
    if (scope == nullptr) return LabelSet::Union(sets);
    if (sets.empty()) return LabelSet();
    if (sets.size() == 1) return *sets[0] & *scope;
    const uint64_t n = scope->cardinality();
    const uint64_t total = parts.total();
    uint64_t per_set = 0;
    for (uint64_t size : parts.sizes()) per_set += std::min(size, n) + kSetOperationCost;
    if (per_set < total + std::min(total, n) + kSetOperationCost) {
      std::vector<LabelSet> pieces;
      pieces.reserve(sets.size());
      SetList pointers;
      for (const LabelSet* set : sets) {
        pieces.push_back(*set & *scope);
        pointers.push_back(&pieces.back());
      }
      return LabelSet::Union(pointers);
    }
    LabelSet result = LabelSet::Union(sets);
    result &= *scope;
    return result;
  }

  // The documents of `driver`'s sets that pass every check. `disjoint`: no label is in two sets
  // (the values of a scalar attribute; a list's may overlap).
  SetRef Survivors(const ValueParts& driver, bool disjoint, std::span<const ColumnCheck> checks) {
    const SetList& sets = driver.sets;
    const uint64_t total = driver.total();
    column_lookups_ += static_cast<int64_t>(total);
    std::vector<Label> kept;
    kept.reserve(std::min<uint64_t>(total, kReserveLimit) + LabelSet::kBlock);
    absl::InlinedVector<size_t, 8> run_starts;
    bool sorted = true;
    for (const LabelSet* set : sets) {
      const size_t start = kept.size();
      set->ForEachBlock([&](const auto* labels, size_t n) { Keep(labels, n, checks, kept); });
      if (start > 0 && start < kept.size() && kept[start - 1] >= kept[start]) sorted = false;
      run_starts.push_back(start);
    }
    if (sorted) return SetRef::List(std::move(kept), /*sorted=*/true);
    // The sets' labels interleave. A selective filter keeps few: they go to an exact scan as they
    // are (its order does not matter), and are sorted only should a set be made of them (sorting
    // a few hundred labels took a tenth of such a search's time). Beyond that, a set per run and
    // their union.
    constexpr size_t kMaxSorted = 16384;
    if (kept.size() <= kMaxSorted) {
      if (disjoint) return SetRef::List(std::move(kept), /*sorted=*/false);
      std::sort(kept.begin(), kept.end());
      kept.erase(std::unique(kept.begin(), kept.end()), kept.end());
      return SetRef::List(std::move(kept), /*sorted=*/true);
    }
    run_starts.push_back(kept.size());
    std::vector<LabelSet> runs;
    runs.reserve(sets.size());
    SetList pointers;
    for (size_t i = 0; i + 1 < run_starts.size(); ++i) {
      runs.push_back(LabelSet::FromSorted(
          std::span<const Label>(kept).subspan(run_starts[i], run_starts[i + 1] - run_starts[i])));
      pointers.push_back(&runs.back());
    }
    return SetRef(LabelSet::Union(pointers));
  }

  // The documents of `scope` (in increasing order) that pass `check`.
  SetRef Survivors(const LabelSet& scope, const ColumnCheck& check) {
    const uint64_t total = scope.cardinality();
    column_lookups_ += static_cast<int64_t>(total);
    std::vector<Label> kept;
    kept.reserve(std::min<uint64_t>(total, kReserveLimit) + LabelSet::kBlock);
    scope.ForEachBlock([&](const auto* labels, size_t n) {
      Keep(labels, n, std::span<const ColumnCheck>(&check, 1), kept);
    });
    return SetRef::List(std::move(kept), /*sorted=*/true);
  }

  // Appends to `kept` the `labels` (at most LabelSet::kBlock) that pass every check.
  template <typename Label32or64>
  static void Keep(const Label32or64* labels, size_t n, std::span<const ColumnCheck> checks,
                   std::vector<Label>& kept) {
    // The first check reads the block as given; the others narrow what it passed, in place.
    const size_t base = kept.size();
    kept.resize(base + n);
    Label* passed = kept.data() + base;
    n = checks[0].column->Select(labels, n, checks[0].accepts.data(), passed);
    for (size_t i = 1; i < checks.size(); ++i) {
      n = checks[i].column->Select(passed, n, checks[i].accepts.data(), passed);
    }
    kept.resize(base + n);
  }

  // A check of `condition` on n documents by its attribute's value column, when that costs less
  // than combining the value sets within them; `parts` are its value sets when already known.
  std::optional<ColumnCheck> CheaperColumnCheck(const Filter& condition, const Attribute& attribute,
                                                const ValueParts* parts, uint64_t n) const {
    const ValueColumn* column = attribute.column();
    if (column == nullptr) return std::nullopt;
    const Op op = condition.op();
    std::optional<ValueParts> computed;
    if (parts == nullptr) {
      if (op == Op::kNe || op == Op::kNotIn) {
        computed = LiteralValues(condition, attribute);
      } else if (IsUnionCondition(op)) {
        computed = UnionParts(condition, attribute);
      } else if (op == Op::kIsNull) {
        computed = ValueParts::Of({}, &attribute.present());
      }
      if (!computed) return std::nullopt;
      parts = &*computed;
    }
    // Set algebra within n documents: an intersection (or difference) per set, each touching at
    // most n labels of it.
    uint64_t set_cost = 0;
    for (uint64_t size : parts->sizes()) set_cost += std::min(size, n) + kSetOperationCost;
    if (op == Op::kNe || op == Op::kNotIn) {
      set_cost += std::min<uint64_t>(attribute.present().cardinality(), n);
    }
    const uint32_t limit = column->slot_limit();
    const uint64_t column_cost = n * kLookupCost + limit / kSlotsPerUnit + parts->values.size();
    if (column_cost >= set_cost) return std::nullopt;

    ColumnCheck check{.column = column};
    // Slot 0 is "no value": for a scalar, exactly the documents where the attribute is null.
    const bool negated = op == Op::kNe || op == Op::kNotIn;
    if (parts->present != nullptr) {
      // IS NOT NULL, an open range (every value), or IS NULL (the complement).
      check.accepts.assign(limit, op == Op::kIsNull ? 0 : 1);
      check.accepts[0] = op == Op::kIsNull ? 1 : 0;
    } else {
      check.accepts.assign(limit, negated ? 1 : 0);
      check.accepts[0] = 0;
      for (const AttributeValue* value : parts->values)
        check.accepts[value->slot] = negated ? 0 : 1;
    }
    return check;
  }

  // For =, CONTAINS, IN, CONTAINS ANY (and the values != and NOT IN exclude): the literals' value
  // sets. nullopt when a literal cannot be encoded exactly.
  std::optional<ValueParts> LiteralValues(const Filter& condition,
                                          const Attribute& attribute) const {
    const AttributeSpec& spec = attribute.spec();
    std::optional<ValueParts> parts(std::in_place);
    for (const Literal& literal : condition.literals()) {
      if (IsNonIntegralForInt(spec.type, literal)) {  // no int equals it
        parts->missing = true;
        continue;
      }
      const AttributeValue* value;
      if (const std::string* text = std::get_if<std::string>(&literal);
          text != nullptr &&
          (spec.type == AttributeType::kString || spec.type == AttributeType::kStringList)) {
        value = attribute.EqualString(*text);  // no encoding needed
      } else {
        std::optional<std::string> key = EncodeLiteral(spec.type, literal);
        if (!key) return std::nullopt;
        value = attribute.Equal(*key);
      }
      if (value == nullptr) {
        parts->missing = true;
      } else {
        parts->values.push_back(value);
      }
    }
    // Filled in place: moving the values in trips GCC 12's -Wmaybe-uninitialized on absl's
    // InlinedVector.
    for (const AttributeValue* value : parts->values) parts->sets.push_back(&value->labels);
    return parts;
  }

  // For a condition whose matches are a union of the index's value sets (IsUnionCondition): those
  // sets. nullopt for other conditions, unindexed attributes, and literals the index cannot encode
  // exactly.
  std::optional<ValueParts> UnionParts(const Filter& condition, const Attribute& attribute) const {
    if (!IsUnionCondition(condition.op())) return std::nullopt;
    const AttributeType type = attribute.spec().type;
    const std::vector<Literal>& literals = condition.literals();
    // [low, high) over encoded keys; a nullopt key on a present side means "not exactly encodable".
    const auto range = [&](std::optional<Bound> low,
                           std::optional<Bound> high) -> std::optional<ValueParts> {
      if (!low || !high) return std::nullopt;
      if (!low->key && !high->key) return ValueParts::Of({}, &attribute.present());
      return ValueParts::Of(attribute.Range(low->key, high->key), nullptr);
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
        return ValueParts::Of({}, &attribute.present());
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
      default:  // =, CONTAINS, IN, CONTAINS ANY
        return LiteralValues(condition, attribute);
    }
  }

  // A condition within `scope`; `known` are its value sets when the caller has them.
  std::optional<SetRef> Condition(const Filter& condition, const Attribute& attribute,
                                  const LabelSet* scope, const ValueParts* known) {
    const Op op = condition.op();
    std::optional<ValueParts> computed;
    const ValueParts* parts = known;
    if (parts == nullptr && IsUnionCondition(op)) {
      computed = UnionParts(condition, attribute);
      if (!computed) return std::nullopt;
      parts = &*computed;
    }
    if (scope != nullptr) {
      if (std::optional<ColumnCheck> check =
              CheaperColumnCheck(condition, attribute, parts, scope->cardinality())) {
        return Survivors(*scope, *check);
      }
    }
    switch (op) {
      case Op::kIsNull:
        return SetRef(Within(scope) - attribute.present());
      case Op::kNe:
      case Op::kNotIn: {
        // Present, and none of the values.
        std::optional<ValueParts> excluded = LiteralValues(condition, attribute);
        if (!excluded) return std::nullopt;
        LabelSet present = scope != nullptr ? attribute.present() & *scope : attribute.present();
        present -= UnionWithin(*excluded, scope);
        return SetRef(std::move(present));
      }
      case Op::kContainsAll: {
        std::optional<ValueParts> values = LiteralValues(condition, attribute);
        if (!values) return std::nullopt;
        if (values->missing || values->values.empty()) return SetRef();
        SetList sets = values->sets;
        std::sort(sets.begin(), sets.end(), [](const LabelSet* a, const LabelSet* b) {
          return a->cardinality() < b->cardinality();
        });
        LabelSet result = scope != nullptr ? *sets.front() & *scope : *sets.front();
        for (size_t i = 1; i < sets.size() && !result.isEmpty(); ++i) result &= *sets[i];
        return SetRef(std::move(result));
      }
      default: {
        if (parts == nullptr) return std::nullopt;
        if (scope == nullptr) {
          if (parts->sets.size() == 1) return SetRef::Borrow(*parts->sets[0]);
          return SetRef(LabelSet::Union(parts->sets));
        }
        return SetRef(UnionWithin(*parts, scope));
      }
    }
  }

  const AttributeIndex& index_;
  const LabelSet& all_labels_;
  int64_t column_lookups_ = 0;
};

void CollectAttributes(const Filter& filter, std::set<std::string>& out) {
  if (!filter.attribute().empty()) out.insert(filter.attribute());
  for (const Filter& operand : filter.operands()) CollectAttributes(operand, out);
}

}  // namespace

const LabelSet& FilterCandidates::labels() const {
  if (borrowed != nullptr) return *borrowed;
  if (listed && !list_in_owned) {
    if (!list_sorted) std::sort(list_labels.begin(), list_labels.end());
    list_sorted = true;
    owned = LabelSet::FromSorted(std::span<const Label>(list_labels));
    list_in_owned = true;
  }
  if (!owned) owned.emplace();
  return *owned;
}

int64_t FilterCandidates::count() const {
  if (listed) return static_cast<int64_t>(list_labels.size());
  return static_cast<int64_t>(labels().cardinality());
}

FilterCandidates SelectCandidates(const Filter& filter, const AttributeIndex& index,
                                  const LabelSet& all_labels) {
  CandidateSelector selector(index, all_labels);
  FilterCandidates result;
  if (std::optional<SetRef> exact = selector.Exact(filter)) {
    std::move(*exact).MoveTo(result);
    result.column_lookups = selector.column_lookups();
    return result;
  }
  // Answer the conjuncts the index can, and leave the others to be checked per document.
  const std::vector<Filter> conjuncts =
      filter.op() == Op::kAnd ? filter.operands() : std::vector<Filter>{filter};
  std::optional<SetRef> labels;
  std::vector<Filter> residual;
  for (const Filter& conjunct : conjuncts) {
    const LabelSet* within = labels ? &labels->get() : nullptr;
    std::optional<SetRef> part = selector.Exact(conjunct, within);
    if (!part) {
      residual.push_back(conjunct);
      CollectAttributes(conjunct, result.unindexed_attributes);
    } else if (!(part->borrowed() && &part->get() == within)) {
      labels = std::move(part);
    }
  }
  (labels ? *std::move(labels) : SetRef::Borrow(all_labels)).MoveTo(result);
  result.residual = Filter::And(std::move(residual));
  result.column_lookups = selector.column_lookups();
  return result;
}

}  // namespace ember::db
