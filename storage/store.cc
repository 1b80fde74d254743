#include "storage/store.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ember/status.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/slice.h"
#include "rocksdb/table.h"
#include "rocksdb/transaction_log.h"
#include "rocksdb/write_batch.h"
#include "storage/key_encoding.h"

namespace ember::storage {
namespace {

// Indexed by Column. Part of the on-disk format: do not rename.
constexpr std::array<std::string_view, kColumnCount> kColumnNames = {
    "catalog", "documents", "ids", "vectors", "attributes", "changelog", "terms"};

// One block cache shared by every column family of a store, so that memory stays bounded however
// the workload spreads over families. 64 MiB holds ~40k of the ~1.5 KiB vectors plus the hot index
// and filter blocks, enough for reranking and document fetches without crowding out the FAISS
// indexes.
constexpr size_t kBlockCacheBytes = size_t{64} << 20;
// Total memtable budget across all column families (RocksDB flushes the largest when it is
// exceeded). Without it each of the seven families could hold 2 x 64 MiB of memtables.
constexpr size_t kWriteBufferBudgetBytes = size_t{128} << 20;
constexpr int kBloomBitsPerKey = 10;  // ~1% false positives

std::string_view ColumnName(Column column) { return kColumnNames[static_cast<int>(column)]; }

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }
std::string_view ToView(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

// Why RocksDB could not take the database's LOCK file, or nullptr when `status` is about something
// else.
const char* LockHolder(const rocksdb::Status& status) {
  if (!status.IsIOError()) return nullptr;
  const std::string message = status.ToString();
  // RocksDB tracks the locks it holds per process and refuses a second one itself.
  if (absl::StrContains(message, "lock hold by current process")) {
    return "another Store in this process";
  }
  // fcntl reports a lock held by another process as EAGAIN or, on some file systems, ENOLCK.
  if (absl::StrContains(message, "Resource temporarily unavailable") ||
      absl::StrContains(message, "No locks available")) {
    return "another process";
  }
  return nullptr;
}

// Converts a failed RocksDB status into the absl code the Store contract promises; `action` says
// what was attempted ("open", "write", ...).
absl::Status ToAbslStatus(const rocksdb::Status& status, const char* action,
                          const std::string& directory) {
  const std::string detail =
      absl::StrCat("cannot ", action, " the store at ", directory, ": ", status.ToString());
  if (const char* holder = LockHolder(status); holder != nullptr) {
    return absl::UnavailableError(absl::StrCat(detail, " (the folder is open for writing by ",
                                               holder, "; retry once it is closed, or open the ",
                                               "folder read-only)"));
  }
  if (status.IsCorruption() || status.IsPathNotFound()) return absl::DataLossError(detail);
  return absl::InternalError(detail);
}

rocksdb::ColumnFamilyOptions ColumnFamilyOptionsFor(std::string_view name,
                                                    const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  // Index and filter blocks count against the cache budget instead of growing with the data;
  // level-0 ones stay pinned because every lookup consults them.
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  // Point lookups by key dominate "ids" (does this document id exist?) and "documents" (fetch
  // results); a Bloom filter answers the misses without reading data blocks. The other families are
  // read by scans or by keys known to exist, where a filter only costs space.
  if (name == ColumnName(Column::kIds) || name == ColumnName(Column::kDocuments)) {
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(kBloomBitsPerKey));
  }
  rocksdb::ColumnFamilyOptions options;
  options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // float32 vectors are incompressible: compressing them only burns CPU on every flush and read.
  if (name == ColumnName(Column::kVectors)) options.compression = rocksdb::kNoCompression;
  return options;
}

rocksdb::DBOptions DatabaseOptions(bool create) {
  rocksdb::DBOptions options;
  options.create_if_missing = create;
  options.create_missing_column_families = create;
  // An embedded library shares the machine with its host program: one flush and one compaction at a
  // time.
  options.max_background_jobs = 2;
  options.db_write_buffer_size = kWriteBufferBudgetBytes;
  // RocksDB's info LOG files otherwise accumulate in the user's database folder forever.
  options.keep_log_file_num = 3;
  return options;
}

// Opens the database read-only (which validates its MANIFEST) and says whether its default family
// holds no key, modifying nothing. Ember never writes there, so data in it means another program's
// database.
absl::StatusOr<bool> DefaultFamilyIsEmpty(const std::string& directory,
                                          const std::vector<std::string>& family_names) {
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& family : family_names) {
    descriptors.emplace_back(family, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  const rocksdb::Status opened =
      rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), directory, descriptors, &handles, &db);
  if (!opened.ok()) return ToAbslStatus(opened, "open", directory);
  bool empty;
  {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions()));
    it->SeekToFirst();
    empty = !it->Valid();
  }
  for (rocksdb::ColumnFamilyHandle* handle : handles) db->DestroyColumnFamilyHandle(handle);
  delete db;
  return empty;
}

