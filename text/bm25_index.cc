#include "text/bm25_index.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "ember/status.h"

namespace ember::text {
namespace {

// Internal document ids run below kEndDoc (the cursors' end marker).
constexpr uint64_t kMaxDocumentSlots = kEndDoc - 1;

// Renumbering every posting is O(postings); waiting until dead slots outnumber live documents (and
// a minimum) makes it O(1) amortized per removal.
constexpr uint64_t kMinDeadSlotsForCompaction = 4096;

// Documents per window of the top-k search: at most the accumulator's size (32 KiB of scores, so
// that it stays in cache), at least kMinWindowSize: on SciFact resampled to 62,000 documents,
// minimum windows of 128 / 256 / 1024 / 4096 documents ran the 300 queries' top 10 at 479 / 353 /
// 286 / 321 us per query (smaller windows bound tighter but cost more per window).
constexpr size_t kWindowSize = 4096;
constexpr size_t kMinWindowSize = 1024;

// Scores are integers in units of 2^-40 (see the header).
constexpr double kFixedScale = 1099511627776.0;  // 2^40

// The document length Lucene's one-byte norm decodes to (its SmallFloat.intToByte4 and back):
// lengths below 24 are exact; above, length - 24 keeps its 4 most significant bits. Never
// decreases as the length grows, so block bounds stay valid.
uint32_t LuceneEncodedLength(uint32_t length) {
  constexpr uint32_t kExact = 24;
  if (length < kExact) return length;
  const uint32_t rest = length - kExact;
  const int bits = 32 - __builtin_clz(rest | 1);
  const int shift = std::max(bits - 4, 0);
  return kExact + ((rest >> shift) << shift);
}

// The BM25 formula with a query's constants folded in: per posting, one multiply-add and one
// division. Search, Explain and the block bounds all score through here; the addend never
// decreases as tf grows or the length shrinks, so a bound computed from a block's frontier is never
// below the score of a document the frontier covers.
class Scorer {
 public:
  Scorer(const Bm25Params& params, double average_length)
      : base_(params.k1 * (1.0 - params.b)),
        per_token_(average_length > 0 ? params.k1 * params.b / average_length : 0),
        lucene_lengths_(params.lucene_length_encoding) {}

  // weight * tf / (tf + k1 * (1 - b + b * length / avgdl)), in units of 2^-40, rounded.
  int64_t Fixed(double weight, uint32_t tf, uint32_t length) const {
    if (lucene_lengths_) length = LuceneEncodedLength(length);
    const double f = tf;
    const double score = weight * (f / (f + (base_ + per_token_ * length)));
    return static_cast<int64_t>(score * kFixedScale + 0.5);
  }

 private:
  double base_;
  double per_token_;
  bool lucene_lengths_;
};

double FromFixed(int64_t score) { return static_cast<double>(score) / kFixedScale; }

double Idf(uint64_t documents, uint64_t df) {
  return std::log(1.0 + (static_cast<double>(documents) - static_cast<double>(df) + 0.5) /
                            (static_cast<double>(df) + 0.5));
}

// An upper bound of the fixed-point score of any posting the frontier `impacts` covers. Two units
// of slack absorb the double rounding before the conversion (the exact values are monotone, their
// rounded images only nearly so).
int64_t FrontierMax(absl::Span<const Impact> impacts, double weight, const Scorer& scorer) {
  int64_t best = 0;
  for (const Impact& impact : impacts) {
    best = std::max(best, scorer.Fixed(weight, impact.tf, impact.length));
  }
  return best + 2;
}

// The best k (score, label) pairs seen: higher score first, then smaller label.
class TopK {
 public:
  // `expected` caps the memory reserved up front (k may be far larger than what can match).
  TopK(int k, size_t expected) : limit_(static_cast<size_t>(k)) {
    heap_.reserve(std::min(limit_, expected));
  }

