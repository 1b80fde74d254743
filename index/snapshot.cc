#include "index/snapshot.h"

#include <faiss/Index.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bit>
#include <cerrno>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "ember/status.h"
#include "index/crc32c.h"
#include "index/faiss_errors.h"

namespace ember::index {
namespace {

static_assert(std::endian::native == std::endian::little,
              "snapshots are written in memory order, which must be little-endian");

constexpr char kMagic[8] = {'E', 'M', 'B', 'E', 'R', 'I', 'D', 'X'};
constexpr size_t kHeaderSize = 48;
constexpr size_t kChecksumSize = 4;

// The fixed-size header exactly as stored.
struct StoredHeader {
  char magic[8];
  uint32_t format_version;
  uint8_t kind;
  uint8_t metric;
  uint16_t zero;
  uint32_t dimension;
  int32_t hnsw_m;
  int32_t hnsw_ef_construction;
  int32_t hnsw_ef_search;
  int32_t ivf_nlist;
  int32_t ivf_nprobe;
  uint64_t covered_sequence;
};
static_assert(sizeof(StoredHeader) == kHeaderSize);

std::string ErrnoMessage(const std::string& what, const std::string& path) {
  return absl::StrCat(what, " ", path, ": ", std::strerror(errno));
}

// Counts the bytes faiss::write_index produces, so that the blob's length can precede it.
struct ByteCounter : faiss::IOWriter {
  size_t bytes = 0;
  size_t operator()(const void*, size_t size, size_t nitems) override {
    bytes += size * nitems;
    return nitems;
  }
};

// Streams faiss::write_index into a SnapshotWriter. FAISS throws when fewer items are reported
// written.
struct SnapshotSink : faiss::IOWriter {
  explicit SnapshotSink(SnapshotWriter* writer) : writer(writer) {}
  size_t operator()(const void* data, size_t size, size_t nitems) override {
    return writer->WriteBytes(data, size * nitems).ok() ? nitems : 0;
  }
  SnapshotWriter* writer;
};

// Serves faiss::read_index from a byte range, never reading past its end (FAISS throws on a short
// read).
struct SpanSource : faiss::IOReader {
  SpanSource(const unsigned char* data, size_t size) : data(data), size(size) {}
  size_t operator()(void* out, size_t item_size, size_t nitems) override {
    if (item_size == 0 || nitems == 0) return nitems;  // FAISS reads empty vectors into null
    const size_t available = (size - position) / item_size;
    const size_t count = nitems < available ? nitems : available;
    std::memcpy(out, data + position, count * item_size);
    position += count * item_size;
    return count;
  }
  const unsigned char* data;
  size_t size;
  size_t position = 0;
};

absl::Status SyncDirectoryOf(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string directory = parent.empty() ? std::string(".") : parent.string();
  const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(ErrnoMessage("cannot open directory", directory));
  const int result = ::fsync(fd);
  ::close(fd);
  if (result != 0) return absl::InternalError(ErrnoMessage("cannot sync directory", directory));
  return absl::OkStatus();
}

absl::Status Mismatch(const char* field, int64_t stored, int64_t wanted) {
  return absl::FailedPreconditionError(absl::StrCat("index snapshot was written with ", field,
                                                    " = ", stored, ", the index wants ", wanted));
}

}  // namespace

absl::Status CheckSnapshotMatches(const SnapshotHeader& header, int dimension, Metric metric,
                                  const IndexSpec& spec) {
  if (header.kind != spec.kind) {
    return Mismatch("index kind", static_cast<int>(header.kind), static_cast<int>(spec.kind));
  }
  if (header.metric != metric) {
    return Mismatch("metric", static_cast<int>(header.metric), static_cast<int>(metric));
  }
  if (header.dimension != dimension) return Mismatch("dimension", header.dimension, dimension);
  if (spec.kind == IndexKind::kHnsw) {
    if (header.spec.hnsw.m != spec.hnsw.m)
      return Mismatch("hnsw.m", header.spec.hnsw.m, spec.hnsw.m);
    if (header.spec.hnsw.ef_construction != spec.hnsw.ef_construction) {
      return Mismatch("hnsw.ef_construction", header.spec.hnsw.ef_construction,
                      spec.hnsw.ef_construction);
    }
  }
  if (spec.kind == IndexKind::kIvf && header.spec.ivf.nlist != spec.ivf.nlist) {
    return Mismatch("ivf.nlist", header.spec.ivf.nlist, spec.ivf.nlist);
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------------------------------
// SnapshotWriter

SnapshotWriter::SnapshotWriter(std::string path, std::string temporary_path, std::FILE* file)
    : path_(std::move(path)), temporary_path_(std::move(temporary_path)), file_(file) {}

SnapshotWriter::~SnapshotWriter() {
  if (file_ != nullptr) std::fclose(file_);
  if (!committed_) std::remove(temporary_path_.c_str());
}

absl::StatusOr<std::unique_ptr<SnapshotWriter>> SnapshotWriter::Open(const std::string& path,
                                                                     const SnapshotHeader& header) {
  std::string temporary_path = path + ".tmp";
  std::FILE* file = std::fopen(temporary_path.c_str(), "wbe");
  if (file == nullptr) return absl::InternalError(ErrnoMessage("cannot create", temporary_path));
  // Large buffer: the payload is mostly big arrays, which fwrite passes through directly anyway.
  std::setvbuf(file, nullptr, _IOFBF, 1 << 20);
  std::unique_ptr<SnapshotWriter> writer(new SnapshotWriter(path, std::move(temporary_path), file));

  StoredHeader stored{};
  std::memcpy(stored.magic, kMagic, sizeof(kMagic));
  stored.format_version = kSnapshotFormatVersion;
  stored.kind = static_cast<uint8_t>(header.kind);
  stored.metric = static_cast<uint8_t>(header.metric);
  stored.dimension = static_cast<uint32_t>(header.dimension);
  stored.hnsw_m = header.spec.hnsw.m;
  stored.hnsw_ef_construction = header.spec.hnsw.ef_construction;
  stored.hnsw_ef_search = header.spec.hnsw.ef_search;
  stored.ivf_nlist = header.spec.ivf.nlist;
  stored.ivf_nprobe = header.spec.ivf.nprobe;
  stored.covered_sequence = header.covered_sequence;
  EMBER_RETURN_IF_ERROR(writer->WriteValue(stored));
  return writer;
}

absl::Status SnapshotWriter::WriteBytes(const void* data, size_t size) {
  if (!status_.ok()) return status_;
  if (file_ == nullptr) return absl::FailedPreconditionError("snapshot writer is closed");
  if (size == 0) return absl::OkStatus();
  if (std::fwrite(data, 1, size, file_) != size) {
    status_ = absl::InternalError(ErrnoMessage("cannot write", temporary_path_));
    return status_;
  }
  crc_ = Crc32cExtend(crc_, data, size);
  return absl::OkStatus();
}

absl::Status SnapshotWriter::WriteFaissIndex(const faiss::Index& index) {
  ByteCounter counter;
  EMBER_RETURN_IF_ERROR(
      CatchFaissExceptions("measuring FAISS index", [&] { faiss::write_index(&index, &counter); }));
  EMBER_RETURN_IF_ERROR(WriteValue<uint64_t>(counter.bytes));
  SnapshotSink sink(this);
  absl::Status written =
      CatchFaissExceptions("writing FAISS index", [&] { faiss::write_index(&index, &sink); });
  // A write error is reported by WriteBytes's own status, which is more precise than FAISS's.
  if (!status_.ok()) return status_;
  return written;
}

absl::Status SnapshotWriter::Commit() {
  EMBER_RETURN_IF_ERROR(status_);
  const uint32_t checksum = crc_;
  EMBER_RETURN_IF_ERROR(WriteValue(checksum));
  if (std::fflush(file_) != 0 || ::fsync(fileno(file_)) != 0) {
    return absl::InternalError(ErrnoMessage("cannot sync", temporary_path_));
  }
  const int close_result = std::fclose(file_);
  file_ = nullptr;
  if (close_result != 0) return absl::InternalError(ErrnoMessage("cannot close", temporary_path_));
  if (std::rename(temporary_path_.c_str(), path_.c_str()) != 0) {
    return absl::InternalError(ErrnoMessage("cannot rename to", path_));
  }
  committed_ = true;
  return SyncDirectoryOf(path_);
}

// ---------------------------------------------------------------------------------------------------
// SnapshotReader

SnapshotReader::SnapshotReader(const unsigned char* data, size_t size) : data_(data), size_(size) {}

SnapshotReader::~SnapshotReader() {
  if (size_ > 0) ::munmap(const_cast<unsigned char*>(data_), size_);
}

absl::StatusOr<std::unique_ptr<SnapshotReader>> SnapshotReader::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat("no index snapshot at ", path));
    return absl::InternalError(ErrnoMessage("cannot open", path));
  }
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    ::close(fd);
    return absl::InternalError(ErrnoMessage("cannot stat", path));
  }
  const size_t size = static_cast<size_t>(info.st_size);
  if (size < kHeaderSize + kChecksumSize) {
    ::close(fd);
    return absl::DataLossError(
        absl::StrCat("index snapshot ", path, " is truncated (", size, " bytes)"));
  }
  void* mapped = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (mapped == MAP_FAILED) return absl::InternalError(ErrnoMessage("cannot map", path));
  ::madvise(mapped, size, MADV_SEQUENTIAL);
  std::unique_ptr<SnapshotReader> reader(
      new SnapshotReader(static_cast<const unsigned char*>(mapped), size));

  StoredHeader stored;
  std::memcpy(&stored, reader->data_, sizeof(stored));
  if (std::memcmp(stored.magic, kMagic, sizeof(kMagic)) != 0) {
    return absl::DataLossError(absl::StrCat(path, " is not an Ember index snapshot (bad magic)"));
  }
  if (stored.format_version != kSnapshotFormatVersion) {
    return absl::DataLossError(absl::StrCat("index snapshot ", path, " has format version ",
                                            stored.format_version, "; this build reads version ",
                                            kSnapshotFormatVersion));
  }
  const size_t payload_end = size - kChecksumSize;
  uint32_t stored_checksum;
  std::memcpy(&stored_checksum, reader->data_ + payload_end, sizeof(stored_checksum));
  if (Crc32c(reader->data_, payload_end) != stored_checksum) {
    return absl::DataLossError(
        absl::StrCat("index snapshot ", path, " fails its checksum (truncated or corrupt)"));
  }
  if (stored.kind > static_cast<uint8_t>(IndexKind::kIvf) ||
      stored.metric > static_cast<uint8_t>(Metric::kL2) || stored.dimension == 0 ||
      stored.dimension > (1u << 20)) {
    return absl::DataLossError(absl::StrCat("index snapshot ", path, " has an invalid header"));
  }
  SnapshotHeader& header = reader->header_;
  header.kind = static_cast<IndexKind>(stored.kind);
  header.metric = static_cast<Metric>(stored.metric);
  header.dimension = static_cast<int>(stored.dimension);
  header.spec.kind = header.kind;
  header.spec.hnsw.m = stored.hnsw_m;
  header.spec.hnsw.ef_construction = stored.hnsw_ef_construction;
  header.spec.hnsw.ef_search = stored.hnsw_ef_search;
  header.spec.ivf.nlist = stored.ivf_nlist;
  header.spec.ivf.nprobe = stored.ivf_nprobe;
  header.covered_sequence = stored.covered_sequence;
  reader->position_ = kHeaderSize;
  reader->payload_end_ = payload_end;
  return reader;
}

