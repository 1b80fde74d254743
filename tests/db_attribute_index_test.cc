// The attribute index's value columns against its value sets: after random adds, removes and
// reloads, every scalar attribute's column gives each document the slot of the one value whose set
// holds it (0 for none), through slot widening and page freeing.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "db/attribute_index.h"

namespace ember::db {
namespace {

const std::vector<AttributeSpec> kSchema = {
    {"year", AttributeType::kInt},       {"price", AttributeType::kDouble},
    {"country", AttributeType::kString}, {"tags", AttributeType::kStringList},
    {"flag", AttributeType::kBool},      {"notes", AttributeType::kString, /*indexed=*/false},
};
const char* const kScalars[] = {"year", "price", "country", "flag"};

// Checks the column of every scalar attribute against its value sets for `labels`.
void ExpectColumnsAgree(const AttributeIndex& index, const std::vector<uint64_t>& labels) {
  for (const char* name : kScalars) {
    SCOPED_TRACE(name);
    const ValueColumn* column = index.Column(name);
    ASSERT_NE(column, nullptr);
    std::map<uint32_t, const AttributeValue*> value_of_slot;
    for (const AttributeValue* value : index.Range(name, std::nullopt, std::nullopt)) {
      ASSERT_GT(value->slot, 0u);
      ASSERT_LT(value->slot, column->slot_limit());
      ASSERT_TRUE(value_of_slot.emplace(value->slot, value).second) << "slot shared";
    }
    for (uint64_t label : labels) {
      const uint32_t slot = column->SlotOf(label);
      ASSERT_EQ(slot != 0, index.Present(name).contains(label)) << label;
      if (slot == 0) continue;
      ASSERT_TRUE(value_of_slot.count(slot)) << label;
      ASSERT_TRUE(value_of_slot[slot]->labels.contains(label)) << label;
    }
  }
  EXPECT_EQ(index.Column("tags"), nullptr);   // lists have none
  EXPECT_EQ(index.Column("notes"), nullptr);  // not indexed
}

Attributes RandomAttributes(std::mt19937& rng) {
  const auto chance = [&](double p) { return std::bernoulli_distribution(p)(rng); };
  const auto uniform = [&](int low, int high) {
    return std::uniform_int_distribution<int>(low, high)(rng);
  };
  Attributes attributes;
  if (chance(0.8)) attributes["year"] = int64_t{uniform(1990, 2030)};
  if (chance(0.8)) attributes["price"] = uniform(0, 400) / 4.0;
  if (chance(0.8)) attributes["country"] = std::string(1, static_cast<char>('a' + uniform(0, 9)));
  if (chance(0.5)) attributes["tags"] = std::vector<std::string>{"x", "y"};
  if (chance(0.7)) attributes["flag"] = chance(0.5);
  if (chance(0.1)) attributes["year"] = std::monostate{};
  return attributes;
}

TEST(AttributeIndexTest, ColumnsAgreeWithValueSetsThroughWritesAndReload) {
  std::mt19937 rng(7);
  // Labels spread over several column pages, with gaps.
  std::vector<uint64_t> labels;
  for (uint64_t i = 0; i < 3000; ++i) labels.push_back(i < 2000 ? i : i * 37);
  std::map<uint64_t, Attributes> documents;
  AttributeIndex index(3, kSchema);
  for (uint64_t label : labels) {
    documents[label] = RandomAttributes(rng);
    index.Add(label, documents[label]);
  }
  ExpectColumnsAgree(index, labels);

  // Replace and delete (values disappear, their slots are reused by new ones).
  for (int round = 0; round < 3; ++round) {
    for (uint64_t label : labels) {
      if (std::uniform_int_distribution<int>(0, 3)(rng) != 0) continue;
      index.Remove(label, documents[label]);
      if (std::bernoulli_distribution(0.3)(rng)) {
        documents.erase(label);
      } else {
        Attributes replacement = RandomAttributes(rng);
        if (replacement.count("country")) {
          replacement["country"] = "new " + std::to_string(round);
        }
        documents[label] = replacement;
        index.Add(label, replacement);
      }
    }
    ExpectColumnsAgree(index, labels);
  }

  // Reloaded from the durable keys.
  AttributeIndex reloaded(3, kSchema);
  for (const auto& [label, attributes] : documents) {
    for (const std::string& key : reloaded.EntryKeys(label, attributes)) {
      ASSERT_TRUE(reloaded.Load(key).ok());
    }
  }
  ExpectColumnsAgree(reloaded, labels);
}

TEST(AttributeIndexTest, SlotsWidenPastOneAndTwoBytes) {
  AttributeIndex index(3, kSchema);
  std::vector<uint64_t> labels;
  // 70,000 distinct years: slots outgrow one byte, then two.
  for (uint64_t label = 0; label < 70000; ++label) {
    labels.push_back(label * 3);
    index.Add(
        label * 3,
        {{"year", static_cast<int64_t>(label)}, {"price", 1.5}, {"country", "c"}, {"flag", true}});
    if (label == 200 || label == 1000) ExpectColumnsAgree(index, labels);
  }
  ExpectColumnsAgree(index, labels);
  EXPECT_GE(index.Column("year")->slot_limit(), 70001u);
  EXPECT_EQ(index.Column("price")->slot_limit(), 2u);
  for (uint64_t label = 0; label < 70000; ++label) {
    ASSERT_EQ(
        index.Column("year")->SlotOf(label * 3),
        index
            .Equal("year", *EncodeAttributeValue(AttributeType::kInt, static_cast<int64_t>(label)))
            ->slot);
  }
}

TEST(AttributeIndexTest, RemovingDocumentsFreesColumnPages) {
  AttributeIndex index(3, kSchema);
  const int64_t empty = index.MemoryBytes();
  const Attributes attributes = {{"year", int64_t{2000}}, {"country", "x"}};
  for (uint64_t label = 0; label < 50000; ++label) index.Add(label, attributes);
  const int64_t full = index.MemoryBytes();
  EXPECT_GT(full, empty + 2 * 50000);  // two one-byte columns at least
  for (uint64_t label = 0; label < 50000; ++label) index.Remove(label, attributes);
  EXPECT_EQ(index.Column("year")->SlotOf(7), 0u);
  EXPECT_EQ(index.Equal("year", *EncodeAttributeValue(AttributeType::kInt, int64_t{2000})),
            nullptr);
  // The page directory may keep its capacity; the pages are gone.
  EXPECT_LT(index.MemoryBytes(), empty + 4096);
}

TEST(AttributeIndexTest, LabelsBeyondTheColumnsDisableThem) {
  AttributeIndex index(3, kSchema);
  index.Add(5, {{"year", int64_t{1}}});
  ASSERT_NE(index.Column("year"), nullptr);
  index.Add(uint64_t{1} << 41, {{"year", int64_t{1}}});
  // The value sets still hold both; the column cannot, and says so by being absent.
  EXPECT_EQ(index.Column("year"), nullptr);
  EXPECT_EQ(index.Equal("year", *EncodeAttributeValue(AttributeType::kInt, int64_t{1}))
                ->labels.cardinality(),
            2u);
}

TEST(AttributeIndexTest, StringValuesAreFoundByTheirText) {
  AttributeIndex index(3, kSchema);
  // A NUL inside the value: the encoding escapes it, the hash key keeps it.
  const std::string india_text("in\0dia", 6);
  index.Add(1, {{"country", india_text}, {"tags", std::vector<std::string>{"x", "y"}}});
  index.Add(2, {{"country", "us"}, {"tags", std::vector<std::string>{"y"}}, {"year", int64_t{7}}});
  const AttributeIndex::Attribute* country = index.Get("country");
  ASSERT_NE(country, nullptr);
  const AttributeValue* india = country->EqualString(india_text);
  ASSERT_NE(india, nullptr);
  EXPECT_EQ(india, country->Equal(*EncodeAttributeValue(AttributeType::kString, india_text)));
  EXPECT_TRUE(india->labels.contains(1));
  EXPECT_EQ(country->EqualString("in"), nullptr);
  EXPECT_EQ(index.Get("tags")->EqualString("y")->labels.cardinality(), 2u);
  EXPECT_EQ(index.Get("year")->EqualString("7"), nullptr);  // not a string attribute
  EXPECT_EQ(index.Get("notes"), nullptr);

  // Removing the last document of a value forgets it under both keys.
  index.Remove(1, {{"country", india_text}, {"tags", std::vector<std::string>{"x", "y"}}});
  EXPECT_EQ(country->EqualString(india_text), nullptr);
  EXPECT_EQ(index.Get("tags")->EqualString("x"), nullptr);
  EXPECT_EQ(index.Get("tags")->EqualString("y")->labels.cardinality(), 1u);
}

TEST(AttributeIndexTest, LoadRejectsAStringValueThatDoesNotDecode) {
  AttributeIndex index(3, kSchema);
  const std::string encoded = *EncodeAttributeValue(AttributeType::kString, std::string("ab"));
  std::vector<std::string> keys = index.EntryKeys(4, {{"country", "ab"}});
  ASSERT_EQ(keys.size(), 1u);
  std::string key = keys[0];
  const size_t at = key.find(encoded);
  ASSERT_NE(at, std::string::npos);
  key.replace(at, encoded.size(), "ab");  // no terminator
  EXPECT_EQ(index.Load(key).code(), absl::StatusCode::kDataLoss);
  EXPECT_TRUE(index.Load(keys[0]).ok());
  EXPECT_NE(index.Get("country")->EqualString("ab"), nullptr);
}

}  // namespace
}  // namespace ember::db
