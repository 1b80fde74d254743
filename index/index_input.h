// Validation and preparation of what callers hand to a VectorIndex, shared by every index kind so
// that all kinds accept and reject exactly the same input.
//
// Thread-safety: pure functions.
#ifndef EMBER_INDEX_INDEX_INPUT_H_
#define EMBER_INDEX_INDEX_INPUT_H_

#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "ember/options.h"
#include "index/vector_index.h"

namespace ember::index {

// Heap bytes per slot of the indexes' label maps (absl::flat_hash_map<Label, integer>: the key,
// the value padded to 8 bytes, and one control byte), for IndexStats::memory_bytes.
inline constexpr size_t kLabelMapSlotBytes = 17;

// Vectors ready to insert: each label once (a label given twice in one batch keeps its last vector,
// as if the rows had been added one after the other), normalized when the metric is cosine.
struct PreparedBatch {
  std::vector<Label> labels;
  std::vector<float> vectors;  // labels.size() * dimension, row-major
};

// InvalidArgument when vectors.size() != labels.size() * dimension or a component is NaN or
// infinite (naming the label).
absl::StatusOr<PreparedBatch> PrepareBatch(int dimension, Metric metric,
                                           std::span<const Label> labels,
                                           std::span<const float> vectors);

// Checks a query and its parameters and returns the vector to search with: `query` itself, or for
// cosine, unless its squared length is within 1e-6 of 1, its normalized copy in `*scratch`.
// InvalidArgument when query.size() != dimension, a component is not finite, k < 1, or ef_search /
// nprobe is negative.
absl::StatusOr<const float*> PrepareQuery(int dimension, Metric metric,
                                          std::span<const float> query,
                                          const IndexSearchParams& params,
                                          std::vector<float>* scratch);

}  // namespace ember::index

#endif  // EMBER_INDEX_INDEX_INPUT_H_
