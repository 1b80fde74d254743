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
    // it.
    if (values.empty()) values.emplace_back();
    for (const std::string& encoded : values) {
      std::string key = KeyPrefix(name);
      key.append(encoded);
      storage::AppendUint64(&key, static_cast<uint64_t>(label));
      keys.push_back(std::move(key));
    }
  }
  return keys;
}

void AttributeIndex::Add(Label label, const Attributes& attributes) {
  for (auto& [name, postings] : attributes_) {
    const auto it = attributes.find(name);
    if (it == attributes.end() || std::holds_alternative<std::monostate>(it->second)) continue;
    postings.present.add(static_cast<uint64_t>(label));
    for (const std::string& encoded : EncodedValues(postings, it->second)) {
      postings.by_value[encoded].add(static_cast<uint64_t>(label));
    }
  }
}

void AttributeIndex::Remove(Label label, const Attributes& attributes) {
  for (auto& [name, postings] : attributes_) {
    const auto it = attributes.find(name);
    if (it == attributes.end()) continue;
    for (const std::string& encoded : EncodedValues(postings, it->second)) {
      const auto value = postings.by_value.find(encoded);
      if (value == postings.by_value.end()) continue;
      value->second.remove(static_cast<uint64_t>(label));
      if (value->second.isEmpty()) postings.by_value.erase(value);
    }
    postings.present.remove(static_cast<uint64_t>(label));
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
  if (!rest.empty()) it->second.by_value[std::string(rest)].add(label);
  it->second.present.add(label);
  return absl::OkStatus();
}

namespace {

const LabelSet& EmptyLabelSet() {
  static const LabelSet* const empty = new LabelSet();
  return *empty;
}

}  // namespace

const LabelSet& AttributeIndex::Equal(std::string_view name, std::string_view encoded) const {
  const auto it = attributes_.find(name);
  if (it == attributes_.end()) return EmptyLabelSet();
  const auto value = it->second.by_value.find(encoded);
  return value == it->second.by_value.end() ? EmptyLabelSet() : value->second;
}

std::vector<const LabelSet*> AttributeIndex::Range(std::string_view name,
                                                   const std::optional<std::string>& low,
                                                   const std::optional<std::string>& high) const {
  std::vector<const LabelSet*> parts;
  const auto it = attributes_.find(name);
  if (it == attributes_.end() || (low && high && *low >= *high)) return parts;
  const auto& by_value = it->second.by_value;
  const auto begin = low ? by_value.lower_bound(*low) : by_value.begin();
  const auto end = high ? by_value.lower_bound(*high) : by_value.end();
  for (auto value = begin; value != end; ++value) parts.push_back(&value->second);
  return parts;
}

const LabelSet& AttributeIndex::Present(std::string_view name) const {
  const auto it = attributes_.find(name);
  return it == attributes_.end() ? EmptyLabelSet() : it->second.present;
}

int64_t AttributeIndex::MemoryBytes() const {
  int64_t bytes = 0;
  for (const auto& [name, postings] : attributes_) {
    bytes += postings.present.getSizeInBytes();
    for (const auto& [value, labels] : postings.by_value) {
      bytes += value.size() + labels.getSizeInBytes() + 64;
    }
  }
  return bytes;
}

}  // namespace ember::db
