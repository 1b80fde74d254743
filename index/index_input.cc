#include "index/index_input.h"

#include <cmath>
#include <cstring>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "index/distance.h"

namespace ember::index {
namespace {

// Without a branch per value, so that it vectorizes (every search pays it): a float is infinite or
// NaN exactly when its exponent bits are all ones.
bool AllFinite(const float* values, size_t count) {
  uint32_t non_finite = 0;
  for (size_t i = 0; i < count; ++i) {
    uint32_t bits;
    std::memcpy(&bits, values + i, sizeof(bits));
    non_finite |= static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  return non_finite == 0;
}

}  // namespace

absl::StatusOr<PreparedBatch> PrepareBatch(int dimension, Metric metric,
                                           std::span<const Label> labels,
                                           std::span<const float> vectors) {
  const size_t d = static_cast<size_t>(dimension);
  if (vectors.size() != labels.size() * d) {
    return absl::InvalidArgumentError(
        absl::StrCat("expected ", labels.size(), " vectors of dimension ", dimension, " (",
                     labels.size() * d, " floats), got ", vectors.size(), " floats"));
  }
  for (size_t row = 0; row < labels.size(); ++row) {
    if (!AllFinite(vectors.data() + row * d, d)) {
      return absl::InvalidArgumentError(
          absl::StrCat("vector for label ", labels[row], " has a NaN or infinite component"));
    }
  }
  // Row each label keeps: its last occurrence.
  std::unordered_map<Label, size_t> last_row;
  last_row.reserve(labels.size());
  for (size_t row = 0; row < labels.size(); ++row) last_row[labels[row]] = row;

  PreparedBatch batch;
  batch.labels.reserve(last_row.size());
  batch.vectors.resize(last_row.size() * d);
  for (size_t row = 0; row < labels.size(); ++row) {
    if (last_row[labels[row]] != row) continue;
    float* out = batch.vectors.data() + batch.labels.size() * d;
    std::memcpy(out, vectors.data() + row * d, d * sizeof(float));
    if (metric == Metric::kCosine) NormalizeInPlace(out, d);
    batch.labels.push_back(labels[row]);
  }
  return batch;
}

absl::StatusOr<const float*> PrepareQuery(int dimension, Metric metric,
                                          std::span<const float> query,
                                          const IndexSearchParams& params,
                                          std::vector<float>* scratch) {
  if (query.size() != static_cast<size_t>(dimension)) {
    return absl::InvalidArgumentError(absl::StrCat("query has dimension ", query.size(),
                                                   ", the index has dimension ", dimension));
  }
  if (!AllFinite(query.data(), query.size())) {
    return absl::InvalidArgumentError("query has a NaN or infinite component");
  }
  if (params.k < 1)
    return absl::InvalidArgumentError(absl::StrCat("k must be >= 1, got ", params.k));
  if (params.ef_search < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("ef_search must be >= 0, got ", params.ef_search));
  }
  if (params.nprobe < 0) {
    return absl::InvalidArgumentError(absl::StrCat("nprobe must be >= 0, got ", params.nprobe));
  }
  if (metric != Metric::kCosine) return query.data();
  // A query already of unit length (as encoders that normalize produce) is used as it is: scaling
  // it would change its components by less than their rounding, and copying it costs a search of a
  // few candidates several percent of its time.
  const float squared_norm = InnerProduct(query.data(), query.data(), query.size());
  if (std::abs(squared_norm - 1.0f) <= 1e-6f) return query.data();
  scratch->assign(query.begin(), query.end());
  NormalizeInPlace(scratch->data(), scratch->size());
  return scratch->data();
}

}  // namespace ember::index
