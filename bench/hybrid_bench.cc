// hybrid_bench: Ember's full-text and hybrid search, end to end through the public API
// (ember::Database), next to the text/ library's raw Bm25Index in the same run.
//
// 1. Quality (--dataset scifact, limit): a collection with the default static encoder, an --index
//    vector index (default HNSW, M 32, ef_search 64 raised to k), and full text (k1 0.9, b 0.4,
//    Porter; exact document lengths, not Lucene's rounded ones) holds the corpus (title + " " +
//    text); every test query runs in mode vector, text, and hybrid with reciprocal-rank fusion
//    (rank constants --rank-constants) and weighted fusion (vector weights --weights), each at
//    fusion depths --depths. Metrics come from eval/ (trec_eval definitions): SciFact nDCG@10,
//    Recall@100, MRR@10 (published: Anserini BM25 flat nDCG@10 0.6789, Recall@100 0.9253);
//    LIMIT-small Recall@2, Recall@10, nDCG@10. Checks in the same run: text mode against a raw
//    Bm25Index over the same analyzer (same rankings expected), and each hybrid ranking against the
//    fusion recomputed here from the vector and text runs of the same depth (same rankings
//    expected, and each hit's vector_rank / text_rank where those runs placed it); the "check"
//    column counts queries ranked differently plus hybrid hits with a wrong per-side rank.
// 2. Speed and size (--dataset scifact, packages): a text-only collection (dimension 0, full text)
//    of the corpus: import docs/s (batches of --batch, sync_writes off, as a bulk load), the
//    in-memory index (CollectionStats::text_memory_bytes), the terms column family on disk (read
//    from RocksDB's own SST metadata once the database is checkpointed and closed, as flushed and
//    after a full compaction), reopen time (the BM25 index is rebuilt from the stored terms), and
//    BM25 top-10 queries/s, one thread, for: Ember with document fetch (text and attributes),
//    Ember without (ids and scores only), the raw Bm25Index analyzing each query, and the raw
//    Bm25Index on terms analyzed beforehand. Each of --repeat passes runs the four in turn
//    (rotating which goes first), each over the query set for at least 0.3 s; the median pass is
//    reported. Queries: SciFact's 300 test queries; for the Debian packages corpus, --queries
//    package descriptions (every n-th package's description without its name: known-item
//    queries, 6.7 words on average) and a fixed list of 40 short hand-written queries of the kind
//    people type ("pdf viewer", "python http library"). The searches run right after the import,
//    as in a freshly loaded database: the documents are then still in RocksDB's memtables.
//
//   hybrid_bench [--dataset all|scifact|limit|packages] [--data-dir ../shared/data]
//                [--models-dir models] [--packages data/demo/packages.jsonl] [--queries 1000]
//                [--repeat 7] [--batch 1000] [--index hnsw|flat] [--depths 100,1000]
//                [--rank-constants 10,20,60,100] [--weights 5,10,15,20,30,50,70] [--keep DIR]
// --weights are percentages. --keep DIR keeps the databases in DIR (default: a temporary folder,
// removed at exit). The packages JSONL comes from
//   apt-cache dumpavail | python3 scripts/debian-packages-jsonl.py > data/demo/packages.jsonl

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/bench_common.h"
#include "ember/collection.h"
#include "ember/database.h"
#include "ember/options.h"
#include "ember/search.h"
#include "ember/status.h"
#include "eval/beir.h"
#include "eval/metrics.h"
#include "nlohmann/json.hpp"
#include "rocksdb/db.h"
#include "rocksdb/metadata.h"
#include "rocksdb/options.h"
#include "text/analyzer.h"
#include "text/bm25_index.h"
#include "text/term_frequencies.h"

