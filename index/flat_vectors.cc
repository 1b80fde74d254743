#include "index/flat_vectors.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "ember/status.h"
#include "index/distance.h"
#include "index/index_input.h"
#include "index/top_k.h"

namespace ember::index {

void FlatVectorStore::Add(std::span<const Label> labels, std::span<const float> vectors) {
  const size_t d = static_cast<size_t>(dimension_);
  labels_.reserve(labels_.size() + labels.size());
  vectors_.reserve(vectors_.size() + vectors.size());
  for (size_t i = 0; i < labels.size(); ++i) {
    const float* vector = vectors.data() + i * d;
    auto [it, inserted] = row_of_.try_emplace(labels[i], static_cast<int64_t>(labels_.size()));
    if (inserted) {
      labels_.push_back(labels[i]);
      vectors_.insert(vectors_.end(), vector, vector + d);
    } else {
      std::memcpy(vectors_.data() + it->second * d, vector, d * sizeof(float));
    }
  }
}

void FlatVectorStore::Remove(std::span<const Label> labels) {
  const size_t d = static_cast<size_t>(dimension_);
  for (const Label label : labels) {
    auto it = row_of_.find(label);
    if (it == row_of_.end()) continue;
    const int64_t row = it->second;
    const int64_t last = static_cast<int64_t>(labels_.size()) - 1;
    row_of_.erase(it);
    if (row != last) {
      labels_[row] = labels_[last];
      std::memcpy(vectors_.data() + row * d, vectors_.data() + last * d, d * sizeof(float));
      row_of_[labels_[row]] = row;
    }
    labels_.pop_back();
    vectors_.resize(vectors_.size() - d);
  }
}

void FlatVectorStore::Clear() {
  labels_.clear();
  labels_.shrink_to_fit();
  vectors_.clear();
  vectors_.shrink_to_fit();
  row_of_.clear();
}

std::vector<Neighbor> FlatVectorStore::Search(const float* query, int k,
                                              const LabelFilter* filter) const {
  const size_t d = static_cast<size_t>(dimension_);
  NearestCollector nearest(k, labels_.size());
  for (size_t row = 0; row < labels_.size(); ++row) {
    if (filter != nullptr && !filter->Contains(labels_[row])) continue;
    nearest.Offer(NearnessKey(metric_, query, vectors_.data() + row * d, d), labels_[row]);
  }
  return nearest.Take(metric_);
}

std::vector<Neighbor> FlatVectorStore::SearchLabels(const float* query, int k,
                                                    std::span<const Label> candidates) const {
  const size_t d = static_cast<size_t>(dimension_);
  NearestCollector nearest(k, candidates.size());
  for (Label label : candidates) {
    const auto row = row_of_.find(label);
    if (row == row_of_.end()) continue;
    nearest.Offer(NearnessKey(metric_, query, vectors_.data() + row->second * d, d), label);
  }
  return nearest.Take(metric_);
}

int64_t FlatVectorStore::MemoryBytes() const {
  return static_cast<int64_t>(
      labels_.capacity() * sizeof(Label) + vectors_.capacity() * sizeof(float) +
      row_of_.capacity() * kLabelMapSlotBytes);
}

absl::Status FlatVectorStore::WriteTo(SnapshotWriter& writer) const {
  EMBER_RETURN_IF_ERROR(writer.WriteValue<uint64_t>(labels_.size()));
  EMBER_RETURN_IF_ERROR(writer.WriteArray<Label>(labels_));
  return writer.WriteArray<float>(vectors_);
}

absl::Status FlatVectorStore::ReadFrom(SnapshotReader& reader) {
  uint64_t count = 0;
  EMBER_RETURN_IF_ERROR(reader.ReadValue(&count));
  std::vector<Label> labels;
  EMBER_RETURN_IF_ERROR(reader.ReadArray(count, &labels));
  std::vector<float> vectors;
  if (count > UINT64_MAX / static_cast<uint64_t>(dimension_)) {
    return absl::DataLossError("index snapshot's vector count is implausible");
  }
  EMBER_RETURN_IF_ERROR(reader.ReadArray(count * dimension_, &vectors));
  absl::flat_hash_map<Label, int64_t> row_of;
  row_of.reserve(count);
  for (size_t row = 0; row < labels.size(); ++row) {
    if (!row_of.try_emplace(labels[row], static_cast<int64_t>(row)).second) {
      return absl::DataLossError("index snapshot lists a label twice");
    }
  }
  labels_ = std::move(labels);
  vectors_ = std::move(vectors);
  row_of_ = std::move(row_of);
  return absl::OkStatus();
}

}  // namespace ember::index
