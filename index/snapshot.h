// Index snapshot files: the on-disk form of a VectorIndex, written atomically and checksummed.
//
// Layout (version 1, little-endian; offsets in bytes):
//     0  magic "EMBERIDX"
//     8  u32 format version
//    12  u8 index kind (IndexKind), u8 metric (Metric), u16 zero
//    16  u32 dimension
//    20  i32 hnsw.m, hnsw.ef_construction, hnsw.ef_search, ivf.nlist, ivf.nprobe
//    40  u64 covered sequence
//    48  payload: written and read by the index kind (fixed-size values, arrays, FAISS blobs)
//   end-4  u32 CRC-32C of every byte before it
// The checksum is verified over the whole file before any payload byte is interpreted, so a
// truncated or corrupted file is reported as DataLoss instead of reaching FAISS's reader.
//
// Thread-safety: a SnapshotWriter or SnapshotReader is used by one thread at a time.
#ifndef EMBER_INDEX_SNAPSHOT_H_
#define EMBER_INDEX_SNAPSHOT_H_

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ember/options.h"

namespace faiss {
struct Index;
}

namespace ember::index {

// Bump when the layout above or any kind's payload changes; older versions are then rejected as
// DataLoss (the database rebuilds the index from its stored vectors).
inline constexpr uint32_t kSnapshotFormatVersion = 1;

// Everything before the payload.
struct SnapshotHeader {
  IndexKind kind = IndexKind::kFlat;
  Metric metric = Metric::kL2;
  int dimension = 0;
  IndexSpec spec;
  uint64_t covered_sequence = 0;
};

// Returns OK when a snapshot with `header` can serve an index of `dimension`, `metric` and `spec`;
// FailedPrecondition naming the first difference otherwise. Only the parameters that shape the
// stored structure are compared (kind, metric, dimension, hnsw.m, hnsw.ef_construction, ivf.nlist);
// the per-query defaults (hnsw.ef_search, ivf.nprobe) are taken from `spec` on load, so changing
// them never invalidates a snapshot.
absl::Status CheckSnapshotMatches(const SnapshotHeader& header, int dimension, Metric metric,
                                  const IndexSpec& spec);

// Writes one snapshot: the header on Open, then the payload, then Commit() appends the checksum,
// syncs the temporary file, renames it over `path` and syncs the directory. If Commit() is not
// reached or fails, the temporary file is removed and `path` is left as it was.
class SnapshotWriter {
 public:
  // Creates `path` + ".tmp" and writes `header`. Internal when the file cannot be created or
  // written.
  static absl::StatusOr<std::unique_ptr<SnapshotWriter>> Open(const std::string& path,
                                                              const SnapshotHeader& header);
  ~SnapshotWriter();

  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  // Appends raw bytes. Internal on a write error (the error sticks: Commit() fails too).
  absl::Status WriteBytes(const void* data, size_t size);

  // Appends a trivially copyable value or array in memory order.
  template <typename T>
  absl::Status WriteValue(const T& value) {
    static_assert(std::is_trivially_copyable_v<T>);
    return WriteBytes(&value, sizeof(T));
  }
  template <typename T>
  absl::Status WriteArray(std::span<const T> values) {
    static_assert(std::is_trivially_copyable_v<T>);
    return WriteBytes(values.data(), values.size_bytes());
  }

  // Appends a u64 byte length followed by faiss::write_index(index), streamed to the file without
  // an in-memory copy. Internal when FAISS or the file fails.
  absl::Status WriteFaissIndex(const faiss::Index& index);

  // Finishes the file as described above. Internal on any failure.
  absl::Status Commit();

 private:
  SnapshotWriter(std::string path, std::string temporary_path, std::FILE* file);

  const std::string path_;
  const std::string temporary_path_;
  std::FILE* file_;  // owned; null once closed
  uint32_t crc_ = 0;
  absl::Status status_;  // first write error
  bool committed_ = false;
};

// Reads one snapshot: Open maps the file and verifies magic, version and checksum; the payload is
// then consumed in the order it was written. Every read checks the remaining length first and
// reports DataLoss when the payload is shorter than its own fields say.
class SnapshotReader {
 public:
  // NotFound when `path` does not exist; DataLoss when it is shorter than a header and a checksum,
  // has a bad magic, an unknown format version, a failing checksum or an unknown kind or metric;
  // Internal when it cannot be read.
  static absl::StatusOr<std::unique_ptr<SnapshotReader>> Open(const std::string& path);
  ~SnapshotReader();

  SnapshotReader(const SnapshotReader&) = delete;
  SnapshotReader& operator=(const SnapshotReader&) = delete;

  const SnapshotHeader& header() const { return header_; }

  // Copies the next `size` payload bytes to `out`. DataLoss when fewer remain.
  absl::Status ReadBytes(void* out, size_t size);

  template <typename T>
  absl::Status ReadValue(T* value) {
    static_assert(std::is_trivially_copyable_v<T>);
    return ReadBytes(value, sizeof(T));
  }
  // Replaces `*values` with the next `count` elements. DataLoss when fewer remain (checked before
  // allocating, so a corrupt count cannot exhaust memory).
  template <typename T>
  absl::Status ReadArray(uint64_t count, std::vector<T>* values) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (count > Remaining() / sizeof(T)) return Truncated("array");
    values->resize(count);
    return ReadBytes(values->data(), count * sizeof(T));
  }

  // Reads a blob written by SnapshotWriter::WriteFaissIndex. DataLoss when it is short or FAISS
  // rejects it.
  absl::StatusOr<std::unique_ptr<faiss::Index>> ReadFaissIndex();

  // DataLoss unless the whole payload has been consumed.
  absl::Status ExpectEnd() const;

 private:
  SnapshotReader(const unsigned char* data, size_t size);
  size_t Remaining() const { return payload_end_ - position_; }
  absl::Status Truncated(const char* what) const;

  const unsigned char* data_;  // the mapped file
  size_t size_;
  size_t position_ = 0;
  size_t payload_end_ = 0;  // where the checksum starts
  SnapshotHeader header_;
};

}  // namespace ember::index

#endif  // EMBER_INDEX_SNAPSHOT_H_
