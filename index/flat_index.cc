#include "index/flat_index.h"

#include "ember/status.h"
#include "index/index_input.h"

namespace ember::index {

FlatIndex::FlatIndex(int dimension, Metric metric, const IndexSpec& spec)
    : dimension_(dimension), metric_(metric), spec_(spec), store_(dimension, metric) {}

absl::StatusOr<std::unique_ptr<FlatIndex>> FlatIndex::Load(SnapshotReader& reader, int dimension,
                                                           Metric metric, const IndexSpec& spec) {
  auto index = std::make_unique<FlatIndex>(dimension, metric, spec);
  EMBER_RETURN_IF_ERROR(index->store_.ReadFrom(reader));
  EMBER_RETURN_IF_ERROR(reader.ExpectEnd());
  return index;
}

absl::Status FlatIndex::Add(std::span<const Label> labels, std::span<const float> vectors) {
  EMBER_ASSIGN_OR_RETURN(PreparedBatch batch, PrepareBatch(dimension_, metric_, labels, vectors));
  store_.Add(batch.labels, batch.vectors);
  return absl::OkStatus();
}

absl::Status FlatIndex::Remove(std::span<const Label> labels) {
  store_.Remove(labels);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Neighbor>> FlatIndex::Search(std::span<const float> query,
                                                        const IndexSearchParams& params) const {
  thread_local std::vector<float> scratch;
  EMBER_ASSIGN_OR_RETURN(const float* prepared,
                         PrepareQuery(dimension_, metric_, query, params, &scratch));
  return store_.Search(prepared, params.k, params.filter);
}

absl::StatusOr<std::vector<Neighbor>> FlatIndex::SearchExact(std::span<const float> query, int k,
                                                             std::span<const Label> candidates) const {
  thread_local std::vector<float> scratch;
  EMBER_ASSIGN_OR_RETURN(const float* prepared,
                         PrepareQuery(dimension_, metric_, query, {.k = k}, &scratch));
  return store_.SearchLabels(prepared, k, candidates);
}

IndexStats FlatIndex::Stats() const {
  IndexStats stats;
  stats.live_vectors = store_.size();
  stats.memory_bytes = store_.MemoryBytes();
  return stats;
}

absl::Status FlatIndex::SaveSnapshot(const std::string& path, uint64_t covered_sequence) const {
  SnapshotHeader header{IndexKind::kFlat, metric_, dimension_, spec_, covered_sequence};
  EMBER_ASSIGN_OR_RETURN(auto writer, SnapshotWriter::Open(path, header));
  EMBER_RETURN_IF_ERROR(store_.WriteTo(*writer));
  return writer->Commit();
}

}  // namespace ember::index
