#include "db/collection_impl.h"

#include <algorithm>
#include <set>
#include <variant>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "db/filter_eval.h"
#include "db/filter_planner.h"
#include "db/filter_types.h"
#include "db/validation.h"
#include "ember/status.h"

namespace ember::db {
namespace {

using storage::Column;

// Vectors added to an index per call while rebuilding or replaying: bounds the memory of one batch.
constexpr size_t kRecoveryBatch = 16384;

// A snapshot is saved automatically once the change log since the last one holds this many entries,
// or as many as the index holds vectors if that is more: replay on open then costs at most about as
// much as the snapshot's own load, and snapshot writing stays amortized O(1) per change.
constexpr int64_t kMinChangesBeforeAutoCheckpoint = 50000;

// Scores are "higher is better"; distances are the metric's own.
void SetScoreAndDistance(Metric metric, float raw, SearchHit* hit) {
  switch (metric) {
    case Metric::kCosine:
      hit->score = raw;
      hit->distance = 1.0f - raw;
      break;
    case Metric::kInnerProduct:
      hit->score = hit->distance = raw;
      break;
    case Metric::kL2:
      hit->distance = raw;
      hit->score = -raw;
      break;
  }
}

// The filter's view of a set of labels.
class LabelSetFilter final : public index::LabelFilter {
 public:
  explicit LabelSetFilter(const LabelSet& labels) : labels_(labels) {}
  bool Contains(index::Label label) const override {
    return labels_.contains(static_cast<uint64_t>(label));
  }

