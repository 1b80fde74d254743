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
    best_.reserve(std::min(k_, capacity_hint) + 1);
  }

  // `key` orders candidates, smaller being nearer (NearnessKey).
  void Offer(float key, Label label) {
    if (best_.size() < k_) {
      best_.emplace_back(key, label);
      std::push_heap(best_.begin(), best_.end());
    } else if (key < best_.front().first) {
      // Max-heap on the key: its top is the worst of the best so far.
      std::pop_heap(best_.begin(), best_.end());
      best_.back() = {key, label};
      std::push_heap(best_.begin(), best_.end());
    }
  }

  // The collected neighbours, best first, with their metric values.
  std::vector<Neighbor> Take(Metric metric) {
    std::sort_heap(best_.begin(), best_.end());
    std::vector<Neighbor> result;
    result.reserve(best_.size());
    for (const auto& [key, label] : best_) result.push_back({label, MetricValue(metric, key)});
    best_.clear();
    return result;
  }

 private:
  const size_t k_;
  std::vector<std::pair<float, Label>> best_;
};

}  // namespace ember::index

#endif  // EMBER_INDEX_TOP_K_H_
