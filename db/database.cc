// Database: the folder layout, the catalog, and the open collections (the public Database and
// Open).
//
// Folder layout:
//   DB/store/                   RocksDB: the source of truth
//   DB/indexes/<id>.snapshot    one index snapshot per collection (derived; rebuilt when missing)
#include "ember/database.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "db/catalog.h"
#include "db/collection_impl.h"
#include "db/encoders.h"
#include "db/records.h"
#include "db/rw_lock.h"
#include "db/text_index.h"
#include "ember/status.h"
#include "storage/store.h"

namespace ember {
namespace {

namespace fs = std::filesystem;
using db::CollectionId;
using db::CollectionImpl;
using db::CollectionRecord;
using db::ReaderLock;
using db::RwLock;
using db::WriterLock;
using storage::Column;

// The layout of the store's records. Bumped on incompatible changes; a database with a newer
// version is refused rather than misread.
//   1: the first.
//   2: a collection's vectors may be keyed under another id than its own
//      (CollectionRecord::vectors_id, set by ReembedCollection). Version 1 stores are read as they
//      are and marked 2 by their first reembed, so that an older Ember refuses them.
//   3: the "terms" column family (full-text indexes). Older stores gain the family when opened
//      writable and are marked 3 when a collection is created, so that an older Ember, which would
//      not maintain a full-text index, refuses them.
constexpr int kFormatVersion = 3;

constexpr char kSnapshotSuffix[] = ".snapshot";

class DatabaseImpl final : public Database {
 public:
  DatabaseImpl(std::string path, const DatabaseOptions& options,
               std::unique_ptr<storage::Store> store)
      : path_(std::move(path)),
        read_only_(options.read_only),
        models_dir_(options.models_dir),
        store_(std::move(store)) {}

  ~DatabaseImpl() override {
    // Best effort: a failed snapshot only means the next Open replays the change log.
    (void)Checkpoint();
    WriterLock lock(&mu_);
    for (const auto& [_, collection] : collections_) collection->Close();
  }

  absl::Status Load();

  absl::StatusOr<std::shared_ptr<Collection>> CreateCollection(const CollectionSpec& spec) override;
  absl::StatusOr<std::shared_ptr<Collection>> GetCollection(const std::string& name) const override;
  std::vector<CollectionSpec> ListCollections() const override;
  absl::Status DropCollection(const std::string& name) override;
  absl::Status ReembedCollection(const std::string& name, const EncoderSpec& encoder,
                                 const ReembedOptions& options) override;
  absl::Status Checkpoint() override;
  const std::string& path() const override { return path_; }

 private:
  fs::path SnapshotPath(CollectionId id) const {
    return fs::path(path_) / "indexes" / absl::StrCat(id, kSnapshotSuffix);
  }
  CollectionImpl::Context ContextFor(CollectionId id) const {
    return {.store = store_.get(),
            .snapshot_path = SnapshotPath(id).string(),
            .read_only = read_only_,
            .models_dir = models_dir_};
  }
  absl::Status CheckWritable() const {
    if (read_only_) {
      return absl::FailedPreconditionError("the database is open read-only; reopen it writable");
    }
    return absl::OkStatus();
  }
  void RemoveOrphanSnapshots() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Deletes the vectors of reembeds that never swapped in (see db::StagedVectorsKey).
  absl::Status DiscardStagedVectors(const std::vector<CollectionRecord>& records);
  // The next collection id to hand out (the caller stores it + 1 under kNextCollectionIdKey).
  absl::StatusOr<CollectionId> NextCollectionId() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(id_mu_);
  // A collection id no collection uses, durably taken: where a reembed writes its new vectors.
  absl::StatusOr<CollectionId> AllocateVectorsId() ABSL_LOCKS_EXCLUDED(id_mu_);

  const std::string path_;
  const bool read_only_;
  const std::string models_dir_;
  const std::unique_ptr<storage::Store> store_;

