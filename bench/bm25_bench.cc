// bm25_bench: Ember's full-text library (text/: Analyzer + Bm25Index) on BEIR SciFact and
// LIMIT-small, measured against the published BM25 numbers (there is no Lucene here to run):
//   SciFact, Anserini BM25 "flat" (k1 0.9, b 0.4, Porter, English stop words, title + text as one
//   field): nDCG@10 0.6789, recall@100 0.9253.
//   LIMIT-small, BM25 in the LIMIT paper: recall@2 about 0.98, recall@10 1.0.
// For each data set: index build time (analysis and insertion, one thread) and memory (the index's
// own accounting and the resident-memory delta), retrieval quality of a top-100 run (metrics from
// eval/, trec_eval definitions; with exact document lengths, and again with lengths rounded as
// Lucene stores them, as Anserini scores), and queries/s for top-10 with 1..N
// threads each issuing one query per call, both for search alone (terms analyzed beforehand) and
// end to end (analysis + search); each throughput point is the best of --repeat runs. --ablation
// also rebuilds SciFact with analyzer and BM25 variants and prints what each changes. Scale:
// --scale N (default 62000) builds an index of N documents resampled from SciFact (document i is
// SciFact document i mod 5183 with each token kept with probability 0.7, so that copies differ),
// then times Add, Remove of 10% of the documents and re-Add, and top-10 / top-100 searches of the
// 300 SciFact queries on it. Output: a table on stdout and one JSON line (prefixed "JSON ") per
// measurement.
//
//   bm25_bench [--data-dir ../shared/data] [--threads 1,2] [--repeat 3] [--ablation 1]
//              [--scale 62000]

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/bench_common.h"
#include "ember/status.h"
#include "eval/beir.h"
#include "eval/metrics.h"
#include "text/analyzer.h"
#include "text/bm25_index.h"

