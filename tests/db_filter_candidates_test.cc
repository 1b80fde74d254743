// Index-based filter evaluation against the reference semantics (db::Matches on every document), on
// random documents and random filters, with the attribute index in memory and reloaded from its keys.
#include "db/filter_candidates.h"

#include <algorithm>
#include <functional>
#include <map>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "db/filter_eval.h"

namespace ember::db {
namespace {

const std::vector<AttributeSpec> kSchema = {
    {"year", AttributeType::kInt},          {"price", AttributeType::kDouble},
    {"country", AttributeType::kString},    {"tags", AttributeType::kStringList},
    {"flag", AttributeType::kBool},         {"notes", AttributeType::kString, /*indexed=*/false},
};
const std::vector<std::string> kWords = {"", "a", "b", "india", "india\0x", "us", "\xff"};

class RandomFilters {
 public:
  explicit RandomFilters(uint32_t seed) : rng_(seed) {}

  Attributes RandomAttributes() {
    Attributes attributes;
    if (Chance(0.8)) attributes["year"] = int64_t{Uniform(-5, 5)};
    if (Chance(0.8)) attributes["price"] = Uniform(-4, 4) / 2.0;
    if (Chance(0.1)) attributes["price"] = int64_t{Uniform(-2, 2)};
    if (Chance(0.8)) attributes["country"] = Word();
    if (Chance(0.8)) {
      std::vector<std::string> tags;
      for (int i = Uniform(0, 3); i > 0; --i) tags.push_back(Word());
      attributes["tags"] = tags;
    }
    if (Chance(0.7)) attributes["flag"] = Chance(0.5);
    if (Chance(0.5)) attributes["notes"] = Word();
    if (Chance(0.5)) attributes["free"] = int64_t{Uniform(0, 3)};
    if (Chance(0.1)) attributes["year"] = std::monostate{};
    return attributes;
  }

  Filter RandomFilter(int depth) {
    if (depth > 0 && Chance(0.4)) {
      switch (Uniform(0, 2)) {
        case 0:
          return Filter::And(RandomFilter(depth - 1), RandomFilter(depth - 1));
        case 1:
          return Filter::Or(RandomFilter(depth - 1), RandomFilter(depth - 1));
        default:
          return Filter::Not(RandomFilter(depth - 1));
      }
    }
    const std::string attribute = kSchema[Uniform(0, kSchema.size() - 1)].name;
    if (Chance(0.1)) return Chance(0.5) ? Filter::IsNull(attribute) : Filter::IsNotNull(attribute);
    if (attribute == "tags") {
      switch (Uniform(0, 2)) {
        case 0:
          return Filter::Contains(attribute, Word());
        case 1:
          return Filter::ContainsAny(attribute, {Word(), Word()});
        default:
          return Filter::ContainsAll(attribute, {Word(), Word()});
      }
    }
    const auto literal = [&]() -> Literal {
      if (attribute == "flag") return Chance(0.5);
      if (attribute == "country" || attribute == "notes") return Word();
      // Ints and doubles, integral and not, on both numeric attributes.
      if (Chance(0.5)) return int64_t{Uniform(-6, 6)};
      return Uniform(-12, 12) / 2.0;
    };
    if (attribute == "flag") {
      switch (Uniform(0, 3)) {
        case 0:
          return Filter::Eq(attribute, literal());
        case 1:
          return Filter::Ne(attribute, literal());
        case 2:
          return Filter::In(attribute, {literal()});
        default:
          return Filter::NotIn(attribute, {literal()});
      }
    }
    switch (Uniform(0, 8)) {
      case 0:
        return Filter::Eq(attribute, literal());
      case 1:
        return Filter::Ne(attribute, literal());
      case 2:
        return Filter::Lt(attribute, literal());
      case 3:
        return Filter::Le(attribute, literal());
      case 4:
        return Filter::Gt(attribute, literal());
      case 5:
        return Filter::Ge(attribute, literal());
      case 6:
        return Filter::In(attribute, {literal(), literal(), literal()});
      case 7:
        return Filter::NotIn(attribute, {literal(), literal()});
      default:
        return Filter::Between(attribute, literal(), literal());
    }
  }

 private:
  bool Chance(double p) { return std::bernoulli_distribution(p)(rng_); }
  int Uniform(int low, int high) { return std::uniform_int_distribution<int>(low, high)(rng_); }
  std::string Word() { return kWords[Uniform(0, kWords.size() - 1)]; }

