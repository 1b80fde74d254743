// The attribute index of a collection: for each indexed attribute, the documents (labels) holding
// each value, ordered by value so that ranges are answered by walking neighbouring values, and for
// each scalar attribute the value each document holds (ValueColumn).
//
// The store's attributes column family is its durable form (one key per document and value, written
// in the same batch as the document); this class is the in-memory copy, loaded from those keys on
// open.
#ifndef EMBER_DB_ATTRIBUTE_INDEX_H_
#define EMBER_DB_ATTRIBUTE_INDEX_H_

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "db/label_set.h"
#include "db/records.h"
#include "ember/document.h"
#include "ember/options.h"

namespace ember::db {

// The order-preserving encoding of `value` as a value of an attribute of `type` (part of the
// on-disk format). Ints are encoded as doubles for double attributes. nullopt when the value cannot
// be one of that type (null, another type, a non-integral double for an int attribute); for lists,
// encodes one element (a string).
std::optional<std::string> EncodeAttributeValue(AttributeType type, const Value& value);

// One value of an indexed attribute: the documents holding it and, for a scalar attribute (not a
// list), the slot that stands for the value in the attribute's ValueColumn.
struct AttributeValue {
  LabelSet labels;
  uint32_t slot = 0;
};

// The values of a condition, as the index's own entries (valid until the next Add, Remove or Load).
using AttributeValues = absl::InlinedVector<const AttributeValue*, 8>;

// The forward index of a scalar attribute: label -> the slot of the value the document holds (0:
// none). It lets a filter check a condition on a few documents by looking their values up, instead
// of building the union of the value sets the condition selects (a range over many values, say).
// Labels are paged, 4,096 to a page; a page exists while one of its labels holds a value, so memory
// follows the labels in use (labels are never reused, and deleted documents free their pages).
// Slots take one byte while the attribute has at most 255 distinct values, two up to 65,535, four
// beyond: the column of a typical filter attribute (a category, a year) then stays in the CPU's
// cache, and a look-up costs a cache hit rather than a miss.
class ValueColumn {
 public:
  // The slot of `label`'s value, or 0.
  uint32_t SlotOf(uint64_t label) const {
    return ReadSlot(PageOf(label), label & kPageMask, width_);
  }
  // One more than any slot a label holds: the size of a table indexed by slot.
  uint32_t slot_limit() const { return next_slot_; }
  // Writes to `out`, in order, the labels of labels[0, n) whose slot `accepts` (a table of
  // slot_limit() entries of 0 or 1) marks 1, and returns how many. `out` may be `labels`. Every
  // label is written and the count advanced by the verdict, without a branch to mispredict, so that
  // the look-ups of neighbouring labels overlap.
  template <typename In, typename Out>
  size_t Select(const In* labels, size_t n, const uint8_t* accepts, Out* out) const {
    switch (width_) {
      case 1:
        return SelectAs<uint8_t>(labels, n, accepts, out);
      case 2:
        return SelectAs<uint16_t>(labels, n, accepts, out);
      default:
        return SelectAs<uint32_t>(labels, n, accepts, out);
    }
  }
  int64_t MemoryBytes() const;

 private:
  friend class AttributeIndex;
  static constexpr int kPageBits = 12;
  static constexpr uint64_t kPageLabels = uint64_t{1} << kPageBits;
  static constexpr uint64_t kPageMask = kPageLabels - 1;
  // Labels beyond this (2^40, a thousand billion upserts) are not paged: the column stops being
  // complete and filters use the value sets alone.
  static constexpr uint64_t kMaxPages = uint64_t{1} << 28;
  // Sixteen kilobytes of zeros: the slots of every label whose page holds no value.
  static const uint8_t* ZeroPage();
  // The slots of `label`'s page. Without a branch: pages without values, and labels past the last
  // page (the directory's final entry), read ZeroPage().
  const uint8_t* PageOf(uint64_t label) const {
    return directory_[std::min<uint64_t>(label >> kPageBits, directory_.size() - 1)];
  }

  static uint32_t ReadSlot(const uint8_t* data, uint64_t i, int width) {
    switch (width) {
      case 1:
        return data[i];
      case 2: {
        uint16_t slot;
        std::memcpy(&slot, data + 2 * i, sizeof(slot));
        return slot;
      }
      default: {
        uint32_t slot;
        std::memcpy(&slot, data + 4 * i, sizeof(slot));
        return slot;
      }
    }
  }
  static void WriteSlot(uint8_t* data, uint64_t i, uint32_t slot, int width);
  template <typename Slot, typename In, typename Out>
  size_t SelectAs(const In* labels, size_t n, const uint8_t* accepts, Out* out) const {
    const uint8_t* const* directory = directory_.data();
    const uint64_t last = directory_.size() - 1;
    size_t count = 0;
    for (size_t i = 0; i < n; ++i) {
      const uint64_t label = static_cast<uint64_t>(labels[i]);
      const uint8_t* page = directory[std::min<uint64_t>(label >> kPageBits, last)];
      Slot slot;
      std::memcpy(&slot, page + sizeof(Slot) * (label & kPageMask), sizeof(Slot));
      out[count] = static_cast<Out>(label);
      count += accepts[slot];
    }
    return count;
  }
  void Set(uint64_t label, uint32_t slot);
  uint32_t AllocateSlot();
  void FreeSlot(uint32_t slot) { free_slots_.push_back(slot); }
  // Rewrites every page with slots of `width` bytes.
  void Widen(int width);