namespace ember::bench {
namespace {

constexpr int kRunDepth = 100;  // documents retrieved per query for the quality metrics
constexpr int kThroughputK = 10;

struct Flags {
  std::string data_dir = "../shared/data";
  std::vector<int> threads = {1, 2};
  int repeat = 3;
  bool ablation = false;
  int scale = 62000;  // documents in the resampled index; 0: skip
};

absl::StatusOr<Flags> ParseFlags(int argc, char** argv) {
  Flags flags;
  const BenchFlag table[] = {{"data-dir", &flags.data_dir},
                             {"threads", &flags.threads},
                             {"repeat", &flags.repeat},
                             {"scale", &flags.scale},
                             {"ablation", &flags.ablation}};
  EMBER_RETURN_IF_ERROR(ParseBenchFlags(argc, argv, table));
  if (flags.repeat <= 0) return absl::InvalidArgumentError("--repeat must be a positive integer");
  return flags;
}

// A BEIR-layout data set in memory; document i gets label i.
struct Dataset {
  std::string name;
  std::vector<std::string> doc_ids;
  std::vector<std::string> doc_texts;  // title + " " + text
  std::vector<eval::Query> queries;    // only those with judgements
  eval::Qrels qrels;
  std::vector<eval::Metric> metrics;  // what to report
};

absl::StatusOr<Dataset> LoadDataset(const std::string& name, const std::string& dir,
                                    std::vector<eval::Metric> metrics) {
  Dataset data;
  data.name = name;
  data.metrics = std::move(metrics);
  EMBER_ASSIGN_OR_RETURN(const eval::BeirFiles files, eval::FindBeirFiles(dir, "test"));
  EMBER_RETURN_IF_ERROR(
      eval::ForEachCorpusDocument(files.corpus, [&](eval::CorpusDocument&& document) {
        data.doc_texts.push_back(eval::DocumentText(document));
        data.doc_ids.push_back(std::move(document.id));
        return absl::OkStatus();
      }));
  EMBER_ASSIGN_OR_RETURN(data.qrels, eval::LoadQrels(files.qrels));
  EMBER_ASSIGN_OR_RETURN(std::vector<eval::Query> queries, eval::LoadQueries(files.queries));
  for (eval::Query& query : queries) {
    if (data.qrels.contains(query.id)) data.queries.push_back(std::move(query));
  }
  return data;
}

struct Built {
  std::unique_ptr<text::Analyzer> analyzer;
  text::Bm25Index index;
  double analyze_seconds = 0;
  double add_seconds = 0;
  double rss_delta_mib = 0;
};

absl::Status Build(const Dataset& data, const text::AnalyzerOptions& options, Built* built) {
  EMBER_ASSIGN_OR_RETURN(built->analyzer, text::Analyzer::Create(options));
  const double rss_before = ResidentMiB();
  std::vector<text::TermFrequencies> bags;
  bags.reserve(data.doc_texts.size());
  auto start = std::chrono::steady_clock::now();
  for (const std::string& text : data.doc_texts) {
    bags.push_back(built->analyzer->AnalyzeToFrequencies(text));
  }
  built->analyze_seconds = Seconds(start);
  start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < bags.size(); ++i) EMBER_RETURN_IF_ERROR(built->index.Add(i, bags[i]));
  built->add_seconds = Seconds(start);
  bags = {};
  built->rss_delta_mib = ResidentMiB() - rss_before;
  return absl::OkStatus();
}

absl::StatusOr<eval::Evaluation> Evaluate(const Dataset& data, const Built& built,
                                          const text::Bm25Params& params) {
  eval::Run run;
  for (const eval::Query& query : data.queries) {
    EMBER_ASSIGN_OR_RETURN(
        const std::vector<text::Bm25Hit> hits,
        built.index.Search(built.analyzer->Analyze(query.text), kRunDepth, nullptr, params));
    std::vector<std::string>& ranking = run[query.id];
    for (const text::Bm25Hit& hit : hits) ranking.push_back(data.doc_ids[hit.label]);
  }
  return eval::Evaluate(data.qrels, run, data.metrics);
}

// Queries/s with `threads` callers, each issuing one query per call, over at least ~0.3 s.
absl::StatusOr<double> Throughput(const Dataset& data, const Built& built, int threads,
                                  bool end_to_end) {
  std::vector<std::vector<std::string>> analyzed;
  for (const eval::Query& query : data.queries) {
    analyzed.push_back(built.analyzer->Analyze(query.text));
  }
  const int64_t n = static_cast<int64_t>(data.queries.size());
  int64_t total = n;
  double seconds = 0;
  while (true) {
    std::atomic<int64_t> next{0};
    std::vector<absl::Status> errors(threads);
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        for (int64_t q; (q = next.fetch_add(1)) < total;) {
          const size_t i = static_cast<size_t>(q % n);
          auto hits = end_to_end ? built.index.Search(built.analyzer->Analyze(data.queries[i].text),
                                                      kThroughputK)
                                 : built.index.Search(analyzed[i], kThroughputK);
          if (!hits.ok()) {
            errors[t] = hits.status();
            return;
          }
        }
      });
    }
    for (std::thread& worker : workers) worker.join();
    seconds = Seconds(start);
    for (const absl::Status& error : errors) EMBER_RETURN_IF_ERROR(error);
    if (seconds >= 0.3) break;
    total *= 2;
  }
  return total / seconds;
}

void PrintQuality(const Dataset& data, const std::string& variant, const eval::Evaluation& e,
                  const text::Analyzer& analyzer, const text::Bm25Params& params) {
  std::string line = absl::StrFormat("%-12s %-28s", data.name, variant);
  nlohmann::json json = {{"bench", "bm25"},
                         {"dataset", data.name},
                         {"phase", "quality"},
                         {"variant", variant},
                         {"queries", e.per_query.size()},
                         {"k1", params.k1},
                         {"b", params.b},
                         {"lucene_length_encoding", params.lucene_length_encoding},
                         {"analyzer", analyzer.fingerprint()}};
  for (size_t m = 0; m < e.metrics.size(); ++m) {
    absl::StrAppend(&line, absl::StrFormat("  %s %.4f", eval::MetricName(e.metrics[m]), e.mean[m]));
    json[eval::MetricName(e.metrics[m])] = e.mean[m];
  }
  std::cout << line << "\n";
  Report(json);
}