// OK when `family_names` (listed from the database's MANIFEST) include all of Ember's families.
absl::Status CheckEmberFamilies(const std::string& directory,
                                const std::vector<std::string>& family_names) {
  for (std::string_view name :
       std::span(kColumnNames).first(static_cast<size_t>(kFirstAddedColumn))) {
    if (std::find(family_names.begin(), family_names.end(), name) != family_names.end()) continue;
    // ListColumnFamilies reads a damaged MANIFEST leniently and may list only "default"; opening it
    // validates the MANIFEST, so that damage is reported as such rather than as a foreign database.
    EMBER_RETURN_IF_ERROR(DefaultFamilyIsEmpty(directory, family_names).status());
    return absl::FailedPreconditionError(absl::StrCat(
        directory, " is a RocksDB database but not an Ember store (it has no column family \"",
        std::string(name), "\")"));
  }
  return absl::OkStatus();
}

}  // namespace

struct WriteBatch::Rep {
  enum class Kind { kPut, kDelete, kDeleteRange };
  struct Operation {
    Kind kind;
    Column column;
    std::string key;
    std::string value;  // the value for kPut, the end key for kDeleteRange
  };
  // Kept as plain operations because a rocksdb::WriteBatch needs the column family handles of the
  // store it will be written to, which the batch does not know yet.
  std::vector<Operation> operations;
};

WriteBatch::WriteBatch() : rep_(std::make_unique<Rep>()) {}
WriteBatch::~WriteBatch() = default;
WriteBatch::WriteBatch(WriteBatch&&) noexcept = default;
WriteBatch& WriteBatch::operator=(WriteBatch&&) noexcept = default;

void WriteBatch::Put(Column column, std::string_view key, std::string_view value) {
  rep_->operations.push_back({Rep::Kind::kPut, column, std::string(key), std::string(value)});
}

void WriteBatch::Delete(Column column, std::string_view key) {
  rep_->operations.push_back({Rep::Kind::kDelete, column, std::string(key), {}});
}

void WriteBatch::DeleteRange(Column column, std::string_view begin, std::string_view end) {
  rep_->operations.push_back(
      {Rep::Kind::kDeleteRange, column, std::string(begin), std::string(end)});
}

int WriteBatch::Count() const { return static_cast<int>(rep_->operations.size()); }

struct Store::Rep {
  std::string directory;
  bool read_only = false;
  bool sync_writes = true;
  std::unique_ptr<rocksdb::DB> db;
  // Every family the database holds (RocksDB requires opening all of them), owned here.
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  // Ember's families, indexed by Column; pointers into `handles`.
  std::array<rocksdb::ColumnFamilyHandle*, kColumnCount> columns = {};

  ~Rep() {
    if (db == nullptr) return;
    for (rocksdb::ColumnFamilyHandle* handle : handles) db->DestroyColumnFamilyHandle(handle);
    // Nobody is left to report a failure to; acknowledged writes are already in the (synced) WAL.
    db->Close().PermitUncheckedError();
  }

  rocksdb::ColumnFamilyHandle* Handle(Column column) const {
    return columns[static_cast<int>(column)];
  }

  absl::Status Scan(Column column, std::string_view begin, std::string_view end,
                    const std::function<bool(std::string_view, std::string_view)>& visit) const {
    rocksdb::ReadOptions read_options;
    const rocksdb::Slice upper_bound = ToSlice(end);
    if (!end.empty()) read_options.iterate_upper_bound = &upper_bound;
    if (Handle(column) == nullptr)
      return absl::OkStatus();  // an added family a read-only store lacks
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read_options, Handle(column)));
    for (it->Seek(ToSlice(begin)); it->Valid(); it->Next()) {
      if (!visit(ToView(it->key()), ToView(it->value()))) break;
    }
    if (!it->status().ok()) return ToAbslStatus(it->status(), "scan", directory);
    return absl::OkStatus();
  }
};

