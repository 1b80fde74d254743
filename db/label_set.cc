#include "db/label_set.h"

#include "absl/container/inlined_vector.h"

namespace ember::db {

size_t LabelSet::getSizeInBytes() const {
  return low_.getSizeInBytes() + (high_.isEmpty() ? 0 : high_.getSizeInBytes());
}

LabelSet& LabelSet::operator|=(const LabelSet& other) {
  low_ |= other.low_;
  if (!other.high_.isEmpty()) high_ |= other.high_;
  return *this;
}

LabelSet& LabelSet::operator&=(const LabelSet& other) {
  low_ &= other.low_;
  if (!high_.isEmpty()) high_ &= other.high_;
  return *this;
}

LabelSet& LabelSet::operator-=(const LabelSet& other) {
  low_ -= other.low_;
  if (!high_.isEmpty() && !other.high_.isEmpty()) high_ -= other.high_;
  return *this;
}

LabelSet operator&(const LabelSet& a, const LabelSet& b) {
  LabelSet result;
  result.low_ = a.low_ & b.low_;
  if (!a.high_.isEmpty() && !b.high_.isEmpty()) result.high_ = a.high_ & b.high_;
  return result;
}

LabelSet operator-(const LabelSet& a, const LabelSet& b) {
  LabelSet result;
  result.low_ = a.low_ - b.low_;
  if (!a.high_.isEmpty()) result.high_ = b.high_.isEmpty() ? a.high_ : a.high_ - b.high_;
  return result;
}

bool operator==(const LabelSet& a, const LabelSet& b) {
  return a.low_ == b.low_ && a.high_.isEmpty() == b.high_.isEmpty() &&
         (a.high_.isEmpty() || a.high_ == b.high_);
}

LabelSet LabelSet::Union(std::span<const LabelSet* const> sets) {
  LabelSet result;
  if (sets.empty()) return result;
  uint64_t total = 0;
  for (const LabelSet* set : sets) total += set->low_.cardinality();
  // CRoaring's many-way union fills a bitmap container per 2^16-label chunk touched and converts
  // back at the end; that fixed cost loses to pairwise unions of a few sets or of small ones
  // (measured on GloVe-sized sets: 10 sets of 331 labels, 9 us pairwise vs 15 us many-way; 50 sets
  // of 3,314, 280 us vs 136 us).
  constexpr size_t kPairwiseMaxSets = 3;
  constexpr uint64_t kPairwiseMaxLabels = 8192;
  if (sets.size() <= kPairwiseMaxSets || total < kPairwiseMaxLabels) {
    result.low_ = sets[0]->low_;
    for (size_t i = 1; i < sets.size(); ++i) result.low_ |= sets[i]->low_;
  } else {
    absl::InlinedVector<const roaring_bitmap_t*, 16> bitmaps;
    for (const LabelSet* set : sets) bitmaps.push_back(&set->low_.roaring);
    roaring_bitmap_t* merged = roaring_bitmap_or_many(bitmaps.size(), bitmaps.data());
    if (merged == nullptr) throw std::bad_alloc();
    result.low_ = Roaring(merged);
  }
  for (const LabelSet* set : sets) {
    if (!set->high_.isEmpty()) result.high_ |= set->high_;
  }
  return result;
}

template <typename Int>
LabelSet LabelSet::FromSortedAs(std::span<const Int> labels) {
  LabelSet result;
  constexpr size_t kChunk = 256;
  uint32_t block[kChunk];
  size_t i = 0;
  while (i < labels.size() && IsLow(static_cast<uint64_t>(labels[i]))) {
    size_t n = 0;
    for (; n < kChunk && i < labels.size() && IsLow(static_cast<uint64_t>(labels[i])); ++n, ++i) {
      block[n] = static_cast<uint32_t>(labels[i]);
    }
    roaring_bitmap_add_many(&result.low_.roaring, n, block);
  }
  for (; i < labels.size(); ++i) result.high_.add(static_cast<uint64_t>(labels[i]));
  return result;
}

LabelSet LabelSet::FromSorted(std::span<const uint64_t> labels) { return FromSortedAs(labels); }
LabelSet LabelSet::FromSorted(std::span<const int64_t> labels) { return FromSortedAs(labels); }

LabelSet::const_iterator LabelSet::begin() const {
  const_iterator it;
  roaring_init_iterator(&low_.roaring, &it.low_);
  it.in_low_ = it.low_.has_value;
  if (!high_.isEmpty()) {
    auto high = std::make_shared<std::vector<uint64_t>>();
    for (uint64_t label : high_) high->push_back(label);
    it.high_ = std::move(high);
  }
  return it;
}

LabelSet::const_iterator LabelSet::end() const {
  const_iterator it;
  it.high_index_ = high_.isEmpty() ? 0 : static_cast<size_t>(high_.cardinality());
  return it;
}

LabelSet::const_iterator& LabelSet::const_iterator::operator++() {
  if (in_low_) {
    roaring_advance_uint32_iterator(&low_);
    in_low_ = low_.has_value;
  } else {
    ++high_index_;
  }
  return *this;
}

bool LabelSet::const_iterator::operator==(const const_iterator& other) const {
  if (in_low_ != other.in_low_) return false;
  return in_low_ ? low_.current_value == other.low_.current_value
                 : high_index_ == other.high_index_;
}

}  // namespace ember::db
