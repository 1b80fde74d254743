// NearestCollector: keeps the k nearest of the candidates offered to it, for the exhaustive scans
// (Flat search, exact scoring of a candidate list).
//
// Thread-safety: one collector per scan.
#ifndef EMBER_INDEX_TOP_K_H_
#define EMBER_INDEX_TOP_K_H_

#include <algorithm>
#include <cstddef>
#include <utility>
#include <vector>

#include "index/distance.h"
#include "index/vector_index.h"

namespace ember::index {

class NearestCollector {
 public:
  // `capacity_hint`: how many candidates may be offered (bounds the reservation).
  NearestCollector(int k, size_t capacity_hint) : k_(static_cast<size_t>(k)) {
    best_.reserve(std::min(k_, capacity_hint));
  }

  // `key` orders candidates, smaller being nearer (NearnessKey).
  void Offer(float key, Label label) {
    // The best are kept sorted by (key, label), nearest first: once k are held, most offers are
    // turned away by one comparison with the last, and the few kept are placed by a short shift.
    // Against a heap, this saves the heap's sift-downs and the final sort, which dominated scans of
    // a few dozen candidates (a filter matching a dozen documents).
    if (best_.size() == k_) {
      if (k_ == 0 || !(key < best_.back().first)) return;
      best_.pop_back();
    }
    const std::pair<float, Label> entry(key, label);
    size_t i = best_.size();
    best_.push_back(entry);
    for (; i > 0 && entry < best_[i - 1]; --i) best_[i] = best_[i - 1];
    best_[i] = entry;
  }

  // The collected neighbours, best first, with their metric values.
  std::vector<Neighbor> Take(Metric metric) {
    std::vector<Neighbor> result;
    result.reserve(best_.size());
    for (const auto& [key, label] : best_) result.push_back({label, MetricValue(metric, key)});
    best_.clear();
    return result;
  }

 private:
  const size_t k_;
  std::vector<std::pair<float, Label>> best_;  // sorted, nearest first
};

}  // namespace ember::index

#endif  // EMBER_INDEX_TOP_K_H_
