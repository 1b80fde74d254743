// PostingList: the documents containing one term, in increasing internal document id, cut into
// fixed-size blocks that each carry their "impacts" — the Pareto frontier of (term frequency,
// document length) pairs in the block. BM25 grows with tf and shrinks with document length, so
// the best score any document of a block can reach is the best score over its frontier, for any
// k1, b and average length: block-max bounds stay exact upper bounds while the collection's
// statistics change, and need no recomputation when documents come and go.
// Private to text/. Not thread-safe by itself: Bm25Index serializes writers against readers.
#ifndef EMBER_TEXT_POSTING_LIST_H_
#define EMBER_TEXT_POSTING_LIST_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/types/span.h"

namespace ember::text {

inline constexpr uint32_t kEndDoc = std::numeric_limits<uint32_t>::max();

struct Posting {
  uint32_t doc;  // internal document id
  uint32_t tf;   // occurrences of the term in the document
};

// One point of a block's frontier: some document of the block has this tf and this length, and no
// document of the block has both a larger (or equal) tf and a smaller (or equal) length.
struct Impact {
  uint32_t tf;
  uint32_t length;
};

class PostingList {
 public:
  static constexpr size_t kBlockSize = 128;

  struct Block {
    uint32_t last_doc;       // the largest doc id in the block
    uint32_t impacts_begin;  // the block's frontier is impacts()[impacts_begin, next block's begin)
  };

  // Appends a posting; requires doc > every doc already in the list, tf >= 1.
  void Append(uint32_t doc, uint32_t tf, uint32_t length);

  // Rebuilds the list keeping only postings for which new_id(doc) != kEndDoc, with their doc
  // replaced by new_id(doc) (which must preserve order) and `length(new id)` as their length.
  void Rewrite(absl::FunctionRef<uint32_t(uint32_t)> new_id,
               absl::FunctionRef<uint32_t(uint32_t)> length);

  // Frees everything.
  void Clear();

  size_t size() const { return postings_.size(); }
  bool empty() const { return postings_.empty(); }
  absl::Span<const Posting> postings() const { return postings_; }
  absl::Span<const Block> blocks() const { return blocks_; }
  absl::Span<const Impact> impacts() const { return impacts_; }
  // The frontier of block `block`.
  absl::Span<const Impact> BlockImpacts(size_t block) const {
    const size_t end =
        block + 1 < blocks_.size() ? blocks_[block + 1].impacts_begin : impacts_.size();
    return absl::MakeConstSpan(impacts_).subspan(blocks_[block].impacts_begin,
                                                 end - blocks_[block].impacts_begin);
  }

  // Index of the posting for `doc`, or size() when the list does not hold it.
  size_t Find(uint32_t doc) const;

  // Heap bytes held (capacity, not size).
  size_t MemoryBytes() const;

 private:
  std::vector<Posting> postings_;
  std::vector<Block> blocks_;
  std::vector<Impact> impacts_;
};

// Reads a PostingList forward, as BM25's top-k search needs: the current posting, skips to the
// first posting at or after a document (by block, then within the block), and the block the
// current posting lies in, whose frontier bounds the scores ahead.
class PostingCursor {
 public:
  explicit PostingCursor(const PostingList& list) : list_(&list) {}

  uint32_t doc() const { return pos_ < list_->size() ? list_->postings()[pos_].doc : kEndDoc; }
  uint32_t tf() const { return list_->postings()[pos_].tf; }
  // The block of the current posting (blocks().size() at the end).
  size_t block() const { return pos_ / PostingList::kBlockSize; }

  void Next() { ++pos_; }
  // Moves to the first posting with doc >= target (or the end); never moves backwards.
  void NextGeq(uint32_t target) {
    if (doc() < target) SeekForward(target);
  }
  // The index of the current posting in list().postings(), and a jump to a later one (for loops
  // that walk the postings directly).
  size_t position() const { return pos_; }
  void set_position(size_t pos) { pos_ = pos; }

  const PostingList& list() const { return *list_; }

 private:
  // NextGeq when the current doc is below target.
  void SeekForward(uint32_t target);
  // The first block at or after `from` whose last doc is >= target (galloping, then binary).
  size_t FindBlock(size_t from, uint32_t target) const;

  const PostingList* list_;
  size_t pos_ = 0;
};

}  // namespace ember::text

#endif  // EMBER_TEXT_POSTING_LIST_H_
