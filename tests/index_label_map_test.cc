// LabelMap against std::map: puts, replacements and erases of small (paged) and other (hashed)
// labels, pages freed when their last label goes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <random>

#include "index/label_map.h"

namespace ember::index {
namespace {

TEST(LabelMapTest, MatchesReferenceMap) {
  std::mt19937_64 rng(9);
  const auto random_label = [&]() -> Label {
    switch (std::uniform_int_distribution<int>(0, 5)(rng)) {
      case 0:
        return -std::uniform_int_distribution<Label>(1, 1000)(rng);
      case 1:
        return (Label{1} << 32) + std::uniform_int_distribution<Label>(0, 1000)(rng);
      case 2:
        return std::uniform_int_distribution<Label>(0, 5000000)(rng);
      default:
        return std::uniform_int_distribution<Label>(0, 20000)(rng);
    }
  };
  LabelMap map;
  std::map<Label, int32_t> reference;
  for (int step = 0; step < 200000; ++step) {
    const Label label = random_label();
    const auto it = reference.find(label);
    const int32_t expected = it == reference.end() ? LabelMap::kAbsent : it->second;
    if (std::uniform_int_distribution<int>(0, 2)(rng) == 0) {
      ASSERT_EQ(map.Erase(label), expected) << label;
      reference.erase(label);
    } else {
      const int32_t position = std::uniform_int_distribution<int32_t>(0, 1 << 30)(rng);
      ASSERT_EQ(map.Put(label, position), expected) << label;
      reference[label] = position;
    }
    ASSERT_EQ(map.size(), reference.size());
  }
  for (const auto& [label, position] : reference) {
    ASSERT_EQ(map.Find(label), position) << label;
    ASSERT_TRUE(map.contains(label));
  }
  for (Label label : {Label{-7}, Label{0}, Label{123456789}, std::numeric_limits<Label>::max()}) {
    EXPECT_EQ(map.contains(label), reference.count(label) > 0);
  }
  map.Clear();
  EXPECT_TRUE(map.empty());
  EXPECT_EQ(map.Find(reference.begin()->first), LabelMap::kAbsent);
}

TEST(LabelMapTest, PagesGoWithTheirLastLabel) {
  LabelMap map;
  const int64_t empty = map.MemoryBytes();
  for (Label label = 0; label < 100000; ++label) map.Put(label, static_cast<int32_t>(label));
  const int64_t full = map.MemoryBytes();
  EXPECT_GE(full, empty + 100000 * 4);
  EXPECT_LT(full, 100000 * 5);  // 4 bytes a label, and the page directory
  for (Label label = 0; label < 100000; ++label) ASSERT_EQ(map.Erase(label), label);
  EXPECT_TRUE(map.empty());
  EXPECT_LT(map.MemoryBytes(), full / 10);
}

}  // namespace
}  // namespace ember::index