namespace ember::bench {
namespace {

constexpr int kRunDepth = 100;  // hits per query for the quality metrics (Recall@100)
constexpr int kThroughputK = 10;
constexpr double kMinMeasureSeconds = 0.3;

struct Flags {
  std::string dataset = "all";
  std::string data_dir = "../shared/data";
  std::string models_dir = "models";
  std::string packages = "data/demo/packages.jsonl";
  int queries = 1000;
  int repeat = 7;
  int batch = 1000;
  std::string index = "hnsw";
  std::vector<int> depths = {100, 1000};
  std::vector<int> rank_constants = {10, 20, 60, 100};
  std::vector<int> weights = {5, 10, 15, 20, 30, 50, 70};
  std::string keep;
};

absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  const BenchFlag table[] = {
      {"dataset", &flags.dataset},       {"data-dir", &flags.data_dir},
      {"models-dir", &flags.models_dir}, {"packages", &flags.packages},
      {"queries", &flags.queries},       {"repeat", &flags.repeat},
      {"batch", &flags.batch},           {"index", &flags.index},
      {"depths", &flags.depths},         {"rank-constants", &flags.rank_constants},
      {"weights", &flags.weights},       {"keep", &flags.keep}};
  EMBER_RETURN_IF_ERROR(ParseBenchFlags(argc, argv, table));
  if (flags.dataset != "all" && flags.dataset != "scifact" && flags.dataset != "limit" &&
      flags.dataset != "packages") {
    return absl::InvalidArgumentError("--dataset must be all, scifact, limit or packages");
  }
  if (flags.repeat <= 0) return absl::InvalidArgumentError("--repeat must be positive");
  if (flags.batch <= 0) return absl::InvalidArgumentError("--batch must be positive");
  for (int weight : flags.weights) {
    if (weight > 100) return absl::InvalidArgumentError("--weights are percentages, <= 100");
  }
  EMBER_RETURN_IF_ERROR(ParseIndexKind(flags.index).status());
  return flags;
}

// A corpus and its queries in memory; document i of `documents` is corpus line i.
struct Corpus {
  std::string name;
  std::vector<Document> documents;
  absl::flat_hash_map<std::string, int> position;  // id -> index in `documents`
  std::vector<eval::Query> queries;                // judged ones only (BEIR)
  eval::Qrels qrels;
};

absl::StatusOr<Corpus> LoadBeir(const std::string& name, const std::string& dir) {
  Corpus corpus;
  corpus.name = name;
  EMBER_ASSIGN_OR_RETURN(const eval::BeirFiles files, eval::FindBeirFiles(dir, "test"));
  EMBER_RETURN_IF_ERROR(
      eval::ForEachCorpusDocument(files.corpus, [&](eval::CorpusDocument&& document) {
        corpus.position[document.id] = static_cast<int>(corpus.documents.size());
        corpus.documents.push_back({.id = document.id, .text = eval::DocumentText(document)});
        return absl::OkStatus();
      }));
  EMBER_ASSIGN_OR_RETURN(corpus.qrels, eval::LoadQrels(files.qrels));
  EMBER_ASSIGN_OR_RETURN(std::vector<eval::Query> queries, eval::LoadQueries(files.queries));
  for (eval::Query& query : queries) {
    if (corpus.qrels.contains(query.id)) corpus.queries.push_back(std::move(query));
  }
  return corpus;
}

// The JSONL scripts/debian-packages-jsonl.py writes: {"id", "text", "attributes"} per line.
absl::StatusOr<Corpus> LoadPackages(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat(
        path, ": missing; apt-cache dumpavail | python3 scripts/debian-packages-jsonl.py > ",
        path));
  }
  Corpus corpus;
  corpus.name = "packages";
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const nlohmann::json json = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!json.is_object() || !json.contains("id") || !json.contains("text") ||
        !json["id"].is_string() || !json["text"].is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", number, ": not a package line"));
    }
    Document document{.id = json["id"].get<std::string>(), .text = json["text"].get<std::string>()};
    if (json.contains("attributes") && json["attributes"].is_object()) {
      for (const auto& [key, value] : json["attributes"].items()) {
        if (value.is_string()) {
          document.attributes[key] = value.get<std::string>();
        } else if (value.is_number_integer()) {
          document.attributes[key] = value.get<int64_t>();
        }
      }
    }
    corpus.position[document.id] = static_cast<int>(corpus.documents.size());
    corpus.documents.push_back(std::move(document));
  }
  return corpus;
}

