// The full-text index of a collection: the analyzer its FullTextSpec describes and the in-memory
// BM25 index of its documents' terms.
//
// The store's terms column family is its durable form (TermsKey(collection, label) -> the encoded
// text::TermFrequencies, written in the same batch as the document); this class is the in-memory
// copy, loaded from those entries on open, so that opening never re-analyzes text unless the
// analyzer itself changed.
#ifndef EMBER_DB_TEXT_INDEX_H_
#define EMBER_DB_TEXT_INDEX_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "db/filter_candidates.h"
#include "db/records.h"
#include "ember/document.h"
#include "ember/options.h"
#include "text/analyzer.h"
#include "text/bm25_index.h"

namespace ember::db {

// The analyzer `spec` describes (its stemmer and stop words). InvalidArgument naming the field
// when the stemmer is unknown.
absl::StatusOr<std::unique_ptr<text::Analyzer>> CreateAnalyzer(const FullTextSpec& spec);

// Thread-compatible, as AttributeIndex: the collection searches it under its visibility lock held
// shared and changes it with that lock held exclusively.
class TextIndex {
 public:
  // The index of a collection whose spec has full_text enabled. InvalidArgument as CreateAnalyzer.
  static absl::StatusOr<std::unique_ptr<TextIndex>> Create(CollectionId collection,
                                                           const CollectionSpec& spec);

  // Names the analysis (CollectionRecord::analyzer_fingerprint).
  const std::string& fingerprint() const { return analyzer_->fingerprint(); }

  // The terms of `document`: its text followed by the values of the spec's full-text attributes
  // (each value, or each element of a list, as more text). Never fails.
  text::TermFrequencies Analyze(const Document& document) const;

  // The key and value that store `terms` for document `label` in the terms column family.
  std::string Key(Label label) const { return TermsKey(collection_, label); }
  static std::string EncodeValue(const text::TermFrequencies& terms);

  // Adds the entry stored under `key` with `value` (as Key and EncodeValue made them). DataLoss
  // when it is not one, or its label is indexed already.
  absl::Status Load(std::string_view key, std::string_view value);

  // Keep the in-memory index in step with a committed batch. Internal when the index refuses (a
  // label added twice or removed while absent): the caller then rebuilds from the store.
  absl::Status Add(Label label, const text::TermFrequencies& terms);
  absl::Status Remove(Label label);
  // Forgets every document (before a reload).
  void Clear();

  // The terms of a query text, repeats included (a repeated word weighs more, as in
  // Bm25Index::Search).
  std::vector<std::string> QueryTerms(std::string_view text) const {
    return analyzer_->Analyze(text);
  }

  struct Result {
    std::vector<text::Bm25Hit> hits;
    // SearchPlan::text_strategy.
    const char* strategy = "";
  };
  // The top `k` documents for `query_terms` among `matches` (every document when null), best
  // first, by BM25 with the spec's k1 and b. Exact either way: block-max MaxScore checking
  // `matches` per candidate hit, or, when `matches` holds few documents, each of them scored
  // directly. InvalidArgument as Bm25Index::Search.
  absl::StatusOr<Result> Search(const std::vector<std::string>& query_terms, int k,
                                const FilterMatches* matches) const;

  text::Bm25IndexStats Stats() const { return bm25_->Stats(); }

 private:
  TextIndex(CollectionId collection, const FullTextSpec& spec,
            std::unique_ptr<text::Analyzer> analyzer);

  const CollectionId collection_;
  const FullTextSpec spec_;
  const std::unique_ptr<text::Analyzer> analyzer_;
  std::unique_ptr<text::Bm25Index> bm25_;
};

}  // namespace ember::db

#endif  // EMBER_DB_TEXT_INDEX_H_
