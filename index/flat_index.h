// FlatIndex: exact search over every stored vector. Filtered searches are exact over the filter's
// members, so they never under-return.
//
// Thread-safety: as VectorIndex (concurrent const calls; Add and Remove exclusive).
#ifndef EMBER_INDEX_FLAT_INDEX_H_
#define EMBER_INDEX_FLAT_INDEX_H_

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "index/flat_vectors.h"
#include "index/snapshot.h"
#include "index/vector_index.h"

namespace ember::index {

class FlatIndex final : public VectorIndex {
 public:
  FlatIndex(int dimension, Metric metric, const IndexSpec& spec);

  // Reads the payload of a Flat snapshot whose header has been checked. DataLoss when it is
  // malformed.
  static absl::StatusOr<std::unique_ptr<FlatIndex>> Load(SnapshotReader& reader, int dimension,
                                                         Metric metric, const IndexSpec& spec);

  absl::Status Add(std::span<const Label> labels, std::span<const float> vectors) override;
  absl::Status Remove(std::span<const Label> labels) override;
  absl::StatusOr<std::vector<Neighbor>> SearchExact(std::span<const float> query, int k,
                                                    std::span<const Label> candidates)
      const override;
  absl::StatusOr<std::vector<Neighbor>> Search(std::span<const float> query,
                                               const IndexSearchParams& params) const override;
  bool Contains(Label label) const override { return store_.Contains(label); }
  IndexStats Stats() const override;
  absl::Status SaveSnapshot(const std::string& path, uint64_t covered_sequence) const override;

 private:
  const int dimension_;
  const Metric metric_;
  const IndexSpec spec_;
  FlatVectorStore store_;
};

}  // namespace ember::index

#endif  // EMBER_INDEX_FLAT_INDEX_H_
