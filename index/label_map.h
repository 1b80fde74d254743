// LabelMap: label -> position (a graph node) for the labels an index holds.
//
// The database hands labels out sequentially from 0, so nearly all are small. Those below 2^32 sit
// in pages of 4,096 positions indexed directly: a look-up is two dependent reads with no hashing,
// and costs 4 bytes a label against about 20 in a hash map, which matters to exact scoring of a
// filter's matches (one look-up per match, at random). A page exists while one of its labels is
// held. Other labels (negative or huge ones, which the index API allows) go to a hash map.
//
// Thread-compatible: const methods may run concurrently; mutation needs exclusive access.
#ifndef EMBER_INDEX_LABEL_MAP_H_
#define EMBER_INDEX_LABEL_MAP_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "index/vector_index.h"

namespace ember::index {

class LabelMap {
 public:
  static constexpr int32_t kAbsent = -1;

  // The position of `label`, or kAbsent.
  int32_t Find(Label label) const {
    const uint64_t u = static_cast<uint64_t>(label);
    if (u >= kDenseLimit) {
      const auto it = others_.find(label);
      return it == others_.end() ? kAbsent : it->second;
    }
    return PageOf(u)[u & kPageMask];
  }
  bool contains(Label label) const { return Find(label) != kAbsent; }
  // Brings the entry of `label` towards the cache ahead of a Find.
  void Prefetch(Label label) const {
    const uint64_t u = static_cast<uint64_t>(label);
    if (u < kDenseLimit) __builtin_prefetch(PageOf(u) + (u & kPageMask));
  }

  // Maps `label` to `position` (>= 0); returns its previous position, or kAbsent when it is new.
  int32_t Put(Label label, int32_t position);
  // Unmaps `label`; returns the position it had, or kAbsent.
  int32_t Erase(Label label);
  void Clear();

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  int64_t MemoryBytes() const;

 private:
  static constexpr int kPageBits = 12;
  static constexpr uint64_t kPageSize = uint64_t{1} << kPageBits;
  static constexpr uint64_t kPageMask = kPageSize - 1;
  static constexpr uint64_t kDenseLimit = uint64_t{1} << 32;
  // kPageSize entries of kAbsent: the page of every label below kDenseLimit whose page holds
  // none.
  static const int32_t* AbsentPage();
  // Without a branch: pages holding no label, and labels past the last page (the directory's
  // final entry), read AbsentPage().
  const int32_t* PageOf(uint64_t u) const {
    return directory_[std::min<uint64_t>(u >> kPageBits, directory_.size() - 1)];
  }

  // directory_[p]: page p's positions (pages_[p]), or AbsentPage() while it holds no label; one
  // entry more than pages_, always AbsentPage().
  std::vector<const int32_t*> directory_ = {AbsentPage()};
  std::vector<std::unique_ptr<int32_t[]>> pages_;
  std::vector<uint32_t> used_;  // labels held per page
  absl::flat_hash_map<Label, int32_t> others_;
  size_t size_ = 0;
};

}  // namespace ember::index

#endif  // EMBER_INDEX_LABEL_MAP_H_