  // Whether a document scoring at most `bound` could still enter (a tie may: a smaller label wins
  // it).
  bool CouldEnter(int64_t bound) const {
    return heap_.size() < limit_ || bound >= heap_.front().score;
  }
  // Whether (score, label) would enter now.
  bool WouldEnter(int64_t score, uint64_t label) const {
    return heap_.size() < limit_ || Better({score, label}, heap_.front());
  }
  // Adds a pair for which WouldEnter holds.
  void Push(int64_t score, uint64_t label) {
    if (heap_.size() == limit_) {
      std::pop_heap(heap_.begin(), heap_.end(), Better);
      heap_.back() = {score, label};
    } else {
      heap_.push_back({score, label});
    }
    std::push_heap(heap_.begin(), heap_.end(), Better);
  }
  // The pairs, best first.
  std::vector<Bm25Hit> Take() {
    std::sort(heap_.begin(), heap_.end(), Better);
    std::vector<Bm25Hit> hits;
    hits.reserve(heap_.size());
    for (const Entry& e : heap_) hits.push_back({e.label, FromFixed(e.score)});
    return hits;
  }

 private:
  struct Entry {
    int64_t score;
    uint64_t label;
  };
  static bool Better(const Entry& a, const Entry& b) {
    return a.score != b.score ? a.score > b.score : a.label < b.label;
  }
  const size_t limit_;
  std::vector<Entry> heap_;  // a heap whose front is the worst entry: the bar to enter
};

template <typename Map>
uint64_t HashMapBytes(const Map& map) {
  // Swiss tables: one control byte plus one slot per bucket.
  return map.bucket_count() * (sizeof(typename Map::value_type) + 1);
}

}  // namespace

absl::Status ValidateBm25Params(const Bm25Params& params) {
  if (!std::isfinite(params.k1) || params.k1 < 0) {
    return absl::InvalidArgumentError(absl::StrCat("k1 must be finite and >= 0, got ", params.k1));
  }
  if (!(params.b >= 0 && params.b <= 1)) {
    return absl::InvalidArgumentError(absl::StrCat("b must be in [0, 1], got ", params.b));
  }
  return absl::OkStatus();
}

// A query resolved against the index: distinct terms in order of first occurrence.
struct Bm25Index::Query {
  struct Term {
    std::string text;
    uint32_t count = 0;
    const TermEntry* entry = nullptr;  // null when unknown or without documents
    double idf = 0;
    double weight = 0;  // count * idf
  };
  std::vector<Term> terms;
  double average_length = 0;
};

Bm25Index::Bm25Index() = default;
Bm25Index::~Bm25Index() = default;

absl::Status Bm25Index::Add(uint64_t label, const TermFrequencies& frequencies) {
  EMBER_RETURN_IF_ERROR(ValidateTermFrequencies(frequencies));
  if (labels_.contains(label)) {
    return absl::AlreadyExistsError(absl::StrCat("label ", label, " is already indexed"));
  }
  if (doc_labels_.size() >= kMaxDocumentSlots) {
    if (dead_slots_ == 0) {
      return absl::ResourceExhaustedError(
          absl::StrCat("the index holds its maximum of ", kMaxDocumentSlots, " documents"));
    }
    CompactAll();
  }
  const auto id = static_cast<uint32_t>(doc_labels_.size());
  std::vector<uint32_t> term_ids;
  term_ids.reserve(frequencies.terms.size());
  for (const auto& [term, count] : frequencies.terms) {
    auto [it, inserted] = term_ids_.try_emplace(term, static_cast<uint32_t>(terms_.size()));
    if (inserted) terms_.emplace_back();
    TermEntry& entry = terms_[it->second];
    entry.postings.Append(id, count, frequencies.length);
    if (entry.df++ == 0) ++live_terms_;
    term_ids.push_back(it->second);
  }
  doc_labels_.push_back(label);
  doc_lengths_.push_back(frequencies.length);
  doc_terms_.push_back(std::move(term_ids));
  labels_.emplace(label, id);
  total_length_ += frequencies.length;
  live_postings_ += frequencies.terms.size();
  return absl::OkStatus();
}

absl::Status Bm25Index::Remove(uint64_t label) {
  const auto found = labels_.find(label);
  if (found == labels_.end()) {
    return absl::NotFoundError(absl::StrCat("label ", label, " is not indexed"));
  }
  const uint32_t id = found->second;
  labels_.erase(found);
  total_length_ -= doc_lengths_[id];
  doc_lengths_[id] = kDeadLength;  // before CompactTerm, which drops dead postings
  std::vector<uint32_t> term_ids = std::move(doc_terms_[id]);
  doc_terms_[id] = {};
  live_postings_ -= term_ids.size();
  for (const uint32_t term_id : term_ids) {
    TermEntry& entry = terms_[term_id];
    --entry.df;
    ++entry.dead;
    if (entry.df == 0) --live_terms_;
    // A quarter dead: rewriting costs O(list) once per list/4 removals, O(1) amortized each.
    if (entry.df == 0 || entry.dead * 4 > entry.postings.size()) CompactTerm(entry);
  }
  ++dead_slots_;
  if (dead_slots_ >= kMinDeadSlotsForCompaction && dead_slots_ > labels_.size()) CompactAll();
  return absl::OkStatus();
}

void Bm25Index::CompactTerm(TermEntry& entry) {
  entry.dead = 0;
  if (entry.df == 0) {
    entry.postings.Clear();
    return;
  }
  entry.postings.Rewrite(
      [this](uint32_t doc) { return doc_lengths_[doc] == kDeadLength ? kEndDoc : doc; },
      [this](uint32_t doc) { return doc_lengths_[doc]; });
}

void Bm25Index::CompactAll() {
  // Documents: live ones keep their relative order, so every posting list stays sorted.
  std::vector<uint32_t> new_doc_id(doc_labels_.size(), kEndDoc);
  std::vector<uint64_t> labels;
  std::vector<uint32_t> lengths;
  std::vector<std::vector<uint32_t>> doc_terms;
  labels.reserve(labels_.size());
  lengths.reserve(labels_.size());
  doc_terms.reserve(labels_.size());
  for (size_t id = 0; id < doc_labels_.size(); ++id) {
    if (doc_lengths_[id] == kDeadLength) continue;
    new_doc_id[id] = static_cast<uint32_t>(labels.size());
    labels.push_back(doc_labels_[id]);
    lengths.push_back(doc_lengths_[id]);
    doc_terms.push_back(std::move(doc_terms_[id]));
  }
  // Terms: those without documents are forgotten, the rest renumbered densely.
  std::vector<uint32_t> new_term_id(terms_.size(), kEndDoc);
  std::vector<TermEntry> terms;
  terms.reserve(live_terms_);
  for (auto it = term_ids_.begin(); it != term_ids_.end();) {
    TermEntry& entry = terms_[it->second];
    if (entry.df == 0) {
      term_ids_.erase(it++);
      continue;
    }
    new_term_id[it->second] = static_cast<uint32_t>(terms.size());
    it->second = static_cast<uint32_t>(terms.size());
    entry.postings.Rewrite([&new_doc_id](uint32_t doc) { return new_doc_id[doc]; },
                           [&lengths](uint32_t doc) { return lengths[doc]; });
    entry.dead = 0;
    terms.push_back(std::move(entry));
    ++it;
  }
  for (std::vector<uint32_t>& ids : doc_terms) {
    for (uint32_t& term_id : ids) term_id = new_term_id[term_id];
  }
  for (auto& [label, id] : labels_) id = new_doc_id[id];
  terms_ = std::move(terms);
  doc_labels_ = std::move(labels);
  doc_lengths_ = std::move(lengths);
  doc_terms_ = std::move(doc_terms);
  dead_slots_ = 0;
}

absl::Status Bm25Index::ValidateQuery(absl::Span<const std::string> query_terms,
                                      const Bm25Params& params) {
  if (query_terms.size() > kMaxQueryTerms) {
    return absl::InvalidArgumentError(
        absl::StrCat("the query has ", query_terms.size(), " terms, more than ", kMaxQueryTerms));
  }
  return ValidateBm25Params(params);
}

Bm25Index::Query Bm25Index::PrepareQuery(absl::Span<const std::string> query_terms) const {
  Query query;
  const uint64_t documents = labels_.size();
  query.average_length =
      documents == 0 ? 0 : static_cast<double>(total_length_) / static_cast<double>(documents);
  absl::flat_hash_map<std::string, size_t> seen;
  for (const std::string& text : query_terms) {
    const auto [it, inserted] = seen.try_emplace(text, query.terms.size());
    if (!inserted) {
      ++query.terms[it->second].count;
      continue;
    }
    Query::Term term;
    term.text = text;
    term.count = 1;
    const auto id = term_ids_.find(text);
    if (id != term_ids_.end() && terms_[id->second].df > 0) {
      term.entry = &terms_[id->second];
      term.idf = Idf(documents, term.entry->df);
    }
    query.terms.push_back(std::move(term));
  }
  for (Query::Term& term : query.terms) term.weight = term.count * term.idf;
  return query;
}

absl::StatusOr<std::vector<Bm25Hit>> Bm25Index::Search(absl::Span<const std::string> query_terms,
                                                       int k, const LabelFilter* filter,
                                                       const Bm25Params& params) const {
  if (k < 1) return absl::InvalidArgumentError(absl::StrCat("k must be >= 1, got ", k));
  EMBER_RETURN_IF_ERROR(ValidateQuery(query_terms, params));
  const Query query = PrepareQuery(query_terms);
  const Scorer scorer(params, query.average_length);

  // Windowed block-max MaxScore. Documents are visited in windows of consecutive ids. In each
  // window every term gets an upper bound (the best frontier score of its blocks overlapping the
  // window); the terms with the smallest bounds whose sum cannot reach the k-th score so far are
  // "non-essential": a document containing only those cannot enter the top k. The essential terms'
  // postings are scored term-at-a-time into an accumulator, and only the documents they touch are
  // completed by probing the non-essential terms, highest bound first, stopping as soon as the
  // remaining bounds cannot lift the document into the top k. Scores are fixed-point integers, so
  // the order in which a document's terms are added does not change its score.
  struct TermCursor {
    PostingCursor cursor;
    double weight;
    int64_t window_bound = 0;
    size_t cached_block = std::numeric_limits<size_t>::max();
    int64_t cached_block_max = 0;
  };
  std::vector<TermCursor> cursors;
  cursors.reserve(query.terms.size());
  for (const Query::Term& term : query.terms) {
    if (term.entry != nullptr)
      cursors.push_back({PostingCursor(term.entry->postings), term.weight});
  }
  // The best score term `c` can give a document in [current doc, end).
  auto bound_until = [&scorer](TermCursor& c, uint64_t end) {
    const PostingList& list = c.cursor.list();
    int64_t best = 0;
    for (size_t block = c.cursor.block(); block < list.blocks().size(); ++block) {
      if (block != c.cursor.block() &&
          list.postings()[block * PostingList::kBlockSize].doc >= end) {
        break;
      }
      if (block != c.cached_block) {
        c.cached_block = block;
        c.cached_block_max = FrontierMax(list.BlockImpacts(block), c.weight, scorer);
      }
      best = std::max(best, c.cached_block_max);
      if (list.blocks()[block].last_doc + uint64_t{1} >= end) break;
    }
    return best;
  };

  TopK top(k, labels_.size());
  auto could_enter = [&top](int64_t bound) { return top.CouldEnter(bound); };

  std::vector<int64_t> accumulator(kWindowSize, 0);
  std::vector<uint64_t> touched(kWindowSize / 64, 0);
  std::vector<TermCursor*> active;
  uint64_t lo = 0;
  while (true) {
    // The window starts at the first document any remaining posting holds.
    uint32_t first = kEndDoc;
    for (TermCursor& c : cursors) {
      c.cursor.NextGeq(static_cast<uint32_t>(lo));
      first = std::min(first, c.cursor.doc());
    }
    if (first == kEndDoc) break;
    lo = first;
    // It ends where the first current block ends (bounds stay tight), but spans at least
    // kMinWindowSize ids (so that per-window work stays small next to the postings scored).
    uint64_t hi = lo + kWindowSize;
    for (const TermCursor& c : cursors) {
      if (c.cursor.doc() != kEndDoc) {
        hi = std::min<uint64_t>(hi, c.cursor.list().blocks()[c.cursor.block()].last_doc + 1);
      }
    }
    hi = std::min<uint64_t>(std::max<uint64_t>(hi, lo + kMinWindowSize), kEndDoc);

    active.clear();
    for (TermCursor& c : cursors) {
      if (c.cursor.doc() >= hi) continue;
      c.window_bound = bound_until(c, hi);
      active.push_back(&c);
    }
    std::sort(active.begin(), active.end(), [](const TermCursor* a, const TermCursor* b) {
      return a->window_bound < b->window_bound;
    });
    size_t essential = 0;  // active[0, essential) are the non-essential terms
    int64_t non_essential_bound = 0;
    while (essential < active.size() &&
           !could_enter(non_essential_bound + active[essential]->window_bound)) {
      non_essential_bound += active[essential]->window_bound;
      ++essential;
    }
    if (essential == active.size()) {  // nothing in this window can enter
      lo = hi;
      continue;
    }

    for (size_t i = essential; i < active.size(); ++i) {
      TermCursor& c = *active[i];
      const absl::Span<const Posting> postings = c.cursor.list().postings();
      size_t pos = c.cursor.position();
      for (; pos < postings.size() && postings[pos].doc < hi; ++pos) {
        const uint32_t doc = postings[pos].doc;
        const uint32_t length = doc_lengths_[doc];
        if (length == kDeadLength) continue;
        const size_t offset = doc - lo;
        accumulator[offset] += scorer.Fixed(c.weight, postings[pos].tf, length);
        touched[offset / 64] |= uint64_t{1} << (offset % 64);
      }
      c.cursor.set_position(pos);
    }

    // Complete the touched documents in id order (the non-essential cursors only move forward).
    for (size_t word = 0; word < (hi - lo + 63) / 64; ++word) {
      for (uint64_t bits = touched[word]; bits != 0; bits &= bits - 1) {
        const size_t offset = word * 64 + static_cast<size_t>(__builtin_ctzll(bits));
        int64_t score = accumulator[offset];
        accumulator[offset] = 0;
        if (!could_enter(score + non_essential_bound)) continue;
        const auto doc = static_cast<uint32_t>(lo + offset);
        int64_t remaining = non_essential_bound;
        bool pruned = false;
        for (size_t j = essential; j-- > 0;) {
          TermCursor& c = *active[j];
          remaining -= c.window_bound;
          c.cursor.NextGeq(doc);
          if (c.cursor.doc() == doc) {
            score += scorer.Fixed(c.weight, c.cursor.tf(), doc_lengths_[doc]);
          }
          if (!could_enter(score + remaining)) {
            pruned = true;
            break;
          }
        }
        if (pruned) continue;
        const uint64_t label = doc_labels_[doc];
        if (!top.WouldEnter(score, label)) continue;
        if (filter != nullptr && !filter->Accepts(label)) continue;
        top.Push(score, label);
      }
      touched[word] = 0;
    }
    lo = hi;
  }

  return top.Take();
}

absl::StatusOr<std::vector<Bm25Hit>> Bm25Index::SearchCandidates(
    absl::Span<const std::string> query_terms, absl::Span<const uint64_t> candidates, int k,
    const Bm25Params& params) const {
  if (k < 1) return absl::InvalidArgumentError(absl::StrCat("k must be >= 1, got ", k));
  EMBER_RETURN_IF_ERROR(ValidateQuery(query_terms, params));
  const Query query = PrepareQuery(query_terms);
  const Scorer scorer(params, query.average_length);
  std::vector<uint32_t> docs;
  docs.reserve(candidates.size());
  for (const uint64_t label : candidates) {
    const auto found = labels_.find(label);
    if (found != labels_.end()) docs.push_back(found->second);
  }
  // In id order, each term's cursor only moves forward (galloping over what lies between).
  std::sort(docs.begin(), docs.end());
  docs.erase(std::unique(docs.begin(), docs.end()), docs.end());
  std::vector<std::pair<PostingCursor, double>> cursors;
  for (const Query::Term& term : query.terms) {
    if (term.entry != nullptr)
      cursors.emplace_back(PostingCursor(term.entry->postings), term.weight);
  }
  TopK top(k, docs.size());
  for (const uint32_t doc : docs) {
    int64_t score = 0;
    bool matched = false;
    for (auto& [cursor, weight] : cursors) {
      cursor.NextGeq(doc);
      if (cursor.doc() == doc) {
        matched = true;
        score += scorer.Fixed(weight, cursor.tf(), doc_lengths_[doc]);
      }
    }
    if (matched && top.WouldEnter(score, doc_labels_[doc])) top.Push(score, doc_labels_[doc]);
  }
  return top.Take();
}

absl::StatusOr<Bm25Explanation> Bm25Index::Explain(absl::Span<const std::string> query_terms,
                                                   uint64_t label, const Bm25Params& params) const {
  EMBER_RETURN_IF_ERROR(ValidateQuery(query_terms, params));
  const auto found = labels_.find(label);
  if (found == labels_.end()) {
    return absl::NotFoundError(absl::StrCat("label ", label, " is not indexed"));
  }
  const uint32_t id = found->second;
  const Query query = PrepareQuery(query_terms);
  const Scorer scorer(params, query.average_length);
  Bm25Explanation explanation;
  explanation.label = label;
  explanation.document_length = doc_lengths_[id];
  explanation.average_document_length = query.average_length;
  explanation.documents = labels_.size();
  explanation.params = params;
  int64_t total = 0;
  for (const Query::Term& term : query.terms) {
    Bm25TermExplanation part;
    part.term = term.text;
    part.query_count = term.count;
    part.idf = term.idf;
    if (term.entry != nullptr) {
      part.document_frequency = term.entry->df;
      const PostingList& list = term.entry->postings;
      const size_t at = list.Find(id);
      if (at < list.size()) {
        part.term_frequency = list.postings()[at].tf;
        const int64_t score =
            scorer.Fixed(term.weight, part.term_frequency, explanation.document_length);
        part.score = FromFixed(score);
        total += score;
      }
    }
    explanation.terms.push_back(std::move(part));
  }
  explanation.score = FromFixed(total);  // the very sum Search makes
  return explanation;
}

uint64_t Bm25Index::DocumentFrequency(const std::string& term) const {
  const auto it = term_ids_.find(term);
  return it == term_ids_.end() ? 0 : terms_[it->second].df;
}

Bm25IndexStats Bm25Index::Stats() const {
  Bm25IndexStats stats;
  stats.documents = labels_.size();
  stats.terms = live_terms_;
  stats.postings = live_postings_;
  stats.total_length = total_length_;
  stats.average_document_length =
      stats.documents == 0 ? 0 : static_cast<double>(total_length_) / stats.documents;
  uint64_t bytes =
      HashMapBytes(term_ids_) + HashMapBytes(labels_) + terms_.capacity() * sizeof(TermEntry) +
      doc_labels_.capacity() * sizeof(uint64_t) + doc_lengths_.capacity() * sizeof(uint32_t) +
      doc_terms_.capacity() * sizeof(std::vector<uint32_t>);
  for (const auto& [term, id] : term_ids_) {
    if (term.capacity() > 15) bytes += term.capacity() + 1;  // beyond the small-string buffer
  }
  for (const TermEntry& entry : terms_) bytes += entry.postings.MemoryBytes();
  for (const std::vector<uint32_t>& ids : doc_terms_) bytes += ids.capacity() * sizeof(uint32_t);
  stats.memory_bytes = bytes;
  return stats;
}

}  // namespace ember::text
