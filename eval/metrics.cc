#include "eval/metrics.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ember::eval {
namespace {

// The grade of `doc_id`, or 0 when it is not judged.
int GradeOf(const QueryQrels& qrels, const std::string& doc_id) {
  const auto it = qrels.find(doc_id);
  return it == qrels.end() ? 0 : it->second;
}

int RelevantCount(const QueryQrels& qrels) {
  int count = 0;
  for (const auto& [doc_id, grade] : qrels) count += grade > 0;
  return count;
}

// The first `k` distinct ids of `ranking` (all of them when fewer), as pointers into it. Rankings
// are short (k is at most a few hundred), so a set of the ids seen so far is cheap.
std::vector<const std::string*> DistinctTop(absl::Span<const std::string> ranking, int k) {
  std::vector<const std::string*> top;
  if (k <= 0) return top;
  absl::flat_hash_set<std::string> seen;
  for (const std::string& doc_id : ranking) {
    if (static_cast<int>(top.size()) == k) break;
    if (seen.insert(doc_id).second) top.push_back(&doc_id);
  }
  return top;
}

double Ndcg(const QueryQrels& qrels, const std::vector<const std::string*>& top, int k) {
  std::vector<int> ideal;
  for (const auto& [doc_id, grade] : qrels) {
    if (grade > 0) ideal.push_back(grade);
  }
  std::sort(ideal.begin(), ideal.end(), std::greater<int>());
  double idcg = 0;
  for (int i = 0; i < static_cast<int>(ideal.size()) && i < k; ++i) {
    idcg += ideal[i] / std::log2(i + 2.0);
  }
  if (idcg == 0) return 0;
  double dcg = 0;
  for (int i = 0; i < static_cast<int>(top.size()) && i < k; ++i) {
    const int grade = GradeOf(qrels, *top[i]);
    if (grade > 0) dcg += grade / std::log2(i + 2.0);
  }
  return dcg / idcg;
}

double Recall(const QueryQrels& qrels, const std::vector<const std::string*>& top, int k) {
  const int relevant = RelevantCount(qrels);
  if (relevant == 0) return 0;
  int found = 0;
  for (int i = 0; i < static_cast<int>(top.size()) && i < k; ++i) {
    found += GradeOf(qrels, *top[i]) > 0;
  }
  return static_cast<double>(found) / relevant;
}

double ReciprocalRank(const QueryQrels& qrels, const std::vector<const std::string*>& top, int k) {
  for (int i = 0; i < static_cast<int>(top.size()) && i < k; ++i) {
    if (GradeOf(qrels, *top[i]) > 0) return 1.0 / (i + 1);
  }
  return 0;
}

double ValueOnTop(const Metric& metric, const QueryQrels& qrels,
                  const std::vector<const std::string*>& top) {
  switch (metric.kind) {
    case MetricKind::kNdcg:
      return Ndcg(qrels, top, metric.k);
    case MetricKind::kRecall:
      return Recall(qrels, top, metric.k);
    case MetricKind::kMrr:
      return ReciprocalRank(qrels, top, metric.k);
  }
  return 0;
}

}  // namespace

std::string MetricName(const Metric& metric) {
  switch (metric.kind) {
    case MetricKind::kNdcg:
      return absl::StrCat("nDCG@", metric.k);
    case MetricKind::kRecall:
      return absl::StrCat("Recall@", metric.k);
    case MetricKind::kMrr:
      return absl::StrCat("MRR@", metric.k);
  }
  return absl::StrCat("?@", metric.k);
}

absl::StatusOr<Metric> ParseMetric(std::string_view name) {
  const std::string text(name);
  const std::string lower = absl::AsciiStrToLower(text);
  const size_t at = lower.find('@');
  if (at == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metric '", text, "': expected <metric>@<k>, e.g. ndcg@10, recall@100, mrr@10"));
  }
  const std::string kind = lower.substr(0, at);
  Metric metric;
  if (kind == "ndcg") {
    metric.kind = MetricKind::kNdcg;
  } else if (kind == "recall" || kind == "r") {
    metric.kind = MetricKind::kRecall;
  } else if (kind == "mrr") {
    metric.kind = MetricKind::kMrr;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("metric '", text, "': unknown metric '", kind,
                                                   "' (known: ndcg, recall, mrr)"));
  }
  const std::string k = lower.substr(at + 1);
  // SimpleAtoi would accept " 10" and "+10"; a cutoff is plain digits.
  if (k.empty() || k.find_first_not_of("0123456789") != std::string::npos ||
      !absl::SimpleAtoi(k, &metric.k) || metric.k < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("metric '", text, "': k must be a positive integer"));
  }
  return metric;
}

double NdcgAt(const QueryQrels& qrels, absl::Span<const std::string> ranking, int k) {
  return Ndcg(qrels, DistinctTop(ranking, k), k);
}

double RecallAt(const QueryQrels& qrels, absl::Span<const std::string> ranking, int k) {
  return Recall(qrels, DistinctTop(ranking, k), k);
}

double ReciprocalRankAt(const QueryQrels& qrels, absl::Span<const std::string> ranking, int k) {
  return ReciprocalRank(qrels, DistinctTop(ranking, k), k);
}

double MetricValue(const Metric& metric, const QueryQrels& qrels,
                   absl::Span<const std::string> ranking) {
  return ValueOnTop(metric, qrels, DistinctTop(ranking, metric.k));
}

absl::StatusOr<Evaluation> Evaluate(const Qrels& qrels, const Run& run,
                                    absl::Span<const Metric> metrics) {
  int max_k = 0;
  for (const Metric& metric : metrics) {
    if (metric.k < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("metric ", MetricName(metric), ": k must be at least 1"));
    }
    max_k = std::max(max_k, metric.k);
  }
  Evaluation evaluation;
  evaluation.metrics.assign(metrics.begin(), metrics.end());
  evaluation.mean.assign(metrics.size(), 0.0);
  const std::vector<std::string> empty_ranking;
  for (const auto& [query_id, query_qrels] : qrels) {
    if (RelevantCount(query_qrels) == 0) continue;
    const auto it = run.find(query_id);
    if (it == run.end()) ++evaluation.queries_missing_from_run;
    const std::vector<std::string>& ranking = it == run.end() ? empty_ranking : it->second;
    // Deduplicate once, at the largest cutoff: the top k of the deduplicated ranking is a prefix.
    const std::vector<const std::string*> top = DistinctTop(ranking, max_k);
    QueryScores scores{.query_id = query_id};
    scores.values.reserve(metrics.size());
    for (size_t m = 0; m < metrics.size(); ++m) {
      scores.values.push_back(ValueOnTop(metrics[m], query_qrels, top));
      evaluation.mean[m] += scores.values.back();
    }
    evaluation.per_query.push_back(std::move(scores));
  }
  if (!evaluation.per_query.empty()) {
    const double count = static_cast<double>(evaluation.per_query.size());
    for (double& mean : evaluation.mean) mean /= count;
  }
  return evaluation;
}

}  // namespace ember::eval
