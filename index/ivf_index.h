// IvfIndex: an inverted file over FAISS's IndexIVFFlat (own flat coarse quantizer, full vectors in
// the lists, labels used directly as FAISS ids).
//
// An IVF needs training data, which an empty collection does not have: until the index holds
// nlist * 39 vectors (FAISS's minimum of 39 points per centroid) it keeps them in a FlatVectorStore
// and searches exactly; the Add that reaches the threshold trains the coarse quantizer on the
// vectors held and moves them into the lists. From then on a search probes `nprobe` lists, chosen
// per query.
//
// Thread-safety: as VectorIndex (concurrent const calls; Add and Remove exclusive).
#ifndef EMBER_INDEX_IVF_INDEX_H_
#define EMBER_INDEX_IVF_INDEX_H_

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "index/flat_vectors.h"
#include "index/snapshot.h"
#include "index/vector_index.h"

namespace faiss {
struct IndexIVFFlat;
}

namespace ember::index {

class IvfIndex final : public VectorIndex {
 public:
  // FAISS warns below 39 training points per centroid; training waits for that many vectors.
  static constexpr int64_t kTrainingPointsPerList = 39;

  IvfIndex(int dimension, Metric metric, const IndexSpec& spec);
  ~IvfIndex() override;

  // Reads the payload of an IVF snapshot whose header has been checked against the arguments.
  // DataLoss when it is malformed.
  static absl::StatusOr<std::unique_ptr<IvfIndex>> Load(SnapshotReader& reader, int dimension,
                                                        Metric metric, const IndexSpec& spec);

  absl::Status Add(std::span<const Label> labels, std::span<const float> vectors) override;
  absl::Status Remove(std::span<const Label> labels) override;
  absl::StatusOr<std::vector<Neighbor>> SearchExact(std::span<const float> query, int k,
                                                    std::span<const Label> candidates)
      const override;
  absl::StatusOr<std::vector<Neighbor>> Search(std::span<const float> query,
                                               const IndexSearchParams& params) const override;
  bool Contains(Label label) const override;
  IndexStats Stats() const override;
  absl::Status SaveSnapshot(const std::string& path, uint64_t covered_sequence) const override;

 private:
  // Trains a new IVF on the pending vectors and moves them into it. Leaves the index unchanged on
  // error.
  absl::Status TrainAndMovePending();
  absl::Status AddTrained(std::span<const Label> labels, std::span<const float> vectors);

  const int dimension_;
  const Metric metric_;
  const IndexSpec spec_;
  FlatVectorStore pending_;                   // every vector while untrained; empty afterwards
  std::unique_ptr<faiss::IndexIVFFlat> ivf_;  // null until trained
};

}  // namespace ember::index

#endif  // EMBER_INDEX_IVF_INDEX_H_