  mutable RwLock mu_;
  std::map<std::string, std::shared_ptr<CollectionImpl>> collections_ ABSL_GUARDED_BY(mu_);
  // Serializes the use of kNextCollectionIdKey. Taken after mu_ (CreateCollection) or after a
  // collection's own locks (a reembed), never before either.
  absl::Mutex id_mu_;
};

absl::Status DatabaseImpl::Load() {
  EMBER_ASSIGN_OR_RETURN(std::optional<std::string> version,
                         store_->Get(Column::kCatalog, db::kFormatVersionKey));
  int format_version = 0;
  if (!version) {
    bool empty = true;
    EMBER_RETURN_IF_ERROR(store_->ScanPrefix(Column::kCatalog, "", [&](auto, auto) {
      empty = false;
      return false;
    }));
    if (!empty) {
      return absl::FailedPreconditionError(
          absl::StrCat(path_, " has a store without a format version: not an Ember database"));
    }
    if (!read_only_) {
      storage::WriteBatch batch;
      batch.Put(Column::kCatalog, db::kFormatVersionKey, absl::StrCat(kFormatVersion));
      EMBER_RETURN_IF_ERROR(store_->Write(batch));
    }
  } else if (!absl::SimpleAtoi(*version, &format_version) || format_version < 1) {
    return absl::DataLossError(absl::StrCat(path_, ": corrupt format version \"", *version, "\""));
  } else if (format_version > kFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat(path_, " was written by a newer Ember (format ", format_version,
                     "; this build reads up to ", kFormatVersion, "): upgrade Ember"));
  }

  std::vector<CollectionRecord> records;
  absl::Status status;
  EMBER_RETURN_IF_ERROR(store_->ScanPrefix(
      Column::kCatalog, db::kCollectionCatalogPrefix, [&](auto, std::string_view value) {
        absl::StatusOr<CollectionRecord> record = db::DecodeCollectionRecord(value);
        if (!record.ok()) {
          status = record.status();
          return false;
        }
        records.push_back(*std::move(record));
        return true;
      }));
  EMBER_RETURN_IF_ERROR(status);
  if (!read_only_) EMBER_RETURN_IF_ERROR(DiscardStagedVectors(records));

