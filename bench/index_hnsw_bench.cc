// Ember's HNSW search against raw FAISS over one and the same graph.
//
// Builds one faiss::IndexHNSWFlat (clustered data: Gaussian blobs around random centres, which is
// closer to real embeddings than uniform noise), copies it byte for byte (write_index/read_index)
// into an Ember HnswIndex, and searches both, one query per call on one thread, at ef = 16 .. 256.
// FAISS's ef is set through hnsw.efSearch (its only working knob in 1.7.3); Ember's is passed per
// query. Recall@10 is against exact search. Then it times snapshot save/load of the same index, and
// optionally of a larger synthetic one
// (--load_rows, --load_dim: vectors plus a graph of the right shape, unlinked; load cost depends
// only on sizes).
//
// Usage: index_hnsw_bench [--n=100000] [--d=100] [--queries=1000] [--m=32] [--ef_construction=200]
//                         [--load_rows=0] [--load_dim=384] [--dir=/tmp]
#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "index/hnsw_index.h"
#include "index/vector_index.h"

namespace {

using ember::index::HnswIndex;
using ember::index::Label;
using FaissId = faiss::Index::idx_t;
using Clock = std::chrono::steady_clock;

struct Options {
  int64_t n = 100000;
  int d = 100;
  int queries = 1000;
  int m = 32;
  int ef_construction = 200;
  int64_t load_rows = 0;
  int load_dim = 384;
  std::string dir = "/tmp";
};

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto value = [&](const char* name) -> const char* {
      const std::string prefix = std::string("--") + name + "=";
      return arg.rfind(prefix, 0) == 0 ? argv[i] + prefix.size() : nullptr;
    };
    if (const char* v = value("n"))
      options.n = std::atoll(v);
    else if (const char* v = value("d"))
      options.d = std::atoi(v);
    else if (const char* v = value("queries"))
      options.queries = std::atoi(v);
    else if (const char* v = value("m"))
      options.m = std::atoi(v);
    else if (const char* v = value("ef_construction"))
      options.ef_construction = std::atoi(v);
    else if (const char* v = value("load_rows"))
      options.load_rows = std::atoll(v);
    else if (const char* v = value("load_dim"))
      options.load_dim = std::atoi(v);
    else if (const char* v = value("dir"))
      options.dir = v;
    else {
      std::fprintf(stderr, "unknown argument %s\n", argv[i]);
      std::exit(2);
    }
  }
  return options;
}

// n points around `centres` random centres (sigma 0.25 around centres uniform in [-1, 1]^d).
std::vector<float> ClusteredVectors(int64_t n, int d, int centres, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::normal_distribution<float> noise(0.0f, 0.25f);
  std::mt19937 centre_rng(12345);  // same centres for data and queries
  std::vector<float> centre_values(static_cast<size_t>(centres) * d);
  for (float& v : centre_values) v = uniform(centre_rng);
  std::uniform_int_distribution<int> pick(0, centres - 1);
  std::vector<float> values(static_cast<size_t>(n) * d);
  for (int64_t i = 0; i < n; ++i) {
    const float* centre = centre_values.data() + static_cast<size_t>(pick(rng)) * d;
    for (int j = 0; j < d; ++j) values[i * d + j] = centre[j] + noise(rng);
  }
  return values;
}

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double RecallAt10(const std::vector<FaissId>& found, const std::vector<FaissId>& exact,
                  int queries) {
  int64_t hits = 0;
  for (int q = 0; q < queries; ++q) {
    std::set<FaissId> truth(exact.begin() + q * 10, exact.begin() + (q + 1) * 10);
    for (int i = 0; i < 10; ++i) hits += truth.count(found[q * 10 + i]);
  }
  return static_cast<double>(hits) / (10.0 * queries);
}

void TimeSnapshot(const char* what, const ember::index::VectorIndex& index, int64_t rows, int d,
                  const ember::IndexSpec& spec, const std::string& dir) {
  const std::string path = dir + "/ember_index_hnsw_bench.snapshot";
  auto start = Clock::now();
  if (auto status = index.SaveSnapshot(path, 1); !status.ok()) {
    std::fprintf(stderr, "save failed: %s\n", std::string(status.message()).c_str());
    std::exit(1);
  }
  const double save_s = Seconds(start);
  const double bytes = static_cast<double>(std::filesystem::file_size(path));
  uint64_t covered = 0;
  start = Clock::now();
  auto loaded =
      ember::index::VectorIndex::LoadSnapshot(path, d, ember::Metric::kL2, spec, &covered);
  const double load_s = Seconds(start);
  if (!loaded.ok()) {
    std::fprintf(stderr, "load failed: %s\n", std::string(loaded.status().message()).c_str());
    std::exit(1);
  }
  std::filesystem::remove(path);
  std::printf("%-6s %10lld x %-4d  %8.1f MB  save %.3f s  load %.3f s\n", what,
              static_cast<long long>(rows), d, bytes / 1e6, save_s, load_s);
  std::printf(
      "{\"bench\":\"index_hnsw\",\"what\":\"%s\",\"rows\":%lld,\"dim\":%d,\"bytes\":%.0f,"
      "\"save_s\":%.4f,\"load_s\":%.4f}\n",
      what, static_cast<long long>(rows), d, bytes, save_s, load_s);
}

