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
    if (spec.indexed) attributes_[spec.name].spec_ = spec;
  }
}

const AttributeIndex::Attribute* AttributeIndex::Get(std::string_view name) const {
  const auto it = attributes_.find(name);
  return it == attributes_.end() ? nullptr : &it->second;
}

const AttributeSpec* AttributeIndex::Find(std::string_view name) const {
  const Attribute* attribute = Get(name);
  return attribute == nullptr ? nullptr : &attribute->spec();
}

std::vector<std::string> AttributeIndex::EncodedValues(const Attribute& attribute,
                                                       const Value& value) const {
  std::vector<std::string> encoded;
  if (const auto* list = std::get_if<std::vector<std::string>>(&value)) {
    for (const std::string& element : *list) {
      encoded.push_back(*EncodeAttributeValue(AttributeType::kString, element));
    }
    std::sort(encoded.begin(), encoded.end());
    encoded.erase(std::unique(encoded.begin(), encoded.end()), encoded.end());
  } else if (std::optional<std::string> scalar =
                 EncodeAttributeValue(attribute.spec_.type, value)) {
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
  for (const auto& [name, attribute] : attributes_) {
    const auto it = attributes.find(name);
    if (it == attributes.end() || std::holds_alternative<std::monostate>(it->second)) continue;
    std::vector<std::string> values = EncodedValues(attribute, it->second);
    // An empty list is present (not null) yet has no value: an entry with an empty value records
    // it. A scalar always has a value (documents are validated against the declared type).
    if (values.empty()) {
      if (attribute.spec_.type != AttributeType::kStringList) continue;
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

void AttributeIndex::AddValue(Attribute& attribute, std::string_view encoded, Label label) {
  const bool scalar = attribute.spec_.type != AttributeType::kStringList;
  // Encodings come from EncodeAttributeValue, or from Load, which checks them.
  std::string key = *attribute.HashKey(encoded);
  const auto found = attribute.by_hash_.find(key);
  AttributeValue* value;
  if (found != attribute.by_hash_.end()) {
    value = found->second;
  } else {
    value = &attribute.by_value_.emplace(std::string(encoded), AttributeValue()).first->second;
    attribute.by_hash_.emplace(std::move(key), value);
    if (scalar) value->slot = attribute.column_.AllocateSlot();
  }
  value->labels.add(static_cast<uint64_t>(label));
  if (scalar) attribute.column_.Set(static_cast<uint64_t>(label), value->slot);
}

void AttributeIndex::Add(Label label, const Attributes& attributes) {
  for (auto& [name, attribute] : attributes_) {
    const auto it = attributes.find(name);
    if (it == attributes.end() || std::holds_alternative<std::monostate>(it->second)) continue;
    const std::vector<std::string> values = EncodedValues(attribute, it->second);
    // A scalar is present exactly when it has a value (documents are validated against the
    // declared type, so a value always encodes), which is what lets the value column answer IS
    // NULL; an empty list is present without a value.
    if (values.empty() && attribute.spec_.type != AttributeType::kStringList) continue;
    attribute.present_.add(static_cast<uint64_t>(label));
    for (const std::string& encoded : values) AddValue(attribute, encoded, label);
  }
}

void AttributeIndex::Remove(Label label, const Attributes& attributes) {
  for (auto& [name, attribute] : attributes_) {
    const auto it = attributes.find(name);
    if (it == attributes.end()) continue;
    for (const std::string& encoded : EncodedValues(attribute, it->second)) {
      const auto value = attribute.by_value_.find(encoded);
      if (value == attribute.by_value_.end()) continue;
      value->second.labels.remove(static_cast<uint64_t>(label));
      if (value->second.labels.isEmpty()) {
        if (value->second.slot != 0) attribute.column_.FreeSlot(value->second.slot);
        attribute.by_hash_.erase(*attribute.HashKey(value->first));
        attribute.by_value_.erase(value);
      }
    }
    attribute.present_.remove(static_cast<uint64_t>(label));
    if (attribute.spec_.type != AttributeType::kStringList) {
      attribute.column_.Set(static_cast<uint64_t>(label), 0);
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
  Attribute& attribute = it->second;
  if (!rest.empty() && !attribute.HashKey(rest)) {
    return absl::DataLossError("corrupt string value in an attribute index entry");
  }
  if (!rest.empty()) {
    AddValue(attribute, rest, static_cast<Label>(label));
  } else if (attribute.spec_.type != AttributeType::kStringList) {
    // A scalar present without a value: EntryKeys never writes one, but should a store hold it,
    // the column would disagree with the presence set.
    attribute.column_.complete_ = false;
  }
  attribute.present_.add(label);
  return absl::OkStatus();
}

namespace {

const LabelSet& EmptyLabelSet() {
  static const LabelSet* const empty = new LabelSet();
  return *empty;
}

}  // namespace

std::optional<std::string> AttributeIndex::Attribute::HashKey(std::string_view encoded) const {
  if (!strings()) return std::string(encoded);
  std::string value;
  if (!storage::ConsumeOrderedString(&encoded, &value) || !encoded.empty()) return std::nullopt;
  return value;
}

const AttributeValue* AttributeIndex::Attribute::Equal(std::string_view encoded) const {
  const std::optional<std::string> key = HashKey(encoded);
  if (!key) return nullptr;  // no string encodes to it
  const auto value = by_hash_.find(*key);
  return value == by_hash_.end() ? nullptr : value->second;
}

const AttributeValue* AttributeIndex::Attribute::EqualString(std::string_view value) const {
  if (!strings()) return nullptr;
  const auto found = by_hash_.find(absl::string_view(value.data(), value.size()));
  return found == by_hash_.end() ? nullptr : found->second;
}

AttributeValues AttributeIndex::Attribute::Range(const std::optional<std::string>& low,
                                                 const std::optional<std::string>& high) const {
  AttributeValues values;
  if (low && high && *low >= *high) return values;
  const auto begin = low ? by_value_.lower_bound(*low) : by_value_.begin();
  const auto end = high ? by_value_.lower_bound(*high) : by_value_.end();
  for (auto value = begin; value != end; ++value) values.push_back(&value->second);
  return values;
}

const AttributeValue* AttributeIndex::Equal(std::string_view name, std::string_view encoded) const {
  const Attribute* attribute = Get(name);
  return attribute == nullptr ? nullptr : attribute->Equal(encoded);
}

AttributeValues AttributeIndex::Range(std::string_view name, const std::optional<std::string>& low,
                                      const std::optional<std::string>& high) const {
  const Attribute* attribute = Get(name);
  return attribute == nullptr ? AttributeValues() : attribute->Range(low, high);
}

const LabelSet& AttributeIndex::Present(std::string_view name) const {
  const Attribute* attribute = Get(name);
  return attribute == nullptr ? EmptyLabelSet() : attribute->present();
}

const ValueColumn* AttributeIndex::Column(std::string_view name) const {
  const Attribute* attribute = Get(name);
  return attribute == nullptr ? nullptr : attribute->column();
}

int64_t AttributeIndex::MemoryBytes() const {
  int64_t bytes = 0;
  for (const auto& [name, attribute] : attributes_) {
    bytes += attribute.present_.getSizeInBytes() + attribute.column_.MemoryBytes();
    for (const auto& [value, entry] : attribute.by_value_) {
      // The ordered node and the hash slot, each with a copy of the value.
      bytes += 2 * value.size() + entry.labels.getSizeInBytes() + 96;
    }
  }
  return bytes;
}

}  // namespace ember::db
