#include "index/label_map.h"

#include <algorithm>

namespace ember::index {

const int32_t* LabelMap::AbsentPage() {
  static const int32_t* const page = [] {
    auto* entries = new int32_t[kPageSize];
    std::fill_n(entries, kPageSize, kAbsent);
    return entries;
  }();
  return page;
}

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
  if (page_index >= pages_.size()) {
    pages_.resize(page_index + 1);
    used_.resize(page_index + 1);
    directory_.resize(page_index + 2, AbsentPage());
  }
  std::unique_ptr<int32_t[]>& page = pages_[page_index];
  if (page == nullptr) {
    page = std::make_unique<int32_t[]>(kPageSize);
    std::fill_n(page.get(), kPageSize, kAbsent);
    directory_[page_index] = page.get();
  }
  const int32_t previous = std::exchange(page[u & kPageMask], position);
  if (previous == kAbsent) {
    ++used_[page_index];
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
  if (page_index >= pages_.size() || pages_[page_index] == nullptr) return kAbsent;
  const int32_t previous = std::exchange(pages_[page_index][u & kPageMask], kAbsent);
  if (previous != kAbsent) {
    --size_;
    if (--used_[page_index] == 0) {
      pages_[page_index].reset();
      directory_[page_index] = AbsentPage();
    }
  }
  return previous;
}

void LabelMap::Clear() {
  directory_ = {AbsentPage()};
  pages_.clear();
  used_.clear();
  others_.clear();
  size_ = 0;
}

int64_t LabelMap::MemoryBytes() const {
  int64_t bytes = static_cast<int64_t>(directory_.capacity() * sizeof(directory_[0]) +
                                       pages_.capacity() * sizeof(pages_[0]) +
                                       used_.capacity() * sizeof(uint32_t));
  for (const auto& page : pages_) {
    if (page != nullptr) bytes += static_cast<int64_t>(kPageSize * sizeof(int32_t));
  }
  // A hash slot: the label, the position, padding and a control byte.
  return bytes + static_cast<int64_t>(others_.capacity() * (sizeof(Label) + 2 * sizeof(int32_t)));
}

}  // namespace ember::index
