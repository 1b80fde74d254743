#include "index/label_map.h"

#include <algorithm>

namespace ember::index {

int32_t LabelMap::Put(Label label, int32_t position) {
  const uint64_t u = static_cast<uint64_t>(label);
  if (u >= kDenseLimit) {
    auto [it, inserted] = others_.try_emplace(label, position);
    if (inserted) {
      ++size_;
      return kAbsent;
    }
    return std::exchange(it->second, position);
  }
  const uint64_t page_index = u >> kPageBits;
  if (page_index >= pages_.size()) pages_.resize(page_index + 1);
  Page& page = pages_[page_index];
  if (page.positions == nullptr) {
    page.positions = std::make_unique<int32_t[]>(kPageSize);
    std::fill_n(page.positions.get(), kPageSize, kAbsent);
  }
  int32_t& entry = page.positions[u & kPageMask];
  const int32_t previous = std::exchange(entry, position);
  if (previous == kAbsent) {
    ++page.used;
    ++size_;
  }
  return previous;
}

int32_t LabelMap::Erase(Label label) {
  const uint64_t u = static_cast<uint64_t>(label);
  if (u >= kDenseLimit) {
    const auto it = others_.find(label);
    if (it == others_.end()) return kAbsent;
    const int32_t position = it->second;
    others_.erase(it);
    --size_;
    return position;
  }
  const uint64_t page_index = u >> kPageBits;
  if (page_index >= pages_.size() || pages_[page_index].positions == nullptr) return kAbsent;
  Page& page = pages_[page_index];
  const int32_t previous = std::exchange(page.positions[u & kPageMask], kAbsent);
  if (previous != kAbsent) {
    --size_;
    if (--page.used == 0) page.positions.reset();
  }
  return previous;
}

void LabelMap::Clear() {
  pages_.clear();
  others_.clear();
  size_ = 0;
}

int64_t LabelMap::MemoryBytes() const {
  int64_t bytes = static_cast<int64_t>(pages_.capacity() * sizeof(Page));
  for (const Page& page : pages_) {
    if (page.positions != nullptr) bytes += static_cast<int64_t>(kPageSize * sizeof(int32_t));
  }
  // A hash slot: the label, the position, padding and a control byte.
  return bytes + static_cast<int64_t>(others_.capacity() * (sizeof(Label) + 2 * sizeof(int32_t)));
}

}  // namespace ember::index