// Short queries of the kind people type into a package search (written for this benchmark).
const std::vector<std::string>& HandwrittenPackageQueries() {
  static const std::vector<std::string> queries = {"pdf viewer",
                                                   "web browser",
                                                   "python http library",
                                                   "video editor",
                                                   "screen recorder",
                                                   "password manager",
                                                   "music player",
                                                   "terminal emulator",
                                                   "ssh client",
                                                   "vpn",
                                                   "bittorrent client",
                                                   "image viewer",
                                                   "monospace font for programming",
                                                   "c++ compiler",
                                                   "json parser",
                                                   "markdown to html converter",
                                                   "network monitoring tool",
                                                   "disk usage analyzer",
                                                   "incremental backup tool",
                                                   "email client",
                                                   "irc client",
                                                   "text editor for programmers",
                                                   "spreadsheet",
                                                   "database server",
                                                   "postgresql driver for python",
                                                   "optical character recognition",
                                                   "speech synthesis",
                                                   "game console emulator",
                                                   "chess engine",
                                                   "firewall configuration",
                                                   "audio converter",
                                                   "ebook reader",
                                                   "graphical git interface",
                                                   "container runtime",
                                                   "latex editor",
                                                   "scientific plotting library",
                                                   "machine learning library",
                                                   "bluetooth manager",
                                                   "file manager",
                                                   "photo management"};
  return queries;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// A search for `text`; `fetch`: with each hit's text and attributes. (Fields are assigned rather
// than designated: SearchRequest's field order is not part of its contract.)
SearchRequest TextRequest(const std::string& text, SearchMode mode, int k, bool fetch,
                          const FusionOptions& fusion = {}) {
  SearchRequest request;
  request.text = text;
  request.mode = mode;
  request.fusion = fusion;
  request.k = k;
  request.include_text = fetch;
  request.include_attributes = fetch;
  return request;
}

// Imports `corpus` into `collection` in batches; returns the seconds it took.
absl::StatusOr<double> Import(Collection& collection, const Corpus& corpus, int batch) {
  const auto start = std::chrono::steady_clock::now();
  const std::vector<Document>& documents = corpus.documents;
  for (size_t at = 0; at < documents.size(); at += batch) {
    const size_t end = std::min(documents.size(), at + static_cast<size_t>(batch));
    EMBER_RETURN_IF_ERROR(
        collection.Upsert(std::span<const Document>(documents.data() + at, end - at)));
  }
  return Seconds(start);
}

// ------------------------------------------------------------------------------------------------
// 1. Quality

// One way of searching: a mode, and for hybrid a fusion.
struct Config {
  SearchMode mode = SearchMode::kVector;
  FusionOptions fusion;

  std::string Name() const {
    if (mode != SearchMode::kHybrid) return mode == SearchMode::kText ? "text (BM25)" : "vector";
    const FusionOptions defaults;
    if (fusion.depth == 0 && fusion.method == defaults.method &&
        fusion.rank_constant == defaults.rank_constant &&
        fusion.vector_weight == defaults.vector_weight) {
      return absl::StrFormat("hybrid default (%s w=%.2f c=%g depth 100)",
                             FusionMethodName(defaults.method), defaults.vector_weight,
                             defaults.rank_constant);
    }
    if (fusion.method == FusionMethod::kReciprocalRank) {
      return absl::StrFormat("hybrid rrf c=%g depth %d", fusion.rank_constant, fusion.depth);
    }
    return absl::StrFormat("hybrid weighted w=%.2f depth %d", fusion.vector_weight, fusion.depth);
  }
};

// A run's hits per query (parallel to Corpus::queries): corpus positions and scores, best first.
struct Ranked {
  int position = 0;
  double score = 0;
  // SearchHit::vector_rank and text_rank (hybrid runs; 0 elsewhere).
  int vector_rank = 0;
  int text_rank = 0;
};
using Hits = std::vector<std::vector<Ranked>>;

struct RunResult {
  Hits hits;
  double queries_per_s = 0;
};

absl::StatusOr<RunResult> RunConfig(const Collection& collection, const Corpus& corpus,
                                    const Config& config, int k) {
  RunResult result;
  result.hits.resize(corpus.queries.size());
  const auto start = std::chrono::steady_clock::now();
  for (size_t q = 0; q < corpus.queries.size(); ++q) {
    const SearchRequest request =
        TextRequest(corpus.queries[q].text, config.mode, k, /*fetch=*/false, config.fusion);
    EMBER_ASSIGN_OR_RETURN(const SearchResponse response, collection.Search(request));
    for (const SearchHit& hit : response.hits) {
      const auto it = corpus.position.find(hit.id);
      if (it == corpus.position.end()) {
        return absl::InternalError(absl::StrCat("search returned unknown id ", hit.id));
      }
      result.hits[q].push_back({it->second, hit.score, hit.vector_rank, hit.text_rank});
    }
  }
  result.queries_per_s = corpus.queries.size() / Seconds(start);
  return result;
}

absl::StatusOr<eval::Evaluation> Score(const Corpus& corpus, const Hits& hits,
                                       const std::vector<eval::Metric>& metrics) {
  eval::Run run;
  for (size_t q = 0; q < hits.size(); ++q) {
    std::vector<std::string>& ranking = run[corpus.queries[q].id];
    for (const Ranked& hit : hits[q]) ranking.push_back(corpus.documents[hit.position].id);
  }
  return eval::Evaluate(corpus.qrels, run, metrics);
}

// Queries whose rankings differ (positions, in order).
int64_t Mismatches(const Hits& a, const Hits& b) {
  int64_t differ = 0;
  for (size_t q = 0; q < a.size(); ++q) {
    bool same = a[q].size() == b[q].size();
    for (size_t i = 0; same && i < a[q].size(); ++i) same = a[q][i].position == b[q][i].position;
    differ += same ? 0 : 1;
  }
  return differ;
}

// Hybrid hits whose vector_rank or text_rank is not where that side's own run (same depth) placed
// the document.
int64_t RankMismatches(const Hits& hybrid, const Hits& vector, const Hits& text) {
  const auto rank_in = [](const std::vector<Ranked>& list, int position) {
    for (size_t i = 0; i < list.size(); ++i) {
      if (list[i].position == position) return static_cast<int>(i + 1);
    }
    return 0;
  };
  int64_t wrong = 0;
  for (size_t q = 0; q < hybrid.size(); ++q) {
    for (const Ranked& hit : hybrid[q]) {
      if (hit.vector_rank != rank_in(vector[q], hit.position) ||
          hit.text_rank != rank_in(text[q], hit.position)) {
        ++wrong;
      }
    }
  }
  return wrong;
}

// The fusion FusionOptions describe, recomputed here from a vector run and a text run of the same
// depth: the reference the hybrid rankings are checked against. Ties go to the earlier corpus
// position, which is the order Ember assigned labels in (documents were imported in corpus order).
Hits ReferenceFusion(const Hits& vector, const Hits& text, const FusionOptions& fusion, int k) {
  Hits fused(vector.size());
  for (size_t q = 0; q < vector.size(); ++q) {
    const std::vector<Ranked>* lists[] = {&vector[q], &text[q]};
    const double weights[] = {fusion.vector_weight, 1 - fusion.vector_weight};
    std::map<int, double> scores;
    std::vector<int> order;  // first appearance
    for (int list = 0; list < 2; ++list) {
      double low = 0, high = 0;
      if (!lists[list]->empty()) {
        low = high = lists[list]->front().score;
        for (const Ranked& hit : *lists[list]) {
          low = std::min(low, hit.score);
          high = std::max(high, hit.score);
        }
      }
      for (size_t i = 0; i < lists[list]->size(); ++i) {
        const Ranked& hit = (*lists[list])[i];
        double add;
        if (fusion.method == FusionMethod::kReciprocalRank) {
          add = 1.0 / (fusion.rank_constant + static_cast<int>(i + 1));
        } else {
          const double range = high - low;
          add = weights[list] * (range > 0 ? (hit.score - low) / range : 1.0);
        }
        auto [it, inserted] = scores.try_emplace(hit.position, 0.0);
        it->second += add;
      }
    }
    for (const auto& [position, score] : scores) fused[q].push_back({position, score});
    std::sort(fused[q].begin(), fused[q].end(), [](const Ranked& a, const Ranked& b) {
      return a.score != b.score ? a.score > b.score : a.position < b.position;
    });
    if (fused[q].size() > static_cast<size_t>(k)) fused[q].resize(k);
  }
  return fused;
}

// The raw text/ peer: the collection's analyzer (FullTextSpec defaults) and a Bm25Index over the
// same texts, labels = corpus positions.
struct RawBm25 {
  std::unique_ptr<text::Analyzer> analyzer;
  text::Bm25Index index;
  double build_seconds = 0;
  uint64_t encoded_bytes = 0;  // the terms as the terms column family stores them (values only)
};

absl::Status BuildRaw(const Corpus& corpus, RawBm25* raw) {
  const FullTextSpec defaults;
  EMBER_ASSIGN_OR_RETURN(raw->analyzer, text::Analyzer::Create({.stemmer = defaults.stemmer}));
  const auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < corpus.documents.size(); ++i) {
    const text::TermFrequencies terms =
        raw->analyzer->AnalyzeToFrequencies(corpus.documents[i].text.value_or(""));
    EMBER_RETURN_IF_ERROR(raw->index.Add(i, terms));
  }
  raw->build_seconds = Seconds(start);
  for (const Document& document : corpus.documents) {
    raw->encoded_bytes +=
        text::EncodeTermFrequencies(raw->analyzer->AnalyzeToFrequencies(document.text.value_or("")))
            .size();
  }
  return absl::OkStatus();
}

