// `ember DB eval COLL`: retrieval quality of a collection on judged queries (BEIR layout): runs
// each judged query as a search (in any search mode: vector, text, hybrid) and scores the rankings
// with eval/metrics.h (trec_eval's definitions): nDCG@10, Recall@100, MRR@10, and the searches'
// throughput.
#include <chrono>
#include <cstdio>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "ember/collection.h"
#include "ember/search.h"
#include "ember/status.h"
#include "eval/beir.h"
#include "eval/metrics.h"
#include "nlohmann/json.hpp"
#include "tools/cli_args.h"
#include "tools/output.h"
#include "tools/search_mode_flags.h"
#include "tools/verbs.h"

namespace ember::cli {
namespace {

using json = nlohmann::ordered_json;

// The metrics reported, in this order; the JSON keys name them.
constexpr eval::Metric kNdcgAt10{eval::MetricKind::kNdcg, 10};
constexpr eval::Metric kRecallAt100{eval::MetricKind::kRecall, 100};
constexpr eval::Metric kMrrAt10{eval::MetricKind::kMrr, 10};

// How each query is searched. The search itself is RankDocuments.
struct RetrievalSettings {
  /// Hits per query: the ranking depth the metrics see.
  int k = 100;
  /// Which index answers (--mode) and how hybrid search fuses (--fusion, ...).
  SearchMode mode = SearchMode::kAuto;
  FusionOptions fusion;
  /// When set, one hit per value of this attribute, and that value is the document id the qrels
  /// judge (the parent of a chunk).
  std::string group_by;
};

// The id a hit is judged as: the value of the grouping attribute when there is one (a string, or
// an integer written in decimal), else the hit's own id.
std::string JudgedId(const SearchHit& hit, const std::string& group_by) {
  if (!group_by.empty()) {
    const auto it = hit.attributes.find(group_by);
    if (it != hit.attributes.end()) {
      if (const auto* text = std::get_if<std::string>(&it->second)) return *text;
      if (const auto* number = std::get_if<int64_t>(&it->second)) return absl::StrCat(*number);
    }
  }
  return hit.id;
}

// The ids `query` retrieves from `collection`, best first, as the qrels name documents; `plan`,
// when given, receives how the search ran.
absl::StatusOr<std::vector<std::string>> RankDocuments(const Collection& collection,
                                                       const std::string& query,
                                                       const RetrievalSettings& settings,
                                                       SearchPlan* plan = nullptr) {
  SearchRequest request{.text = query,
                        .k = settings.k,
                        .mode = settings.mode,
                        .fusion = settings.fusion,
                        .group_by = settings.group_by};
  request.include_text = false;
  request.include_attributes = !settings.group_by.empty();
  EMBER_ASSIGN_OR_RETURN(SearchResponse response, collection.Search(request));
  if (plan != nullptr) *plan = std::move(response.plan);
  std::vector<std::string> ranking;
  ranking.reserve(response.hits.size());
  for (const SearchHit& hit : response.hits) ranking.push_back(JudgedId(hit, settings.group_by));
  return ranking;
}

// True when the first hit for `query` carries a parent_id attribute: a chunked collection whose
// rankings name chunks, which the qrels do not judge.
bool LooksChunked(const Collection& collection, const std::string& query,
                  const RetrievalSettings& settings) {
  auto response = collection.Search({.text = query,
                                     .k = 1,
                                     .mode = settings.mode,
                                     .fusion = settings.fusion,
                                     .include_text = false});
  return response.ok() && !response->hits.empty() &&
         response->hits[0].attributes.contains("parent_id");
}

absl::Status RunEval(const Invocation& invocation) {
  const ParsedArgs& args = invocation.args;
  const std::optional<std::string> queries_path = args.GetString("queries");
  const std::optional<std::string> qrels_path = args.GetString("qrels");
  if (!queries_path) return UsageError("missing --queries FILE (BEIR queries.jsonl)");
  if (!qrels_path) return UsageError("missing --qrels FILE (BEIR qrels/test.tsv, or qrels.jsonl)");
  RetrievalSettings settings;
  settings.k = args.GetInteger("k").value_or(settings.k);
  if (settings.k < 1 || settings.k > kMaxSearchK) {
    return UsageError(absl::StrCat("-k must be in [1, ", kMaxSearchK, "], got ", settings.k));
  }
  settings.group_by = args.GetString("group-by").value_or("");
  // The three reported always (their JSON keys are stable), then any other asked for.
  std::vector<eval::Metric> metrics = {kNdcgAt10, kRecallAt100, kMrrAt10};
  for (const std::string& name : args.GetAll("metric")) {
    absl::StatusOr<eval::Metric> metric = eval::ParseMetric(name);
    if (!metric.ok()) return UsageError(absl::StrCat("--metric: ", metric.status().message()));
    if (metric->k > settings.k) {
      return UsageError(absl::StrCat("--metric ", name, " needs -k ", metric->k, " or more"));
    }
    if (absl::c_find(metrics, *metric) == metrics.end()) metrics.push_back(*metric);
  }
  {
    SearchRequest request;
    EMBER_RETURN_IF_ERROR(ApplySearchModeFlags(args, request));
    settings.mode = request.mode;
    settings.fusion = request.fusion;
  }

  // The inputs are read before the database is opened: a typo in a path fails fast.
  EMBER_ASSIGN_OR_RETURN(const eval::Qrels qrels, eval::LoadQrels(*qrels_path));
  EMBER_ASSIGN_OR_RETURN(const std::vector<eval::Query> all_queries,
                         eval::LoadQueries(*queries_path));
  std::vector<const eval::Query*> judged;
  for (const eval::Query& query : all_queries) {
    if (qrels.contains(query.id)) judged.push_back(&query);
  }
  if (judged.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no query of ", *queries_path, " is judged in ",
                                                   *qrels_path,
                                                   ": are they from the same dataset and split?"));
  }

