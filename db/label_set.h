// LabelSet: a compressed set of document labels, the currency of filter evaluation.
//
// Labels are 64-bit but handed out sequentially from 0, so every label of a real collection fits
// 32 bits. The set keeps those in a 32-bit CRoaring bitmap and any label of 2^32 or more (after
// four billion upserts) in a Roaring64Map beside it. The split is for speed: in CRoaring 0.2.66
// (Debian's) the 64-bit map's union is a loop of pairwise unions, its membership test two map
// look-ups and its bulk reads element-by-element iteration, while the 32-bit bitmap has a true
// many-way union and bulk reads; filter evaluation measured several times faster on it
// (bench/filtered_bench).
//
// The basic operations keep CRoaring's spelling (add, contains, cardinality, isEmpty, operators),
// so that code written against Roaring64Map reads the same.
//
// Thread-compatible: const methods may run concurrently; mutation needs exclusive access.
#ifndef EMBER_DB_LABEL_SET_H_
#define EMBER_DB_LABEL_SET_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <type_traits>
#include <vector>

#include "roaring/roaring.hh"
#include "roaring/roaring64map.hh"

namespace ember::db {

class LabelSet {
 public:
  LabelSet() = default;

  void add(uint64_t label) {
    if (IsLow(label)) {
      low_.add(static_cast<uint32_t>(label));
    } else {
      high_.add(label);
    }
  }
  void remove(uint64_t label) {
    if (IsLow(label)) {
      low_.remove(static_cast<uint32_t>(label));
    } else {
      high_.remove(label);
    }
  }
  bool contains(uint64_t label) const {
    return IsLow(label) ? low_.contains(static_cast<uint32_t>(label))
                        : !high_.isEmpty() && high_.contains(label);
  }
  uint64_t cardinality() const {
    return low_.cardinality() + (high_.isEmpty() ? 0 : high_.cardinality());
  }
  bool isEmpty() const { return low_.isEmpty() && high_.isEmpty(); }
  // Approximate memory, in bytes.
  size_t getSizeInBytes() const;

  LabelSet& operator|=(const LabelSet& other);
  LabelSet& operator&=(const LabelSet& other);
  LabelSet& operator-=(const LabelSet& other);
  friend LabelSet operator|(LabelSet a, const LabelSet& b) { return a |= b; }
  friend LabelSet operator&(const LabelSet& a, const LabelSet& b);
  friend LabelSet operator-(const LabelSet& a, const LabelSet& b);
  friend bool operator==(const LabelSet& a, const LabelSet& b);

  // The union of `sets`, choosing between pairwise unions (few or small sets) and CRoaring's
  // many-way union (whose fixed cost is a bitmap per 2^16 labels) by their sizes.
  static LabelSet Union(std::span<const LabelSet* const> sets);

  // The set of `labels`, which must be in increasing order (repeats allowed; signed labels must
  // not be negative); built in bulk.
  static LabelSet FromSorted(std::span<const uint64_t> labels);
  static LabelSet FromSorted(std::span<const int64_t> labels);

  // Calls fn(labels, n) for blocks of at most kBlock labels, in increasing order: labels is a
  // const uint32_t* for those below 2^32, then a const uint64_t* for the others, so `fn` is
  // generic (a lambda taking const auto*). Reads the bitmap in bulk, far faster than the iterator
  // below.
  static constexpr size_t kBlock = 256;
  template <typename Fn>
  void ForEachBlock(Fn&& fn) const {
    if (!low_.isEmpty()) {
      roaring_uint32_iterator_t it;
      roaring_init_iterator(&low_.roaring, &it);
      uint32_t block[kBlock];
      while (uint32_t n = roaring_read_uint32_iterator(&it, block, kBlock)) {
        fn(static_cast<const uint32_t*>(block), static_cast<size_t>(n));
      }
    }
    if (!high_.isEmpty()) {
      uint64_t block[kBlock];
      size_t n = 0;
      for (uint64_t label : high_) {
        block[n++] = label;
        if (n == kBlock) {
          fn(static_cast<const uint64_t*>(block), n);
          n = 0;
        }
      }
      if (n > 0) fn(static_cast<const uint64_t*>(block), n);
    }
  }

  // Calls fn(uint64_t label) for every label, in increasing order, read in blocks.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    ForEachBlock([&fn](const auto* labels, size_t n) {
      for (size_t i = 0; i < n; ++i) fn(static_cast<uint64_t>(labels[i]));
    });
  }

  // Appends every label, in increasing order, to `out` (a vector of integers: anything with
  // size(), resize() and data()).
  template <typename Vector>
  void AppendTo(Vector* out) const {
    using Int = std::remove_reference_t<decltype(*out->data())>;
    const size_t base = out->size();
    const uint64_t low = low_.cardinality();
    out->resize(base + low + (high_.isEmpty() ? 0 : high_.cardinality()));
    Int* next = out->data() + base;
    if (low <= kBlock) {
      // A small set in one call (most filters that end in an exact scan match few documents).
      uint32_t block[kBlock];
      low_.toUint32Array(block);
      for (uint64_t i = 0; i < low; ++i) *next++ = static_cast<Int>(block[i]);
      if (!high_.isEmpty()) {
        for (uint64_t label : high_) *next++ = static_cast<Int>(label);
      }
      return;
    }
    ForEachBlock([&next](const auto* labels, size_t n) {
      for (size_t i = 0; i < n; ++i) *next++ = static_cast<Int>(labels[i]);
    });
  }

  // Forward iteration in increasing order (for (uint64_t label : set)); one library call per
  // label, so hot loops use ForEach.
  class const_iterator {
   public:
    using value_type = uint64_t;
    uint64_t operator*() const { return in_low_ ? low_.current_value : (*high_)[high_index_]; }
    const_iterator& operator++();
    bool operator==(const const_iterator& other) const;
    bool operator!=(const const_iterator& other) const { return !(*this == other); }

   private:
    friend class LabelSet;
    const_iterator() = default;

    bool in_low_ = false;
    roaring_uint32_iterator_t low_{};
    // The labels of 2^32 and more, copied out when there are any.
    std::shared_ptr<const std::vector<uint64_t>> high_;
    size_t high_index_ = 0;
  };
  const_iterator begin() const;
  const_iterator end() const;

 private:
  static bool IsLow(uint64_t label) { return label <= UINT32_MAX; }
  template <typename Int>
  static LabelSet FromSortedAs(std::span<const Int> labels);

  Roaring low_;        // labels < 2^32
  Roaring64Map high_;  // labels >= 2^32 (empty in practice)
};

}  // namespace ember::db

#endif  // EMBER_DB_LABEL_SET_H_