absl::StatusOr<Hits> RawRun(const Corpus& corpus, const RawBm25& raw, int k) {
  Hits hits(corpus.queries.size());
  for (size_t q = 0; q < corpus.queries.size(); ++q) {
    EMBER_ASSIGN_OR_RETURN(const std::vector<text::Bm25Hit> found,
                           raw.index.Search(raw.analyzer->Analyze(corpus.queries[q].text), k));
    for (const text::Bm25Hit& hit : found) {
      hits[q].push_back(
          {static_cast<int>(hit.label), static_cast<double>(static_cast<float>(hit.score))});
    }
  }
  return hits;
}

struct QualityRow {
  std::string name;
  Config config;
  eval::Evaluation evaluation;
  double queries_per_s = 0;
  int64_t check_mismatches = -1;  // -1: not checked
  std::string checked_against;
};

void PrintQualityRow(const Corpus& corpus, const QualityRow& row) {
  std::string line = absl::StrFormat("%-12s %-34s", corpus.name, row.name);
  nlohmann::json json = {
      {"bench", "hybrid"},
      {"dataset", corpus.name},
      {"phase", "quality"},
      {"config", row.name},
      {"mode", row.name.starts_with("raw") ? "raw-bm25" : SearchModeName(row.config.mode)},
      {"queries", row.evaluation.per_query.size()}};
  if (row.config.mode == SearchMode::kHybrid) {
    json["fusion"] = FusionMethodName(row.config.fusion.method);
    json["depth"] = row.config.fusion.depth;
    if (row.config.fusion.method == FusionMethod::kReciprocalRank) {
      json["rank_constant"] = row.config.fusion.rank_constant;
    } else {
      json["vector_weight"] = row.config.fusion.vector_weight;
    }
  }
  for (size_t m = 0; m < row.evaluation.metrics.size(); ++m) {
    absl::StrAppend(&line, absl::StrFormat("  %s %.4f", eval::MetricName(row.evaluation.metrics[m]),
                                           row.evaluation.mean[m]));
    json[eval::MetricName(row.evaluation.metrics[m])] = row.evaluation.mean[m];
  }
  if (row.queries_per_s > 0) {
    absl::StrAppend(&line, absl::StrFormat("  %7.0f q/s", row.queries_per_s));
    json["queries_per_s"] = row.queries_per_s;
  }
  if (row.check_mismatches >= 0) {
    absl::StrAppend(&line, absl::StrFormat("  check: %d differ from %s", row.check_mismatches,
                                           row.checked_against));
    json["check_mismatches"] = row.check_mismatches;
    json["checked_against"] = row.checked_against;
  }
  std::cout << line << std::endl;
  Report(json);
}

