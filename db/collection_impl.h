// The Collection behind the public interface: the write path, the read path, and index recovery.
#ifndef EMBER_DB_COLLECTION_IMPL_H_
#define EMBER_DB_COLLECTION_IMPL_H_

#include <atomic>
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
#include "ember/collection.h"
#include "index/vector_index.h"
#include "storage/store.h"

namespace ember::db {

// Thread-safe. Two locks:
// - write_mu_ serializes the collection's writers and checkpoints;
// - visibility_mu_ is held shared by readers across an index search and the fetch of its documents,
// and
//   exclusively by a writer across its store commit and the index update, so that a reader sees a
//   write batch entirely or not at all and never gets a label whose document is gone.
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

  const CollectionSpec& spec() const override { return record_.spec; }
  absl::Status Upsert(std::span<const Document> documents) override;
  absl::StatusOr<std::vector<std::optional<Document>>> Get(
      std::span<const std::string> ids) const override;
  absl::StatusOr<int64_t> Delete(std::span<const std::string> ids) override;
  int64_t Count() const override;
  absl::StatusOr<SearchResponse> Search(const SearchRequest& request) const override;
  CollectionStats Stats() const override;

  CollectionId id() const { return record_.id; }

  // With an encoder: loads the collection's models unless loaded already, and checks them against
  // the catalog's fingerprints (FailedPrecondition naming both when they differ). The Database calls
  // it before handing the collection out. OK at once without an encoder.
  absl::Status LoadEncoders() ABSL_LOCKS_EXCLUDED(encoders_mu_);
  // Installs models already loaded and checked (by CreateCollection).
  void SetEncoders(CollectionEncoders encoders) ABSL_LOCKS_EXCLUDED(encoders_mu_);

  // Saves an index snapshot covering every change so far and truncates the change log it covers.
  // No-op when nothing changed since the last snapshot, or on a read-only handle.
  absl::Status Checkpoint();

  // Makes every later call fail with NotFound; waits for writers in flight.
  void MarkDropped();

  // Called by the Database as it closes: waits for calls in flight, frees the index, and makes
  // every later call fail with FailedPrecondition (handles may outlive the Database).
  void Close();

 private:
  CollectionImpl(Context context, const CollectionRecord& record);

  absl::Status RecoverIndex();
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
  };
  // Queues the deletion of stored document `label` (id `id`) into `change`; `keep_id` leaves its id
  // entry alone (it is being replaced). Reads the document when its attributes are indexed.
  void AddRemoval(Label label, std::string_view id, bool keep_id, Change& change)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Reads the attributes of the documents `change` removes, when the collection indexes attributes.
  absl::Status ReadRemovedAttributes(Change& change) const;
  // Commits `change` and applies it to the indexes, under the visibility lock.
  absl::Status CommitAndApply(Change& change) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status CheckpointLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::StatusOr<std::vector<Label>> LookUpLabels(std::span<const std::string> ids) const;
  // The neighbours a search returns, planned and run; records the plan in `plan`.
  absl::StatusOr<std::vector<index::Neighbor>> FindNeighbors(const SearchRequest& request,
                                                             SearchPlan& plan) const
      ABSL_SHARED_LOCKS_REQUIRED(visibility_mu_);
  // FindNeighbors keeping only the nearest document of each value of request.group_by.
  absl::StatusOr<std::vector<index::Neighbor>> FindGroupLeaders(const SearchRequest& request,
                                                                SearchPlan& plan) const
      ABSL_SHARED_LOCKS_REQUIRED(visibility_mu_);
  // The candidates that also match the residual filter, read from their stored attributes.
  absl::StatusOr<LabelSet> ScanResidual(const FilterCandidates& candidates, SearchPlan& plan) const
      ABSL_SHARED_LOCKS_REQUIRED(visibility_mu_);

  // The loaded models; nullptr before LoadEncoders or SetEncoders, and without an encoder.
  std::shared_ptr<const CollectionEncoders> encoders() const ABSL_LOCKS_EXCLUDED(encoders_mu_);
  // The documents of an Upsert call with every missing vector embedded from the text; nullopt
  // when none is missing (the caller's documents are used as they are).
  absl::StatusOr<std::optional<std::vector<Document>>> EmbedMissingVectors(
      std::span<const Document> documents) const;

  const Context context_;
  const CollectionRecord record_;

  mutable absl::Mutex encoders_mu_;
  std::shared_ptr<const CollectionEncoders> encoders_ ABSL_GUARDED_BY(encoders_mu_);
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
  std::unique_ptr<index::VectorIndex> index_ ABSL_PT_GUARDED_BY(visibility_mu_);
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
