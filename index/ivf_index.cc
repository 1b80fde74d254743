#include "index/ivf_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/impl/IDSelector.h>

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ember/status.h"
#include "index/faiss_errors.h"
#include "index/distance.h"
#include "index/index_input.h"
#include "index/top_k.h"

namespace ember::index {
namespace {

using FaissId = faiss::Index::idx_t;
static_assert(sizeof(FaissId) == sizeof(Label), "labels are used directly as FAISS ids");

faiss::MetricType FaissMetric(Metric metric) {
  return metric == Metric::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT;
}

// Shows FAISS a LabelFilter; FAISS ids are labels here.
class LabelSelector : public faiss::IDSelector {
 public:
  explicit LabelSelector(const LabelFilter* filter) : filter_(filter) {}
  bool is_member(FaissId id) const override { return filter_->Contains(id); }

 private:
  const LabelFilter* filter_;
};

}  // namespace

IvfIndex::IvfIndex(int dimension, Metric metric, const IndexSpec& spec)
    : dimension_(dimension), metric_(metric), spec_(spec), pending_(dimension, metric) {}

IvfIndex::~IvfIndex() = default;

bool IvfIndex::Contains(Label label) const {
  if (ivf_ == nullptr) return pending_.Contains(label);
  return ivf_->direct_map.hashtable.count(label) > 0;
}

absl::Status IvfIndex::Add(std::span<const Label> labels, std::span<const float> vectors) {
  EMBER_ASSIGN_OR_RETURN(PreparedBatch batch, PrepareBatch(dimension_, metric_, labels, vectors));
  if (batch.labels.empty()) return absl::OkStatus();
  if (ivf_ != nullptr) return AddTrained(batch.labels, batch.vectors);
  pending_.Add(batch.labels, batch.vectors);
  if (pending_.size() >= kTrainingPointsPerList * spec_.ivf.nlist) {
    // On failure (out of memory) the vectors stay in the exact store, which is correct; the next
    // Add tries again.
    TrainAndMovePending().IgnoreError();
  }
  return absl::OkStatus();
}

absl::Status IvfIndex::AddTrained(std::span<const Label> labels, std::span<const float> vectors) {
  const size_t d = static_cast<size_t>(dimension_);
  // Replaced labels: keep their old vectors so a failed add can put them back (all or nothing).
  std::vector<FaissId> replaced;
  std::vector<float> replaced_vectors;
  for (const Label label : labels) {
    if (Contains(label)) replaced.push_back(label);
  }
  const auto n = static_cast<FaissId>(labels.size());
  absl::Status status = CatchFaissExceptions("IVF add", [&] {
    replaced_vectors.resize(replaced.size() * d);
    for (size_t i = 0; i < replaced.size(); ++i) {
      ivf_->reconstruct(replaced[i], replaced_vectors.data() + i * d);
    }
    if (!replaced.empty()) {
      ivf_->remove_ids(faiss::IDSelectorArray(replaced.size(), replaced.data()));
    }
    ivf_->add_with_ids(n, vectors.data(), labels.data());
  });
  if (status.ok()) return status;
  absl::Status restored = CatchFaissExceptions("IVF add rollback", [&] {
    ivf_->remove_ids(faiss::IDSelectorArray(labels.size(), labels.data()));
    if (replaced_vectors.size() == replaced.size() * d && !replaced.empty()) {
      ivf_->add_with_ids(static_cast<FaissId>(replaced.size()), replaced_vectors.data(),
                         replaced.data());
    }
  });
  if (!restored.ok()) {
    return absl::InternalError(
        absl::StrCat(status.message(), "; rollback failed: ", restored.message()));
  }
  return status;
}

absl::Status IvfIndex::TrainAndMovePending() {
  const auto n = static_cast<FaissId>(pending_.size());
  std::unique_ptr<faiss::IndexIVFFlat> ivf;
  EMBER_RETURN_IF_ERROR(CatchFaissExceptions("IVF training", [&] {
    auto quantizer = std::make_unique<faiss::IndexFlat>(dimension_, FaissMetric(metric_));
    ivf = std::make_unique<faiss::IndexIVFFlat>(quantizer.get(), dimension_, spec_.ivf.nlist,
                                                FaissMetric(metric_));
    quantizer.release();
    ivf->own_fields = true;
    ivf->nprobe = spec_.ivf.nprobe;
    // Inner-product lists are chosen by direction, so the centroids are kept on the unit sphere.
    ivf->cp.spherical = metric_ != Metric::kL2;
    // Arbitrary 64-bit labels with O(1) removal.
    ivf->set_direct_map_type(faiss::DirectMap::Hashtable);
    // Train on everything held: FAISS's k-means itself samples nlist * 256 points when given more
    // (seeded, so training is reproducible), and this is at least its nlist * 39 minimum.
    ivf->train(n, pending_.vectors().data());
    ivf->add_with_ids(n, pending_.vectors().data(), pending_.labels().data());
  }));
  ivf_ = std::move(ivf);
  pending_.Clear();
  return absl::OkStatus();
}

absl::Status IvfIndex::Remove(std::span<const Label> labels) {
  if (ivf_ == nullptr) {
    pending_.Remove(labels);
    return absl::OkStatus();
  }
  return CatchFaissExceptions("IVF remove", [&] {
    ivf_->remove_ids(faiss::IDSelectorArray(labels.size(), labels.data()));
  });
}

absl::StatusOr<std::vector<Neighbor>> IvfIndex::Search(std::span<const float> query,
                                                       const IndexSearchParams& params) const {
  thread_local std::vector<float> scratch;
  EMBER_ASSIGN_OR_RETURN(const float* prepared,
                         PrepareQuery(dimension_, metric_, query, params, &scratch));
  if (ivf_ == nullptr) return pending_.Search(prepared, params.k, params.filter);

  const int k = static_cast<int>(std::min<int64_t>(params.k, std::max<int64_t>(ivf_->ntotal, 1)));
  const auto nprobe = static_cast<FaissId>(
      std::min<size_t>(params.nprobe > 0 ? params.nprobe : spec_.ivf.nprobe, ivf_->nlist));
  faiss::SearchParametersIVF faiss_params;
  faiss_params.nprobe = static_cast<size_t>(nprobe);
  LabelSelector selector(params.filter);
  if (params.filter != nullptr) faiss_params.sel = &selector;
  std::vector<float> list_distances(nprobe);
  std::vector<FaissId> lists(nprobe);
  std::vector<float> distances(k);
  std::vector<FaissId> ids(k);
  // The two halves of IndexIVF::search, called directly: IndexIVF::search would add to FAISS's
  // global indexIVF_stats without synchronization (a data race between concurrent searches), and
  // for a single query both halves run on the calling thread anyway (their OpenMP regions get a
  // team of one).
  EMBER_RETURN_IF_ERROR(CatchFaissExceptions("IVF search", [&] {
    ivf_->quantizer->search(1, prepared, nprobe, list_distances.data(), lists.data());
    ivf_->search_preassigned(1, prepared, k, lists.data(), list_distances.data(), distances.data(),
                             ids.data(), /*store_pairs=*/false, &faiss_params, /*stats=*/nullptr);
  }));
  // FAISS marks unfilled slots (always at the end) with id -1 and its heap's neutral distance.
  // Labels may be negative, -1 included, so the id alone cannot tell; no finite vector scores
  // exactly the neutral value.
  const float unfilled = metric_ == Metric::kL2 ? std::numeric_limits<float>::max()
                                                : std::numeric_limits<float>::lowest();
  std::vector<Neighbor> result;
  result.reserve(k);
  for (int i = 0; i < k && !(ids[i] == -1 && distances[i] == unfilled); ++i) {
    result.push_back({ids[i], distances[i]});
  }
  return result;
}

absl::StatusOr<std::vector<Neighbor>> IvfIndex::SearchExact(std::span<const float> query, int k,
                                                            std::span<const Label> candidates) const {
  thread_local std::vector<float> scratch;
  EMBER_ASSIGN_OR_RETURN(const float* prepared,
                         PrepareQuery(dimension_, metric_, query, {.k = k}, &scratch));
  if (ivf_ == nullptr) return pending_.SearchLabels(prepared, k, candidates);
  const size_t d = static_cast<size_t>(dimension_);
  NearestCollector nearest(k, candidates.size());
  std::vector<float> vector(d);
  EMBER_RETURN_IF_ERROR(CatchFaissExceptions("IVF exact search", [&] {
    for (Label label : candidates) {
      if (!Contains(label)) continue;
      // The inverted lists hold IndexIVFFlat's codes, which are the vectors themselves.
      ivf_->reconstruct(label, vector.data());
      nearest.Offer(NearnessKey(metric_, prepared, vector.data(), d), label);
    }
  }));
  return nearest.Take(metric_);
}

IndexStats IvfIndex::Stats() const {
  IndexStats stats;
  stats.trained = ivf_ != nullptr;
  if (ivf_ == nullptr) {
    stats.live_vectors = pending_.size();
    stats.memory_bytes = pending_.MemoryBytes();
    return stats;
  }
  stats.live_vectors = ivf_->ntotal;
  // Vectors and ids in the lists, the id -> position table (FAISS's hash-table direct map: a
  // std::unordered_map node of about 40 bytes per entry), the centroids.
  constexpr int64_t kDirectMapEntryBytes = 40;
  stats.memory_bytes =
      ivf_->ntotal * (dimension_ * sizeof(float) + sizeof(FaissId) + kDirectMapEntryBytes) +
      static_cast<int64_t>(ivf_->nlist) * dimension_ * sizeof(float);
  return stats;
}

absl::Status IvfIndex::SaveSnapshot(const std::string& path, uint64_t covered_sequence) const {
  SnapshotHeader header{IndexKind::kIvf, metric_, dimension_, spec_, covered_sequence};
  EMBER_ASSIGN_OR_RETURN(auto writer, SnapshotWriter::Open(path, header));
  // Payload: u8 trained, then the FAISS IVF (trained) or the exact store (untrained).
  EMBER_RETURN_IF_ERROR(writer->WriteValue<uint8_t>(ivf_ != nullptr));
  if (ivf_ != nullptr) {
    EMBER_RETURN_IF_ERROR(writer->WriteFaissIndex(*ivf_));
  } else {
    EMBER_RETURN_IF_ERROR(pending_.WriteTo(*writer));
  }
  return writer->Commit();
}

absl::StatusOr<std::unique_ptr<IvfIndex>> IvfIndex::Load(SnapshotReader& reader, int dimension,
                                                         Metric metric, const IndexSpec& spec) {
  auto index = std::make_unique<IvfIndex>(dimension, metric, spec);
  uint8_t trained = 0;
  EMBER_RETURN_IF_ERROR(reader.ReadValue(&trained));
  if (trained > 1) return absl::DataLossError("index snapshot has an invalid IVF state");
  if (trained == 0) {
    EMBER_RETURN_IF_ERROR(index->pending_.ReadFrom(reader));
  } else {
    EMBER_ASSIGN_OR_RETURN(std::unique_ptr<faiss::Index> loaded, reader.ReadFaissIndex());
    auto* ivf = dynamic_cast<faiss::IndexIVFFlat*>(loaded.get());
    if (ivf == nullptr || ivf->d != dimension || ivf->metric_type != FaissMetric(metric) ||
        ivf->nlist != static_cast<size_t>(spec.ivf.nlist) || ivf->quantizer == nullptr ||
        ivf->quantizer->ntotal != ivf->nlist ||
        ivf->direct_map.type != faiss::DirectMap::Hashtable ||
        ivf->direct_map.hashtable.size() != static_cast<size_t>(ivf->ntotal)) {
      return absl::DataLossError("index snapshot does not hold a matching IVF index");
    }
    loaded.release();
    index->ivf_.reset(ivf);
    index->ivf_->nprobe = spec.ivf.nprobe;
  }
  EMBER_RETURN_IF_ERROR(reader.ExpectEnd());
  return index;
}

}  // namespace ember::index