absl::Status RunQuality(const Corpus& corpus, const std::vector<eval::Metric>& metrics,
                        const Flags& flags, const std::string& work) {
  // The raw BM25 peer first: the reference for the text mode.
  RawBm25 raw;
  EMBER_RETURN_IF_ERROR(BuildRaw(corpus, &raw));
  EMBER_ASSIGN_OR_RETURN(const Hits raw_hits, RawRun(corpus, raw, kRunDepth));

  const std::string path = absl::StrCat(work, "/", corpus.name, "-hybrid");
  std::filesystem::remove_all(path);
  EMBER_ASSIGN_OR_RETURN(
      std::unique_ptr<Database> db,
      Database::Open(path, {.sync_writes = false, .models_dir = flags.models_dir}));
  EMBER_ASSIGN_OR_RETURN(const IndexKind index_kind, ParseIndexKind(flags.index));
  const CollectionSpec spec{.name = corpus.name,
                            .index = {.kind = index_kind},
                            .encoder = EncoderSpec{.model = "default"},
                            .full_text = {.enabled = true}};
  EMBER_ASSIGN_OR_RETURN(std::shared_ptr<Collection> collection, db->CreateCollection(spec));
  EMBER_ASSIGN_OR_RETURN(const double import_seconds, Import(*collection, corpus, flags.batch));
  const CollectionSpec created = collection->spec();
  std::cout << absl::StrFormat(
      "%-12s hybrid collection: %d docs imported in %.2f s (%.0f docs/s: embedding with the "
      "default model, dimension %d, %s index, and BM25 analysis), %d queries\n",
      corpus.name, collection->Count(), import_seconds, corpus.documents.size() / import_seconds,
      created.dimension, flags.index, corpus.queries.size());
  Report({{"bench", "hybrid"},
          {"dataset", corpus.name},
          {"phase", "hybrid-import"},
          {"documents", collection->Count()},
          {"dimension", created.dimension},
          {"index", flags.index},
          {"import_seconds", import_seconds},
          {"docs_per_s", corpus.documents.size() / import_seconds}});

  std::vector<QualityRow> rows;
  // Single-mode runs at each fusion depth are the inputs of the reference fusion.
  std::map<int, Hits> vector_at, text_at;
  std::vector<int> depths = flags.depths;
  for (const int depth : depths) {
    for (const SearchMode mode : {SearchMode::kVector, SearchMode::kText}) {
      EMBER_ASSIGN_OR_RETURN(RunResult run, RunConfig(*collection, corpus, {.mode = mode}, depth));
      if (depth == kRunDepth) {
        QualityRow row{.name = Config{.mode = mode}.Name(), .config = {.mode = mode}};
        EMBER_ASSIGN_OR_RETURN(row.evaluation, Score(corpus, run.hits, metrics));
        row.queries_per_s = run.queries_per_s;
        if (mode == SearchMode::kText) {
          row.check_mismatches = Mismatches(run.hits, raw_hits);
          row.checked_against = "raw Bm25Index";
        }
        rows.push_back(std::move(row));
      }
      (mode == SearchMode::kVector ? vector_at : text_at)[depth] = std::move(run.hits);
    }
  }
  {
    QualityRow row{.name = "raw Bm25Index (text/ peer)", .config = {.mode = SearchMode::kText}};
    EMBER_ASSIGN_OR_RETURN(row.evaluation, Score(corpus, raw_hits, metrics));
    rows.push_back(std::move(row));
  }
  // The defaults first (FusionOptions{}, depth max(k, 100)).
  std::vector<Config> configs = {{.mode = SearchMode::kHybrid}};
  for (const int depth : depths) {
    for (const int constant : flags.rank_constants) {
      configs.push_back({.mode = SearchMode::kHybrid,
                         .fusion = {.method = FusionMethod::kReciprocalRank,
                                    .rank_constant = static_cast<double>(constant),
                                    .depth = depth}});
    }
    for (const int weight : flags.weights) {
      configs.push_back({.mode = SearchMode::kHybrid,
                         .fusion = {.method = FusionMethod::kWeighted,
                                    .vector_weight = weight / 100.0,
                                    .depth = depth}});
    }
  }
  for (const Config& config : configs) {
    EMBER_ASSIGN_OR_RETURN(const RunResult run, RunConfig(*collection, corpus, config, kRunDepth));
    QualityRow row{.name = config.Name(), .config = config};
    EMBER_ASSIGN_OR_RETURN(row.evaluation, Score(corpus, run.hits, metrics));
    row.queries_per_s = run.queries_per_s;
    // The depth each side ran at (FusionOptions::depth's contract).
    const int depth = config.fusion.depth > 0 ? std::max(config.fusion.depth, kRunDepth)
                                              : std::max(kRunDepth, 100);
    if (vector_at.contains(depth)) {
      row.check_mismatches = Mismatches(run.hits, ReferenceFusion(vector_at[depth], text_at[depth],
                                                                  config.fusion, kRunDepth)) +
                             RankMismatches(run.hits, vector_at[depth], text_at[depth]);
      row.checked_against = "fusion recomputed";
    }
    rows.push_back(std::move(row));
  }

  // The table, then the summary the issue asks for: BM25 alone against the best of each fusion.
  for (const QualityRow& row : rows) PrintQualityRow(corpus, row);
  const QualityRow* bm25 = nullptr;
  const QualityRow* vector = nullptr;
  const QualityRow* fusion_default = nullptr;
  const QualityRow* best[2] = {nullptr, nullptr};  // rrf, weighted; by the first metric
  for (const QualityRow& row : rows) {
    if (row.name.starts_with("raw")) continue;
    if (row.config.mode == SearchMode::kText) bm25 = &row;
    if (row.config.mode == SearchMode::kVector) vector = &row;
    if (row.config.mode != SearchMode::kHybrid) continue;
    if (row.config.fusion.depth == 0) {
      fusion_default = &row;
      continue;
    }
    const QualityRow*& slot =
        best[row.config.fusion.method == FusionMethod::kReciprocalRank ? 0 : 1];
    if (slot == nullptr || row.evaluation.mean[0] > slot->evaluation.mean[0]) slot = &row;
  }
  const std::string first = eval::MetricName(metrics[0]);
  for (const QualityRow* row : {vector, bm25, fusion_default, best[0], best[1]}) {
    if (row == nullptr) continue;
    const double delta = row->evaluation.mean[0] - bm25->evaluation.mean[0];
    // How many queries the difference comes from (both evaluations list the same queries, by id).
    int better = 0, worse = 0;
    for (size_t q = 0; q < row->evaluation.per_query.size(); ++q) {
      const double a = row->evaluation.per_query[q].values[0];
      const double b = bm25->evaluation.per_query[q].values[0];
      better += a > b + 1e-12 ? 1 : 0;
      worse += a < b - 1e-12 ? 1 : 0;
    }
    std::cout << absl::StrFormat(
        "%-12s summary %-34s %s %.4f (%+.4f vs BM25: %d queries better, %d worse)", corpus.name,
        row->name, first, row->evaluation.mean[0], delta, better, worse);
    for (size_t m = 1; m < metrics.size(); ++m) {
      std::cout << absl::StrFormat("  %s %.4f", eval::MetricName(metrics[m]),
                                   row->evaluation.mean[m]);
    }
    std::cout << std::endl;
    nlohmann::json json = {{"bench", "hybrid"},      {"dataset", corpus.name},
                           {"phase", "summary"},     {"config", row->name},
                           {"delta_vs_bm25", delta}, {"queries_better", better},
                           {"queries_worse", worse}};
    for (size_t m = 0; m < metrics.size(); ++m) {
      json[eval::MetricName(metrics[m])] = row->evaluation.mean[m];
    }
    Report(json);
  }
  return absl::OkStatus();
}

