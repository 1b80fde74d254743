// Shared by the index tests: random data, a naive exact reference, a set-backed LabelFilter and
// recall.
#ifndef EMBER_TESTS_INDEX_TEST_DATA_H_
#define EMBER_TESTS_INDEX_TEST_DATA_H_

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <set>
#include <span>
#include <vector>

#include "ember/options.h"
#include "index/vector_index.h"

namespace ember::index::testing {

// n * d floats, uniform in [-1, 1), reproducible from `seed`.
inline std::vector<float> RandomVectors(size_t n, size_t d, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> values(n * d);
  for (float& value : values) value = uniform(rng);
  return values;
}

// Sparse, signed, unordered labels: label i is 1000003 * i - 7777777.
inline std::vector<Label> SparseLabels(size_t n, int64_t first = 0) {
  std::vector<Label> labels(n);
  for (size_t i = 0; i < n; ++i) labels[i] = 1000003 * (first + static_cast<int64_t>(i)) - 7777777;
  return labels;
}

class SetFilter : public LabelFilter {
 public:
  explicit SetFilter(std::set<Label> members) : members_(std::move(members)) {}
  bool Contains(Label label) const override { return members_.count(label) > 0; }

 private:
  std::set<Label> members_;
};

// The exact answer computed the obvious way (double precision, full sort): the metric's raw value
// for every row `filter` accepts (all when null), best first, at most k.
inline std::vector<Neighbor> BruteForce(Metric metric, size_t d, std::span<const Label> labels,
                                        std::span<const float> vectors,
                                        std::span<const float> query, int k,
                                        const LabelFilter* filter = nullptr) {
  auto normalized = [&](const float* v) {
    std::vector<double> out(v, v + d);
    if (metric == Metric::kCosine) {
      double norm = 0;
      for (double x : out) norm += x * x;
      norm = std::sqrt(norm);
      if (norm > 0) {
        for (double& x : out) x /= norm;
      }
    }
    return out;
  };
  const std::vector<double> q = normalized(query.data());
  std::vector<Neighbor> all;
  for (size_t row = 0; row < labels.size(); ++row) {
    if (filter != nullptr && !filter->Contains(labels[row])) continue;
    const std::vector<double> v = normalized(vectors.data() + row * d);
    double value = 0;
    for (size_t i = 0; i < d; ++i) {
      value += metric == Metric::kL2 ? (q[i] - v[i]) * (q[i] - v[i]) : q[i] * v[i];
    }
    all.push_back({labels[row], static_cast<float>(value)});
  }
  std::stable_sort(all.begin(), all.end(), [&](const Neighbor& a, const Neighbor& b) {
    return metric == Metric::kL2 ? a.distance < b.distance : a.distance > b.distance;
  });
  if (all.size() > static_cast<size_t>(k)) all.resize(k);
  return all;
}

// Fraction of `exact`'s labels that `found` contains.
inline double Recall(const std::vector<Neighbor>& found, const std::vector<Neighbor>& exact) {
  if (exact.empty()) return 1.0;
  std::set<Label> found_labels;
  for (const Neighbor& n : found) found_labels.insert(n.label);
  size_t hits = 0;
  for (const Neighbor& n : exact) hits += found_labels.count(n.label);
  return static_cast<double>(hits) / exact.size();
}

inline std::vector<Label> LabelsOf(const std::vector<Neighbor>& neighbors) {
  std::vector<Label> labels;
  for (const Neighbor& n : neighbors) labels.push_back(n.label);
  return labels;
}

inline IndexSpec SpecOf(IndexKind kind) {
  IndexSpec spec;
  spec.kind = kind;
  return spec;
}

}  // namespace ember::index::testing

#endif  // EMBER_TESTS_INDEX_TEST_DATA_H_