 private:
  const LabelSet& labels_;
};

std::optional<AttributeType> DeclaredType(const CollectionSpec& spec, std::string_view name) {
  for (const AttributeSpec& attribute : spec.attributes) {
    if (attribute.name == name) return attribute.type;
  }
  return std::nullopt;
}

}  // namespace

CollectionImpl::CollectionImpl(Context context, const CollectionRecord& record)
    : context_(std::move(context)),
      record_(record),
      attribute_index_(record.id, record.spec.attributes) {}

void CollectionImpl::AddCreationToBatch(const CollectionRecord& record,
                                        storage::WriteBatch& batch) {
  batch.Put(Column::kCatalog, CollectionCatalogKey(record.spec.name),
            EncodeCollectionRecord(record));
  batch.Put(Column::kCatalog, CountersKey(record.id), EncodeCounters(CollectionCounters{}));
}

absl::StatusOr<std::shared_ptr<CollectionImpl>> CollectionImpl::Open(
    Context context, const CollectionRecord& record) {
  std::shared_ptr<CollectionImpl> collection(new CollectionImpl(std::move(context), record));
  EMBER_RETURN_IF_ERROR(collection->RecoverIndex());
  return collection;
}

absl::Status CollectionImpl::RecoverIndex() {
  WriterLock write_lock(&write_mu_);
  WriterLock visibility_lock(&visibility_mu_);
  storage::Store& store = *context_.store;
  EMBER_ASSIGN_OR_RETURN(std::optional<std::string> counters_record,
                         store.Get(Column::kCatalog, CountersKey(record_.id)));
  if (!counters_record) {
    return absl::DataLossError(
        absl::StrCat("collection \"", record_.spec.name, "\" has no counters record in the store"));
  }
  EMBER_ASSIGN_OR_RETURN(counters_, DecodeCounters(*counters_record));

  absl::Status decode_status;
  EMBER_RETURN_IF_ERROR(store.ScanPrefix(Column::kIds, CollectionPrefix(record_.id),
                                         [&](std::string_view key, std::string_view value) {
                                           absl::StatusOr<Label> label = DecodeLabel(value);
                                           if (!label.ok()) {
                                             decode_status = label.status();
                                             return false;
                                           }
                                           key.remove_prefix(sizeof(CollectionId));
                                           ids_by_label_.emplace(*label, std::string(key));
                                           all_labels_.add(static_cast<uint64_t>(*label));
                                           return true;
                                         }));
  EMBER_RETURN_IF_ERROR(decode_status);
  EMBER_RETURN_IF_ERROR(store.ScanPrefix(Column::kAttributes, CollectionPrefix(record_.id),
                                         [&](std::string_view key, std::string_view) {
                                           decode_status = attribute_index_.Load(key);
                                           return decode_status.ok();
                                         }));
  EMBER_RETURN_IF_ERROR(decode_status);
  if (ids_by_label_.size() != counters_.document_count) {
    return absl::DataLossError(absl::StrCat("collection \"", record_.spec.name, "\" records ",
                                            counters_.document_count, " documents but stores ",
                                            ids_by_label_.size()));
  }

  absl::StatusOr<bool> loaded = LoadSnapshotAndReplay();
  if (!loaded.ok() || !*loaded ||
      index_->Stats().live_vectors != static_cast<int64_t>(ids_by_label_.size())) {
    // The snapshot is missing, unreadable, stale beyond the change log, or disagrees with the
    // store: the store is the truth, so the index is rebuilt from it.
    EMBER_RETURN_IF_ERROR(RebuildIndex());
  }
  changes_since_snapshot_ = static_cast<int64_t>(counters_.last_sequence - snapshot_sequence_);
  return absl::OkStatus();
}

absl::StatusOr<bool> CollectionImpl::LoadSnapshotAndReplay() {
  const CollectionSpec& spec = record_.spec;
  uint64_t covered = 0;
  EMBER_ASSIGN_OR_RETURN(
      index_, index::VectorIndex::LoadSnapshot(context_.snapshot_path, spec.dimension, spec.metric,
                                               spec.index, &covered));
  // Entries up to truncated_through are gone, so an older snapshot cannot be brought up to date; a
  // newer one than the log's end cannot have come from this store.
  if (covered < counters_.truncated_through || covered > counters_.last_sequence) return false;

  std::vector<Label> removed, upserted;
  absl::Status decode_status;
  EMBER_RETURN_IF_ERROR(context_.store->ScanRange(
      Column::kChangeLog, ChangeKey(record_.id, covered + 1),
      ChangeKey(record_.id, counters_.last_sequence + 1),
      [&](std::string_view, std::string_view value) {
        absl::StatusOr<ChangeRecord> change = DecodeChange(value);
        if (!change.ok()) {
          decode_status = change.status();
          return false;
        }
        (change->op == ChangeOp::kDelete ? removed : upserted).push_back(change->label);
        return true;
      }));
  EMBER_RETURN_IF_ERROR(decode_status);
  // Labels are never reused, so each is upserted at most once and deleted at most once: applying
  // all deletes and then the upserts still stored gives the same index as replaying in order.
  EMBER_RETURN_IF_ERROR(index_->Remove(removed));
  std::erase_if(upserted, [this](Label label) { return !ids_by_label_.contains(label); });
  std::vector<std::string> keys;
  std::vector<float> vectors;
  for (size_t begin = 0; begin < upserted.size(); begin += kRecoveryBatch) {
    const size_t end = std::min(upserted.size(), begin + kRecoveryBatch);
    keys.clear();
    for (size_t i = begin; i < end; ++i) keys.push_back(VectorKey(record_.id, upserted[i]));
    EMBER_ASSIGN_OR_RETURN(auto records, context_.store->MultiGet(Column::kVectors, keys));
    vectors.resize(keys.size() * spec.dimension);
    std::vector<float> vector;
    for (size_t i = 0; i < records.size(); ++i) {
      if (!records[i]) return absl::DataLossError("a stored document has no vector");
      EMBER_RETURN_IF_ERROR(DecodeVector(*records[i], spec.dimension, &vector));
      std::copy(vector.begin(), vector.end(), vectors.begin() + i * spec.dimension);
    }
    EMBER_RETURN_IF_ERROR(index_->Add(std::span(upserted).subspan(begin, end - begin), vectors));
  }
  snapshot_sequence_ = covered;
  return true;
}

absl::Status CollectionImpl::RebuildIndex() {
  const CollectionSpec& spec = record_.spec;
  EMBER_ASSIGN_OR_RETURN(index_,
                         index::VectorIndex::Create(spec.dimension, spec.metric, spec.index));
  std::vector<Label> labels;
  std::vector<float> vectors;
  std::vector<float> vector;
  absl::Status status;
  const auto flush = [&] {
    status = index_->Add(labels, vectors);
    labels.clear();
    vectors.clear();
    return status.ok();
  };
  EMBER_RETURN_IF_ERROR(context_.store->ScanPrefix(
      Column::kVectors, CollectionPrefix(record_.id),
      [&](std::string_view key, std::string_view value) {
        uint64_t label;
        if (!DecodeKeySuffix(key, &label)) {
          status = absl::DataLossError("corrupt vector key in the store");
          return false;
        }
        status = DecodeVector(value, spec.dimension, &vector);
        if (!status.ok()) return false;
        labels.push_back(static_cast<Label>(label));
        vectors.insert(vectors.end(), vector.begin(), vector.end());
        return labels.size() < kRecoveryBatch || flush();
      }));
  EMBER_RETURN_IF_ERROR(status);
  if (!labels.empty() && !flush()) return status;
  if (index_->Stats().live_vectors != static_cast<int64_t>(ids_by_label_.size())) {
    return absl::DataLossError(absl::StrCat("collection \"", spec.name, "\" stores ",
                                            ids_by_label_.size(), " documents but ",
                                            index_->Stats().live_vectors, " vectors"));
  }
  snapshot_sequence_ = counters_.truncated_through;
  snapshot_stale_ = true;
  return absl::OkStatus();
}

absl::Status CollectionImpl::CheckUsable() const {
  switch (state_.load()) {
    case State::kOpen:
      return absl::OkStatus();
    case State::kDropped:
      return absl::NotFoundError(
          absl::StrCat("collection \"", record_.spec.name, "\" was dropped"));
    case State::kClosed:
      return absl::FailedPreconditionError(
          absl::StrCat("collection \"", record_.spec.name, "\" belongs to a closed database"));
  }
  return absl::InternalError("unknown collection state");
}

absl::Status CollectionImpl::CheckWritable() const {
  EMBER_RETURN_IF_ERROR(CheckUsable());
  if (context_.read_only) {
    return absl::FailedPreconditionError("the database is open read-only; reopen it writable");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Label>> CollectionImpl::LookUpLabels(
    std::span<const std::string> ids) const {
  std::vector<std::string> keys;
  keys.reserve(ids.size());
  for (const std::string& id : ids) keys.push_back(IdKey(record_.id, id));
  EMBER_ASSIGN_OR_RETURN(auto records, context_.store->MultiGet(Column::kIds, keys));
  std::vector<Label> labels(ids.size(), -1);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (records[i]) {
      EMBER_ASSIGN_OR_RETURN(labels[i], DecodeLabel(*records[i]));
    }
  }
  return labels;
}

absl::Status CollectionImpl::LoadEncoders() {
  if (!record_.spec.encoder) return absl::OkStatus();
  absl::MutexLock lock(&encoders_mu_);
  if (encoders_ != nullptr) return absl::OkStatus();
  EMBER_ASSIGN_OR_RETURN(CollectionEncoders loaded,
                         LoadCollectionEncoders(*record_.spec.encoder, context_.models_dir));
  EMBER_RETURN_IF_ERROR(CheckFingerprints(record_, loaded));
  encoders_ = std::make_shared<const CollectionEncoders>(std::move(loaded));
  return absl::OkStatus();
}

void CollectionImpl::SetEncoders(CollectionEncoders encoders) {
  absl::MutexLock lock(&encoders_mu_);
  encoders_ = std::make_shared<const CollectionEncoders>(std::move(encoders));
}

std::shared_ptr<const CollectionEncoders> CollectionImpl::encoders() const {
  absl::MutexLock lock(&encoders_mu_);
  return encoders_;
}

absl::StatusOr<std::optional<std::vector<Document>>> CollectionImpl::EmbedMissingVectors(
    std::span<const Document> documents) const {
  std::vector<size_t> missing;
  std::vector<std::string> texts;
  for (size_t i = 0; i < documents.size(); ++i) {
    if (documents[i].vector.empty() && documents[i].text.has_value()) {
      missing.push_back(i);
      texts.push_back(*documents[i].text);
    }
  }
  if (missing.empty() || !record_.spec.encoder) return std::nullopt;
  const std::shared_ptr<const CollectionEncoders> models = encoders();
  if (models == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("collection \"", record_.spec.name, "\": its models are not loaded"));
  }
  EMBER_ASSIGN_OR_RETURN(const std::vector<float> vectors, models->EmbedDocuments(texts));
  const size_t dimension = static_cast<size_t>(record_.spec.dimension);
  if (vectors.size() != texts.size() * dimension) {
    return absl::InternalError("the document model returned vectors of another dimension");
  }
  std::vector<Document> embedded(documents.begin(), documents.end());
  for (size_t j = 0; j < missing.size(); ++j) {
    const float* vector = vectors.data() + j * dimension;
    embedded[missing[j]].vector.assign(vector, vector + dimension);
  }
  return embedded;
}

absl::Status CollectionImpl::Upsert(std::span<const Document> caller_documents) {
  const int dimension = record_.spec.dimension;
  // Embedding is the slow part of a text upsert: it runs before any lock is taken.
  EMBER_ASSIGN_OR_RETURN(const std::optional<std::vector<Document>> embedded,
                         EmbedMissingVectors(caller_documents));
  const std::span<const Document> documents =
      embedded ? std::span<const Document>(*embedded) : caller_documents;
  EMBER_RETURN_IF_ERROR(ValidateDocuments(documents, record_.spec));

  std::vector<std::string> ids;
  ids.reserve(documents.size());
  for (const Document& document : documents) ids.push_back(document.id);

  WriterLock write_lock(&write_mu_);
  EMBER_RETURN_IF_ERROR(CheckWritable());
  if (documents.empty()) return absl::OkStatus();
  EMBER_ASSIGN_OR_RETURN(std::vector<Label> existing, LookUpLabels(ids));
  Change change;
  change.counters = counters_;
  change.added.reserve(documents.size());
  change.added_vectors.reserve(documents.size() * dimension);
  for (size_t i = 0; i < documents.size(); ++i) {
    const Document& document = documents[i];
    if (existing[i] >= 0) {
      AddRemoval(existing[i], document.id, /*keep_id=*/true, change);
    }
    ++change.counters.document_count;
    const Label label = static_cast<Label>(change.counters.next_label++);
    change.batch.Put(Column::kDocuments, DocumentKey(record_.id, label), EncodeDocument(document));
    change.batch.Put(Column::kVectors, VectorKey(record_.id, label), EncodeVector(document.vector));
    change.batch.Put(Column::kIds, IdKey(record_.id, document.id), EncodeLabel(label));
    change.batch.Put(Column::kChangeLog, ChangeKey(record_.id, ++change.counters.last_sequence),
                     EncodeChange({ChangeOp::kUpsert, label}));
    for (const std::string& key : attribute_index_.EntryKeys(label, document.attributes)) {
      change.batch.Put(Column::kAttributes, key, "");
    }
    change.added.push_back(label);
    change.added_documents.push_back(&document);
    change.added_vectors.insert(change.added_vectors.end(), document.vector.begin(),
                                document.vector.end());
  }
  return CommitAndApply(change);
}

void CollectionImpl::AddRemoval(Label label, std::string_view id, bool keep_id, Change& change) {
  change.batch.Delete(Column::kDocuments, DocumentKey(record_.id, label));
  change.batch.Delete(Column::kVectors, VectorKey(record_.id, label));
  if (!keep_id) change.batch.Delete(Column::kIds, IdKey(record_.id, id));
  change.batch.Put(Column::kChangeLog, ChangeKey(record_.id, ++change.counters.last_sequence),
                   EncodeChange({ChangeOp::kDelete, label}));
  --change.counters.document_count;
  change.removed.push_back(label);
}

absl::Status CollectionImpl::ReadRemovedAttributes(Change& change) const {
  if (attribute_index_.empty() || change.removed.empty()) return absl::OkStatus();
  std::vector<std::string> keys;
  for (Label label : change.removed) keys.push_back(DocumentKey(record_.id, label));
  EMBER_ASSIGN_OR_RETURN(auto records, context_.store->MultiGet(Column::kDocuments, keys));
  for (size_t i = 0; i < records.size(); ++i) {
    if (!records[i]) return absl::DataLossError("a stored id's document is missing");
    EMBER_ASSIGN_OR_RETURN(Document old, DecodeDocument(*records[i]));
    for (const std::string& key : attribute_index_.EntryKeys(change.removed[i], old.attributes)) {
      change.batch.Delete(Column::kAttributes, key);
    }
    change.removed_attributes.push_back(std::move(old.attributes));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> CollectionImpl::Delete(std::span<const std::string> ids) {
  for (const std::string& id : ids) EMBER_RETURN_IF_ERROR(ValidateDocumentId(id));

  WriterLock write_lock(&write_mu_);
  EMBER_RETURN_IF_ERROR(CheckWritable());
  EMBER_ASSIGN_OR_RETURN(std::vector<Label> existing, LookUpLabels(ids));
  Change change;
  change.counters = counters_;
  for (size_t i = 0; i < ids.size(); ++i) {
    const Label label = existing[i];
    // The same id twice in one call: the second finds it already queued for deletion.
    if (label < 0 || absl::c_linear_search(change.removed, label)) continue;
    AddRemoval(label, ids[i], /*keep_id=*/false, change);
  }
  if (change.removed.empty()) return 0;
  const int64_t deleted = static_cast<int64_t>(change.removed.size());
  EMBER_RETURN_IF_ERROR(CommitAndApply(change));
  return deleted;
}

absl::Status CollectionImpl::CommitAndApply(Change& change) {
  EMBER_RETURN_IF_ERROR(ReadRemovedAttributes(change));
  const CollectionCounters& counters = change.counters;
  change.batch.Put(Column::kCatalog, CountersKey(record_.id), EncodeCounters(counters));
  {
    WriterLock visibility_lock(&visibility_mu_);
    EMBER_RETURN_IF_ERROR(context_.store->Write(change.batch));
    changes_since_snapshot_ +=
        static_cast<int64_t>(counters.last_sequence - counters_.last_sequence);
    counters_ = counters;
    for (size_t i = 0; i < change.removed.size(); ++i) {
      ids_by_label_.erase(change.removed[i]);
      all_labels_.remove(static_cast<uint64_t>(change.removed[i]));
      if (!change.removed_attributes.empty()) {
        attribute_index_.Remove(change.removed[i], change.removed_attributes[i]);
      }
    }
    for (size_t i = 0; i < change.added.size(); ++i) {
      ids_by_label_[change.added[i]] = change.added_documents[i]->id;
      all_labels_.add(static_cast<uint64_t>(change.added[i]));
      attribute_index_.Add(change.added[i], change.added_documents[i]->attributes);
    }
    absl::Status status = index_->Remove(change.removed);
    if (status.ok()) status = index_->Add(change.added, change.added_vectors);
    if (!status.ok()) {
      // The store has the batch; only the in-memory index missed it. Rebuilding from the store is
      // the one way back to agreement.
      absl::Status rebuilt = RebuildIndex();
      if (!rebuilt.ok()) {
        return absl::InternalError(absl::StrCat(
            "the write is durable but the index could not apply it (", status.message(),
            ") nor be rebuilt (", rebuilt.message(), "); reopen the database"));
      }
    }
  }
  const int64_t threshold =
      std::max<int64_t>(kMinChangesBeforeAutoCheckpoint, counters_.document_count);
  if (changes_since_snapshot_.load() >= threshold) return CheckpointLocked();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::optional<Document>>> CollectionImpl::Get(
    std::span<const std::string> ids) const {
  for (const std::string& id : ids) EMBER_RETURN_IF_ERROR(ValidateDocumentId(id));
  ReaderLock visibility_lock(&visibility_mu_);
  EMBER_RETURN_IF_ERROR(CheckUsable());
  EMBER_ASSIGN_OR_RETURN(std::vector<Label> labels, LookUpLabels(ids));
  std::vector<std::string> document_keys, vector_keys;
  for (Label label : labels) {
    if (label < 0) continue;
    document_keys.push_back(DocumentKey(record_.id, label));
    vector_keys.push_back(VectorKey(record_.id, label));
  }
  EMBER_ASSIGN_OR_RETURN(auto documents,
                         context_.store->MultiGet(Column::kDocuments, document_keys));
  EMBER_ASSIGN_OR_RETURN(auto vectors, context_.store->MultiGet(Column::kVectors, vector_keys));
  std::vector<std::optional<Document>> result(ids.size());
  size_t found = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (labels[i] < 0) continue;
    if (!documents[found] || !vectors[found]) {
      return absl::DataLossError(
          absl::StrCat("document \"", ids[i], "\" is indexed but not stored"));
    }
    EMBER_ASSIGN_OR_RETURN(result[i], DecodeDocument(*documents[found]));
    EMBER_RETURN_IF_ERROR(
        DecodeVector(*vectors[found], record_.spec.dimension, &result[i]->vector));
    ++found;
  }
  return result;
}

int64_t CollectionImpl::Count() const {
  ReaderLock visibility_lock(&visibility_mu_);
  if (!CheckUsable().ok()) return 0;
  return static_cast<int64_t>(ids_by_label_.size());
}

absl::StatusOr<LabelSet> CollectionImpl::ScanResidual(const FilterCandidates& candidates,
                                                      SearchPlan& plan) const {
  constexpr size_t kScanBatch = 1024;
  LabelSet matches;
  std::vector<uint64_t> labels;
  std::vector<std::string> keys;
  const auto check_batch = [&]() -> absl::Status {
    keys.clear();
    for (uint64_t label : labels)
      keys.push_back(DocumentKey(record_.id, static_cast<Label>(label)));
    EMBER_ASSIGN_OR_RETURN(auto records, context_.store->MultiGet(Column::kDocuments, keys));
    for (size_t i = 0; i < records.size(); ++i) {
      if (!records[i]) return absl::DataLossError("a stored id's document is missing");
      EMBER_ASSIGN_OR_RETURN(Document document, DecodeDocument(*records[i]));
      if (Matches(candidates.residual, document.attributes)) matches.add(labels[i]);
    }
    plan.documents_scanned += static_cast<int64_t>(records.size());
    labels.clear();
    return absl::OkStatus();
  };
  for (uint64_t label : candidates.labels) {
    labels.push_back(label);
    if (labels.size() == kScanBatch) EMBER_RETURN_IF_ERROR(check_batch());
  }
  if (!labels.empty()) EMBER_RETURN_IF_ERROR(check_batch());
  return matches;
}

absl::StatusOr<std::vector<index::Neighbor>> CollectionImpl::FindNeighbors(
    const SearchRequest& request, SearchPlan& plan) const {
  const bool filtered = request.filter.op() != Filter::Op::kAll;
  const int64_t total = static_cast<int64_t>(ids_by_label_.size());
  LabelSet matches;
  plan.estimated_candidates = plan.matching_documents = total;
  if (filtered) {
    FilterCandidates candidates = SelectCandidates(request.filter, attribute_index_, all_labels_);
    plan.estimated_candidates = static_cast<int64_t>(candidates.labels.cardinality());
    plan.unindexed_attributes.assign(candidates.unindexed_attributes.begin(),
                                     candidates.unindexed_attributes.end());
    if (candidates.residual.op() == Filter::Op::kAll) {
      matches = std::move(candidates.labels);
    } else {
      EMBER_ASSIGN_OR_RETURN(matches, ScanResidual(candidates, plan));
    }
    plan.matching_documents = static_cast<int64_t>(matches.cardinality());
  }
  const PlannedSearch planned = PlanSearch({.matching = plan.matching_documents,
                                            .total = total,
                                            .filtered = filtered,
                                            .k = request.k,
                                            .dimension = record_.spec.dimension,
                                            .index = record_.spec.index,
                                            .requested_ef_search = request.ef_search,
                                            .requested_nprobe = request.nprobe});
  plan.strategy = SearchStrategyName(planned.strategy);
  plan.ef_search = planned.ef_search;
  plan.nprobe = planned.nprobe;

  const LabelSet& scope = filtered ? matches : all_labels_;
  const auto score_exactly = [&]() -> absl::StatusOr<std::vector<index::Neighbor>> {
    std::vector<Label> labels;
    labels.reserve(scope.cardinality());
    for (uint64_t label : scope) labels.push_back(static_cast<Label>(label));
    plan.exact_scored += static_cast<int64_t>(labels.size());
    return index_->SearchExact(request.vector, request.k, labels);
  };
  switch (planned.strategy) {
    case SearchStrategy::kEmpty:
      return std::vector<index::Neighbor>();
    case SearchStrategy::kExact:
      return score_exactly();
    case SearchStrategy::kFilteredIndex:
    case SearchStrategy::kIndex:
      break;
  }
  const LabelSetFilter label_filter(matches);
  EMBER_ASSIGN_OR_RETURN(
      std::vector<index::Neighbor> neighbors,
      index_->Search(request.vector, {.k = request.k,
                                      .ef_search = planned.ef_search,
                                      .nprobe = planned.nprobe,
                                      .filter = filtered ? &label_filter : nullptr}));
  // Whenever k documents match, k are returned: a traversal that came up short (a filter that cuts
  // the graph apart, tombstones crowding the beam) is completed by the exact scan.
  if (static_cast<int64_t>(neighbors.size()) <
      std::min<int64_t>(request.k, plan.matching_documents)) {
    return score_exactly();
  }
  return neighbors;
}

absl::StatusOr<SearchResponse> CollectionImpl::Search(const SearchRequest& caller_request) const {
  SearchRequest embedded;
  if (caller_request.vector.empty() && !caller_request.text.empty()) {
    const std::shared_ptr<const CollectionEncoders> models = encoders();
    if (models == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("collection \"", record_.spec.name,
                       "\" has no encoder: search it with a vector, not a text"));
    }
    embedded = caller_request;
    EMBER_ASSIGN_OR_RETURN(embedded.vector, models->EmbedQuery(caller_request.text));
  }
  const SearchRequest& request = embedded.vector.empty() ? caller_request : embedded;
  EMBER_RETURN_IF_ERROR(ValidateSearchRequest(request, record_.spec.dimension));
  if (request.filter.op() != Filter::Op::kAll) {
    EMBER_RETURN_IF_ERROR(CheckFilterTypes(request.filter, [this](std::string_view name) {
      return DeclaredType(record_.spec, name);
    }));
  }
  ReaderLock visibility_lock(&visibility_mu_);
  EMBER_RETURN_IF_ERROR(CheckUsable());
  SearchResponse response;
  std::vector<index::Neighbor> neighbors;
  if (request.group_by.empty()) {
    EMBER_ASSIGN_OR_RETURN(neighbors, FindNeighbors(request, response.plan));
  } else {
    EMBER_ASSIGN_OR_RETURN(neighbors, FindGroupLeaders(request, response.plan));
  }
  response.hits.resize(neighbors.size());
  for (size_t i = 0; i < neighbors.size(); ++i) {
    const auto it = ids_by_label_.find(neighbors[i].label);
    if (it == ids_by_label_.end()) {
      return absl::InternalError("the index returned a label that is not stored");
    }
    response.hits[i].id = it->second;
    SetScoreAndDistance(record_.spec.metric, neighbors[i].distance, &response.hits[i]);
  }
  if (request.include_text || request.include_attributes) {
    std::vector<std::string> keys;
    for (const index::Neighbor& neighbor : neighbors) {
      keys.push_back(DocumentKey(record_.id, neighbor.label));
    }
    EMBER_ASSIGN_OR_RETURN(auto records, context_.store->MultiGet(Column::kDocuments, keys));
    for (size_t i = 0; i < records.size(); ++i) {
      if (!records[i]) return absl::DataLossError("a search hit's document is not stored");
      EMBER_ASSIGN_OR_RETURN(Document document, DecodeDocument(*records[i]));
      if (request.include_text) response.hits[i].text = std::move(document.text);
      if (request.include_attributes) response.hits[i].attributes = std::move(document.attributes);
    }
  }
  if (request.include_vector) {
    std::vector<std::string> keys;
    for (const index::Neighbor& neighbor : neighbors) {
      keys.push_back(VectorKey(record_.id, neighbor.label));
    }
    EMBER_ASSIGN_OR_RETURN(auto records, context_.store->MultiGet(Column::kVectors, keys));
    for (size_t i = 0; i < records.size(); ++i) {
      if (!records[i]) return absl::DataLossError("a search hit's vector is not stored");
      EMBER_RETURN_IF_ERROR(
          DecodeVector(*records[i], record_.spec.dimension, &response.hits[i].vector));
    }
  }
  return response;
}

absl::StatusOr<std::vector<index::Neighbor>> CollectionImpl::FindGroupLeaders(
    const SearchRequest& request, SearchPlan& plan) const {
  // Groups are only known once documents are read, so the search asks for more neighbours than k,
  // and for twice as many again while the groups they fall into are fewer than k.
  if (ids_by_label_.empty()) return std::vector<index::Neighbor>();
  SearchRequest wider = request;
  wider.k = std::min<int64_t>(static_cast<int64_t>(request.k) * 4, ids_by_label_.size());
  while (true) {
    plan = SearchPlan();
    EMBER_ASSIGN_OR_RETURN(std::vector<index::Neighbor> neighbors, FindNeighbors(wider, plan));
    std::vector<std::string> keys;
    for (const index::Neighbor& neighbor : neighbors) {
      keys.push_back(DocumentKey(record_.id, neighbor.label));
    }
    EMBER_ASSIGN_OR_RETURN(auto records, context_.store->MultiGet(Column::kDocuments, keys));
    std::set<Value> seen;
    std::vector<index::Neighbor> leaders;
    for (size_t i = 0; i < records.size() && leaders.size() < static_cast<size_t>(request.k);
         ++i) {
      if (!records[i]) return absl::DataLossError("a search hit's document is not stored");
      EMBER_ASSIGN_OR_RETURN(Document document, DecodeDocument(*records[i]));
      const auto value = document.attributes.find(request.group_by);
      // A document without the attribute is a group of its own.
      if (value != document.attributes.end() &&
          !std::holds_alternative<std::monostate>(value->second) &&
          !seen.insert(value->second).second) {
        continue;
      }
      leaders.push_back(neighbors[i]);
    }
    const bool exhausted = static_cast<int64_t>(neighbors.size()) < wider.k ||
                           wider.k >= static_cast<int64_t>(ids_by_label_.size());
    if (leaders.size() >= static_cast<size_t>(request.k) || exhausted) return leaders;
    wider.k = std::min<int64_t>(static_cast<int64_t>(wider.k) * 2, ids_by_label_.size());
  }
}

CollectionStats CollectionImpl::Stats() const {
  ReaderLock visibility_lock(&visibility_mu_);
  if (!CheckUsable().ok()) return {};
  const index::IndexStats index_stats = index_->Stats();
  return CollectionStats{
      .document_count = static_cast<int64_t>(ids_by_label_.size()),
      .index_vectors = index_stats.live_vectors + index_stats.tombstones,
      .index_tombstones = index_stats.tombstones,
      .index_trained = index_stats.trained,
      .changes_since_snapshot = changes_since_snapshot_.load(),
      .index_memory_bytes = index_stats.memory_bytes,
  };
}

absl::Status CollectionImpl::Checkpoint() {
  WriterLock write_lock(&write_mu_);
  return CheckpointLocked();
}

absl::Status CollectionImpl::CheckpointLocked() {
  if (context_.read_only || state_.load() != State::kOpen) return absl::OkStatus();
  const uint64_t sequence = counters_.last_sequence;
  if (sequence == snapshot_sequence_ && !snapshot_stale_) return absl::OkStatus();
  {
    // Shared: searches go on while the snapshot is written; writers are held off by write_mu_.
    ReaderLock visibility_lock(&visibility_mu_);
    EMBER_RETURN_IF_ERROR(index_->SaveSnapshot(context_.snapshot_path, sequence));
  }
  // The snapshot is durable: the change log it covers is no longer needed.
  CollectionCounters counters = counters_;
  counters.truncated_through = sequence;
  storage::WriteBatch batch;
  batch.DeleteRange(Column::kChangeLog, ChangeKey(record_.id, 0),
                    ChangeKey(record_.id, sequence + 1));
  batch.Put(Column::kCatalog, CountersKey(record_.id), EncodeCounters(counters));
  EMBER_RETURN_IF_ERROR(context_.store->Write(batch));
  counters_ = counters;
  snapshot_sequence_ = sequence;
  snapshot_stale_ = false;
  changes_since_snapshot_ = 0;
  return absl::OkStatus();
}

void CollectionImpl::MarkDropped() {
  WriterLock write_lock(&write_mu_);
  WriterLock visibility_lock(&visibility_mu_);
  state_ = State::kDropped;
}

void CollectionImpl::Close() {
  WriterLock write_lock(&write_mu_);
  WriterLock visibility_lock(&visibility_mu_);
  if (state_.load() == State::kOpen) state_ = State::kClosed;
  index_.reset();
  ids_by_label_ = {};
  all_labels_ = {};
}

}  // namespace ember::db
