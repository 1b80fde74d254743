// VectorIndex's factories: validation of the spec, and dispatch to the class of each index kind.
#include "index/vector_index.h"

#include "absl/strings/str_cat.h"
#include "ember/status.h"
#include "index/flat_index.h"
#include "index/hnsw_index.h"
#include "index/ivf_index.h"
#include "index/snapshot.h"

namespace ember::index {
namespace {

absl::Status OutOfRange(const char* field, int64_t value, int64_t low, int64_t high) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, " must be in [", low, ", ", high, "], got ", value));
}

// The ranges documented in ember/options.h.
absl::Status ValidateIndexArguments(int dimension, Metric metric, const IndexSpec& spec) {
  if (dimension < 1 || dimension > 65536) return OutOfRange("dimension", dimension, 1, 65536);
  if (metric != Metric::kCosine && metric != Metric::kInnerProduct && metric != Metric::kL2) {
    return absl::InvalidArgumentError(absl::StrCat("unknown metric ", static_cast<int>(metric)));
  }
  switch (spec.kind) {
    case IndexKind::kFlat:
      return absl::OkStatus();
    case IndexKind::kHnsw: {
      const HnswParams& hnsw = spec.hnsw;
      if (hnsw.m < 2 || hnsw.m > 256) return OutOfRange("hnsw.m", hnsw.m, 2, 256);
      if (hnsw.ef_construction < std::max(1, hnsw.m) || hnsw.ef_construction > 4096) {
        return OutOfRange("hnsw.ef_construction", hnsw.ef_construction, std::max(1, hnsw.m), 4096);
      }
      if (hnsw.ef_search < 1 || hnsw.ef_search > 32768) {
        return OutOfRange("hnsw.ef_search", hnsw.ef_search, 1, 32768);
      }
      return absl::OkStatus();
    }
    case IndexKind::kIvf: {
      const IvfParams& ivf = spec.ivf;
      if (ivf.nlist < 1 || ivf.nlist > 1048576)
        return OutOfRange("ivf.nlist", ivf.nlist, 1, 1048576);
      if (ivf.nprobe < 1 || ivf.nprobe > ivf.nlist) {
        return OutOfRange("ivf.nprobe", ivf.nprobe, 1, ivf.nlist);
      }
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown index kind ", static_cast<int>(spec.kind)));
}

}  // namespace

absl::StatusOr<std::unique_ptr<VectorIndex>> VectorIndex::Create(int dimension, Metric metric,
                                                                 const IndexSpec& spec) {
  EMBER_RETURN_IF_ERROR(ValidateIndexArguments(dimension, metric, spec));
  switch (spec.kind) {
    case IndexKind::kFlat:
      return std::make_unique<FlatIndex>(dimension, metric, spec);
    case IndexKind::kHnsw: {
      EMBER_ASSIGN_OR_RETURN(auto index, HnswIndex::Create(dimension, metric, spec));
      return index;
    }
    case IndexKind::kIvf:
      return std::make_unique<IvfIndex>(dimension, metric, spec);
  }
  return absl::InvalidArgumentError("unknown index kind");  // unreachable: validated above
}

absl::StatusOr<std::unique_ptr<VectorIndex>> VectorIndex::LoadSnapshot(const std::string& path,
                                                                       int dimension, Metric metric,
                                                                       const IndexSpec& spec,
                                                                       uint64_t* covered_sequence) {
  EMBER_RETURN_IF_ERROR(ValidateIndexArguments(dimension, metric, spec));
  EMBER_ASSIGN_OR_RETURN(std::unique_ptr<SnapshotReader> reader, SnapshotReader::Open(path));
  EMBER_RETURN_IF_ERROR(CheckSnapshotMatches(reader->header(), dimension, metric, spec));
  std::unique_ptr<VectorIndex> index;
  switch (spec.kind) {
    case IndexKind::kFlat: {
      EMBER_ASSIGN_OR_RETURN(index, FlatIndex::Load(*reader, dimension, metric, spec));
      break;
    }
    case IndexKind::kHnsw: {
      EMBER_ASSIGN_OR_RETURN(index, HnswIndex::Load(*reader, dimension, metric, spec));
      break;
    }
    case IndexKind::kIvf: {
      EMBER_ASSIGN_OR_RETURN(index, IvfIndex::Load(*reader, dimension, metric, spec));
      break;
    }
  }
  if (covered_sequence != nullptr) *covered_sequence = reader->header().covered_sequence;
  return index;
}

}  // namespace ember::index
