// LabelSet against std::set on random labels, below and beyond 2^32 (the 64-bit side set), and
// through each of its bulk paths (many-way and pairwise unions, sorted construction, block reads).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "db/label_set.h"

namespace ember::db {
namespace {

using Reference = std::set<uint64_t>;

std::vector<uint64_t> Iterated(const LabelSet& set) {
  std::vector<uint64_t> labels;
  for (uint64_t label : set) labels.push_back(label);
  return labels;
}

std::vector<uint64_t> Blocks(const LabelSet& set) {
  std::vector<uint64_t> labels;
  set.ForEachBlock([&](const auto* block, size_t n) {
    EXPECT_GT(n, 0u);
    EXPECT_LE(n, LabelSet::kBlock);
    labels.insert(labels.end(), block, block + n);
  });
  return labels;
}

// Checks every way of reading `set` against `reference`.
void ExpectEqual(const LabelSet& set, const Reference& reference) {
  const std::vector<uint64_t> expected(reference.begin(), reference.end());
  EXPECT_EQ(set.cardinality(), expected.size());
  EXPECT_EQ(set.isEmpty(), expected.empty());
  EXPECT_EQ(Iterated(set), expected);
  EXPECT_EQ(Blocks(set), expected);
  std::vector<int64_t> appended = {-1};
  set.AppendTo(&appended);
  ASSERT_EQ(appended.size(), expected.size() + 1);
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(static_cast<uint64_t>(appended[i + 1]), expected[i]);
  }
  EXPECT_EQ(LabelSet::FromSorted(expected), set);
}

class RandomLabels {
 public:
  explicit RandomLabels(uint32_t seed) : rng_(seed) {}

  // Mostly small labels in a few 2^16 chunks (dense and sparse), some beyond 2^32.
  uint64_t Next() {
    switch (std::uniform_int_distribution<int>(0, 9)(rng_)) {
      case 0:
        return (uint64_t{1} << 32) + Uniform(0, 5000);
      case 1:
        return (uint64_t{7} << 40) + Uniform(0, 100);
      case 2:
      case 3:
        return Uniform(0, 300000);
      default:
        return Uniform(65536, 70000);
    }
  }
  std::pair<LabelSet, Reference> Set(int n) {
    LabelSet set;
    Reference reference;
    for (int i = 0; i < n; ++i) {
      const uint64_t label = Next();
      set.add(label);
      reference.insert(label);
    }
    return {std::move(set), std::move(reference)};
  }
  uint64_t Uniform(uint64_t low, uint64_t high) {
    return std::uniform_int_distribution<uint64_t>(low, high)(rng_);
  }

 private:
  std::mt19937_64 rng_;
};

TEST(LabelSetTest, EmptySet) {
  const LabelSet empty;
  ExpectEqual(empty, {});
  EXPECT_FALSE(empty.contains(0));
  EXPECT_FALSE(empty.contains(uint64_t{1} << 33));
  EXPECT_TRUE(empty.begin() == empty.end());
  EXPECT_EQ(LabelSet::Union({}), empty);
}

TEST(LabelSetTest, AddRemoveContainsAcrossTheSplit) {
  RandomLabels random(1);
  LabelSet set;
  Reference reference;
  for (int i = 0; i < 20000; ++i) {
    const uint64_t label = random.Next();
    if (random.Uniform(0, 2) == 0) {
      set.remove(label);
      reference.erase(label);
    } else {
      set.add(label);
      reference.insert(label);
    }
    ASSERT_EQ(set.contains(label), reference.count(label) > 0) << label;
  }
  ExpectEqual(set, reference);
  for (uint64_t label : {uint64_t{0}, uint64_t{UINT32_MAX}, uint64_t{1} << 32, UINT64_MAX}) {
    set.add(label);
    reference.insert(label);
  }
  ExpectEqual(set, reference);
  EXPECT_TRUE(set.contains(UINT64_MAX));
}

TEST(LabelSetTest, AlgebraMatchesReference) {
  RandomLabels random(2);
  for (int trial = 0; trial < 50; ++trial) {
    auto [a, ra] = random.Set(static_cast<int>(random.Uniform(0, 3000)));
    auto [b, rb] = random.Set(static_cast<int>(random.Uniform(0, 3000)));
    Reference both, either = ra, only_a;
    for (uint64_t x : ra) (rb.count(x) ? both : only_a).insert(x);
    either.insert(rb.begin(), rb.end());
    ExpectEqual(a & b, both);
    ExpectEqual(a - b, only_a);
    ExpectEqual(a | b, either);
    LabelSet c = a;
    c &= b;
    ExpectEqual(c, both);
    c = a;
    c -= b;
    ExpectEqual(c, only_a);
    c = a;
    c |= b;
    ExpectEqual(c, either);
    EXPECT_EQ(a == b, ra == rb);
    EXPECT_TRUE(a == LabelSet(a));
  }
}

TEST(LabelSetTest, UnionOfManySetsTakesEitherPath) {
  RandomLabels random(3);
  // Few small sets (pairwise unions), then many large ones (CRoaring's many-way union).
  for (int sets : {2, 3, 10, 60}) {
    for (int size : {10, 5000}) {
      std::vector<LabelSet> parts;
      Reference reference;
      for (int i = 0; i < sets; ++i) {
        auto [set, labels] = random.Set(size);
        parts.push_back(std::move(set));
        reference.insert(labels.begin(), labels.end());
      }
      std::vector<const LabelSet*> pointers;
      for (const LabelSet& part : parts) pointers.push_back(&part);
      ExpectEqual(LabelSet::Union(pointers), reference);
    }
  }
}

TEST(LabelSetTest, FromSortedAcceptsRepeats) {
  const std::vector<uint64_t> labels = {
      1, 1, 2, 70000, 70000, uint64_t{1} << 35, uint64_t{1} << 35};
  ExpectEqual(LabelSet::FromSorted(labels), {1, 2, 70000, uint64_t{1} << 35});
  // More than one block of 32-bit labels.
  std::vector<uint64_t> many(1000);
  for (size_t i = 0; i < many.size(); ++i) many[i] = 3 * i;
  ExpectEqual(LabelSet::FromSorted(many), Reference(many.begin(), many.end()));
}

}  // namespace
}  // namespace ember::db
