#include "db/collection_impl.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <utility>
#include <variant>

#include "absl/algorithm/container.h"
#include "absl/strings/str_cat.h"
#include "db/filter_eval.h"
#include "db/filter_planner.h"
#include "db/filter_types.h"
#include "db/fusion.h"
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
void SetScoreAndDistance(Metric metric, float raw, float* score, float* distance) {
  switch (metric) {
    case Metric::kCosine:
      *score = raw;
      *distance = 1.0f - raw;
      break;
    case Metric::kInnerProduct:
      *score = *distance = raw;
      break;
    case Metric::kL2:
      *distance = raw;
      *score = -raw;
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

// Hits each side of a hybrid search contributes when FusionOptions::depth is 0 (at least k).
constexpr int kDefaultFusionDepth = 100;

// The mode `request` runs in on a collection of `spec` (kAuto resolved), or why it cannot run.
absl::StatusOr<SearchMode> CheckedSearchMode(const SearchRequest& request,
                                             const CollectionSpec& spec) {
  const bool has_text_index = spec.full_text.enabled;
  const bool has_vectors = spec.dimension > 0;
  const SearchMode mode = ResolveSearchMode(request.mode, spec, !request.text.empty());
  const bool text_side = mode == SearchMode::kText || mode == SearchMode::kHybrid;
  const bool vector_side = mode == SearchMode::kVector || mode == SearchMode::kHybrid;
  if (text_side && !has_text_index) {
    return absl::FailedPreconditionError(
        absl::StrCat("collection \"", spec.name, "\" has no full-text index for ",
                     SearchModeName(mode), " search; create it with full text enabled"));
  }
  if (vector_side && !has_vectors) {
    return absl::FailedPreconditionError(
        absl::StrCat("collection \"", spec.name, "\" is text-only: search it in text mode, not ",
                     SearchModeName(mode)));
  }
  if (text_side && request.text.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(SearchModeName(mode), " search needs a query text"));
  }
  if (mode == SearchMode::kText && !request.vector.empty()) {
    return absl::InvalidArgumentError(
        "text search takes no query vector; use hybrid mode to combine both");
  }
  return mode;
}

std::optional<AttributeType> DeclaredType(const CollectionSpec& spec, std::string_view name) {
  for (const AttributeSpec& attribute : spec.attributes) {
    if (attribute.name == name) return attribute.type;
  }
  return std::nullopt;
}

}  // namespace

CollectionImpl::CollectionImpl(Context context, const CollectionRecord& record,
                               std::unique_ptr<TextIndex> text_index)
    : context_(std::move(context)),
      id_(record.id),
      name_(record.spec.name),
      space_(std::make_shared<const Space>(Space{.record = record})),
      text_index_(std::move(text_index)),
      attribute_index_(record.id, record.spec.attributes) {}

std::shared_ptr<const CollectionImpl::Space> CollectionImpl::CurrentSpace() const {
  ReaderLock lock(&space_mu_);
  return space_;
}

void CollectionImpl::AddCreationToBatch(const CollectionRecord& record,
                                        storage::WriteBatch& batch) {
  batch.Put(Column::kCatalog, CollectionCatalogKey(record.spec.name),
            EncodeCollectionRecord(record));
  batch.Put(Column::kCatalog, CountersKey(record.id), EncodeCounters(CollectionCounters{}));
}

absl::StatusOr<std::shared_ptr<CollectionImpl>> CollectionImpl::Open(
    Context context, const CollectionRecord& record) {
  std::unique_ptr<TextIndex> text_index;
  if (record.spec.full_text.enabled) {
    EMBER_ASSIGN_OR_RETURN(text_index, TextIndex::Create(record.id, record.spec));
  }
  std::shared_ptr<CollectionImpl> collection(
      new CollectionImpl(std::move(context), record, std::move(text_index)));
  EMBER_RETURN_IF_ERROR(collection->RecoverIndex());
  return collection;
}