// A graph with `rows` random vectors and FAISS's level/offset tables for them, but no links: the
// shape (and so the snapshot size and load cost) of a real graph without the hours of construction.
std::unique_ptr<faiss::IndexHNSWFlat> UnlinkedGraph(int64_t rows, int d, int m) {
  auto graph = std::make_unique<faiss::IndexHNSWFlat>(d, m, faiss::METRIC_L2);
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> chunk;
  for (int64_t done = 0; done < rows; done += 65536) {
    const int64_t count = std::min<int64_t>(65536, rows - done);
    chunk.resize(static_cast<size_t>(count) * d);
    for (float& v : chunk) v = uniform(rng);
    graph->storage->add(count, chunk.data());
  }
  graph->ntotal = rows;
  const int max_level = graph->hnsw.prepare_level_tab(rows);
  for (int64_t i = 0; i < rows; ++i) {
    if (graph->hnsw.levels[i] - 1 == max_level) {
      graph->hnsw.entry_point = static_cast<int>(i);
      break;
    }
  }
  graph->hnsw.max_level = max_level;
  return graph;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = ParseOptions(argc, argv);
  const int d = options.d;
  const int nq = options.queries;
  std::printf("# %lld clustered vectors, d=%d, M=%d, efConstruction=%d, %d queries, k=10\n",
              static_cast<long long>(options.n), d, options.m, options.ef_construction, nq);
  const std::vector<float> data = ClusteredVectors(options.n, d, 100, 1);
  const std::vector<float> queries = ClusteredVectors(nq, d, 100, 2);

  // Exact answers (batched BLAS, all threads).
  faiss::IndexFlatL2 exact_index(d);
  exact_index.add(options.n, data.data());
  std::vector<float> exact_distances(static_cast<size_t>(nq) * 10);
  std::vector<FaissId> exact(static_cast<size_t>(nq) * 10);
  exact_index.search(nq, queries.data(), 10, exact_distances.data(), exact.data());

  auto start = Clock::now();
  faiss::IndexHNSWFlat graph(d, options.m, faiss::METRIC_L2);
  graph.hnsw.efConstruction = options.ef_construction;
  graph.add(options.n, data.data());
  std::printf("# graph built in %.1f s (%d threads)\n", Seconds(start), omp_get_max_threads());

  // Ember gets a byte-for-byte copy of the same graph.
  faiss::VectorIOWriter writer;
  faiss::write_index(&graph, &writer);
  faiss::VectorIOReader reader;
  reader.data = std::move(writer.data);
  std::unique_ptr<faiss::IndexHNSWFlat> copy(
      dynamic_cast<faiss::IndexHNSWFlat*>(faiss::read_index(&reader)));
  std::vector<Label> labels(options.n);
  for (int64_t i = 0; i < options.n; ++i) labels[i] = i;
  ember::IndexSpec spec;
  spec.kind = ember::IndexKind::kHnsw;
  spec.hnsw.m = options.m;
  spec.hnsw.ef_construction = options.ef_construction;
  auto adopted = HnswIndex::Adopt(std::move(copy), std::move(labels), ember::Metric::kL2, spec);
  if (!adopted.ok()) {
    std::fprintf(stderr, "%s\n", std::string(adopted.status().message()).c_str());
    return 1;
  }
  const std::unique_ptr<HnswIndex> ember_index = std::move(adopted).value();

  // One query per call on one thread, for both.
  omp_set_num_threads(1);
  std::printf("%5s | %12s %10s | %12s %10s | %7s\n", "ef", "faiss q/s", "recall@10", "ember q/s",
              "recall@10", "speedup");
  for (const int ef : {16, 32, 64, 128, 256}) {
    std::vector<FaissId> faiss_found(static_cast<size_t>(nq) * 10);
    std::vector<float> faiss_distances(10);
    graph.hnsw.efSearch = ef;
    start = Clock::now();
    for (int q = 0; q < nq; ++q) {
      graph.search(1, queries.data() + static_cast<size_t>(q) * d, 10, faiss_distances.data(),
                   faiss_found.data() + q * 10);
    }
    const double faiss_qps = nq / Seconds(start);

    std::vector<FaissId> ember_found(static_cast<size_t>(nq) * 10, -1);
    start = Clock::now();
    for (int q = 0; q < nq; ++q) {
      auto result = ember_index->Search(
          std::span<const float>(queries.data() + static_cast<size_t>(q) * d, d),
          {.k = 10, .ef_search = ef});
      if (!result.ok()) return 1;
      for (size_t i = 0; i < result->size(); ++i) ember_found[q * 10 + i] = (*result)[i].label;
    }
    const double ember_qps = nq / Seconds(start);
    const double faiss_recall = RecallAt10(faiss_found, exact, nq);
    const double ember_recall = RecallAt10(ember_found, exact, nq);
    std::printf("%5d | %12.0f %10.4f | %12.0f %10.4f | %6.2fx\n", ef, faiss_qps, faiss_recall,
                ember_qps, ember_recall, ember_qps / faiss_qps);
    std::printf(
        "{\"bench\":\"index_hnsw\",\"n\":%lld,\"d\":%d,\"m\":%d,\"ef\":%d,"
        "\"faiss_qps\":%.1f,\"faiss_recall10\":%.4f,\"ember_qps\":%.1f,"
        "\"ember_recall10\":%.4f}\n",
        static_cast<long long>(options.n), d, options.m, ef, faiss_qps, faiss_recall, ember_qps,
        ember_recall);
  }

  TimeSnapshot("load", *ember_index, options.n, d, spec, options.dir);
  if (options.load_rows > 0) {
    omp_set_num_threads(omp_get_num_procs());
    std::vector<Label> big_labels(options.load_rows);
    for (int64_t i = 0; i < options.load_rows; ++i) big_labels[i] = i;
    auto big = HnswIndex::Adopt(UnlinkedGraph(options.load_rows, options.load_dim, options.m),
                                std::move(big_labels), ember::Metric::kL2, spec);
    if (!big.ok()) {
      std::fprintf(stderr, "%s\n", std::string(big.status().message()).c_str());
      return 1;
    }
    TimeSnapshot("load", **big, options.load_rows, options.load_dim, spec, options.dir);
  }
  return 0;
}
