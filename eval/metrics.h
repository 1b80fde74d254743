// Retrieval metrics over BEIR-style judgements, with the definitions of trec_eval / pytrec_eval
// (which BEIR and MTEB report). All functions are pure and safe to call from any thread.
//
// Definitions, for one query with judgements `qrels` (doc id -> grade) and a ranking (doc ids, best
// first):
//  - The ranking is first deduplicated: a document id that occurs again later is dropped, so it
//    neither scores twice nor occupies a rank. "Top k" is then the first k remaining ids (fewer
//    when the ranking is shorter), ranks counted from 1.
//  - A document is relevant when its grade is > 0. R = the number of relevant documents.
//  - nDCG@k = DCG@k / IDCG@k, where DCG@k = sum over ranks i <= k of grade(doc_i) / log2(i + 1)
//    (grade taken as 0 for documents not judged relevant), and IDCG@k is the same sum for the
//    positive grades sorted in decreasing order (the ideal ranking), cut at k.
//  - Recall@k = (relevant documents in the top k) / R. Not capped at k: with R > k it cannot reach
//  1
//    (pytrec_eval's recall_k, not BEIR's "R_cap@k").
//  - MRR@k = 1 / (rank of the first relevant document) when that rank is <= k, else 0.
// Over a collection (Evaluate): a query is evaluated when it appears in the qrels with R > 0;
// queries with R = 0 are ignored, as are run entries for queries without qrels. An evaluated query
// absent from the run has an empty ranking and scores 0 on every metric (trec_eval -c), which
// differs from BEIR's own averaging (BEIR divides by the number of queries in the run). The mean is
// the arithmetic mean over the evaluated queries.
#ifndef EMBER_EVAL_METRICS_H_
#define EMBER_EVAL_METRICS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "eval/beir.h"

namespace ember::eval {

enum class MetricKind {
  kNdcg,    ///< nDCG@k
  kRecall,  ///< Recall@k
  kMrr,     ///< MRR@k
};

// A metric with its cutoff, e.g. {MetricKind::kNdcg, 10} for nDCG@10.
struct Metric {
  MetricKind kind = MetricKind::kNdcg;
  int k = 10;  ///< Cutoff; must be >= 1 for Evaluate.

  friend bool operator==(const Metric&, const Metric&) = default;
};

// The display name: "nDCG@10", "Recall@100", "MRR@10".
std::string MetricName(const Metric& metric);

// Parses a metric name, case-insensitively: "ndcg@10", "recall@100", "mrr@10" (also the forms
// MetricName writes, and "r@k" for recall). InvalidArgument naming the text when the kind is
// unknown or k is not an integer in [1, 2^31).
absl::StatusOr<Metric> ParseMetric(std::string_view name);

// Query id -> ranked doc ids, best first (what a retriever returned).
using Run = absl::flat_hash_map<std::string, std::vector<std::string>>;

// The per-query values, with the definitions above. They never fail: k <= 0 means an empty top
// (value 0), and a query without relevant documents scores 0.
double NdcgAt(const QueryQrels& qrels, absl::Span<const std::string> ranking, int k);
double RecallAt(const QueryQrels& qrels, absl::Span<const std::string> ranking, int k);
double ReciprocalRankAt(const QueryQrels& qrels, absl::Span<const std::string> ranking, int k);
// Dispatches on metric.kind.
double MetricValue(const Metric& metric, const QueryQrels& qrels,
                   absl::Span<const std::string> ranking);

// The values of one evaluated query, parallel to Evaluation::metrics.
struct QueryScores {
  std::string query_id;
  std::vector<double> values;
};

struct Evaluation {
  std::vector<Metric> metrics;           ///< As requested, in order.
  std::vector<QueryScores> per_query;    ///< Evaluated queries, ordered by query id.
  std::vector<double> mean;              ///< Parallel to metrics; 0 when no query was evaluated.
  int64_t queries_missing_from_run = 0;  ///< Evaluated queries with no entry in the run.
};

// Scores `run` against `qrels` on each of `metrics` (see the definitions at the top).
// InvalidArgument naming the metric when some k < 1. An empty `metrics` gives empty values.
absl::StatusOr<Evaluation> Evaluate(const Qrels& qrels, const Run& run,
                                    absl::Span<const Metric> metrics);

}  // namespace ember::eval

#endif  // EMBER_EVAL_METRICS_H_