// ------------------------------------------------------------------------------------------------
// 2. Speed and size of a text-only collection

struct FamilySize {
  uint64_t bytes = 0;
  size_t files = 0;
};

// Each column family's SST files in the RocksDB store of a closed Ember database folder, from
// RocksDB's metadata. With `compact`, every family is first compacted fully (the folder is opened
// writable; the data do not change), which gives the size a long-lived database settles at.
absl::StatusOr<std::map<std::string, FamilySize>> FamilySizes(const std::string& path,
                                                              bool compact) {
  // Ember keeps its RocksDB store either in the folder itself or in a subfolder: find CURRENT.
  std::string store;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path)) {
    if (entry.path().filename() == "CURRENT") store = entry.path().parent_path().string();
  }
  if (store.empty()) return absl::NotFoundError(absl::StrCat("no RocksDB store under ", path));
  std::vector<std::string> names;
  rocksdb::Status status = rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), store, &names);
  if (!status.ok()) return absl::InternalError(status.ToString());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw_db = nullptr;
  status = compact ? rocksdb::DB::Open(rocksdb::DBOptions(), store, descriptors, &handles, &raw_db)
                   : rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), store, descriptors,
                                                  &handles, &raw_db);
  if (!status.ok()) return absl::InternalError(status.ToString());
  std::unique_ptr<rocksdb::DB> db(raw_db);
  std::map<std::string, FamilySize> sizes;
  for (size_t i = 0; i < handles.size(); ++i) {
    if (compact) {
      rocksdb::CompactRangeOptions options;
      options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
      status = db->CompactRange(options, handles[i], nullptr, nullptr);
      if (!status.ok()) return absl::InternalError(status.ToString());
    }
    rocksdb::ColumnFamilyMetaData meta;
    db->GetColumnFamilyMetaData(handles[i], &meta);
    sizes[names[i]] = {meta.size, meta.file_count};
  }
  for (rocksdb::ColumnFamilyHandle* handle : handles) db->DestroyColumnFamilyHandle(handle);
  status = db->Close();
  if (!status.ok()) return absl::InternalError(status.ToString());
  return sizes;
}

// A named set of query texts for throughput.
struct QuerySet {
  std::string name;
  std::vector<std::string> texts;
};

// One timed variant: runs query i, returns an error or nothing.
struct Variant {
  std::string name;
  std::function<absl::Status(size_t)> run;
};

// Queries/s of `variant` over `count` queries, repeated until kMinMeasureSeconds have passed.
absl::StatusOr<double> Measure(const Variant& variant, size_t count) {
  const auto start = std::chrono::steady_clock::now();
  int64_t done = 0;
  while (done == 0 || Seconds(start) < kMinMeasureSeconds) {
    for (size_t i = 0; i < count; ++i) EMBER_RETURN_IF_ERROR(variant.run(i));
    done += static_cast<int64_t>(count);
  }
  return done / Seconds(start);
}

