// HnswIndex: approximate search over a hierarchical navigable small world graph.
//
// FAISS's IndexHNSWFlat stores the vectors and builds the graph (M and efConstruction from the
// spec); searching is Ember's own traversal of that graph, because FAISS 1.7.3 reads efSearch from
// shared state (hnsw.efSearch) and so cannot take a per-query ef safely. The traversal is the usual
// one: greedy descent through the upper levels, then a best-first beam of width ef at level 0, with
// no allocation per query (a per-thread visited table and heaps that keep their capacity).
//
// Removing a label leaves a tombstone: the node still routes searches but is never returned. When
// tombstones pass kRebuildTombstoneFraction of the graph, the graph is rebuilt from the live
// vectors. Filtered searches walk nodes the filter rejects too (they are bridges between members)
// and only return members.
//
// Thread-safety: as VectorIndex (concurrent const calls; Add and Remove exclusive).
#ifndef EMBER_INDEX_HNSW_INDEX_H_
#define EMBER_INDEX_HNSW_INDEX_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "index/label_map.h"
#include "index/snapshot.h"
#include "index/vector_index.h"

namespace faiss {
struct IndexHNSWFlat;
}

namespace ember::index {

class HnswIndex final : public VectorIndex {
 public:
  // Fraction of graph nodes that may be tombstones before Add/Remove rebuilds the graph. Tombstones
  // cost memory and distance computations on every search that walks them; at 30% a search does at
  // most ~1.4x the work of a clean graph, and a rebuild (O(n log n)) is paid once per 0.3n
  // removals.
  static constexpr double kRebuildTombstoneFraction = 0.3;

  // An empty index. InvalidArgument when FAISS rejects the parameters.
  static absl::StatusOr<std::unique_ptr<HnswIndex>> Create(int dimension, Metric metric,
                                                           const IndexSpec& spec);

  // Reads the payload of an HNSW snapshot whose header has been checked against the arguments.
  // DataLoss when it is malformed.
  static absl::StatusOr<std::unique_ptr<HnswIndex>> Load(SnapshotReader& reader, int dimension,
                                                         Metric metric, const IndexSpec& spec);

  // Wraps a graph built elsewhere, node i carrying labels[i] (benchmarks use it to search the very
  // graph raw FAISS searches). The graph must use METRIC_L2 for kL2 and METRIC_INNER_PRODUCT
  // otherwise, and hold normalized vectors for kCosine. InvalidArgument when sizes, metric or
  // labels do not fit.
  static absl::StatusOr<std::unique_ptr<HnswIndex>> Adopt(
      std::unique_ptr<faiss::IndexHNSWFlat> graph, std::vector<Label> labels, Metric metric,
      const IndexSpec& spec);

  ~HnswIndex() override;

  absl::Status Add(std::span<const Label> labels, std::span<const float> vectors) override;
  absl::Status Remove(std::span<const Label> labels) override;
  absl::StatusOr<std::vector<Neighbor>> SearchExact(
      std::span<const float> query, int k, std::span<const Label> candidates) const override;
  absl::StatusOr<std::vector<Neighbor>> Search(std::span<const float> query,
                                               const IndexSearchParams& params) const override;
  bool Contains(Label label) const override { return node_of_.contains(label); }
  IndexStats Stats() const override;
  absl::Status SaveSnapshot(const std::string& path, uint64_t covered_sequence) const override;

 private:
  HnswIndex(int dimension, Metric metric, const IndexSpec& spec,
            std::unique_ptr<faiss::IndexHNSWFlat> graph);

  // Rebuilds the graph from the live vectors when tombstones pass the threshold. A failed rebuild
  // leaves the current (correct) graph in place; the next Add or Remove tries again.
  void RebuildIfTombstoneHeavy();
  // Replaces the graph with one holding only the live vectors. Leaves the index unchanged on error.
  absl::Status Rebuild();
  // FAISS prunes neighbour lists as later nodes arrive and can leave nodes, or whole groups of
  // them, that no walk from the entry point reaches: no search finds them, whatever its ef. This
  // walks level 0 from the entry point and links every live node it misses from that node's nearest
  // reached neighbour (into a free slot, or in place of the neighbour's farthest link), until all
  // are reached. A walk costs O(nodes * 2M) per call.
  void LinkUnreachableNodes();
  // Recomputes node_of_ and tombstones_ from labels_ and removed_. DataLoss when a live label
  // repeats.
  absl::Status IndexLabels();

  template <typename Distance>
  void SearchGraph(const float* query, int k, int ef, const LabelFilter* filter, int64_t max_scored,
                   std::vector<Neighbor>* result) const;

  const int dimension_;
  const Metric metric_;
  const IndexSpec spec_;
  std::unique_ptr<faiss::IndexHNSWFlat> graph_;
  std::vector<Label> labels_;     // node -> label (also for tombstones)
  std::vector<uint8_t> removed_;  // node -> 1 when it is a tombstone
  LabelMap node_of_;              // live label -> node
  int64_t tombstones_ = 0;
};

}  // namespace ember::index

#endif  // EMBER_INDEX_HNSW_INDEX_H_
