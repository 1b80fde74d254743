// Ember's vector index interface: one abstract index, one class per kind (Flat, HNSW, IVF) over FAISS.
// FAISS types never appear outside index/, and FAISS exceptions never leave it: they become Status.
#ifndef EMBER_INDEX_VECTOR_INDEX_H_
#define EMBER_INDEX_VECTOR_INDEX_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ember/options.h"

namespace ember::index {

// The 64-bit label the database gives each stored vector; never reused.
using Label = int64_t;

struct Neighbor {
  Label label;
  // The metric's raw distance: squared L2 for kL2; the inner product for kInnerProduct and kCosine
  // (cosine similarity, since cosine collections hold normalized vectors).
  float distance;
};

// The narrow view of a filter an index sees: which labels may be returned.
class LabelFilter {
 public:
  virtual ~LabelFilter() = default;
  virtual bool Contains(Label label) const = 0;
};

// Per-query parameters: passed with the query, never stored on the shared index.
struct IndexSearchParams {
  /// Number of neighbours wanted (>= 1).
  int k = 10;
  /// HNSW candidate list size; 0 means the index's default. Raised to k when smaller.
  int ef_search = 0;
  /// IVF lists to probe; 0 means the index's default.
  int nprobe = 0;
  /// When set, only labels it contains are returned. Not owned.
  const LabelFilter* filter = nullptr;
  /// HNSW: the most vectors a traversal may score; beyond it the search gives up and returns no
  /// neighbours, so that the caller can score the filter's matches exactly instead. A filter whose
  /// matches lie far from the query (anti-correlated) would otherwise make the traversal wade
  /// through most of the graph. 0: no limit.
  int64_t max_scored = 0;
};

struct IndexStats {
  int64_t live_vectors = 0;     // searchable vectors
  int64_t tombstones = 0;       // HNSW: removed vectors still in the graph
  bool trained = true;          // IVF: coarse quantizer trained
  int64_t memory_bytes = 0;     // approximate
};

// Thread-safety: Search, Stats, Contains and SaveSnapshot may run concurrently with each other. Add and
// Remove need exclusive access: the caller serializes them against every other call.
class VectorIndex {
 public:
  // Creates an empty index. InvalidArgument for an invalid spec or dimension.
  static absl::StatusOr<std::unique_ptr<VectorIndex>> Create(int dimension, Metric metric,
                                                             const IndexSpec& spec);

  // Reads a snapshot written by SaveSnapshot. DataLoss when the file is truncated, fails its checksum, or
  // has a bad magic/version; FailedPrecondition when it was written for another dimension, metric or index
  // spec; NotFound when the file does not exist. `*covered_sequence` receives the value given to
  // SaveSnapshot.
  static absl::StatusOr<std::unique_ptr<VectorIndex>> LoadSnapshot(const std::string& path,
                                                                   int dimension, Metric metric,
                                                                   const IndexSpec& spec,
                                                                   uint64_t* covered_sequence);

  virtual ~VectorIndex() = default;

  // Adds vectors (row-major, labels.size() * dimension floats). Cosine indexes normalize them.
  // A label already present is replaced. All or nothing.
  virtual absl::Status Add(std::span<const Label> labels, std::span<const float> vectors) = 0;

  // Removes labels; absent labels are ignored. Removed labels are never returned by later searches.
  virtual absl::Status Remove(std::span<const Label> labels) = 0;

  // The nearest live labels to `query` (dimension floats), best first (smallest L2 / largest inner
  // product). Returns min(k, live vectors passing the filter) neighbours when the search is exhaustive;
  // approximate indexes may return fewer only when the filter rejects most of what they visit.
  virtual absl::StatusOr<std::vector<Neighbor>> Search(std::span<const float> query,
                                                       const IndexSearchParams& params) const = 0;

  // The min(k, candidates held) nearest of `candidates` to `query`, best first, by exact distances over
  // the vectors the index holds; labels it does not hold are skipped. Costs one distance per candidate
  // whatever the index kind, which is what the planner wants for small filtered sets.
  // InvalidArgument as Search for a bad query or k.
  virtual absl::StatusOr<std::vector<Neighbor>> SearchExact(std::span<const float> query, int k,
                                                            std::span<const Label> candidates)
      const = 0;

  virtual bool Contains(Label label) const = 0;
  virtual IndexStats Stats() const = 0;

  // Writes the whole index to `path` atomically (temporary file, fsync, rename, fsync of the directory),
  // with a magic number, a format version, `covered_sequence`, and a checksum.
  virtual absl::Status SaveSnapshot(const std::string& path, uint64_t covered_sequence) const = 0;
};

}  // namespace ember::index

#endif  // EMBER_INDEX_VECTOR_INDEX_H_