absl::Status RunDataset(const Dataset& data, const Flags& flags) {
  Built built;
  EMBER_RETURN_IF_ERROR(Build(data, {}, &built));
  const text::Bm25IndexStats stats = built.index.Stats();
  std::cout << absl::StrFormat(
      "%-12s build: %d docs, analyze %.3f s + add %.3f s (%.0f docs/s); %d terms, %d postings, "
      "avgdl %.1f; index memory %.1f MiB (RSS +%.1f MiB)\n",
      data.name, stats.documents, built.analyze_seconds, built.add_seconds,
      stats.documents / (built.analyze_seconds + built.add_seconds), stats.terms, stats.postings,
      stats.average_document_length, stats.memory_bytes / 1048576.0, built.rss_delta_mib);
  Report({{"bench", "bm25"},
          {"dataset", data.name},
          {"phase", "build"},
          {"documents", stats.documents},
          {"terms", stats.terms},
          {"postings", stats.postings},
          {"average_document_length", stats.average_document_length},
          {"analyze_seconds", built.analyze_seconds},
          {"add_seconds", built.add_seconds},
          {"docs_per_s", stats.documents / (built.analyze_seconds + built.add_seconds)},
          {"index_memory_mib", stats.memory_bytes / 1048576.0},
          {"rss_delta_mib", built.rss_delta_mib}});

  EMBER_ASSIGN_OR_RETURN(const eval::Evaluation evaluation, Evaluate(data, built, {}));
  PrintQuality(data, "default", evaluation, *built.analyzer, {});
  // The same with document lengths rounded as Lucene stores them: Anserini's scoring exactly.
  const text::Bm25Params lucene{.lucene_length_encoding = true};
  EMBER_ASSIGN_OR_RETURN(const eval::Evaluation lucene_evaluation, Evaluate(data, built, lucene));
  PrintQuality(data, "lucene length encoding", lucene_evaluation, *built.analyzer, lucene);

  for (const bool end_to_end : {false, true}) {
    for (const int threads : flags.threads) {
      double best = 0;
      for (int r = 0; r < flags.repeat; ++r) {
        EMBER_ASSIGN_OR_RETURN(const double qps, Throughput(data, built, threads, end_to_end));
        best = std::max(best, qps);
      }
      const char* mode = end_to_end ? "analyze+search" : "search";
      std::cout << absl::StrFormat("%-12s top-%d %-15s %d thread(s): %9.0f queries/s\n", data.name,
                                   kThroughputK, mode, threads, best);
      Report({{"bench", "bm25"},
              {"dataset", data.name},
              {"phase", "search"},
              {"mode", mode},
              {"k", kThroughputK},
              {"threads", threads},
              {"queries", data.queries.size()},
              {"queries_per_s", best}});
    }
  }
  return absl::OkStatus();
}

// SciFact again with one thing changed at a time: what the analyzer's choices are worth.
absl::Status RunAblation(const Dataset& data) {
  struct Variant {
    std::string name;
    text::AnalyzerOptions options;
    text::Bm25Params params;
  };
  const std::vector<Variant> variants = {
      {"no stop words", {.stop_words = {}}, {}},
      {"stemmer english (Porter2)", {.stemmer = "english"}, {}},
      {"no stemming", {.stemmer = "none"}, {}},
      {"split at all punctuation", {.word_joining = text::WordJoining::kApostropheOnly}, {}},
      {"keep possessives", {.strip_possessives = false}, {}},
      {"k1 1.2, b 0.75", {}, {.k1 = 1.2, .b = 0.75}},
  };
  for (const Variant& variant : variants) {
    Built built;
    EMBER_RETURN_IF_ERROR(Build(data, variant.options, &built));
    EMBER_ASSIGN_OR_RETURN(const eval::Evaluation evaluation,
                           Evaluate(data, built, variant.params));
    PrintQuality(data, variant.name, evaluation, *built.analyzer, variant.params);
  }
  return absl::OkStatus();
}