  WriterLock lock(&mu_);
  for (const CollectionRecord& record : records) {
    absl::StatusOr<std::shared_ptr<CollectionImpl>> collection =
        CollectionImpl::Open(ContextFor(record.id), record);
    if (!collection.ok()) {
      return absl::Status(collection.status().code(),
                          absl::StrCat("opening collection \"", record.spec.name,
                                       "\": ", collection.status().message()));
    }
    collections_.emplace(record.spec.name, *std::move(collection));
  }
  if (!read_only_) RemoveOrphanSnapshots();
  return absl::OkStatus();
}

absl::Status DatabaseImpl::DiscardStagedVectors(const std::vector<CollectionRecord>& records) {
  std::vector<CollectionId> staged;
  EMBER_RETURN_IF_ERROR(store_->ScanPrefix(Column::kCatalog, db::kStagedVectorsPrefix,
                                           [&](std::string_view key, std::string_view) {
                                             CollectionId vectors_id;
                                             if (db::DecodeStagedVectorsKey(key, &vectors_id))
                                               staged.push_back(vectors_id);
                                             return true;
                                           }));
  if (staged.empty()) return absl::OkStatus();
  storage::WriteBatch batch;
  for (CollectionId vectors_id : staged) {
    batch.Delete(Column::kCatalog, db::StagedVectorsKey(vectors_id));
    // The swap that makes staged vectors a collection's deletes their entry in the same batch, so
    // these belong to no collection; checked all the same, since deleting live vectors loses data.
    const bool in_use = std::any_of(records.begin(), records.end(), [&](const auto& record) {
      return record.VectorsId() == vectors_id || record.id == vectors_id;
    });
    if (!in_use) {
      batch.DeleteRange(Column::kVectors, db::CollectionPrefix(vectors_id),
                        db::CollectionPrefix(vectors_id + 1));
    }
  }
  return store_->Write(batch);
}

absl::StatusOr<CollectionId> DatabaseImpl::NextCollectionId() const {
  EMBER_ASSIGN_OR_RETURN(std::optional<std::string> next_id,
                         store_->Get(Column::kCatalog, db::kNextCollectionIdKey));
  CollectionId id = 1;
  if (next_id && !absl::SimpleAtoi(*next_id, &id)) {
    return absl::DataLossError("corrupt next collection id in the catalog");
  }
  return id;
}

absl::StatusOr<CollectionId> DatabaseImpl::AllocateVectorsId() {
  absl::MutexLock lock(&id_mu_);
  EMBER_ASSIGN_OR_RETURN(const CollectionId id, NextCollectionId());
  storage::WriteBatch batch;
  batch.Put(Column::kCatalog, db::kNextCollectionIdKey, absl::StrCat(id + 1));
  batch.Put(Column::kCatalog, db::kFormatVersionKey, absl::StrCat(kFormatVersion));
  EMBER_RETURN_IF_ERROR(store_->Write(batch));
  return id;
}

void DatabaseImpl::RemoveOrphanSnapshots() const {
  // A crash between dropping a collection and deleting its snapshot, or in the middle of writing a
  // snapshot, leaves files no collection owns.
  std::error_code error;
  for (const fs::directory_entry& entry :
       fs::directory_iterator(fs::path(path_) / "indexes", error)) {
    const std::string name = entry.path().filename().string();
    bool owned = false;
    for (const auto& [_, collection] : collections_) {
      owned |= name == absl::StrCat(collection->id(), kSnapshotSuffix);
    }
    if (!owned) fs::remove(entry.path(), error);
  }
}

absl::StatusOr<std::shared_ptr<Collection>> DatabaseImpl::CreateCollection(
    const CollectionSpec& requested_spec) {
  EMBER_RETURN_IF_ERROR(CheckWritable());
  EMBER_RETURN_IF_ERROR(ValidateCollectionSpec(requested_spec));
  CollectionSpec spec = requested_spec;
  std::optional<db::CollectionEncoders> encoders;
  if (spec.encoder) {
    EMBER_ASSIGN_OR_RETURN(encoders, db::LoadCollectionEncoders(*spec.encoder, models_dir_));
    const int model_dimension = encoders->document->dimension();
    if (spec.dimension == 0) spec.dimension = model_dimension;
    if (spec.dimension != model_dimension) {
      return absl::InvalidArgumentError(
          absl::StrCat("dimension is ", spec.dimension, " but model \"", spec.encoder->model,
                       "\" makes ", model_dimension, "-dimensional vectors"));
    }
  }
  WriterLock lock(&mu_);
  if (collections_.contains(spec.name)) {
    return absl::AlreadyExistsError(absl::StrCat("collection \"", spec.name, "\" already exists"));
  }
  CollectionRecord record{.spec = spec};
  if (encoders) db::RecordFingerprints(*encoders, record);
  if (spec.full_text.enabled) {
    EMBER_ASSIGN_OR_RETURN(const std::unique_ptr<text::Analyzer> analyzer,
                           db::CreateAnalyzer(spec.full_text));
    record.analyzer_fingerprint = analyzer->fingerprint();
  }
  {
    absl::MutexLock id_lock(&id_mu_);
    EMBER_ASSIGN_OR_RETURN(record.id, NextCollectionId());
    storage::WriteBatch batch;
    batch.Put(Column::kCatalog, db::kNextCollectionIdKey, absl::StrCat(record.id + 1));
    // Builds before format 3 would neither see nor maintain the collection's terms.
    batch.Put(Column::kCatalog, db::kFormatVersionKey, absl::StrCat(kFormatVersion));
    CollectionImpl::AddCreationToBatch(record, batch);
    EMBER_RETURN_IF_ERROR(store_->Write(batch));
  }
  EMBER_ASSIGN_OR_RETURN(std::shared_ptr<CollectionImpl> collection,
                         CollectionImpl::Open(ContextFor(record.id), record));
  if (encoders) collection->SetEncoders(*std::move(encoders));
  collections_.emplace(spec.name, collection);
  return collection;
}

absl::StatusOr<std::shared_ptr<Collection>> DatabaseImpl::GetCollection(
    const std::string& name) const {
  ReaderLock lock(&mu_);
  const auto it = collections_.find(name);
  if (it == collections_.end()) {
    return absl::NotFoundError(absl::StrCat("no collection named \"", name, "\""));
  }
  // Models load on first use of the collection, not when the database opens, so that a changed
  // model stops only its own collection (which ReembedCollection can then repair).
  if (absl::Status status = it->second->LoadEncoders(); !status.ok()) {
    return absl::Status(status.code(),
                        absl::StrCat("opening collection \"", name, "\": ", status.message()));
  }
  return it->second;
}

std::vector<CollectionSpec> DatabaseImpl::ListCollections() const {
  ReaderLock lock(&mu_);
  std::vector<CollectionSpec> specs;
  for (const auto& [_, collection] : collections_) specs.push_back(collection->spec());
  return specs;
}

absl::Status DatabaseImpl::DropCollection(const std::string& name) {
  EMBER_RETURN_IF_ERROR(CheckWritable());
  WriterLock lock(&mu_);
  const auto it = collections_.find(name);
  if (it == collections_.end()) {
    return absl::NotFoundError(absl::StrCat("no collection named \"", name, "\""));
  }
  const CollectionId id = it->second->id();
  // Waits for the collection's writers, and for a reembed, which may move its vectors.
  it->second->MarkDropped();
  const CollectionId vectors_id = it->second->vectors_id();
  storage::WriteBatch batch;
  batch.Delete(Column::kCatalog, db::CollectionCatalogKey(name));
  batch.Delete(Column::kCatalog, db::CountersKey(id));
  const std::string begin = db::CollectionPrefix(id);
  const std::string end = db::CollectionPrefix(id + 1);
  for (Column column : {Column::kDocuments, Column::kIds, Column::kVectors, Column::kAttributes,
                        Column::kChangeLog, Column::kTerms}) {
    batch.DeleteRange(column, begin, end);
  }
  if (vectors_id != id) {
    batch.DeleteRange(Column::kVectors, db::CollectionPrefix(vectors_id),
                      db::CollectionPrefix(vectors_id + 1));
  }
  EMBER_RETURN_IF_ERROR(store_->Write(batch));
  collections_.erase(it);
  std::error_code error;
  fs::remove(SnapshotPath(id), error);  // an orphan left by a failure here is removed by Open
  return absl::OkStatus();
}

absl::Status DatabaseImpl::ReembedCollection(const std::string& name, const EncoderSpec& encoder,
                                             const ReembedOptions& options) {
  EMBER_RETURN_IF_ERROR(CheckWritable());
  if (options.batch_size < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("batch_size must be at least 1, got ", options.batch_size));
  }
  std::shared_ptr<CollectionImpl> collection;
  {
    // Not held during the reembed: the rest of the database stays usable.
    ReaderLock lock(&mu_);
    const auto it = collections_.find(name);
    if (it == collections_.end()) {
      return absl::NotFoundError(absl::StrCat("no collection named \"", name, "\""));
    }
    collection = it->second;
  }
  // The encoder's fields are checked as a new collection's would be.
  CollectionSpec spec = collection->spec();
  if (spec.dimension == 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("collection \"", name,
                     "\" is text-only: it has no vectors to re-embed; create a "
                     "collection with a model and import its documents there"));
  }
  spec.encoder = encoder;
  spec.dimension = 0;
  EMBER_RETURN_IF_ERROR(ValidateCollectionSpec(spec));
  // Loading the models is slow: no lock is held, and the collection serves everything meanwhile.
  EMBER_ASSIGN_OR_RETURN(db::CollectionEncoders encoders,
                         db::LoadCollectionEncoders(encoder, models_dir_));
  return collection->Reembed(encoder, std::move(encoders), options,
                             [this] { return AllocateVectorsId(); });
}

