#include "text/posting_list.h"

#include <algorithm>

namespace ember::text {
namespace {

// Appends to `out` the Pareto frontier of `points` (which it reorders): sorted by length ascending
// with tf strictly ascending, each point undominated.
void AppendFrontier(std::vector<Impact>& points, std::vector<Impact>* out) {
  std::sort(points.begin(), points.end(), [](const Impact& a, const Impact& b) {
    return a.length != b.length ? a.length < b.length : a.tf > b.tf;
  });
  uint32_t best_tf = 0;
  for (const Impact& point : points) {
    if (point.tf > best_tf) {
      out->push_back(point);
      best_tf = point.tf;
    }
  }
}

}  // namespace

void PostingList::Append(uint32_t doc, uint32_t tf, uint32_t length) {
  if (postings_.size() % kBlockSize == 0) {
    blocks_.push_back({doc, static_cast<uint32_t>(impacts_.size())});
  }
  postings_.push_back({doc, tf});
  blocks_.back().last_doc = doc;

  // The open block's frontier is the tail of impacts_, so it can change in place.
  const auto begin = impacts_.begin() + blocks_.back().impacts_begin;
  const auto end = impacts_.end();
  // Points with length <= the new one form a prefix; the last of it has their largest tf.
  const auto shorter_end = std::upper_bound(
      begin, end, length, [](uint32_t value, const Impact& e) { return value < e.length; });
  if (shorter_end != begin && (shorter_end - 1)->tf >= tf) return;  // dominated
  // Points the new one dominates: length >= it and tf <= it, a contiguous run.
  auto first = std::lower_bound(begin, end, length,
                                [](const Impact& e, uint32_t value) { return e.length < value; });
  auto last = first;
  while (last != end && last->tf <= tf) ++last;
  first = impacts_.erase(first, last);
  impacts_.insert(first, Impact{tf, length});
}

void PostingList::Rewrite(absl::FunctionRef<uint32_t(uint32_t)> new_id,
                          absl::FunctionRef<uint32_t(uint32_t)> length) {
  std::vector<Posting> postings;
  for (const Posting& posting : postings_) {
    const uint32_t id = new_id(posting.doc);
    if (id != kEndDoc) postings.push_back({id, posting.tf});
  }
  postings.shrink_to_fit();
  std::vector<Block> blocks;
  std::vector<Impact> impacts;
  std::vector<Impact> points;
  for (size_t begin = 0; begin < postings.size(); begin += kBlockSize) {
    const size_t end = std::min(postings.size(), begin + kBlockSize);
    points.clear();
    for (size_t i = begin; i < end; ++i)
      points.push_back({postings[i].tf, length(postings[i].doc)});
    blocks.push_back({postings[end - 1].doc, static_cast<uint32_t>(impacts.size())});
    AppendFrontier(points, &impacts);
  }
  impacts.shrink_to_fit();
  postings_ = std::move(postings);
  blocks_ = std::move(blocks);
  impacts_ = std::move(impacts);
}

void PostingList::Clear() {
  postings_ = {};
  blocks_ = {};
  impacts_ = {};
}

size_t PostingList::Find(uint32_t doc) const {
  const auto it = std::lower_bound(postings_.begin(), postings_.end(), doc,
                                   [](const Posting& p, uint32_t value) { return p.doc < value; });
  return it != postings_.end() && it->doc == doc ? static_cast<size_t>(it - postings_.begin())
                                                 : postings_.size();
}

size_t PostingList::MemoryBytes() const {
  return postings_.capacity() * sizeof(Posting) + blocks_.capacity() * sizeof(Block) +
         impacts_.capacity() * sizeof(Impact);
}

size_t PostingCursor::FindBlock(size_t from, uint32_t target) const {
  const absl::Span<const PostingList::Block> blocks = list_->blocks();
  if (from >= blocks.size() || blocks[from].last_doc >= target) return from;
  // blocks[lo].last_doc < target; gallop until blocks[hi].last_doc >= target or past the end.
  size_t lo = from;
  size_t step = 1;
  size_t hi = from + step;
  while (hi < blocks.size() && blocks[hi].last_doc < target) {
    lo = hi;
    step *= 2;
    hi = lo + step;
  }
  hi = std::min(hi, blocks.size());
  const auto it = std::lower_bound(
      blocks.begin() + lo + 1, blocks.begin() + hi, target,
      [](const PostingList::Block& b, uint32_t value) { return b.last_doc < value; });
  return static_cast<size_t>(it - blocks.begin());
}

void PostingCursor::SeekForward(uint32_t target) {
  const absl::Span<const Posting> postings = list_->postings();
  // Short hops (the common case when probing documents in order) are cheaper scanned.
  const size_t scan_end = std::min(postings.size(), pos_ + 8);
  for (size_t i = pos_ + 1; i < scan_end; ++i) {
    if (postings[i].doc >= target) {
      pos_ = i;
      return;
    }
  }
  const size_t block = FindBlock(pos_ / PostingList::kBlockSize, target);
  if (block >= list_->blocks().size()) {
    pos_ = postings.size();
    return;
  }
  const size_t begin = std::max(pos_, block * PostingList::kBlockSize);
  const size_t end = std::min(postings.size(), (block + 1) * PostingList::kBlockSize);
  const auto it = std::lower_bound(postings.begin() + begin, postings.begin() + end, target,
                                   [](const Posting& p, uint32_t value) { return p.doc < value; });
  pos_ = static_cast<size_t>(it - postings.begin());
}

}  // namespace ember::text
