#include "db/text_index.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "ember/status.h"

namespace ember::db {
namespace {

// A label set's view as the BM25 index's filter.
class LabelSetTextFilter final : public text::LabelFilter {
 public:
  explicit LabelSetTextFilter(const LabelSet& labels) : labels_(labels) {}
  bool Accepts(uint64_t label) const override { return labels_.contains(label); }

 private:
  const LabelSet& labels_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<text::Analyzer>> CreateAnalyzer(const FullTextSpec& spec) {
  text::AnalyzerOptions options;
  options.stemmer = spec.stemmer;
  if (!spec.remove_stop_words) options.stop_words.clear();
  absl::StatusOr<std::unique_ptr<text::Analyzer>> analyzer = text::Analyzer::Create(options);
  if (!analyzer.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("full_text: ", analyzer.status().message()));
  }
  return analyzer;
}

absl::StatusOr<std::unique_ptr<TextIndex>> TextIndex::Create(CollectionId collection,
                                                             const CollectionSpec& spec) {
  EMBER_ASSIGN_OR_RETURN(std::unique_ptr<text::Analyzer> analyzer, CreateAnalyzer(spec.full_text));
  return std::unique_ptr<TextIndex>(new TextIndex(collection, spec.full_text, std::move(analyzer)));
}

TextIndex::TextIndex(CollectionId collection, const FullTextSpec& spec,
                     std::unique_ptr<text::Analyzer> analyzer)
    : collection_(collection),
      spec_(spec),
      analyzer_(std::move(analyzer)),
      bm25_(std::make_unique<text::Bm25Index>()) {}

text::TermFrequencies TextIndex::Analyze(const Document& document) const {
  std::vector<std::string> terms;
  if (document.text) terms = analyzer_->Analyze(*document.text);
  const auto append = [&](const std::string& value) {
    std::vector<std::string> more = analyzer_->Analyze(value);
    terms.insert(terms.end(), std::make_move_iterator(more.begin()),
                 std::make_move_iterator(more.end()));
  };
  for (const std::string& name : spec_.attributes) {
    const auto it = document.attributes.find(name);
    if (it == document.attributes.end()) continue;
    if (const auto* value = std::get_if<std::string>(&it->second)) {
      append(*value);
    } else if (const auto* list = std::get_if<std::vector<std::string>>(&it->second)) {
      for (const std::string& element : *list) append(element);
    }
  }
  return text::CountTerms(terms);
}

std::string TextIndex::EncodeValue(const text::TermFrequencies& terms) {
  return text::EncodeTermFrequencies(terms);
}

absl::Status TextIndex::Load(std::string_view key, std::string_view value) {
  uint64_t label;
  const std::string prefix = CollectionPrefix(collection_);
  if (key.size() != prefix.size() + sizeof(uint64_t) || !key.starts_with(prefix) ||
      !DecodeKeySuffix(key, &label)) {
    return absl::DataLossError("corrupt key in the terms column family");
  }
  absl::StatusOr<text::TermFrequencies> terms = text::DecodeTermFrequencies(value);
  if (!terms.ok()) {
    return absl::DataLossError(
        absl::StrCat("corrupt terms of document label ", label, ": ", terms.status().message()));
  }
  if (absl::Status added = bm25_->Add(label, *terms); !added.ok()) {
    return absl::DataLossError(
        absl::StrCat("terms of document label ", label, " cannot be indexed: ", added.message()));
  }
  return absl::OkStatus();
}

absl::Status TextIndex::Add(Label label, const text::TermFrequencies& terms) {
  if (absl::Status added = bm25_->Add(static_cast<uint64_t>(label), terms); !added.ok()) {
    return absl::InternalError(
        absl::StrCat("the full-text index refused document label ", label, ": ", added.message()));
  }
  return absl::OkStatus();
}

absl::Status TextIndex::Remove(Label label) {
  if (absl::Status removed = bm25_->Remove(static_cast<uint64_t>(label)); !removed.ok()) {
    return absl::InternalError(absl::StrCat("the full-text index cannot remove document label ",
                                            label, ": ", removed.message()));
  }
  return absl::OkStatus();
}

void TextIndex::Clear() { bm25_ = std::make_unique<text::Bm25Index>(); }

absl::StatusOr<TextIndex::Result> TextIndex::Search(const std::vector<std::string>& query_terms,
                                                    int k, const FilterMatches* matches) const {
  const text::Bm25Params params{.k1 = spec_.k1, .b = spec_.b};
  Result result;
  // Block-max MaxScore with a selective filter reads nearly all the postings of the query's terms
  // before k accepted documents raise its threshold; scoring each match directly costs one skip
  // per match and term. Whichever reads fewer postings wins.
  if (matches != nullptr) {
    uint64_t postings = 0;
    for (const std::string& term : query_terms) postings += bm25_->DocumentFrequency(term);
    if (static_cast<uint64_t>(matches->count()) * query_terms.size() < postings) {
      std::vector<uint64_t> candidates;
      if (const std::vector<Label>* listed = matches->list(); listed != nullptr) {
        candidates.assign(listed->begin(), listed->end());
      } else {
        matches->set().AppendTo(&candidates);
      }
      EMBER_ASSIGN_OR_RETURN(result.hits,
                             bm25_->SearchCandidates(query_terms, candidates, k, params));
      result.strategy = "candidates";
      return result;
    }
  }
  std::optional<LabelSetTextFilter> filter;
  if (matches != nullptr) filter.emplace(matches->set());
  EMBER_ASSIGN_OR_RETURN(result.hits,
                         bm25_->Search(query_terms, k, filter ? &*filter : nullptr, params));
  result.strategy = "block-max";
  return result;
}

}  // namespace ember::db