absl::Status SnapshotReader::Truncated(const char* what) const {
  return absl::DataLossError(absl::StrCat("index snapshot payload is shorter than its ", what,
                                          " (at byte ", position_, ")"));
}

absl::Status SnapshotReader::ReadBytes(void* out, size_t size) {
  if (size > Remaining()) return Truncated("fields");
  if (size > 0) std::memcpy(out, data_ + position_, size);
  position_ += size;
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<faiss::Index>> SnapshotReader::ReadFaissIndex() {
  uint64_t length = 0;
  EMBER_RETURN_IF_ERROR(ReadValue(&length));
  if (length > Remaining()) return Truncated("FAISS index");
  SpanSource source(data_ + position_, length);
  std::unique_ptr<faiss::Index> index;
  absl::Status status =
      CatchFaissExceptions("reading FAISS index", [&] { index.reset(faiss::read_index(&source)); });
  if (!status.ok()) return absl::DataLossError(status.message());
  if (source.position != length) {
    return absl::DataLossError("index snapshot's FAISS index is shorter than its recorded length");
  }
  position_ += length;
  return index;
}

absl::Status SnapshotReader::ExpectEnd() const {
  if (Remaining() != 0) {
    return absl::DataLossError(
        absl::StrCat("index snapshot has ", Remaining(), " unexpected bytes after its payload"));
  }
  return absl::OkStatus();
}

}  // namespace ember::index