  const std::string& name = args.positionals()[0];
  EMBER_ASSIGN_OR_RETURN(auto database, OpenDatabase(invocation, {.create_if_missing = false}));
  EMBER_ASSIGN_OR_RETURN(auto collection, OpenCollection(invocation, *database, name));
  const CollectionSpec spec = collection->spec();
  const SearchMode resolved = ResolveSearchMode(settings.mode, spec, /*has_text=*/true);
  EMBER_RETURN_IF_ERROR(CheckFusionFlagsApply(args, resolved));
  // Every mode but text embeds the queries. (A text-only collection has no vector side at all,
  // which the search itself reports.)
  if (resolved != SearchMode::kText && !spec.encoder && spec.dimension > 0) {
    return WithHint(absl::FailedPreconditionError(absl::StrCat(
                        "collection \"", name, "\" has no encoder to embed the queries")),
                    spec.full_text.enabled
                        ? "evaluate it by words with --mode text"
                        : "evaluate a collection created with --model MODEL (or --full-text)");
  }
  if (settings.group_by.empty() && invocation.format == Format::kHuman &&
      LooksChunked(*collection, judged.front()->text, settings)) {
    std::fprintf(stderr,
                 "ember: note: the hits are chunks (they have parent_id) and the qrels judge "
                 "documents: add --group-by parent_id\n");
  }

