// The Collection behind the public interface: the write path, the read path, and index recovery.
#ifndef EMBER_DB_COLLECTION_IMPL_H_
#define EMBER_DB_COLLECTION_IMPL_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "db/attribute_index.h"
#include "db/catalog.h"
#include "db/encoders.h"
#include "db/filter_candidates.h"
#include "db/records.h"
#include "db/rw_lock.h"
#include "db/text_index.h"
#include "ember/collection.h"
#include "ember/database.h"
#include "index/vector_index.h"
#include "storage/store.h"

namespace ember::db {

// Thread-safe. Three locks:
// - write_mu_ serializes the collection's writers, checkpoints and reembeds;
// - visibility_mu_ is held shared by readers across an index search and the fetch of its
//   documents, and exclusively by a writer across its store commit and the index update, so that a
//   reader sees a write batch entirely or not at all and never gets a label whose document is gone;
// - space_mu_ guards the pointer to the current Space (the record and models a reembed replaces),
//   held only to copy or replace it.
// The cost: readers wait while a writer commits (a WAL sync) and updates the index.
class CollectionImpl final : public Collection {
 public:
  struct Context {
    // Owned by the Database, which closes every collection before destroying it.
    storage::Store* store = nullptr;
    std::string snapshot_path;
    bool read_only = false;
    // Where bare model names resolve (DatabaseOptions::models_dir).
    std::string models_dir;
  };

  // Writes the catalog record and zeroed counters of a new collection into `batch` (the caller
  // commits).
  static void AddCreationToBatch(const CollectionRecord& record, storage::WriteBatch& batch);

  // Opens an existing collection: loads its index snapshot and replays the change log after it, or
  // rebuilds the index from the stored vectors when the snapshot is missing, corrupt or does not
  // match.
  static absl::StatusOr<std::shared_ptr<CollectionImpl>> Open(Context context,
                                                              const CollectionRecord& record);

  CollectionSpec spec() const override { return CurrentSpace()->record.spec; }
  absl::Status Upsert(std::span<const Document> documents) override;
  absl::StatusOr<std::vector<std::optional<Document>>> Get(
      std::span<const std::string> ids) const override;
  absl::StatusOr<int64_t> Delete(std::span<const std::string> ids) override;
  int64_t Count() const override;
  absl::StatusOr<SearchResponse> Search(const SearchRequest& request) const override;
  CollectionStats Stats() const override;

  CollectionId id() const { return id_; }
  // The id whose key range holds the collection's vectors (CollectionRecord::vectors_id).
  CollectionId vectors_id() const { return CurrentSpace()->record.VectorsId(); }

  // With an encoder: loads the collection's models unless loaded already, and checks them against
  // the catalog's fingerprints (FailedPrecondition naming both when they differ). The Database
  // calls it before handing the collection out. OK at once without an encoder.
  absl::Status LoadEncoders() ABSL_LOCKS_EXCLUDED(load_mu_, space_mu_);
  // Installs models already loaded and checked (by CreateCollection).
  void SetEncoders(CollectionEncoders encoders) ABSL_LOCKS_EXCLUDED(space_mu_);

  // Database::ReembedCollection's work once the new models are loaded (see its contract):
  // `encoders` are the models `encoder` names. `allocate_vectors_id` hands out a collection id no
  // collection uses, under which the new vectors are written (called once, after the checks, so
  // that a refused reembed writes nothing).
  absl::Status Reembed(const EncoderSpec& encoder, CollectionEncoders encoders,
                       const ReembedOptions& options,
                       const std::function<absl::StatusOr<CollectionId>()>& allocate_vectors_id)
      ABSL_LOCKS_EXCLUDED(write_mu_, visibility_mu_, space_mu_);

  // Saves an index snapshot covering every change so far and truncates the change log it covers.
  // No-op when nothing changed since the last snapshot, or on a read-only handle.
  absl::Status Checkpoint();

  // Makes every later call fail with NotFound; waits for writers in flight.
  void MarkDropped();

  // Called by the Database as it closes: waits for calls in flight, frees the index, and makes
  // every later call fail with FailedPrecondition (handles may outlive the Database).
  void Close();

 private:
  // What a reembed replaces, as one immutable value: the catalog record (encoder, dimension,
  // fingerprints, where the vectors are keyed) and the models. A caller takes the pointer once and
  // uses one consistent version throughout. The record changes only while write_mu_ and
  // visibility_mu_ are both held exclusively, so a caller holding either sees the record the index
  // and the stored vectors agree with; the models may be filled in later (LoadEncoders) without
  // changing the generation.
  struct Space {
    CollectionRecord record;
    // nullptr before LoadEncoders or SetEncoders, and without an encoder.
    std::shared_ptr<const CollectionEncoders> encoders;
    // Incremented by each reembed: a text embedded with one generation's models is only compared
    // with vectors of the same generation.
    uint64_t generation = 0;
  };