absl::Status RunSpeed(const Corpus& corpus, const std::vector<QuerySet>& query_sets,
                      const Flags& flags, const std::string& work) {
  // The raw peer: analysis + Bm25Index::Add of every document, one thread.
  RawBm25 raw;
  EMBER_RETURN_IF_ERROR(BuildRaw(corpus, &raw));
  const text::Bm25IndexStats raw_stats = raw.index.Stats();

  const std::string path = absl::StrCat(work, "/", corpus.name, "-text");
  std::filesystem::remove_all(path);
  EMBER_ASSIGN_OR_RETURN(std::unique_ptr<Database> db,
                         Database::Open(path, {.sync_writes = false}));
  const CollectionSpec spec{.name = corpus.name, .dimension = 0, .full_text = {.enabled = true}};
  EMBER_ASSIGN_OR_RETURN(std::shared_ptr<Collection> collection, db->CreateCollection(spec));
  EMBER_ASSIGN_OR_RETURN(const double import_seconds, Import(*collection, corpus, flags.batch));
  const CollectionStats stats = collection->Stats();
  const double n = static_cast<double>(corpus.documents.size());
  std::cout << absl::StrFormat(
      "%-12s text-only collection: %d docs imported in %.2f s (%.0f docs/s; batches of %d, "
      "sync off); raw Bm25Index analyze+add %.2f s (%.0f docs/s)\n",
      corpus.name, stats.document_count, import_seconds, n / import_seconds, flags.batch,
      raw.build_seconds, n / raw.build_seconds);
  std::cout << absl::StrFormat(
      "%-12s index: %d terms, %d postings; in memory %.2f MiB (CollectionStats::text_memory_bytes;"
      " raw Bm25Index %.2f MiB, %d terms, %d postings)\n",
      corpus.name, stats.text_terms, stats.text_postings, stats.text_memory_bytes / 1048576.0,
      raw_stats.memory_bytes / 1048576.0, raw_stats.terms, raw_stats.postings);

  // Throughput: the four variants, interleaved, per query set.
  for (const QuerySet& set : query_sets) {
    std::vector<std::vector<std::string>> analyzed;
    for (const std::string& text : set.texts) analyzed.push_back(raw.analyzer->Analyze(text));
    // Correctness first: Ember's text mode and the raw index agree on every query's top 10.
    int64_t differ = 0;
    for (size_t i = 0; i < set.texts.size(); ++i) {
      EMBER_ASSIGN_OR_RETURN(
          const SearchResponse response,
          collection->Search(TextRequest(set.texts[i], SearchMode::kText, kThroughputK, false)));
      EMBER_ASSIGN_OR_RETURN(const std::vector<text::Bm25Hit> hits,
                             raw.index.Search(analyzed[i], kThroughputK));
      bool same = hits.size() == response.hits.size();
      for (size_t h = 0; same && h < hits.size(); ++h) {
        same = corpus.documents[hits[h].label].id == response.hits[h].id;
      }
      differ += same ? 0 : 1;
    }
    const auto ember_search = [&](size_t i, bool fetch) -> absl::Status {
      return collection->Search(TextRequest(set.texts[i], SearchMode::kText, kThroughputK, fetch))
          .status();
    };
    const std::vector<Variant> variants = {
        {"ember text, fetch text+attributes", [&](size_t i) { return ember_search(i, true); }},
        {"ember text, ids+scores only", [&](size_t i) { return ember_search(i, false); }},
        {"raw Bm25Index, analyze+search",
         [&](size_t i) {
           return raw.index.Search(raw.analyzer->Analyze(set.texts[i]), kThroughputK).status();
         }},
        {"raw Bm25Index, pre-analyzed terms",
         [&](size_t i) { return raw.index.Search(analyzed[i], kThroughputK).status(); }},
    };
    std::vector<std::vector<double>> passes(variants.size());
    for (int pass = 0; pass < flags.repeat; ++pass) {
      for (size_t j = 0; j < variants.size(); ++j) {
        const size_t v = (j + pass) % variants.size();
        EMBER_ASSIGN_OR_RETURN(const double qps, Measure(variants[v], set.texts.size()));
        passes[v].push_back(qps);
      }
    }
    for (size_t v = 0; v < variants.size(); ++v) {
      const double median = Median(passes[v]);
      const auto [low, high] = std::minmax_element(passes[v].begin(), passes[v].end());
      std::cout << absl::StrFormat(
          "%-12s top-%d %-13s (%4d q) %-34s %9.0f q/s (median of %d; %.0f..%.0f)%s\n", corpus.name,
          kThroughputK, set.name, set.texts.size(), variants[v].name, median, flags.repeat, *low,
          *high, v == 0 ? absl::StrFormat("  check: %d differ from raw", differ) : "");
      nlohmann::json json = {{"bench", "hybrid"},
                             {"dataset", corpus.name},
                             {"phase", "search"},
                             {"queries", set.name},
                             {"query_count", set.texts.size()},
                             {"variant", variants[v].name},
                             {"k", kThroughputK},
                             {"threads", 1},
                             {"passes", flags.repeat},
                             {"median_queries_per_s", median},
                             {"min_queries_per_s", *low},
                             {"max_queries_per_s", *high}};
      if (v == 0) json["check_mismatches"] = differ;
      Report(json);
    }
  }

  // Disk: checkpoint (flushes every memtable), close, read the SST metadata; reopen (rebuilds the
  // BM25 index from the terms family); close; compact and read again.
  EMBER_RETURN_IF_ERROR(db->Checkpoint());
  collection.reset();
  db.reset();
  const double folder_mib = DiskMiB(path);
  EMBER_ASSIGN_OR_RETURN(const auto flushed, FamilySizes(path, /*compact=*/false));
  auto start = std::chrono::steady_clock::now();
  {
    EMBER_ASSIGN_OR_RETURN(const std::unique_ptr<Database> reopened, Database::Open(path));
    EMBER_ASSIGN_OR_RETURN(const std::shared_ptr<Collection> again,
                           reopened->GetCollection(corpus.name));
    if (again->Stats().text_postings != stats.text_postings) {
      return absl::InternalError("the reopened collection's text index differs");
    }
  }
  const double reopen_seconds = Seconds(start);
  EMBER_ASSIGN_OR_RETURN(const auto compacted, FamilySizes(path, /*compact=*/true));
  const double folder_compacted_mib = DiskMiB(path);
  const auto mib = [](const std::map<std::string, FamilySize>& sizes, const std::string& name) {
    const auto it = sizes.find(name);
    return it == sizes.end() ? 0.0 : it->second.bytes / 1048576.0;
  };
  std::cout << absl::StrFormat(
      "%-12s disk: terms family %.2f MiB flushed (%d SST files), %.2f MiB compacted (encoded "
      "terms before RocksDB's block compression: %.2f MiB); documents family %.2f MiB compacted; "
      "whole folder %.2f MiB flushed, %.2f MiB compacted; reopen (BM25 rebuilt from the terms "
      "family) %.2f s\n",
      corpus.name, mib(flushed, "terms"), flushed.contains("terms") ? flushed.at("terms").files : 0,
      mib(compacted, "terms"), raw.encoded_bytes / 1048576.0, mib(compacted, "documents"),
      folder_mib, folder_compacted_mib, reopen_seconds);
  nlohmann::json json = {{"bench", "hybrid"},
                         {"dataset", corpus.name},
                         {"phase", "text-index"},
                         {"documents", stats.document_count},
                         {"import_seconds", import_seconds},
                         {"import_docs_per_s", n / import_seconds},
                         {"import_batch", flags.batch},
                         {"raw_build_docs_per_s", n / raw.build_seconds},
                         {"text_terms", stats.text_terms},
                         {"text_postings", stats.text_postings},
                         {"text_memory_mib", stats.text_memory_bytes / 1048576.0},
                         {"raw_memory_mib", raw_stats.memory_bytes / 1048576.0},
                         {"terms_family_flushed_mib", mib(flushed, "terms")},
                         {"terms_family_compacted_mib", mib(compacted, "terms")},
                         {"terms_encoded_values_mib", raw.encoded_bytes / 1048576.0},
                         {"documents_family_compacted_mib", mib(compacted, "documents")},
                         {"folder_flushed_mib", folder_mib},
                         {"folder_compacted_mib", folder_compacted_mib},
                         {"reopen_seconds", reopen_seconds}};
  for (const auto& [name, size] : compacted) json["families_compacted_bytes"][name] = size.bytes;
  Report(json);
  return absl::OkStatus();
}