  // directory_[p]: page p's slots (pages_[p]), or ZeroPage() while none of its labels holds a
  // value; one entry more than pages_, always ZeroPage().
  std::vector<const uint8_t*> directory_ = {ZeroPage()};
  std::vector<std::unique_ptr<uint8_t[]>> pages_;  // kPageLabels slots of width_ bytes each
  std::vector<uint32_t> used_;                     // non-zero slots per page
  int width_ = 1;
  uint32_t next_slot_ = 1;
  std::vector<uint32_t> free_slots_;
  // False once a label could not be recorded (see kMaxPages) or a document was present without a
  // value: then the column may disagree with the value sets, and is not offered.
  bool complete_ = true;
};

// Thread-compatible: the collection reads it under its visibility lock and updates it exclusively.
class AttributeIndex {
 public:
  // One indexed attribute's entries. The accessors return the index's own sets and entries (valid
  // until the next Add, Remove or Load), so that a filter can combine them with its other
  // conditions without copying them.
  class Attribute {
   public:
    const AttributeSpec& spec() const { return spec_; }
    // The documents whose value (an element, for lists) encodes to exactly `encoded`, or nullptr
    // when there are none.
    const AttributeValue* Equal(std::string_view encoded) const;
    // For string and list attributes: the documents whose value (an element, for lists) is
    // exactly `value`, or nullptr. Saves encoding it: filters mostly compare strings for equality.
    const AttributeValue* EqualString(std::string_view value) const;
    // The values whose encoding lies in [low, high), in value order; nullopt bounds are open.
    // Their sets' union is the documents with a value in the range.
    AttributeValues Range(const std::optional<std::string>& low,
                          const std::optional<std::string>& high) const;
    // Documents with a non-null value. For a scalar attribute, exactly the documents whose
    // ValueColumn slot is not 0.
    const LabelSet& present() const { return present_; }
    // The value column of a scalar attribute; nullptr for lists, and when it is not complete.
    const ValueColumn* column() const {
      return spec_.type == AttributeType::kStringList || !column_.complete_ ? nullptr : &column_;
    }

   private:
    friend class AttributeIndex;
    AttributeSpec spec_;
    std::map<std::string, AttributeValue, std::less<>> by_value_;
    // The same entries by hash, for equality: an ordered look-up costs a string comparison per
    // level of the tree, a cache miss each when the index is cold. Keyed by HashKey(): the string
    // itself for string and list attributes, the encoding for others.
    absl::flat_hash_map<std::string, AttributeValue*> by_hash_;
    bool strings() const {
      return spec_.type == AttributeType::kString || spec_.type == AttributeType::kStringList;
    }
    // nullopt for a string attribute's encoding that does not decode.
    std::optional<std::string> HashKey(std::string_view encoded) const;
    LabelSet present_;
    ValueColumn column_;  // scalar attributes only
  };

  AttributeIndex(CollectionId collection, std::span<const AttributeSpec> schema);

  // The declared, indexed attribute of that name, or nullptr. Look it up once and use its
  // accessors: each call below looks it up again.
  const Attribute* Get(std::string_view name) const;
  // Its declared spec, or nullptr.
  const AttributeSpec* Find(std::string_view name) const;
  bool empty() const { return attributes_.empty(); }

  // The attributes column family keys that stand for `attributes` of document `label`.
  std::vector<std::string> EntryKeys(Label label, const Attributes& attributes) const;

  void Add(Label label, const Attributes& attributes);
  void Remove(Label label, const Attributes& attributes);
  // Adds the entry stored under `key` (a key EntryKeys made). DataLoss when it is not one.
  absl::Status Load(std::string_view key);

  // Attribute's accessors by name; attributes not indexed have no values and no column.
  const AttributeValue* Equal(std::string_view name, std::string_view encoded) const;
  AttributeValues Range(std::string_view name, const std::optional<std::string>& low,
                        const std::optional<std::string>& high) const;
  const LabelSet& Present(std::string_view name) const;
  const ValueColumn* Column(std::string_view name) const;
  // Approximate memory, in bytes.
  int64_t MemoryBytes() const;

 private:
  std::vector<std::string> EncodedValues(const Attribute& attribute, const Value& value) const;
  std::string KeyPrefix(std::string_view name) const;
  // Records that `label` holds the value encoded as `encoded`.
  static void AddValue(Attribute& attribute, std::string_view encoded, Label label);

  const CollectionId collection_;
  std::map<std::string, Attribute, std::less<>> attributes_;
};

}  // namespace ember::db

#endif  // EMBER_DB_ATTRIBUTE_INDEX_H_