Store::Store(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
Store::~Store() = default;

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const std::string& directory,
                                                   const StoreOptions& options) {
  std::error_code error;
  const bool exists = std::filesystem::exists(std::filesystem::path(directory) / "CURRENT", error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot open the store at ", directory, ": ", error.message()));
  }
  const bool create = !exists && options.create_if_missing && !options.read_only;
  if (!exists && !create) {
    return absl::NotFoundError(absl::StrCat("no store at ", directory));
  }

  std::vector<std::string> family_names;
  // RocksDB writes CURRENT before it adds the column families, one at a time: a crash in between
  // leaves a store with only some of Ember's families, and nothing in them. Opening it writable
  // completes it.
  bool completing_creation = false;
  // A store written before a family was added gains it when opened writable.
  bool adding_families = false;
  if (create) {
    std::filesystem::create_directories(directory, error);
    if (error) {
      return absl::InternalError(
          absl::StrCat("cannot create the store directory ", directory, ": ", error.message()));
    }
    family_names.push_back(rocksdb::kDefaultColumnFamilyName);
    family_names.insert(family_names.end(), kColumnNames.begin(), kColumnNames.end());
  } else {
    const rocksdb::Status listed =
        rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), directory, &family_names);
    if (!listed.ok()) return ToAbslStatus(listed, "open", directory);
    const bool all_known =
        std::all_of(family_names.begin(), family_names.end(), [](const std::string& name) {
          return name == rocksdb::kDefaultColumnFamilyName ||
                 std::find(kColumnNames.begin(), kColumnNames.end(), name) != kColumnNames.end();
        });
    completing_creation = all_known && options.create_if_missing && !options.read_only &&
                          family_names.size() < kColumnNames.size() + 1;
    if (completing_creation) {
      EMBER_ASSIGN_OR_RETURN(const bool empty, DefaultFamilyIsEmpty(directory, family_names));
      completing_creation = empty;
    }
    if (completing_creation) {
      family_names.assign(1, rocksdb::kDefaultColumnFamilyName);
      family_names.insert(family_names.end(), kColumnNames.begin(), kColumnNames.end());
    } else {
      EMBER_RETURN_IF_ERROR(CheckEmberFamilies(directory, family_names));
      if (!options.read_only) {
        for (std::string_view name :
             std::span(kColumnNames).subspan(static_cast<size_t>(kFirstAddedColumn))) {
          if (std::find(family_names.begin(), family_names.end(), name) == family_names.end()) {
            family_names.emplace_back(name);
            adding_families = true;
          }
        }
      }
    }
  }

  auto cache = rocksdb::NewLRUCache(kBlockCacheBytes);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : family_names) {
    descriptors.emplace_back(name, ColumnFamilyOptionsFor(name, cache));
  }

  auto rep = std::make_unique<Rep>();
  rep->directory = directory;
  rep->read_only = options.read_only;
  rep->sync_writes = options.sync_writes;
  rocksdb::DB* db = nullptr;
  rocksdb::DBOptions db_options = DatabaseOptions(create || completing_creation);
  db_options.create_missing_column_families |= adding_families;
  const rocksdb::Status opened =
      options.read_only
          ? rocksdb::DB::OpenForReadOnly(db_options, directory, descriptors, &rep->handles, &db)
          : rocksdb::DB::Open(db_options, directory, descriptors, &rep->handles, &db);
  if (!opened.ok()) return ToAbslStatus(opened, "open", directory);
  rep->db.reset(db);
  for (size_t i = 0; i < family_names.size(); ++i) {
    for (int column = 0; column < kColumnCount; ++column) {
      if (family_names[i] == kColumnNames[column]) rep->columns[column] = rep->handles[i];
    }
  }
  return std::unique_ptr<Store>(new Store(std::move(rep)));
}

absl::Status Store::Write(WriteBatch& batch) {
  if (rep_->read_only) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write to the store at ", rep_->directory, ": it is open read-only"));
  }
  // RocksDB 7.8 checks a range's order only while applying the batch to the memtable, after the
  // operations before it were applied (and the whole batch logged): reject it before it gets there.
  for (const WriteBatch::Rep::Operation& op : batch.rep_->operations) {
    if (op.kind == WriteBatch::Rep::Kind::kDeleteRange && op.value < op.key) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot write to the store at ", rep_->directory, ": a DeleteRange in column family \"",
          std::string(ColumnName(op.column)), "\" ends before it begins"));
    }
  }
  rocksdb::WriteBatch rocks_batch;
  for (const WriteBatch::Rep::Operation& op : batch.rep_->operations) {
    rocksdb::ColumnFamilyHandle* handle = rep_->Handle(op.column);
    rocksdb::Status added;
    switch (op.kind) {
      case WriteBatch::Rep::Kind::kPut:
        added = rocks_batch.Put(handle, ToSlice(op.key), ToSlice(op.value));
        break;
      case WriteBatch::Rep::Kind::kDelete:
        added = rocks_batch.Delete(handle, ToSlice(op.key));
        break;
      case WriteBatch::Rep::Kind::kDeleteRange:
        added = rocks_batch.DeleteRange(handle, ToSlice(op.key), ToSlice(op.value));
        break;
    }
    if (!added.ok()) return ToAbslStatus(added, "write", rep_->directory);
  }
  rocksdb::WriteOptions write_options;
  write_options.sync = rep_->sync_writes;
