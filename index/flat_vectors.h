// FlatVectorStore: vectors kept in one contiguous array and searched exhaustively. It is the whole
// of a FlatIndex, and an IvfIndex's store until it holds enough vectors to train.
//
// Thread-safety: const methods may run concurrently with each other; mutating methods need
// exclusive access (the owning index's contract passes that requirement on to its caller).
#ifndef EMBER_INDEX_FLAT_VECTORS_H_
#define EMBER_INDEX_FLAT_VECTORS_H_

#include <cstdint>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ember/options.h"
#include "index/snapshot.h"
#include "index/vector_index.h"

namespace ember::index {

class FlatVectorStore {
 public:
  FlatVectorStore(int dimension, Metric metric) : dimension_(dimension), metric_(metric) {}

  // Inserts rows (labels.size() * dimension floats, already prepared: see PrepareBatch); a label
  // already present has its vector overwritten in place.
  void Add(std::span<const Label> labels, std::span<const float> vectors);

  // Removes the labels present (moving the last row into each hole); others are ignored.
  void Remove(std::span<const Label> labels);

  void Clear();

  // The exact min(k, members) nearest stored vectors to `query` (prepared: see PrepareQuery) among
  // those `filter` contains (all when null), best first.
  std::vector<Neighbor> Search(const float* query, int k, const LabelFilter* filter) const;

  // The exact min(k, candidates present) nearest of `candidates` to `query` (prepared), best first.
  std::vector<Neighbor> SearchLabels(const float* query, int k,
                                     std::span<const Label> candidates) const;

  bool Contains(Label label) const { return row_of_.contains(label); }
  int64_t size() const { return static_cast<int64_t>(labels_.size()); }
  std::span<const Label> labels() const { return labels_; }
  std::span<const float> vectors() const { return vectors_; }
  int64_t MemoryBytes() const;

  // Payload: u64 count, i64 labels[count], f32 vectors[count * dimension].
  absl::Status WriteTo(SnapshotWriter& writer) const;
  // Replaces the contents with a payload written by WriteTo. DataLoss when it is short or repeats a
  // label.
  absl::Status ReadFrom(SnapshotReader& reader);

 private:
  const int dimension_;
  const Metric metric_;
  std::vector<Label> labels_;   // row -> label
  std::vector<float> vectors_;  // row-major
  absl::flat_hash_map<Label, int64_t> row_of_;
};

}  // namespace ember::index

#endif  // EMBER_INDEX_FLAT_VECTORS_H_
