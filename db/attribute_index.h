// The attribute index of a collection: for each indexed attribute, the documents (labels) holding
// each value, ordered by value so that ranges are answered by walking neighbouring values.
//
// The store's attributes column family is its durable form (one key per document and value, written
// in the same batch as the document); this class is the in-memory copy, loaded from those keys on
// open.
#ifndef EMBER_DB_ATTRIBUTE_INDEX_H_
#define EMBER_DB_ATTRIBUTE_INDEX_H_

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "db/records.h"
#include "ember/document.h"
#include "ember/options.h"
#include "roaring/roaring64map.hh"

namespace ember::db {

using LabelSet = ::Roaring64Map;

// The order-preserving encoding of `value` as a value of an attribute of `type` (part of the
// on-disk format). Ints are encoded as doubles for double attributes. nullopt when the value cannot
// be one of that type (null, another type, a non-integral double for an int attribute); for lists,
// encodes one element (a string).
std::optional<std::string> EncodeAttributeValue(AttributeType type, const Value& value);

// Thread-compatible: the collection reads it under its visibility lock and updates it exclusively.
class AttributeIndex {
 public:
  AttributeIndex(CollectionId collection, std::span<const AttributeSpec> schema);

  // The declared, indexed attribute of that name, or nullptr.
  const AttributeSpec* Find(std::string_view name) const;
  bool empty() const { return attributes_.empty(); }

  // The attributes column family keys that stand for `attributes` of document `label`.
  std::vector<std::string> EntryKeys(Label label, const Attributes& attributes) const;

  void Add(Label label, const Attributes& attributes);
  void Remove(Label label, const Attributes& attributes);
  // Adds the entry stored under `key` (a key EntryKeys made). DataLoss when it is not one.
  absl::Status Load(std::string_view key);

  // The accessors return the index's own sets (valid until the next Add, Remove or Load), so that
  // a filter can intersect them with its other conditions without copying them first.

  // Documents whose value of `name` (an element, for lists) encodes to exactly `encoded`.
  const LabelSet& Equal(std::string_view name, std::string_view encoded) const;
  // One set per value of `name` whose encoding lies in [low, high), in value order; nullopt bounds
  // are open. Their union is the documents with a value in the range.
  std::vector<const LabelSet*> Range(std::string_view name, const std::optional<std::string>& low,
                                     const std::optional<std::string>& high) const;
  // Documents with a non-null value of `name`.
  const LabelSet& Present(std::string_view name) const;
  // Approximate memory, in bytes.
  int64_t MemoryBytes() const;

 private:
  struct Postings {
    AttributeSpec spec;
    std::map<std::string, LabelSet, std::less<>> by_value;
    LabelSet present;
  };
  std::vector<std::string> EncodedValues(const Postings& postings, const Value& value) const;
  std::string KeyPrefix(std::string_view name) const;

  const CollectionId collection_;
  std::map<std::string, Postings, std::less<>> attributes_;
};

}  // namespace ember::db

#endif  // EMBER_DB_ATTRIBUTE_INDEX_H_
