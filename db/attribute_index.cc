#include "db/attribute_index.h"

#include <algorithm>
#include <cmath>

#include "storage/key_encoding.h"

namespace ember::db {

std::optional<std::string> EncodeAttributeValue(AttributeType type, const Value& value) {
  std::string out;
  switch (type) {
    case AttributeType::kBool:
      if (const bool* b = std::get_if<bool>(&value)) {
        out.push_back(*b ? 1 : 0);
        return out;
      }
      return std::nullopt;
    case AttributeType::kInt:
      if (const int64_t* i = std::get_if<int64_t>(&value)) {
        storage::AppendInt64(&out, *i);
        return out;
      }
      if (const double* d = std::get_if<double>(&value);
          d != nullptr && std::trunc(*d) == *d && std::abs(*d) < 9.2e18) {
        storage::AppendInt64(&out, static_cast<int64_t>(*d));
        return out;
      }
      return std::nullopt;
    case AttributeType::kDouble:
      if (const double* d = std::get_if<double>(&value); d != nullptr && !std::isnan(*d)) {
        storage::AppendDouble(&out, *d == 0 ? 0.0 : *d);
        return out;
      }
      if (const int64_t* i = std::get_if<int64_t>(&value)) {
        storage::AppendDouble(&out, static_cast<double>(*i));
        return out;
      }
      return std::nullopt;
    case AttributeType::kString:
    case AttributeType::kStringList:
      if (const std::string* s = std::get_if<std::string>(&value)) {
        storage::AppendOrderedString(&out, *s);
        return out;
      }
      return std::nullopt;
  }
  return std::nullopt;
}

const uint8_t* ValueColumn::ZeroPage() {
  alignas(64) static const uint8_t zeros[kPageLabels * sizeof(uint32_t)] = {};
  return zeros;
}

int64_t ValueColumn::MemoryBytes() const {
  int64_t bytes = static_cast<int64_t>(
      directory_.capacity() * sizeof(directory_[0]) + pages_.capacity() * sizeof(pages_[0]) +
      used_.capacity() * sizeof(uint32_t) + free_slots_.capacity() * sizeof(uint32_t));
  for (const auto& page : pages_) {
    if (page != nullptr) bytes += static_cast<int64_t>(kPageLabels) * width_;
  }
  return bytes;
}

void ValueColumn::WriteSlot(uint8_t* data, uint64_t i, uint32_t slot, int width) {
  switch (width) {
    case 1:
      data[i] = static_cast<uint8_t>(slot);
      break;
    case 2: {
      const uint16_t narrow = static_cast<uint16_t>(slot);
      std::memcpy(data + 2 * i, &narrow, sizeof(narrow));
      break;
    }
    default:
      std::memcpy(data + 4 * i, &slot, sizeof(slot));
      break;
  }
}

void ValueColumn::Set(uint64_t label, uint32_t slot) {
  const uint64_t page_index = label >> kPageBits;
  if (page_index >= kMaxPages) {
    if (slot != 0) complete_ = false;
    return;
  }
  if (page_index >= pages_.size()) {
    if (slot == 0) return;
    pages_.resize(page_index + 1);
    used_.resize(page_index + 1);
    directory_.resize(page_index + 2, ZeroPage());
  }
  std::unique_ptr<uint8_t[]>& page = pages_[page_index];
  if (page == nullptr) {
    if (slot == 0) return;
    page = std::make_unique<uint8_t[]>(kPageLabels * width_);  // zeroed
    directory_[page_index] = page.get();
  }
  const uint64_t i = label & kPageMask;
  const uint32_t old = ReadSlot(page.get(), i, width_);
  used_[page_index] += static_cast<uint32_t>(slot != 0) - static_cast<uint32_t>(old != 0);
  WriteSlot(page.get(), i, slot, width_);
  if (used_[page_index] == 0) {
    page.reset();
    directory_[page_index] = ZeroPage();
  }
}

uint32_t ValueColumn::AllocateSlot() {
  if (!free_slots_.empty()) {
    const uint32_t slot = free_slots_.back();
    free_slots_.pop_back();
    return slot;
  }
  const uint32_t slot = next_slot_++;
  if (width_ == 1 && slot > UINT8_MAX) Widen(2);
  if (width_ == 2 && slot > UINT16_MAX) Widen(4);
  return slot;
}

void ValueColumn::Widen(int width) {
  for (size_t p = 0; p < pages_.size(); ++p) {
    if (pages_[p] == nullptr) continue;
    auto wider = std::make_unique<uint8_t[]>(kPageLabels * width);
    for (uint64_t i = 0; i < kPageLabels; ++i) {
      WriteSlot(wider.get(), i, ReadSlot(pages_[p].get(), i, width_), width);
    }
    pages_[p] = std::move(wider);
    directory_[p] = pages_[p].get();
  }
  width_ = width;
}

AttributeIndex::AttributeIndex(CollectionId collection, std::span<const AttributeSpec> schema)
    : collection_(collection) {
  for (const AttributeSpec& spec : schema) {
    if (spec.indexed) attributes_[spec.name].spec = spec;
  }
}

const AttributeSpec* AttributeIndex::Find(std::string_view name) const {
  const auto it = attributes_.find(name);
  return it == attributes_.end() ? nullptr : &it->second.spec;
}

std::vector<std::string> AttributeIndex::EncodedValues(const Postings& postings,
                                                       const Value& value) const {
  std::vector<std::string> encoded;
  if (const auto* list = std::get_if<std::vector<std::string>>(&value)) {
    for (const std::string& element : *list) {
      encoded.push_back(*EncodeAttributeValue(AttributeType::kString, element));
    }
    std::sort(encoded.begin(), encoded.end());
    encoded.erase(std::unique(encoded.begin(), encoded.end()), encoded.end());
  } else if (std::optional<std::string> scalar = EncodeAttributeValue(postings.spec.type, value)) {
    encoded.push_back(*std::move(scalar));
  }
  return encoded;
}

std::string AttributeIndex::KeyPrefix(std::string_view name) const {
  std::string key = CollectionPrefix(collection_);
  storage::AppendOrderedString(&key, name);
  return key;
}

std::vector<std::string> AttributeIndex::EntryKeys(Label label,
                                                   const Attributes& attributes) const {
  std::vector<std::string> keys;
  for (const auto& [name, postings] : attributes_) {
    const auto it = attributes.find(name);
    if (it == attributes.end() || std::holds_alternative<std::monostate>(it->second)) continue;
    std::vector<std::string> values = EncodedValues(postings, it->second);
    // An empty list is present (not null) yet has no value: an entry with an empty value records
    // it. A scalar always has a value (documents are validated against the declared type).
    if (values.empty()) {
      if (postings.spec.type != AttributeType::kStringList) continue;
      values.emplace_back();
    }
    for (const std::string& encoded : values) {
      std::string key = KeyPrefix(name);
      key.append(encoded);
      storage::AppendUint64(&key, static_cast<uint64_t>(label));
      keys.push_back(std::move(key));
    }
  }
  return keys;
}

void AttributeIndex::AddValue(Postings& postings, std::string_view encoded, Label label) {
  const bool scalar = postings.spec.type != AttributeType::kStringList;
  const absl::string_view key(encoded.data(), encoded.size());
  const auto found = postings.by_hash.find(key);
  AttributeValue* value;
  if (found != postings.by_hash.end()) {
    value = found->second;
  } else {
    value = &postings.by_value.emplace(std::string(encoded), AttributeValue()).first->second;
    postings.by_hash.emplace(key, value);
    if (scalar) value->slot = postings.column.AllocateSlot();
  }
  value->labels.add(static_cast<uint64_t>(label));
  if (scalar) postings.column.Set(static_cast<uint64_t>(label), value->slot);
}

void AttributeIndex::Add(Label label, const Attributes& attributes) {
  for (auto& [name, postings] : attributes_) {
    const auto it = attributes.find(name);
    if (it == attributes.end() || std::holds_alternative<std::monostate>(it->second)) continue;
    const std::vector<std::string> values = EncodedValues(postings, it->second);
    // A scalar is present exactly when it has a value (documents are validated against the
    // declared type, so a value always encodes), which is what lets the value column answer IS
    // NULL; an empty list is present without a value.
    if (values.empty() && postings.spec.type != AttributeType::kStringList) continue;
    postings.present.add(static_cast<uint64_t>(label));
    for (const std::string& encoded : values) AddValue(postings, encoded, label);
  }
}

void AttributeIndex::Remove(Label label, const Attributes& attributes) {
  for (auto& [name, postings] : attributes_) {
    const auto it = attributes.find(name);
    if (it == attributes.end()) continue;
    for (const std::string& encoded : EncodedValues(postings, it->second)) {
      const auto value = postings.by_value.find(encoded);
      if (value == postings.by_value.end()) continue;
      value->second.labels.remove(static_cast<uint64_t>(label));
      if (value->second.labels.isEmpty()) {
        if (value->second.slot != 0) postings.column.FreeSlot(value->second.slot);
        postings.by_hash.erase(absl::string_view(value->first));
        postings.by_value.erase(value);
      }
    }
    postings.present.remove(static_cast<uint64_t>(label));
    if (postings.spec.type != AttributeType::kStringList) {
      postings.column.Set(static_cast<uint64_t>(label), 0);
    }
  }
}

absl::Status AttributeIndex::Load(std::string_view key) {
  std::string_view rest = key;
  uint32_t collection;
  std::string name;
  uint64_t label;
  std::string_view label_bytes;
  if (!storage::ConsumeUint32(&rest, &collection) || collection != collection_ ||
      !storage::ConsumeOrderedString(&rest, &name) || rest.size() < sizeof(uint64_t) ||
      !(label_bytes = rest.substr(rest.size() - sizeof(uint64_t)),
        storage::ConsumeUint64(&label_bytes, &label))) {
    return absl::DataLossError("corrupt attribute index entry in the store");
  }
  const auto it = attributes_.find(name);
  // An attribute no longer indexed cannot occur: the schema is fixed at creation.
  if (it == attributes_.end())
    return absl::DataLossError("attribute index entry of an unknown attribute");
  rest.remove_suffix(sizeof(uint64_t));
  Postings& postings = it->second;
  if (!rest.empty()) {
    AddValue(postings, rest, static_cast<Label>(label));
  } else if (postings.spec.type != AttributeType::kStringList) {
    // A scalar present without a value: EntryKeys never writes one, but should a store hold it,
    // the column would disagree with the presence set.
    postings.column.complete_ = false;
  }
  postings.present.add(label);
  return absl::OkStatus();
}

namespace {

const LabelSet& EmptyLabelSet() {
  static const LabelSet* const empty = new LabelSet();
  return *empty;
}

}  // namespace

const AttributeValue* AttributeIndex::Equal(std::string_view name,
                                            std::string_view encoded) const {
  const auto it = attributes_.find(name);
  if (it == attributes_.end()) return nullptr;
  const auto value = it->second.by_hash.find(absl::string_view(encoded.data(), encoded.size()));
  return value == it->second.by_hash.end() ? nullptr : value->second;
}

AttributeValues AttributeIndex::Range(std::string_view name, const std::optional<std::string>& low,
                                      const std::optional<std::string>& high) const {
  AttributeValues values;
  const auto it = attributes_.find(name);
  if (it == attributes_.end() || (low && high && *low >= *high)) return values;
  const auto& by_value = it->second.by_value;
  const auto begin = low ? by_value.lower_bound(*low) : by_value.begin();
  const auto end = high ? by_value.lower_bound(*high) : by_value.end();
  for (auto value = begin; value != end; ++value) values.push_back(&value->second);
  return values;
}

const LabelSet& AttributeIndex::Present(std::string_view name) const {
  const auto it = attributes_.find(name);
  return it == attributes_.end() ? EmptyLabelSet() : it->second.present;
}

const ValueColumn* AttributeIndex::Column(std::string_view name) const {
  const auto it = attributes_.find(name);
  if (it == attributes_.end() || it->second.spec.type == AttributeType::kStringList ||
      !it->second.column.complete_) {
    return nullptr;
  }
  return &it->second.column;
}

int64_t AttributeIndex::MemoryBytes() const {
  int64_t bytes = 0;
  for (const auto& [name, postings] : attributes_) {
    bytes += postings.present.getSizeInBytes() + postings.column.MemoryBytes();
    for (const auto& [value, entry] : postings.by_value) {
      // The ordered node and the hash slot, each with a copy of the value.
      bytes += 2 * value.size() + entry.labels.getSizeInBytes() + 96;
    }
  }
  return bytes;
}

}  // namespace ember::db