// Every section --dataset selects, with the databases in folder `work`.
absl::Status RunAll(const Flags& flags, const std::string& work) {
  using eval::MetricKind;
  const bool all = flags.dataset == "all";
  absl::Status status;
  std::cout << "published: scifact BM25 (Anserini flat) nDCG@10 0.6789 Recall@100 0.9253; "
               "limit-small BM25 (LIMIT paper) Recall@2 ~0.98 Recall@10 1.0\n";
  if (all || flags.dataset == "scifact") {
    EMBER_ASSIGN_OR_RETURN(const Corpus scifact, LoadBeir("scifact", flags.data_dir + "/scifact"));
    status.Update(RunQuality(
        scifact, {{MetricKind::kNdcg, 10}, {MetricKind::kRecall, 100}, {MetricKind::kMrr, 10}},
        flags, work));
    std::vector<QuerySet> sets = {{"test", {}}};
    for (const eval::Query& query : scifact.queries) sets[0].texts.push_back(query.text);
    if (status.ok()) status.Update(RunSpeed(scifact, sets, flags, work));
  }
  if (status.ok() && (all || flags.dataset == "limit")) {
    EMBER_ASSIGN_OR_RETURN(const Corpus limit,
                           LoadBeir("limit-small", flags.data_dir + "/limit-small"));
    status.Update(RunQuality(
        limit, {{MetricKind::kRecall, 2}, {MetricKind::kRecall, 10}, {MetricKind::kNdcg, 10}},
        flags, work));
  }
  if (status.ok() && (all || flags.dataset == "packages")) {
    EMBER_ASSIGN_OR_RETURN(const Corpus packages, LoadPackages(flags.packages));
    std::vector<QuerySet> sets;
    if (flags.queries > 0) {
      // Every n-th package's description without the "name: " prefix the JSONL puts first.
      QuerySet descriptions{.name = "descriptions"};
      const size_t step = std::max<size_t>(1, packages.documents.size() / flags.queries);
      for (size_t i = 0; i < packages.documents.size() &&
                         descriptions.texts.size() < static_cast<size_t>(flags.queries);
           i += step) {
        const std::string& text = *packages.documents[i].text;
        const size_t colon = text.find(": ");
        descriptions.texts.push_back(colon == std::string::npos ? text : text.substr(colon + 2));
      }
      sets.push_back(std::move(descriptions));
    }
    sets.push_back({.name = "handwritten", .texts = HandwrittenPackageQueries()});
    status.Update(RunSpeed(packages, sets, flags, work));
  }
  return status;
}

absl::Status Main(const Flags& flags) {
  if (!flags.keep.empty()) {
    std::filesystem::create_directories(flags.keep);
    return RunAll(flags, flags.keep);
  }
  const std::string work =
      (std::filesystem::temp_directory_path() /
       absl::StrCat("hybrid_bench_", std::chrono::steady_clock::now().time_since_epoch().count()))
          .string();
  std::filesystem::create_directories(work);
  const absl::Status status = RunAll(flags, work);
  std::filesystem::remove_all(work);
  return status;
}

}  // namespace
}  // namespace ember::bench

int main(int argc, char** argv) {
  auto flags = ember::bench::ParseFlags(argc, argv);
  if (!flags.ok()) {
    std::cerr << flags.status()
              << "\nusage: hybrid_bench [--dataset all|scifact|limit|packages] [--data-dir DIR]"
                 " [--models-dir DIR] [--packages FILE] [--queries 1000] [--repeat 7]"
                 " [--batch 1000] [--index hnsw|flat] [--depths 100,1000]"
                 " [--rank-constants 10,20,60,100] [--weights 5,10,15,20,30,50,70] [--keep DIR]\n";
    return 2;
  }
  const absl::Status status = ember::bench::Main(*flags);
  if (!status.ok()) {
    std::cerr << "hybrid_bench: " << status << "\n";
    return 1;
  }
  return 0;
}