  std::mt19937 rng_;
};

std::vector<uint64_t> Sorted(const LabelSet& labels) {
  std::vector<uint64_t> out;
  for (uint64_t label : labels) out.push_back(label);
  return out;
}

// Builds an index over random documents at the labels `label_of` gives them (and the same index
// reloaded from its keys, both with a third of the documents replaced), then compares 3,000 random
// filters with direct evaluation. Returns how many filters used value columns.
int CheckRandomFilters(uint32_t seed, size_t count, const std::function<uint64_t(size_t)>& label_of) {
  RandomFilters random(seed);
  std::vector<Attributes> documents(count);
  AttributeIndex index(7, kSchema);
  LabelSet all_labels;
  for (size_t i = 0; i < documents.size(); ++i) {
    documents[i] = random.RandomAttributes();
    index.Add(label_of(i), documents[i]);
    all_labels.add(label_of(i));
  }
  // The same index, reloaded from its durable keys, and with a third of the documents replaced.
  AttributeIndex reloaded(7, kSchema);
  for (size_t i = 0; i < documents.size(); ++i) {
    for (const std::string& key : index.EntryKeys(label_of(i), documents[i])) {
      EXPECT_TRUE(reloaded.Load(key).ok());
    }
  }
  for (size_t i = 0; i < documents.size(); i += 3) {
    const Attributes replacement = random.RandomAttributes();
    index.Remove(label_of(i), documents[i]);
    reloaded.Remove(label_of(i), documents[i]);
    documents[i] = replacement;
    index.Add(label_of(i), replacement);
    reloaded.Add(label_of(i), replacement);
  }

  std::map<uint64_t, size_t> row_of;
  for (size_t i = 0; i < documents.size(); ++i) row_of[label_of(i)] = i;

  int with_residual = 0, with_columns = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    const Filter filter = random.RandomFilter(3);
    std::vector<uint64_t> expected;
    for (size_t i = 0; i < documents.size(); ++i) {
      if (Matches(filter, documents[i])) expected.push_back(label_of(i));
    }
    std::sort(expected.begin(), expected.end());
    for (const AttributeIndex* which : {&index, &reloaded}) {
      const FilterCandidates candidates = SelectCandidates(filter, *which, all_labels);
      std::vector<uint64_t> selected;
      for (uint64_t label : candidates.labels()) {
        const auto row = row_of.find(label);
        EXPECT_NE(row, row_of.end()) << label;
        if (row != row_of.end() && Matches(candidates.residual, documents[row->second])) {
          selected.push_back(label);
        }
      }
      EXPECT_EQ(selected, expected) << filter.ToString();
      if (selected != expected) return -1;
      if (candidates.residual.op() == Filter::Op::kAll) {
        EXPECT_TRUE(candidates.unindexed_attributes.empty());
        EXPECT_EQ(Sorted(candidates.labels()), expected) << filter.ToString();
      } else {
        ++with_residual;
        EXPECT_FALSE(candidates.unindexed_attributes.empty()) << filter.ToString();
      }
      with_columns += candidates.column_lookups > 0;
    }
  }
  // Both paths were exercised.
  EXPECT_GT(with_residual, 100);
  EXPECT_LT(with_residual, 5000);
  return with_columns;
}

TEST(FilterCandidatesTest, AgreesWithDirectEvaluationOnRandomFilters) {
  const int with_columns = CheckRandomFilters(42, 600, [](size_t i) { return uint64_t{i}; });
  // Conjunctions checked in value columns (in 328 of the 6,000 evaluations), and set algebra
  // alone, were both exercised.
  EXPECT_GT(with_columns, 100);
  EXPECT_LT(with_columns, 3000);
}

TEST(FilterCandidatesTest, AgreesOnSparseLabelsAndLabelsBeyondTheColumns) {
  // Labels spread over many column pages, some beyond 2^32 (the label sets' 64-bit side).
  EXPECT_GT(CheckRandomFilters(43, 400,
                               [](size_t i) {
                                 return i % 5 == 0 ? (uint64_t{1} << 32) + i : uint64_t{i} * 5003;
                               }),
            100);
  // Labels beyond 2^40 cannot be paged: the columns give up and set algebra answers alone.
  EXPECT_EQ(CheckRandomFilters(44, 300,
                               [](size_t i) {
                                 return i % 7 == 0 ? (uint64_t{1} << 41) + i : uint64_t{i};
                               }),
            0);
}

TEST(FilterCandidatesTest, EmptyListIsPresentAfterReload) {
  AttributeIndex index(1, kSchema);
  const Attributes empty_tags = {{"tags", std::vector<std::string>{}}};
  for (const std::string& key : index.EntryKeys(5, empty_tags)) ASSERT_TRUE(index.Load(key).ok());
  LabelSet all;
  all.add(uint64_t{5});
  EXPECT_EQ(SelectCandidates(Filter::IsNotNull("tags"), index, all).labels().cardinality(), 1u);
  EXPECT_EQ(SelectCandidates(Filter::IsNull("tags"), index, all).labels().cardinality(), 0u);
}

TEST(FilterCandidatesTest, RejectsKeysOfOtherCollections) {
  AttributeIndex index(1, kSchema);
  AttributeIndex other(2, kSchema);
  const std::vector<std::string> keys = other.EntryKeys(3, {{"year", int64_t{1}}});
  ASSERT_EQ(keys.size(), 1u);
  EXPECT_FALSE(index.Load(keys[0]).ok());
  EXPECT_FALSE(index.Load("junk").ok());
}

}  // namespace
}  // namespace ember::db
