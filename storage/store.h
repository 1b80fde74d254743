// The durable store under a database folder: RocksDB with one column family per kind of record.
// RocksDB types never appear outside storage/.
#ifndef EMBER_STORAGE_STORE_H_
#define EMBER_STORAGE_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ember::storage {

// Column families. Their names are part of the on-disk format.
enum class Column : int {
  kCatalog = 0,     // "catalog": collection specs, counters, index snapshot records
  kDocuments = 1,   // "documents": collection + label -> document record
  kIds = 2,         // "ids": collection + document id -> label
  kVectors = 3,     // "vectors": collection + label -> float32 vector
  kAttributes = 4,  // "attributes": collection + attribute + ordered value + label -> ""
  kChangeLog = 5,   // "changelog": collection + sequence -> change
  kTerms = 6,       // "terms": collection + label -> the document's full-text term frequencies
};
inline constexpr int kColumnCount = 7;
// Families from this one on were added after stores were first written, so a store may lack them:
// opened writable, it gains them; opened read-only, they read as empty (and cannot be written).
inline constexpr Column kFirstAddedColumn = Column::kTerms;

struct StoreOptions {
  /// Create the RocksDB directory and column families when missing. Default: true.
  bool create_if_missing = true;
  /// Open read-only (RocksDB's OpenForReadOnly): no lock taken, Write() fails. Default: false.
  bool read_only = false;
  /// Sync the write-ahead log on every Write(). Default: true.
  bool sync_writes = true;
};

// A set of puts and deletes applied atomically by Store::Write. Not thread-safe.
class WriteBatch {
 public:
  WriteBatch();
  ~WriteBatch();
  WriteBatch(WriteBatch&&) noexcept;
  WriteBatch& operator=(WriteBatch&&) noexcept;

  void Put(Column column, std::string_view key, std::string_view value);
  void Delete(Column column, std::string_view key);
  // Deletes every key in [begin, end).
  void DeleteRange(Column column, std::string_view begin, std::string_view end);
  // Number of operations added.
  int Count() const;

 private:
  friend class Store;
  struct Rep;
  std::unique_ptr<Rep> rep_;
};

// Thread-safe: any number of threads may read and write concurrently.
class Store {
 public:
  // Opens (or creates) the RocksDB database in `directory`.
  // NotFound: missing and !create_if_missing (or read_only). Unavailable: another process holds the
  // lock. FailedPrecondition: `directory` is a RocksDB database without Ember's column families.
  // DataLoss: corruption reported by RocksDB. Internal: any other failure, with RocksDB's message.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& directory,
                                                     const StoreOptions& options);
  ~Store();

  // Applies the batch atomically (all or nothing), durably when sync_writes.
  // FailedPrecondition on a read-only store. InvalidArgument, applying nothing, when a
  // DeleteRange's end sorts before its begin.
  absl::Status Write(WriteBatch& batch);

  // The value, or nullopt when the key is absent.
  absl::StatusOr<std::optional<std::string>> Get(Column column, std::string_view key) const;

  // One value (or nullopt) per key, in order.
  absl::StatusOr<std::vector<std::optional<std::string>>> MultiGet(
      Column column, std::span<const std::string> keys) const;

  // Calls `visit(key, value)` for each key starting with `prefix`, in key order, until it returns
  // false.
  absl::Status ScanPrefix(
      Column column, std::string_view prefix,
      const std::function<bool(std::string_view key, std::string_view value)>& visit) const;

  // Calls `visit` for each key in [begin, end), in key order, until it returns false. An empty
  // `end` means no upper bound (what PrefixSuccessor returns for an all-0xFF prefix).
  absl::Status ScanRange(
      Column column, std::string_view begin, std::string_view end,
      const std::function<bool(std::string_view key, std::string_view value)>& visit) const;

  // Flushes memtables to SST files (shortens the next open's WAL replay).
  // FailedPrecondition on a read-only store.
  absl::Status Flush();

  // Approximate size on disk of all column families, in bytes.
  int64_t ApproximateDiskBytes() const;

 private:
  struct Rep;
  explicit Store(std::unique_ptr<Rep> rep);
  std::unique_ptr<Rep> rep_;
};

}  // namespace ember::storage

#endif  // EMBER_STORAGE_STORE_H_