  eval::Run run;
  // How the first query ran: every query has a text, so all run in the same mode.
  SearchPlan plan;
  const auto start = std::chrono::steady_clock::now();
  for (const eval::Query* query : judged) {
    auto ranking = RankDocuments(*collection, query->text, settings,
                                 query == judged.front() ? &plan : nullptr);
    if (!ranking.ok()) {
      return WithSearchModeHint(
          absl::Status(ranking.status().code(),
                       absl::StrCat("query \"", query->id, "\": ", ranking.status().message())),
          spec, settings.mode);
    }
    run[query->id] = *std::move(ranking);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double queries_per_second = seconds > 0 ? static_cast<double>(judged.size()) / seconds : 0;

  EMBER_ASSIGN_OR_RETURN(const eval::Evaluation evaluation, eval::Evaluate(qrels, run, metrics));
  // Evaluate averages over the judged queries with a relevant document, counting those missing
  // from the queries file as empty rankings (trec_eval -c).
  const int64_t evaluated = static_cast<int64_t>(evaluation.per_query.size());
  const bool hybrid = plan.mode == SearchModeName(SearchMode::kHybrid);
  if (invocation.format == Format::kJson) {
    json report{{"queries", evaluated}};
    for (size_t i = 0; i < metrics.size(); ++i) {
      // "ndcg_at_10", "recall_at_100", "mrr_at_10", ...
      report[absl::AsciiStrToLower(
          absl::StrReplaceAll(eval::MetricName(metrics[i]), {{"@", "_at_"}}))] = evaluation.mean[i];
    }
    report["queries_per_s"] = queries_per_second;
    report["mode"] = plan.mode;
    if (hybrid) {
      const FusionOptions& fusion = settings.fusion;
      report["fusion"] = FusionMethodName(fusion.method);
      if (fusion.method == FusionMethod::kReciprocalRank) {
        report["rank_constant"] = fusion.rank_constant;
      } else {
        report["vector_weight"] = fusion.vector_weight;
      }
      report["fusion_depth"] = plan.fusion_depth;
    }
    PrintResult(stdout, invocation.format, "", report);
    return absl::OkStatus();
  }
  std::string how = absl::StrCat("k=", settings.k, ", ", plan.mode, " mode");
  if (hybrid) absl::StrAppend(&how, ": ", plan.fusion, ", fusion depth ", plan.fusion_depth);
  if (!settings.group_by.empty()) absl::StrAppend(&how, ", grouped by ", settings.group_by);
  std::printf("evaluated \"%s\" on %lld queries (%s) in %.1fs\n", name.c_str(),
              static_cast<long long>(evaluated), how.c_str(), seconds);
  if (evaluation.queries_missing_from_run > 0) {
    std::printf("(%lld judged queries are not in %s and score 0)\n",
                static_cast<long long>(evaluation.queries_missing_from_run), queries_path->c_str());
  }
  for (size_t i = 0; i < metrics.size(); ++i) {
    std::printf("  %-12s %.4f\n", eval::MetricName(metrics[i]).c_str(), evaluation.mean[i]);
  }
  std::printf("  %-12s %.1f\n", "queries/s", queries_per_second);
  return absl::OkStatus();
}

constexpr FlagSpec kEvalFlags[] = {
    {"queries"},
    {"qrels"},
    {"k", FlagKind::kInteger, 'k'},
    {"group-by"},
    {"metric", FlagKind::kRepeated},
    kModeFlag,
    kFusionFlag,
    kRankConstantFlag,
    kVectorWeightFlag,
    kFusionDepthFlag,
};

constexpr Verb kEvalVerbs[] = {
    {.name = "eval",
     .positionals = "COLL",
     .flag_synopsis = "--queries Q.jsonl --qrels QRELS [-k 100] [--group-by parent_id]\n"
                      "       [--metric recall@2]...\n"
                      "       [--mode auto|vector|text|hybrid] [--fusion weighted|rrf]\n"
                      "       [--vector-weight 0.2] [--rank-constant 60] [--fusion-depth N]",
     .summary = "retrieval quality on judged queries (nDCG@10, Recall@100, MRR@10)",
     .details =
         "Searches the collection with the text of every query that the qrels judge, and\n"
         "scores the rankings as trec_eval does. --json prints one object: queries,\n"
         "ndcg_at_10, recall_at_100, mrr_at_10, queries_per_s, mode (the mode that ran) and,\n"
         "in hybrid mode, fusion, rank_constant or vector_weight, and fusion_depth.\n"
         "  --metric M         also report metric M (ndcg@K, recall@K or mrr@K; repeatable),\n"
         "                     under the JSON key ndcg_at_K, recall_at_K or mrr_at_K\n"
         "  --queries FILE     BEIR queries.jsonl ({\"_id\", \"text\"} per line)\n"
         "  --qrels FILE       BEIR qrels/<split>.tsv, or JSON lines {\"query-id\", "
         "\"corpus-id\",\n"
         "                     \"score\"}\n"
         "  -k N               hits per query (default 100; Recall@100 needs 100)\n"
         "  --group-by ATTR    one hit per value of ATTR, judged as the document with that id:\n"
         "                     --group-by parent_id scores a chunked collection by documents\n"
         "  --mode M           vector, text (BM25), hybrid, or auto (default), as for search;\n"
         "                     --fusion, --rank-constant, --vector-weight and --fusion-depth\n"
         "                     tune hybrid mode as for search (`ember help search`)\n",
     .flags = kEvalFlags,
     .run = RunEval},
};

}  // namespace

std::span<const Verb> EvalVerbs() { return kEvalVerbs; }

}  // namespace ember::cli