// Add / Remove / Search at a scale SciFact alone does not reach (see the top of the file).
absl::Status RunScale(const Dataset& data, const Flags& flags) {
  EMBER_ASSIGN_OR_RETURN(const auto analyzer, text::Analyzer::Create());
  std::vector<std::vector<std::string>> tokens;
  for (const std::string& text : data.doc_texts) tokens.push_back(analyzer->Analyze(text));
  std::mt19937_64 rng(42);
  std::bernoulli_distribution keep(0.7);
  std::vector<text::TermFrequencies> bags(flags.scale);
  std::vector<std::string> sample;
  for (int i = 0; i < flags.scale; ++i) {
    sample.clear();
    for (const std::string& token : tokens[i % tokens.size()]) {
      if (keep(rng)) sample.push_back(token);
    }
    bags[i] = text::CountTerms(sample);
  }
  const std::string name = absl::StrCat(data.name, "-resampled-", flags.scale);
  text::Bm25Index index;
  const double rss_before = ResidentMiB();
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < flags.scale; ++i) EMBER_RETURN_IF_ERROR(index.Add(i, bags[i]));
  const double add_seconds = Seconds(start);
  const double rss_delta = ResidentMiB() - rss_before;
  const text::Bm25IndexStats stats = index.Stats();
  // Remove every tenth document, then add them back.
  const int churn = flags.scale / 10;
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < flags.scale; i += 10) EMBER_RETURN_IF_ERROR(index.Remove(i));
  const double remove_seconds = Seconds(start);
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < flags.scale; i += 10) EMBER_RETURN_IF_ERROR(index.Add(i, bags[i]));
  const double readd_seconds = Seconds(start);
  std::cout << absl::StrFormat(
      "%-12s %d docs: add %.3f s (%.0f docs/s); remove %d: %.3f s (%.0f docs/s); re-add: %.3f s "
      "(%.0f docs/s); %d terms, %d postings; index memory %.1f MiB (RSS +%.1f MiB)\n",
      name, stats.documents, add_seconds, flags.scale / add_seconds, churn, remove_seconds,
      churn / remove_seconds, readd_seconds, churn / readd_seconds, stats.terms, stats.postings,
      stats.memory_bytes / 1048576.0, rss_delta);
  Report({{"bench", "bm25"},
          {"dataset", name},
          {"phase", "build"},
          {"documents", stats.documents},
          {"terms", stats.terms},
          {"postings", stats.postings},
          {"add_seconds", add_seconds},
          {"adds_per_s", flags.scale / add_seconds},
          {"removed", churn},
          {"removes_per_s", churn / remove_seconds},
          {"readds_per_s", churn / readd_seconds},
          {"index_memory_mib", stats.memory_bytes / 1048576.0},
          {"rss_delta_mib", rss_delta}});

  std::vector<std::vector<std::string>> queries;
  for (const eval::Query& query : data.queries) queries.push_back(analyzer->Analyze(query.text));
  for (const int k : {10, 100}) {
    double best = 0;
    for (int r = 0; r < flags.repeat; ++r) {
      start = std::chrono::steady_clock::now();
      int64_t done = 0;
      while (done == 0 || Seconds(start) < 0.3) {
        for (const auto& query : queries) {
          EMBER_RETURN_IF_ERROR(index.Search(query, k).status());
          ++done;
        }
      }
      best = std::max(best, done / Seconds(start));
    }
    std::cout << absl::StrFormat("%-12s top-%-3d search 1 thread: %9.0f queries/s\n", name, k,
                                 best);
    Report({{"bench", "bm25"},
            {"dataset", name},
            {"phase", "search"},
            {"mode", "search"},
            {"k", k},
            {"threads", 1},
            {"queries", queries.size()},
            {"queries_per_s", best}});
  }
  return absl::OkStatus();
}

absl::Status Main(const Flags& flags) {
  using eval::MetricKind;
  std::cout << "published: scifact BM25 (Anserini flat) nDCG@10 0.6789 Recall@100 0.9253; "
               "limit-small BM25 (LIMIT paper) Recall@2 ~0.98 Recall@10 1.0\n";
  EMBER_ASSIGN_OR_RETURN(
      const Dataset scifact,
      LoadDataset("scifact", flags.data_dir + "/scifact",
                  {{MetricKind::kNdcg, 10}, {MetricKind::kRecall, 100}, {MetricKind::kMrr, 10}}));
  EMBER_RETURN_IF_ERROR(RunDataset(scifact, flags));
  if (flags.ablation) EMBER_RETURN_IF_ERROR(RunAblation(scifact));
  if (flags.scale > 0) EMBER_RETURN_IF_ERROR(RunScale(scifact, flags));
  EMBER_ASSIGN_OR_RETURN(
      const Dataset limit,
      LoadDataset("limit-small", flags.data_dir + "/limit-small",
                  {{MetricKind::kRecall, 2}, {MetricKind::kRecall, 10}, {MetricKind::kNdcg, 10}}));
  return RunDataset(limit, flags);
}

}  // namespace
}  // namespace ember::bench

int main(int argc, char** argv) {
  auto flags = ember::bench::ParseFlags(argc, argv);
  if (!flags.ok()) {
    std::cerr << flags.status() << "\nusage: bm25_bench [--data-dir ../shared/data]"
              << " [--threads 1,2] [--repeat 3] [--ablation 1] [--scale 62000]\n";
    return 2;
  }
  const absl::Status status = ember::bench::Main(*flags);
  if (!status.ok()) {
    std::cerr << "bm25_bench: " << status << "\n";
    return 1;
  }
  return 0;
}