absl::Status CollectionImpl::RecoverIndex() {
  WriterLock write_lock(&write_mu_);
  WriterLock visibility_lock(&visibility_mu_);
  storage::Store& store = *context_.store;
  EMBER_ASSIGN_OR_RETURN(std::optional<std::string> counters_record,
                         store.Get(Column::kCatalog, CountersKey(id_)));
  if (!counters_record) {
    return absl::DataLossError(
        absl::StrCat("collection \"", name_, "\" has no counters record in the store"));
  }
  EMBER_ASSIGN_OR_RETURN(counters_, DecodeCounters(*counters_record));

  absl::Status decode_status;
  EMBER_RETURN_IF_ERROR(store.ScanPrefix(Column::kIds, CollectionPrefix(id_),
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
  EMBER_RETURN_IF_ERROR(store.ScanPrefix(Column::kAttributes, CollectionPrefix(id_),
                                         [&](std::string_view key, std::string_view) {
                                           decode_status = attribute_index_.Load(key);
                                           return decode_status.ok();
                                         }));
  EMBER_RETURN_IF_ERROR(decode_status);
  if (ids_by_label_.size() != counters_.document_count) {
    return absl::DataLossError(absl::StrCat("collection \"", name_, "\" records ",
                                            counters_.document_count, " documents but stores ",
                                            ids_by_label_.size()));
  }

  if (text_index_ != nullptr) EMBER_RETURN_IF_ERROR(RecoverTextIndex());
  if (CurrentSpace()->record.spec.dimension == 0) return absl::OkStatus();  // text-only

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

absl::Status CollectionImpl::ForEachStoredDocument(
    const std::function<absl::Status(Label, Document)>& visit) const {
  absl::Status status;
  EMBER_RETURN_IF_ERROR(context_.store->ScanPrefix(
      Column::kDocuments, CollectionPrefix(id_), [&](std::string_view key, std::string_view value) {
        uint64_t label;
        absl::StatusOr<Document> document = DecodeDocument(value);
        if (!DecodeKeySuffix(key, &label)) {
          status = absl::DataLossError("corrupt document key in the store");
        } else if (!document.ok()) {
          status = document.status();
        } else {
          status = visit(static_cast<Label>(label), *std::move(document));
        }
        return status.ok();
      }));
  return status;
}

absl::Status CollectionImpl::RecoverTextIndex() {
  if (CurrentSpace()->record.analyzer_fingerprint == text_index_->fingerprint()) {
    const absl::Status loaded = LoadStoredTerms();
    if (loaded.ok() && text_index_->Stats().documents == ids_by_label_.size()) {
      return absl::OkStatus();
    }
    // Terms are derived from the documents, which are the truth: whatever is wrong with them is
    // repaired by analyzing the documents again.
  }
  return ReanalyzeDocuments();
}

absl::Status CollectionImpl::LoadStoredTerms() {
  text_index_->Clear();
  absl::Status status;
  EMBER_RETURN_IF_ERROR(context_.store->ScanPrefix(
      Column::kTerms, CollectionPrefix(id_), [&](std::string_view key, std::string_view value) {
        status = text_index_->Load(key, value);
        return status.ok();
      }));
  return status;
}

absl::Status CollectionImpl::ReanalyzeDocuments() {
  constexpr size_t kBatch = 1024;
  text_index_->Clear();
  const bool store_terms = !context_.read_only;
  storage::WriteBatch batch;
  size_t batched = 0;
  if (store_terms) {
    batch.DeleteRange(Column::kTerms, CollectionPrefix(id_), CollectionPrefix(id_ + 1));
  }
  EMBER_RETURN_IF_ERROR(ForEachStoredDocument([&](Label label, Document document) -> absl::Status {
    const text::TermFrequencies terms = text_index_->Analyze(document);
    EMBER_RETURN_IF_ERROR(text_index_->Add(label, terms));
    if (!store_terms) return absl::OkStatus();
    batch.Put(Column::kTerms, text_index_->Key(label), TextIndex::EncodeValue(terms));
    if (++batched < kBatch) return absl::OkStatus();
    batched = 0;
    storage::WriteBatch full = std::exchange(batch, storage::WriteBatch());
    return context_.store->Write(full);
  }));
  if (!store_terms) return absl::OkStatus();
  // The fingerprint goes last: until it is stored, a crash leaves the old one, and the next open
  // analyzes again.
  CollectionRecord record = CurrentSpace()->record;
  record.analyzer_fingerprint = text_index_->fingerprint();
  batch.Put(Column::kCatalog, CollectionCatalogKey(name_), EncodeCollectionRecord(record));
  EMBER_RETURN_IF_ERROR(context_.store->Write(batch));
  WriterLock space_lock(&space_mu_);
  Space updated = *space_;
  updated.record = std::move(record);
  space_ = std::make_shared<const Space>(std::move(updated));
  return absl::OkStatus();
}

absl::StatusOr<bool> CollectionImpl::LoadSnapshotAndReplay() {
  const std::shared_ptr<const Space> space = CurrentSpace();
  const CollectionSpec& spec = space->record.spec;
  const CollectionId vectors_id = space->record.VectorsId();
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
      Column::kChangeLog, ChangeKey(id_, covered + 1), ChangeKey(id_, counters_.last_sequence + 1),
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
    for (size_t i = begin; i < end; ++i) keys.push_back(VectorKey(vectors_id, upserted[i]));
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
  const std::shared_ptr<const Space> space = CurrentSpace();
  const CollectionSpec& spec = space->record.spec;
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
      Column::kVectors, CollectionPrefix(space->record.VectorsId()),
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
      return absl::NotFoundError(absl::StrCat("collection \"", name_, "\" was dropped"));
    case State::kClosed:
      return absl::FailedPreconditionError(
          absl::StrCat("collection \"", name_, "\" belongs to a closed database"));
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
  for (const std::string& id : ids) keys.push_back(IdKey(id_, id));
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
  absl::MutexLock load_lock(&load_mu_);
  const std::shared_ptr<const Space> space = CurrentSpace();
  if (!space->record.spec.encoder || space->encoders != nullptr) return absl::OkStatus();
  EMBER_ASSIGN_OR_RETURN(CollectionEncoders loaded,
                         LoadCollectionEncoders(*space->record.spec.encoder, context_.models_dir));
  EMBER_RETURN_IF_ERROR(CheckFingerprints(space->record, loaded));
  WriterLock space_lock(&space_mu_);
  // A reembed that swapped in other models meanwhile installed them with its space.
  if (space_->generation != space->generation) return absl::OkStatus();
  Space updated = *space_;
  updated.encoders = std::make_shared<const CollectionEncoders>(std::move(loaded));
  space_ = std::make_shared<const Space>(std::move(updated));
  return absl::OkStatus();
}

void CollectionImpl::SetEncoders(CollectionEncoders encoders) {
  WriterLock space_lock(&space_mu_);
  Space updated = *space_;
  updated.encoders = std::make_shared<const CollectionEncoders>(std::move(encoders));
  space_ = std::make_shared<const Space>(std::move(updated));
}

absl::StatusOr<std::optional<std::vector<Document>>> CollectionImpl::EmbedMissingVectors(
    std::span<const Document> documents, const Space& space) const {
  std::vector<size_t> missing;
  std::vector<std::string> texts;
  for (size_t i = 0; i < documents.size(); ++i) {
    if (documents[i].vector.empty() && documents[i].text.has_value()) {
      missing.push_back(i);
      texts.push_back(*documents[i].text);
    }
  }
  if (missing.empty() || !space.record.spec.encoder) return std::nullopt;
  if (space.encoders == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("collection \"", name_, "\": its models are not loaded"));
  }
  EMBER_ASSIGN_OR_RETURN(const std::vector<float> vectors, space.encoders->EmbedDocuments(texts));
  const size_t dimension = static_cast<size_t>(space.record.spec.dimension);
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
  // Embedding is the slow part of a text upsert: it runs before any lock is taken, with the models
  // in force then. Should a reembed swap in other models meanwhile, those vectors belong to the old
  // space: the batch is embedded again with the new models (at most once per reembed, since a
  // reembed holds write_mu_ from start to swap).
  while (true) {
    const std::shared_ptr<const Space> space = CurrentSpace();
    EMBER_ASSIGN_OR_RETURN(const std::optional<std::vector<Document>> embedded,
                           EmbedMissingVectors(caller_documents, *space));
    const std::span<const Document> documents =
        embedded ? std::span<const Document>(*embedded) : caller_documents;
    EMBER_RETURN_IF_ERROR(ValidateDocuments(documents, space->record.spec));
    // Analysis, like embedding, runs before the lock (the analyzer never changes).
    std::vector<text::TermFrequencies> terms;
    if (text_index_ != nullptr) {
      terms.reserve(documents.size());
      for (const Document& document : documents) terms.push_back(text_index_->Analyze(document));
    }

    WriterLock write_lock(&write_mu_);
    EMBER_RETURN_IF_ERROR(CheckWritable());
    if (CurrentSpace()->generation != space->generation) continue;
    return UpsertLocked(documents, terms, space->record);
  }
}

absl::Status CollectionImpl::UpsertLocked(std::span<const Document> documents,
                                          std::span<const text::TermFrequencies> terms,
                                          const CollectionRecord& record) {
  const int dimension = record.spec.dimension;
  const CollectionId vectors_id = record.VectorsId();
  if (documents.empty()) return absl::OkStatus();
  std::vector<std::string> ids;
  ids.reserve(documents.size());
  for (const Document& document : documents) ids.push_back(document.id);
  EMBER_ASSIGN_OR_RETURN(std::vector<Label> existing, LookUpLabels(ids));
  Change change;
  change.counters = counters_;
  change.added.reserve(documents.size());
  change.added_vectors.reserve(documents.size() * dimension);
  for (size_t i = 0; i < documents.size(); ++i) {
    const Document& document = documents[i];
    if (existing[i] >= 0) {
      AddRemoval(record, existing[i], document.id, /*keep_id=*/true, change);
    }
    ++change.counters.document_count;
    const Label label = static_cast<Label>(change.counters.next_label++);
    change.batch.Put(Column::kDocuments, DocumentKey(id_, label), EncodeDocument(document));
    change.batch.Put(Column::kIds, IdKey(id_, document.id), EncodeLabel(label));
    // The change log exists for the vector index's snapshots; a text-only collection has neither.
    if (dimension > 0) {
      change.batch.Put(Column::kVectors, VectorKey(vectors_id, label),
                       EncodeVector(document.vector));
      change.batch.Put(Column::kChangeLog, ChangeKey(id_, ++change.counters.last_sequence),
                       EncodeChange({ChangeOp::kUpsert, label}));
    }
    if (text_index_ != nullptr) {
      change.batch.Put(Column::kTerms, text_index_->Key(label), TextIndex::EncodeValue(terms[i]));
      change.added_terms.push_back(&terms[i]);
    }
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

void CollectionImpl::AddRemoval(const CollectionRecord& record, Label label, std::string_view id,
                                bool keep_id, Change& change) {
  change.batch.Delete(Column::kDocuments, DocumentKey(id_, label));
  if (!keep_id) change.batch.Delete(Column::kIds, IdKey(id_, id));
  if (record.spec.dimension > 0) {
    change.batch.Delete(Column::kVectors, VectorKey(record.VectorsId(), label));
    change.batch.Put(Column::kChangeLog, ChangeKey(id_, ++change.counters.last_sequence),
                     EncodeChange({ChangeOp::kDelete, label}));
  }
  if (text_index_ != nullptr) change.batch.Delete(Column::kTerms, text_index_->Key(label));
  --change.counters.document_count;
  change.removed.push_back(label);
}

absl::Status CollectionImpl::ReadRemovedAttributes(Change& change) const {
  if (attribute_index_.empty() || change.removed.empty()) return absl::OkStatus();
  std::vector<std::string> keys;
  for (Label label : change.removed) keys.push_back(DocumentKey(id_, label));
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
  const std::shared_ptr<const Space> space = CurrentSpace();
  EMBER_ASSIGN_OR_RETURN(std::vector<Label> existing, LookUpLabels(ids));
  Change change;
  change.counters = counters_;
  for (size_t i = 0; i < ids.size(); ++i) {
    const Label label = existing[i];
    // The same id twice in one call: the second finds it already queued for deletion.
    if (label < 0 || absl::c_linear_search(change.removed, label)) continue;
    AddRemoval(space->record, label, ids[i], /*keep_id=*/false, change);
  }
  if (change.removed.empty()) return 0;
  const int64_t deleted = static_cast<int64_t>(change.removed.size());
  EMBER_RETURN_IF_ERROR(CommitAndApply(change));
  return deleted;
}

absl::Status CollectionImpl::CommitAndApply(Change& change) {
  EMBER_RETURN_IF_ERROR(ReadRemovedAttributes(change));
  const CollectionCounters& counters = change.counters;
  change.batch.Put(Column::kCatalog, CountersKey(id_), EncodeCounters(counters));
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
    if (text_index_ != nullptr) {
      absl::Status status;
      for (Label label : change.removed) {
        if (status.ok()) status = text_index_->Remove(label);
      }
      for (size_t i = 0; i < change.added.size() && status.ok(); ++i) {
        status = text_index_->Add(change.added[i], *change.added_terms[i]);
      }
      // As for the vector index below: the store has the batch, so the store rebuilds the index.
      if (!status.ok() && !(status = LoadStoredTerms()).ok()) {
        return absl::InternalError(
            absl::StrCat("the write is durable but the full-text index could not be reloaded (",
                         status.message(), "); reopen the database"));
      }
    }
    if (index_ == nullptr) return absl::OkStatus();  // text-only: no vectors, no snapshots
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
  const std::shared_ptr<const Space> space = CurrentSpace();
  EMBER_ASSIGN_OR_RETURN(std::vector<Label> labels, LookUpLabels(ids));
  const int dimension = space->record.spec.dimension;
  std::vector<std::string> document_keys, vector_keys;
  for (Label label : labels) {
    if (label < 0) continue;
    document_keys.push_back(DocumentKey(id_, label));
    if (dimension > 0) vector_keys.push_back(VectorKey(space->record.VectorsId(), label));
  }
  EMBER_ASSIGN_OR_RETURN(auto documents,
                         context_.store->MultiGet(Column::kDocuments, document_keys));
  EMBER_ASSIGN_OR_RETURN(auto vectors, context_.store->MultiGet(Column::kVectors, vector_keys));
  std::vector<std::optional<Document>> result(ids.size());
  size_t found = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (labels[i] < 0) continue;
    if (!documents[found] || (dimension > 0 && !vectors[found])) {
      return absl::DataLossError(
          absl::StrCat("document \"", ids[i], "\" is indexed but not stored"));
    }
    EMBER_ASSIGN_OR_RETURN(result[i], DecodeDocument(*documents[found]));
    if (dimension > 0) {
      EMBER_RETURN_IF_ERROR(DecodeVector(*vectors[found], dimension, &result[i]->vector));
    }
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
    for (uint64_t label : labels) keys.push_back(DocumentKey(id_, static_cast<Label>(label)));
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
  for (uint64_t label : candidates.labels()) {
    labels.push_back(label);
    if (labels.size() == kScanBatch) EMBER_RETURN_IF_ERROR(check_batch());
  }
  if (!labels.empty()) EMBER_RETURN_IF_ERROR(check_batch());
  return matches;
}

absl::Status CollectionImpl::MatchFilter(const Filter& filter,
                                         std::optional<FilterMatches>& matches,
                                         SearchPlan& plan) const {
  const int64_t total = static_cast<int64_t>(ids_by_label_.size());
  plan.estimated_candidates = plan.matching_documents = total;
  if (filter.op() == Filter::Op::kAll) return absl::OkStatus();
  // The candidates are used where they lie (the attribute index's own set for a one-value filter,
  // the list value-column checks kept) rather than copied: they stay valid while the visibility
  // lock is held. Built in place: moving them costs as much as a small search.
  matches.emplace(
      FilterMatches{.candidates = SelectCandidates(filter, attribute_index_, all_labels_)});
  const FilterCandidates& candidates = matches->candidates;
  plan.estimated_candidates = candidates.count();
  plan.unindexed_attributes.assign(candidates.unindexed_attributes.begin(),
                                   candidates.unindexed_attributes.end());
  if (candidates.residual.op() != Filter::Op::kAll) {
    EMBER_ASSIGN_OR_RETURN(matches->checked, ScanResidual(candidates, plan));
  }
  plan.matching_documents = matches->count();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<index::Neighbor>> CollectionImpl::FindNeighbors(
    const SearchRequest& request, int k, const CollectionRecord& record,
    const FilterMatches* matches, SearchPlan& plan) const {
  const bool filtered = matches != nullptr;
  const int64_t total = static_cast<int64_t>(ids_by_label_.size());
  const PlannedSearch planned = PlanSearch({.matching = plan.matching_documents,
                                            .total = total,
                                            .filtered = filtered,
                                            .k = k,
                                            .dimension = record.spec.dimension,
                                            .index = record.spec.index,
                                            .requested_ef_search = request.ef_search,
                                            .requested_nprobe = request.nprobe});
  plan.strategy = SearchStrategyName(planned.strategy);
  plan.ef_search = planned.ef_search;
  plan.nprobe = planned.nprobe;

  const auto score_exactly = [&]() -> absl::StatusOr<std::vector<index::Neighbor>> {
    const std::vector<Label>* listed = filtered ? matches->list() : nullptr;
    std::vector<Label> labels;
    if (listed == nullptr) (filtered ? matches->set() : all_labels_).AppendTo(&labels);
    const std::vector<Label>& scored = listed != nullptr ? *listed : labels;
    plan.exact_scored += static_cast<int64_t>(scored.size());
    return index_->SearchExact(request.vector, k, scored);
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
  // A traversal tests membership: it needs the set.
  const LabelSetFilter label_filter(filtered ? matches->set() : all_labels_);
  EMBER_ASSIGN_OR_RETURN(
      std::vector<index::Neighbor> neighbors,
      index_->Search(request.vector, {.k = k,
                                      .ef_search = planned.ef_search,
                                      .nprobe = planned.nprobe,
                                      .filter = filtered ? &label_filter : nullptr,
                                      .max_scored = planned.max_scored}));
  // Whenever k documents match, k are returned: a traversal that came up short (a filter that cuts
  // the graph apart, tombstones crowding the beam) is completed by the exact scan.
  if (static_cast<int64_t>(neighbors.size()) < std::min<int64_t>(k, plan.matching_documents)) {
    if (neighbors.empty() && planned.max_scored > 0) {
      plan.strategy = absl::StrCat(plan.strategy, ", then exact");
    }
    return score_exactly();
  }
  return neighbors;
}

absl::StatusOr<SearchResponse> CollectionImpl::Search(const SearchRequest& caller_request) const {
  EMBER_RETURN_IF_ERROR(ValidateSearchRequest(caller_request));
  // The query text is embedded before any lock is taken (it is the slow part), with the models in
  // force then; should a reembed swap in other models before the lock is taken, that vector
  // belongs to the old space, and the text is embedded again with the new models.
  while (true) {
    SearchRequest embedded;
    std::shared_ptr<const Space> embedded_with;
    if (caller_request.vector.empty() && !caller_request.text.empty()) {
      embedded_with = CurrentSpace();
      EMBER_ASSIGN_OR_RETURN(const SearchMode mode,
                             CheckedSearchMode(caller_request, embedded_with->record.spec));
      if (mode == SearchMode::kVector || mode == SearchMode::kHybrid) {
        if (embedded_with->encoders == nullptr) {
          return absl::FailedPreconditionError(
              absl::StrCat("collection \"", name_, "\" has no encoder: search it with a vector",
                           text_index_ != nullptr ? ", or in text mode" : "", ", not a text"));
        }
        embedded = caller_request;
        EMBER_ASSIGN_OR_RETURN(embedded.vector,
                               embedded_with->encoders->EmbedQuery(caller_request.text));
      }
    }
    const SearchRequest& request = embedded.vector.empty() ? caller_request : embedded;
    ReaderLock visibility_lock(&visibility_mu_);
    // Under the visibility lock the space is the one the index holds vectors of.
    const std::shared_ptr<const Space> space = CurrentSpace();
    if (!embedded.vector.empty() && space->generation != embedded_with->generation) continue;
    const CollectionSpec& spec = space->record.spec;
    EMBER_ASSIGN_OR_RETURN(const SearchMode mode, CheckedSearchMode(request, spec));
    const bool vector_side = mode == SearchMode::kVector || mode == SearchMode::kHybrid;
    if (vector_side) {
      EMBER_RETURN_IF_ERROR(ValidateVector(request.vector, spec.dimension, "query vector"));
    }
    if (request.filter.op() != Filter::Op::kAll) {
      EMBER_RETURN_IF_ERROR(CheckFilterTypes(
          request.filter, [&spec](std::string_view name) { return DeclaredType(spec, name); }));
    }
    EMBER_RETURN_IF_ERROR(CheckUsable());
    return SearchLocked(request, mode, space->record);
  }
}

absl::StatusOr<SearchResponse> CollectionImpl::SearchLocked(const SearchRequest& request,
                                                            SearchMode mode,
                                                            const CollectionRecord& record) const {
  SearchResponse response;
  response.plan.mode = SearchModeName(mode);
  std::optional<FilterMatches> matches;
  EMBER_RETURN_IF_ERROR(MatchFilter(request.filter, matches, response.plan));
  const FilterMatches* scope = matches ? &*matches : nullptr;
  std::vector<Found> found;
  // The hits' documents, once read (grouping reads them; otherwise they are read below if needed).
  std::vector<Document> documents;
  if (request.group_by.empty()) {
    EMBER_ASSIGN_OR_RETURN(found, FindHits(request, mode, request.k, record, scope, response.plan));
  } else {
    EMBER_ASSIGN_OR_RETURN(
        found, FindGroupLeaders(request, mode, record, scope, response.plan, documents));
  }
  response.hits.resize(found.size());
  for (size_t i = 0; i < found.size(); ++i) {
    const auto it = ids_by_label_.find(found[i].label);
    if (it == ids_by_label_.end()) {
      return absl::InternalError("an index returned a label that is not stored");
    }
    SearchHit& hit = response.hits[i];
    hit.id = it->second;
    hit.score = found[i].hit.score;
    hit.distance = found[i].hit.distance;
    hit.vector_rank = found[i].hit.vector_rank;
    hit.vector_score = found[i].hit.vector_score;
    hit.text_rank = found[i].hit.text_rank;
    hit.text_score = found[i].hit.text_score;
  }
  if (request.include_text || request.include_attributes) {
    if (documents.size() != found.size()) {
      EMBER_ASSIGN_OR_RETURN(documents, ReadDocuments(found));
    }
    for (size_t i = 0; i < documents.size(); ++i) {
      if (request.include_text) response.hits[i].text = std::move(documents[i].text);
      if (request.include_attributes) {
        response.hits[i].attributes = std::move(documents[i].attributes);
      }
    }
  }
  if (request.include_vector && record.spec.dimension > 0) {
    std::vector<std::string> keys;
    for (const Found& result : found) keys.push_back(VectorKey(record.VectorsId(), result.label));
    EMBER_ASSIGN_OR_RETURN(auto records, context_.store->MultiGet(Column::kVectors, keys));
    for (size_t i = 0; i < records.size(); ++i) {
      if (!records[i]) return absl::DataLossError("a search hit's vector is not stored");
      EMBER_RETURN_IF_ERROR(
          DecodeVector(*records[i], record.spec.dimension, &response.hits[i].vector));
    }
  }
  return response;
}

absl::StatusOr<std::vector<Document>> CollectionImpl::ReadDocuments(
    const std::vector<Found>& found) const {
  std::vector<std::string> keys;
  keys.reserve(found.size());
  for (const Found& result : found) keys.push_back(DocumentKey(id_, result.label));
  EMBER_ASSIGN_OR_RETURN(auto records, context_.store->MultiGet(Column::kDocuments, keys));
  std::vector<Document> documents(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    if (!records[i]) return absl::DataLossError("a search hit's document is not stored");
    EMBER_ASSIGN_OR_RETURN(documents[i], DecodeDocument(*records[i]));
  }
  return documents;
}

absl::StatusOr<std::vector<CollectionImpl::Found>> CollectionImpl::FindTextHits(
    const SearchRequest& request, int k, const FilterMatches* matches, SearchPlan& plan) const {
  const std::vector<std::string> terms = text_index_->QueryTerms(request.text);
  plan.text_terms.clear();
  for (const std::string& term : terms) {
    if (!absl::c_linear_search(plan.text_terms, term)) plan.text_terms.push_back(term);
  }
  EMBER_ASSIGN_OR_RETURN(const TextIndex::Result result, text_index_->Search(terms, k, matches));
  plan.text_strategy = result.strategy;
  plan.text_hits = static_cast<int64_t>(result.hits.size());
  std::vector<Found> found(result.hits.size());
  for (size_t i = 0; i < result.hits.size(); ++i) {
    found[i].label = static_cast<Label>(result.hits[i].label);
    found[i].hit.score = found[i].hit.text_score = static_cast<float>(result.hits[i].score);
    found[i].hit.text_rank = static_cast<int>(i + 1);
  }
  return found;
}

absl::StatusOr<std::vector<CollectionImpl::Found>> CollectionImpl::FindHits(
    const SearchRequest& request, SearchMode mode, int k, const CollectionRecord& record,
    const FilterMatches* matches, SearchPlan& plan) const {
  if (mode == SearchMode::kText) return FindTextHits(request, k, matches, plan);

  // The vector side; in hybrid mode, `depth` deep.
  const int depth =
      mode == SearchMode::kHybrid
          ? std::min(kMaxSearchK, std::max(k, request.fusion.depth > 0 ? request.fusion.depth
                                                                       : kDefaultFusionDepth))
          : k;
  EMBER_ASSIGN_OR_RETURN(const std::vector<index::Neighbor> neighbors,
                         FindNeighbors(request, depth, record, matches, plan));
  std::vector<Found> vector_hits(neighbors.size());
  for (size_t i = 0; i < neighbors.size(); ++i) {
    vector_hits[i].label = neighbors[i].label;
    auto& hit = vector_hits[i].hit;
    SetScoreAndDistance(record.spec.metric, neighbors[i].distance, &hit.score, &hit.distance);
    hit.vector_rank = static_cast<int>(i + 1);
    hit.vector_score = hit.score;
  }
  plan.vector_hits = static_cast<int64_t>(vector_hits.size());
  if (mode == SearchMode::kVector) return vector_hits;

  EMBER_ASSIGN_OR_RETURN(const std::vector<Found> text_hits,
                         FindTextHits(request, depth, matches, plan));
  plan.fusion_depth = depth;
  const auto ranked = [](const std::vector<Found>& hits, auto score) {
    std::vector<RankedHit> list;
    list.reserve(hits.size());
    for (const Found& found : hits) list.push_back({found.label, score(found.hit)});
    return list;
  };
  const std::vector<RankedHit> lists[] = {
      ranked(vector_hits, [](const auto& hit) { return double{hit.vector_score}; }),
      ranked(text_hits, [](const auto& hit) { return double{hit.text_score}; })};
  std::vector<FusedHit> fused;
  const FusionOptions& fusion = request.fusion;
  switch (fusion.method) {
    case FusionMethod::kReciprocalRank:
      fused = FuseReciprocalRank(lists, fusion.rank_constant, k);
      plan.fusion = absl::StrCat("rrf, rank constant ", fusion.rank_constant);
      break;
    case FusionMethod::kWeighted: {
      const double weights[] = {fusion.vector_weight, 1 - fusion.vector_weight};
      fused = FuseWeighted(lists, weights, k);
      plan.fusion = absl::StrCat("weighted, vector weight ", fusion.vector_weight);
      break;
    }
  }
  std::vector<Found> hits(fused.size());
  for (size_t i = 0; i < fused.size(); ++i) {
    hits[i].label = fused[i].label;
    auto& hit = hits[i].hit;
    hit.score = static_cast<float>(fused[i].score);
    hit.vector_rank = fused[i].ranks[0];
    hit.vector_score = static_cast<float>(fused[i].scores[0]);
    hit.text_rank = fused[i].ranks[1];
    hit.text_score = static_cast<float>(fused[i].scores[1]);
    if (hit.vector_rank > 0) hit.distance = vector_hits[hit.vector_rank - 1].hit.distance;
  }
  return hits;
}

absl::StatusOr<std::vector<CollectionImpl::Found>> CollectionImpl::FindGroupLeaders(
    const SearchRequest& request, SearchMode mode, const CollectionRecord& record,
    const FilterMatches* matches, SearchPlan& plan, std::vector<Document>& documents) const {
  // Groups are only known once documents are read, so the search asks for more hits than k, and
  // for twice as many again while the groups they fall into are fewer than k.
  if (ids_by_label_.empty()) return std::vector<Found>();
  const int64_t total = static_cast<int64_t>(ids_by_label_.size());
  int wider = static_cast<int>(
      std::min<int64_t>({static_cast<int64_t>(request.k) * 4, total, kMaxSearchK}));
  const SearchPlan filter_plan = plan;
  while (true) {
    plan = filter_plan;
    EMBER_ASSIGN_OR_RETURN(std::vector<Found> found,
                           FindHits(request, mode, wider, record, matches, plan));
    std::vector<std::string> keys;
    for (const Found& result : found) keys.push_back(DocumentKey(id_, result.label));
    EMBER_ASSIGN_OR_RETURN(auto records, context_.store->MultiGet(Column::kDocuments, keys));
    std::set<Value> seen;
    std::vector<Found> leaders;
    documents.clear();
    for (size_t i = 0; i < records.size() && leaders.size() < static_cast<size_t>(request.k); ++i) {
      if (!records[i]) return absl::DataLossError("a search hit's document is not stored");
      EMBER_ASSIGN_OR_RETURN(Document document, DecodeDocument(*records[i]));
      const auto value = document.attributes.find(request.group_by);
      // A document without the attribute is a group of its own.
      if (value != document.attributes.end() &&
          !std::holds_alternative<std::monostate>(value->second) &&
          !seen.insert(value->second).second) {
        continue;
      }
      leaders.push_back(found[i]);
      documents.push_back(std::move(document));
    }
    const bool exhausted =
        static_cast<int64_t>(found.size()) < wider || wider >= total || wider >= kMaxSearchK;
    if (leaders.size() >= static_cast<size_t>(request.k) || exhausted) return leaders;
    wider =
        static_cast<int>(std::min<int64_t>({static_cast<int64_t>(wider) * 2, total, kMaxSearchK}));
  }
}

CollectionStats CollectionImpl::Stats() const {
  ReaderLock visibility_lock(&visibility_mu_);
  if (!CheckUsable().ok()) return {};
  CollectionStats stats{.document_count = static_cast<int64_t>(ids_by_label_.size()),
                        .changes_since_snapshot = changes_since_snapshot_.load()};
  if (index_ != nullptr) {
    const index::IndexStats index_stats = index_->Stats();
    stats.index_vectors = index_stats.live_vectors + index_stats.tombstones;
    stats.index_tombstones = index_stats.tombstones;
    stats.index_trained = index_stats.trained;
    stats.index_memory_bytes = index_stats.memory_bytes;
  }
  if (text_index_ != nullptr) {
    const text::Bm25IndexStats text_stats = text_index_->Stats();
    stats.text_terms = static_cast<int64_t>(text_stats.terms);
    stats.text_postings = static_cast<int64_t>(text_stats.postings);
    stats.text_memory_bytes = static_cast<int64_t>(text_stats.memory_bytes);
  }
  return stats;
}

absl::StatusOr<int64_t> CollectionImpl::CountReembeddableDocuments() const {
  int64_t count = 0;
  EMBER_RETURN_IF_ERROR(ForEachStoredDocument([&](Label, Document document) -> absl::Status {
    ++count;
    if (document.text.has_value()) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat("collection \"", name_, "\": document \"", document.id,
                     "\" has no text for the new model to embed; give it a text or delete it, then "
                     "reembed"));
  }));
  if (count != static_cast<int64_t>(counters_.document_count)) {
    return absl::DataLossError(absl::StrCat("collection \"", name_, "\" records ",
                                            counters_.document_count, " documents but stores ",
                                            count));
  }
  return count;
}

absl::Status CollectionImpl::StageVectors(const CollectionEncoders& encoders, int dimension,
                                          CollectionId vectors_id, int64_t total,
                                          const ReembedOptions& options,
                                          index::VectorIndex& index) const {
  std::vector<Label> labels;
  std::vector<std::string> ids, texts;
  int64_t done = 0;
  const auto flush = [&]() -> absl::Status {
    EMBER_ASSIGN_OR_RETURN(const std::vector<float> vectors, encoders.EmbedDocuments(texts));
    if (vectors.size() != texts.size() * static_cast<size_t>(dimension)) {
      return absl::InternalError("the document model returned vectors of another dimension");
    }
    storage::WriteBatch batch;
    // In the same batch as the first vectors, so that no staged vector is ever without it.
    if (done == 0) batch.Put(Column::kCatalog, StagedVectorsKey(vectors_id), absl::StrCat(id_));
    for (size_t i = 0; i < labels.size(); ++i) {
      const std::span<const float> vector(vectors.data() + i * dimension, dimension);
      if (absl::Status status = ValidateVector(vector, dimension, "its new vector"); !status.ok()) {
        return absl::InternalError(
            absl::StrCat("document \"", ids[i], "\": ", status.message(), " (a model failure)"));
      }
      batch.Put(Column::kVectors, VectorKey(vectors_id, labels[i]), EncodeVector(vector));
    }
    EMBER_RETURN_IF_ERROR(context_.store->Write(batch));
    EMBER_RETURN_IF_ERROR(index.Add(labels, vectors));
    done += static_cast<int64_t>(labels.size());
    labels.clear();
    ids.clear();
    texts.clear();
    if (options.progress) options.progress(done, total);
    return absl::OkStatus();
  };
  if (options.progress) options.progress(0, total);
  EMBER_RETURN_IF_ERROR(ForEachStoredDocument([&](Label label, Document document) -> absl::Status {
    if (!document.text.has_value()) {  // checked before; the store changed under the lock
      return absl::InternalError(
          absl::StrCat("document \"", document.id, "\" lost its text during the reembed"));
    }
    labels.push_back(label);
    ids.push_back(std::move(document.id));
    texts.push_back(*std::move(document.text));
    if (labels.size() < static_cast<size_t>(options.batch_size)) return absl::OkStatus();
    return flush();
  }));
  if (!labels.empty()) EMBER_RETURN_IF_ERROR(flush());
  if (done != total) {
    return absl::InternalError(
        absl::StrCat("embedded ", done, " documents of the ", total, " counted before"));
  }
  return absl::OkStatus();
}

absl::Status CollectionImpl::Reembed(
    const EncoderSpec& encoder, CollectionEncoders encoders, const ReembedOptions& options,
    const std::function<absl::StatusOr<CollectionId>()>& allocate_vectors_id) {
  // Writers wait for the whole reembed: a document written meanwhile would have to be embedded
  // by both models. Readers go on with the old index until the swap.
  WriterLock write_lock(&write_mu_);
  EMBER_RETURN_IF_ERROR(CheckWritable());
  const std::shared_ptr<const Space> old_space = CurrentSpace();
  CollectionRecord record = old_space->record;
  record.spec.encoder = encoder;
  record.spec.dimension = encoders.document->dimension();
  RecordFingerprints(encoders, record);
  EMBER_RETURN_IF_ERROR(ValidateCollectionSpec(record.spec));
  EMBER_ASSIGN_OR_RETURN(const int64_t total, CountReembeddableDocuments());
  EMBER_ASSIGN_OR_RETURN(
      std::unique_ptr<index::VectorIndex> index,
      index::VectorIndex::Create(record.spec.dimension, record.spec.metric, record.spec.index));

  // Nothing was written so far. From here the new vectors go under an id of their own, where no
  // reader looks until the swap; should anything fail before the swap, they are deleted (here, or
  // by the next Open, which finds their StagedVectorsKey).
  EMBER_ASSIGN_OR_RETURN(record.vectors_id, allocate_vectors_id());
  const CollectionId vectors_id = record.vectors_id;
  const auto discard_staged = [&] {
    storage::WriteBatch batch;
    batch.DeleteRange(Column::kVectors, CollectionPrefix(vectors_id),
                      CollectionPrefix(vectors_id + 1));
    batch.Delete(Column::kCatalog, StagedVectorsKey(vectors_id));
    (void)context_.store->Write(batch);  // best effort: the next Open finishes it
  };
  if (absl::Status status =
          StageVectors(encoders, record.spec.dimension, vectors_id, total, options, *index);
      !status.ok()) {
    discard_staged();
    return status;
  }

  // The swap, one batch: the new record, the old vectors' deletion, and counters whose change log
  // starts afresh. The swap takes a sequence number of its own and truncates the log through it:
  // every snapshot saved before covers an older sequence, so recovery can neither load one for
  // the new vectors nor replay old changes onto a new index; it rebuilds from whichever vectors the
  // catalog's record names.
  CollectionCounters counters = counters_;
  ++counters.last_sequence;
  counters.truncated_through = counters.last_sequence;
  storage::WriteBatch swap;
  swap.Put(Column::kCatalog, CollectionCatalogKey(name_), EncodeCollectionRecord(record));
  swap.Delete(Column::kCatalog, StagedVectorsKey(vectors_id));
  swap.Put(Column::kCatalog, CountersKey(id_), EncodeCounters(counters));
  const CollectionId old_vectors_id = old_space->record.VectorsId();
  swap.DeleteRange(Column::kVectors, CollectionPrefix(old_vectors_id),
                   CollectionPrefix(old_vectors_id + 1));
  swap.DeleteRange(Column::kChangeLog, ChangeKey(id_, 0),
                   ChangeKey(id_, counters.last_sequence + 1));

  // The old snapshot is deleted before the swap commits, so that no crash can leave it next to the
  // new vectors (the sequence numbers would reject it anyway; this does not rely on them alone).
  std::error_code error;
  std::filesystem::remove(context_.snapshot_path, error);
  if (error) {
    discard_staged();
    return absl::InternalError(absl::StrCat("cannot delete the index snapshot ",
                                            context_.snapshot_path, ": ", error.message()));
  }
  snapshot_stale_ = true;  // the old index has no snapshot now, should the swap fail
  {
    WriterLock visibility_lock(&visibility_mu_);
    // On failure the staged vectors are left alone: a failed write may still have reached the log,
    // and then they are the collection's. The next Open deletes them only if the swap is absent.
    EMBER_RETURN_IF_ERROR(context_.store->Write(swap));
    index_ = std::move(index);
    counters_ = counters;
    WriterLock space_lock(&space_mu_);
    space_ = std::make_shared<const Space>(
        Space{.record = std::move(record),
              .encoders = std::make_shared<const CollectionEncoders>(std::move(encoders)),
              .generation = old_space->generation + 1});
  }
  snapshot_sequence_ = counters.last_sequence;
  changes_since_snapshot_ = 0;
  // Best effort: without a snapshot the next Open rebuilds the index from the new vectors.
  (void)CheckpointLocked();
  return absl::OkStatus();
}

absl::Status CollectionImpl::Checkpoint() {
  WriterLock write_lock(&write_mu_);
  return CheckpointLocked();
}

absl::Status CollectionImpl::CheckpointLocked() {
  if (context_.read_only || state_.load() != State::kOpen || index_ == nullptr) {
    return absl::OkStatus();
  }
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
  batch.DeleteRange(Column::kChangeLog, ChangeKey(id_, 0), ChangeKey(id_, sequence + 1));
  batch.Put(Column::kCatalog, CountersKey(id_), EncodeCounters(counters));
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
  if (text_index_ != nullptr) text_index_->Clear();
  ids_by_label_ = {};
  all_labels_ = {};
}

}  // namespace ember::db