absl::Status DatabaseImpl::Checkpoint() {
  if (read_only_) return absl::OkStatus();
  std::vector<std::shared_ptr<CollectionImpl>> collections;
  {
    // Released before checkpointing: a collection's checkpoint waits for its writers (and a
    // reembed), which must not hold up the rest of the database.
    ReaderLock lock(&mu_);
    for (const auto& [_, collection] : collections_) collections.push_back(collection);
  }
  absl::Status status;
  for (const auto& collection : collections) status.Update(collection->Checkpoint());
  if (status.ok()) status = store_->Flush();
  return status;
}

// True when `folder` holds anything but an indexes/ folder (which an interrupted creation may
// leave).
bool HasEntriesBesidesIndexes(const fs::path& folder) {
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(folder, error)) {
    if (entry.path().filename() != "indexes") return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> Database::Open(const std::string& path,
                                                         const DatabaseOptions& options) {
  if (path.empty()) return absl::InvalidArgumentError("database path is empty");
  const fs::path root(path);
  std::error_code error;
  const bool exists = fs::exists(root, error);
  if (!exists) {
    if (options.read_only || !options.create_if_missing) {
      return absl::NotFoundError(absl::StrCat("no database at ", path));
    }
  } else if (!fs::is_directory(root, error)) {
    return absl::FailedPreconditionError(absl::StrCat(path, " is a file, not a database folder"));
  } else if (!fs::is_directory(root / "store", error) && HasEntriesBesidesIndexes(root)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " is a folder that is not an Ember database (it has no store/)"));
  }
  if (!options.read_only) {
    fs::create_directories(root / "indexes", error);
    if (error) {
      return absl::PermissionDeniedError(
          absl::StrCat("cannot create ", (root / "indexes").string(), ": ", error.message()));
    }
  }
  EMBER_ASSIGN_OR_RETURN(
      std::unique_ptr<storage::Store> store,
      storage::Store::Open((root / "store").string(), {.create_if_missing = !options.read_only,
                                                       .read_only = options.read_only,
                                                       .sync_writes = options.sync_writes}));
  auto database = std::make_unique<DatabaseImpl>(path, options, std::move(store));
  EMBER_RETURN_IF_ERROR(database->Load());
  return database;
}

}  // namespace ember
