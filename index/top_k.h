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
    if (k_ > kInline) {
      heap_.resize(std::min(k_, capacity_hint));
      best_ = heap_.data();
    }
  }
  NearestCollector(const NearestCollector&) = delete;
  NearestCollector& operator=(const NearestCollector&) = delete;

  // `key` orders candidates, smaller being nearer (NearnessKey).
  void Offer(float key, Label label) {
    // The best are kept sorted by (key, label), nearest first: once k are held, most offers are
    // turned away by one comparison with the last, and the few kept are placed by a short shift.
    // Against a heap, this saves the heap's sift-downs and the final sort, which dominated scans of
    // a few dozen candidates (a filter matching a dozen documents).
    size_t i = size_;
    if (i == k_) {
      if (k_ == 0 || !(key < best_[i - 1].first)) return;
      --i;
    } else {
      if (i == heap_.size() && k_ > kInline) {
        heap_.resize(std::min(k_, 2 * i + 1));
        best_ = heap_.data();
      }
      ++size_;
    }
    for (; i > 0 &&
           (key < best_[i - 1].first || (key == best_[i - 1].first && label < best_[i - 1].second));
         --i) {
      best_[i] = best_[i - 1];
    }
    best_[i] = {key, label};
  }

  // The collected neighbours, best first, with their metric values.
  std::vector<Neighbor> Take(Metric metric) {
    std::vector<Neighbor> result;
    result.reserve(size_);
    for (size_t i = 0; i < size_; ++i) {
      result.push_back({best_[i].second, MetricValue(metric, best_[i].first)});
    }
    size_ = 0;
    return result;
  }

 private:
  // Up to this many of the best are kept without allocating (a search of a few candidates is
  // otherwise dominated by such fixed costs).
  static constexpr size_t kInline = 16;
  const size_t k_;
  std::pair<float, Label> inline_[kInline];
  std::vector<std::pair<float, Label>> heap_;  // when k > kInline
  std::pair<float, Label>* best_ = inline_;    // sorted, nearest first
  size_t size_ = 0;
};

}  // namespace ember::index

#endif  // EMBER_INDEX_TOP_K_H_