  // `text_index`: null unless the spec enables full text.
  CollectionImpl(Context context, const CollectionRecord& record,
                 std::unique_ptr<TextIndex> text_index);

  std::shared_ptr<const Space> CurrentSpace() const ABSL_LOCKS_EXCLUDED(space_mu_);

  absl::Status RecoverIndex();
  // Calls `visit` with every stored document and its label, in label order, until it returns an
  // error (returned). DataLoss for a corrupt key or record.
  absl::Status ForEachStoredDocument(
      const std::function<absl::Status(Label, Document)>& visit) const;
  // Loads the full-text index from the terms column family, or, when the analyzer's fingerprint
  // is not the one the terms were made with (or they disagree with the documents), re-analyzes
  // every document (and, on a writable handle, stores the new terms and fingerprint).
  absl::Status RecoverTextIndex() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_, visibility_mu_);
  absl::Status LoadStoredTerms() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_, visibility_mu_);
  absl::Status ReanalyzeDocuments() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_, visibility_mu_);
  absl::Status RebuildIndex();
  absl::StatusOr<bool> LoadSnapshotAndReplay();
  // Both are called with write_mu_ or visibility_mu_ held, so that Close cannot intervene.
  absl::Status CheckUsable() const;
  absl::Status CheckWritable() const;

  // One Upsert or Delete call, as the write path assembles it.
  struct Change {
    storage::WriteBatch batch;
    CollectionCounters counters;
    std::vector<Label> removed;
    std::vector<Attributes> removed_attributes;  // of `removed`, when attributes are indexed
    std::vector<Label> added;
    std::vector<float> added_vectors;
    std::vector<const Document*> added_documents;
    std::vector<const text::TermFrequencies*> added_terms;  // with a full-text index
  };
  // Queues the deletion of stored document `label` (id `id`) into `change`; `keep_id` leaves its id
  // entry alone (it is being replaced). Reads the document when its attributes are indexed.
  void AddRemoval(const CollectionRecord& record, Label label, std::string_view id, bool keep_id,
                  Change& change) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // The write path of Upsert once write_mu_ is held and `documents` (validated against `record`)
  // all have vectors (unless the collection is text-only); `terms` are theirs, with a full-text
  // index (else empty).
  absl::Status UpsertLocked(std::span<const Document> documents,
                            std::span<const text::TermFrequencies> terms,
                            const CollectionRecord& record)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Reads the attributes of the documents `change` removes, when the collection indexes attributes.
  absl::Status ReadRemovedAttributes(Change& change) const;
  // Commits `change` and applies it to the indexes, under the visibility lock.
  absl::Status CommitAndApply(Change& change) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status CheckpointLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::StatusOr<std::vector<Label>> LookUpLabels(std::span<const std::string> ids) const;
  // A search in `mode` (resolved: not kAuto) whose vector side, if it runs, has a query vector of
  // `record`'s dimension, under the visibility lock.
  absl::StatusOr<SearchResponse> SearchLocked(const SearchRequest& request, SearchMode mode,
                                              const CollectionRecord& record) const
      ABSL_SHARED_LOCKS_REQUIRED(visibility_mu_);
  // A search result before its document is read: the label, and the hit's scores and ranks (as
  // SearchHit names them; a SearchHit itself costs too much to build and move for small searches).
  struct Found {
    Label label = 0;
    struct {
      float score = 0;
      float distance = 0;
      int vector_rank = 0;
      float vector_score = 0;
      int text_rank = 0;
      float text_score = 0;
    } hit;
  };
  // The best `k` results of `request` in `mode` among `matches` (every document when null),
  // recording the plan in `plan`.
  absl::StatusOr<std::vector<Found>> FindHits(const SearchRequest& request, SearchMode mode, int k,
                                              const CollectionRecord& record,
                                              const FilterMatches* matches, SearchPlan& plan) const
      ABSL_SHARED_LOCKS_REQUIRED(visibility_mu_);
  // The BM25 side: the best `k` documents for request.text among `matches`.
  absl::StatusOr<std::vector<Found>> FindTextHits(const SearchRequest& request, int k,
                                                  const FilterMatches* matches,
                                                  SearchPlan& plan) const
      ABSL_SHARED_LOCKS_REQUIRED(visibility_mu_);
  // Sets `matches` to the documents `filter` matches (left nullopt when it is All: every
  // document); records the candidate and match counts in `plan`.
  absl::Status MatchFilter(const Filter& filter, std::optional<FilterMatches>& matches,
                           SearchPlan& plan) const ABSL_SHARED_LOCKS_REQUIRED(visibility_mu_);
  // The `k` nearest neighbours of request.vector among `matches` (every document when null),
  // planned and run; records the plan in `plan`.
  absl::StatusOr<std::vector<index::Neighbor>> FindNeighbors(const SearchRequest& request, int k,
                                                             const CollectionRecord& record,
                                                             const FilterMatches* matches,
                                                             SearchPlan& plan) const
      ABSL_SHARED_LOCKS_REQUIRED(visibility_mu_);
  // The stored documents of `found`, in its order.
  absl::StatusOr<std::vector<Document>> ReadDocuments(const std::vector<Found>& found) const
      ABSL_SHARED_LOCKS_REQUIRED(visibility_mu_);
  // FindHits keeping only the best document of each value of request.group_by; `documents` gets
  // the leaders' documents (read to find the groups), in the same order.
  absl::StatusOr<std::vector<Found>> FindGroupLeaders(const SearchRequest& request, SearchMode mode,
                                                      const CollectionRecord& record,
                                                      const FilterMatches* matches,
                                                      SearchPlan& plan,
                                                      std::vector<Document>& documents) const
      ABSL_SHARED_LOCKS_REQUIRED(visibility_mu_);
  // The candidates that also match the residual filter, read from their stored attributes.
  absl::StatusOr<LabelSet> ScanResidual(const FilterCandidates& candidates, SearchPlan& plan) const
      ABSL_SHARED_LOCKS_REQUIRED(visibility_mu_);

  // The documents of an Upsert call with every missing vector embedded from the text by the
  // models of `space`; nullopt when none is missing (the caller's documents are used as they are).
  absl::StatusOr<std::optional<std::vector<Document>>> EmbedMissingVectors(
      std::span<const Document> documents, const Space& space) const;

  // Reembed's steps, with write_mu_ held throughout. The documents' count, or FailedPrecondition
  // naming one without a text.
  absl::StatusOr<int64_t> CountReembeddableDocuments() const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Embeds every document's text with `encoders` into vectors stored under `vectors_id` (with the
  // StagedVectorsKey entry) and added to `index`.
  absl::Status StageVectors(const CollectionEncoders& encoders, int dimension,
                            CollectionId vectors_id, int64_t total, const ReembedOptions& options,
                            index::VectorIndex& index) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  const Context context_;
  const CollectionId id_;
  const std::string name_;

  // Serializes LoadEncoders, so that concurrent first uses load the models once.
  absl::Mutex load_mu_;
  mutable RwLock space_mu_ ABSL_ACQUIRED_AFTER(visibility_mu_);
  std::shared_ptr<const Space> space_ ABSL_GUARDED_BY(space_mu_);

  enum class State { kOpen, kDropped, kClosed };
  std::atomic<State> state_{State::kOpen};

  RwLock write_mu_;
  CollectionCounters counters_ ABSL_GUARDED_BY(write_mu_);
  // The change-log sequence the saved snapshot covers, and whether the in-memory index holds
  // anything the snapshot lacks (after a rebuild, the change log may not describe the difference).
  uint64_t snapshot_sequence_ ABSL_GUARDED_BY(write_mu_) = 0;
  bool snapshot_stale_ ABSL_GUARDED_BY(write_mu_) = false;
  std::atomic<int64_t> changes_since_snapshot_{0};

  mutable RwLock visibility_mu_ ABSL_ACQUIRED_AFTER(write_mu_);
  // Null for a text-only collection.
  std::unique_ptr<index::VectorIndex> index_ ABSL_PT_GUARDED_BY(visibility_mu_);
  // Null without full text. Its analyzer is immutable and used without locks (writers analyze
  // before taking write_mu_); its BM25 index is guarded by visibility_mu_ like index_.
  const std::unique_ptr<TextIndex> text_index_;
  // label -> document id for every stored document, so that searches that return only ids and
  // scores need no store reads. A cache of the ids column family.
  absl::flat_hash_map<Label, std::string> ids_by_label_ ABSL_GUARDED_BY(visibility_mu_);
  AttributeIndex attribute_index_ ABSL_GUARDED_BY(visibility_mu_);
  // Every stored label (the keys of ids_by_label_): the universe NOT and IS NULL filters subtract
  // from.
  LabelSet all_labels_ ABSL_GUARDED_BY(visibility_mu_);
};

}  // namespace ember::db

#endif  // EMBER_DB_COLLECTION_IMPL_H_