#if defined(__SANITIZE_THREAD__)
  // RocksDB's group commit has one writer copy the batches of the others that wait, synchronized
  // inside librocksdb, which Debian does not build for ThreadSanitizer: TSan would report those
  // copies as races between Ember's writers. Under TSan only, writes take turns behind a lock it
  // can see.
  static std::mutex* const tsan_write_order = new std::mutex();
  std::lock_guard<std::mutex> tsan_write_lock(*tsan_write_order);
#endif
  const rocksdb::Status written = rep_->db->Write(write_options, &rocks_batch);
  if (!written.ok()) return ToAbslStatus(written, "write", rep_->directory);
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> Store::Get(Column column, std::string_view key) const {
  if (rep_->Handle(column) == nullptr) return std::nullopt;  // see kFirstAddedColumn
  std::string value;
  const rocksdb::Status status =
      rep_->db->Get(rocksdb::ReadOptions(), rep_->Handle(column), ToSlice(key), &value);
  if (status.IsNotFound()) return std::nullopt;
  if (!status.ok()) return ToAbslStatus(status, "read", rep_->directory);
  return value;
}

absl::StatusOr<std::vector<std::optional<std::string>>> Store::MultiGet(
    Column column, std::span<const std::string> keys) const {
  if (rep_->Handle(column) == nullptr) {  // see kFirstAddedColumn
    return std::vector<std::optional<std::string>>(keys.size());
  }
  std::vector<rocksdb::Slice> slices;
  slices.reserve(keys.size());
  for (const std::string& key : keys) slices.emplace_back(key);
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  rep_->db->MultiGet(rocksdb::ReadOptions(), rep_->Handle(column), keys.size(), slices.data(),
                     values.data(), statuses.data());
  std::vector<std::optional<std::string>> result(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return ToAbslStatus(statuses[i], "read", rep_->directory);
    result[i].emplace(values[i].data(), values[i].size());
  }
  return result;
}

absl::Status Store::ScanPrefix(
    Column column, std::string_view prefix,
    const std::function<bool(std::string_view key, std::string_view value)>& visit) const {
  return rep_->Scan(column, prefix, PrefixSuccessor(prefix), visit);
}

absl::Status Store::ScanRange(
    Column column, std::string_view begin, std::string_view end,
    const std::function<bool(std::string_view key, std::string_view value)>& visit) const {
  return rep_->Scan(column, begin, end, visit);
}

absl::Status Store::Flush() {
  if (rep_->read_only) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot flush the store at ", rep_->directory, ": it is open read-only"));
  }
  rocksdb::FlushOptions flush_options;
  flush_options.wait = true;
  const rocksdb::Status flushed = rep_->db->Flush(flush_options, rep_->handles);
  if (!flushed.ok()) return ToAbslStatus(flushed, "flush", rep_->directory);
  return absl::OkStatus();
}

int64_t Store::ApproximateDiskBytes() const {
  // SST files of every family (including obsolete ones a live iterator still pins: they occupy disk
  // too), plus the write-ahead logs that hold what is still in memtables. MANIFEST, OPTIONS and
  // info LOG files are small and not counted.
  uint64_t sst_bytes = 0;
  rep_->db->GetAggregatedIntProperty(rocksdb::DB::Properties::kTotalSstFilesSize, &sst_bytes);
  uint64_t wal_bytes = 0;
  rocksdb::VectorLogPtr wal_files;
  if (rep_->db->GetSortedWalFiles(wal_files).ok()) {
    for (const std::unique_ptr<rocksdb::LogFile>& file : wal_files) {
      wal_bytes += file->SizeFileBytes();
    }
  }
  return static_cast<int64_t>(sst_bytes + wal_bytes);
}

}  // namespace ember::storage
