// `ember DB eval COLL`: retrieval quality of a collection on judged queries (BEIR layout): runs
// each judged query as a search and scores the rankings with eval/metrics.h (trec_eval's
// definitions): nDCG@10, Recall@100, MRR@10, and the searches' throughput.
#include <chrono>
#include <cstdio>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ember/collection.h"
#include "ember/search.h"
#include "ember/status.h"
#include "eval/beir.h"
#include "eval/metrics.h"
#include "nlohmann/json.hpp"
#include "tools/cli_args.h"
#include "tools/output.h"
#include "tools/verbs.h"

namespace ember::cli {
namespace {

using json = nlohmann::ordered_json;

// The metrics reported, in this order; the JSON keys name them.
constexpr eval::Metric kNdcgAt10{eval::MetricKind::kNdcg, 10};
constexpr eval::Metric kRecallAt100{eval::MetricKind::kRecall, 100};
constexpr eval::Metric kMrrAt10{eval::MetricKind::kMrr, 10};

// How each query is searched. The search itself is RankDocuments: a retrieval mode (text BM25,
// hybrid) is one more field here and one more branch there.
struct RetrievalSettings {
  /// Hits per query: the ranking depth the metrics see.
  int k = 100;
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

// The ids `query` retrieves from `collection`, best first, as the qrels name documents.
absl::StatusOr<std::vector<std::string>> RankDocuments(const Collection& collection,
                                                       const std::string& query,
                                                       const RetrievalSettings& settings) {
  SearchRequest request{.text = query, .k = settings.k, .group_by = settings.group_by};
  request.include_text = false;
  request.include_attributes = !settings.group_by.empty();
  EMBER_ASSIGN_OR_RETURN(SearchResponse response, collection.Search(request));
  std::vector<std::string> ranking;
  ranking.reserve(response.hits.size());
  for (const SearchHit& hit : response.hits) ranking.push_back(JudgedId(hit, settings.group_by));
  return ranking;
}

// True when the first hit for `query` carries a parent_id attribute: a chunked collection whose
// rankings name chunks, which the qrels do not judge.
bool LooksChunked(const Collection& collection, const std::string& query) {
  auto response = collection.Search({.text = query, .k = 1, .include_text = false});
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
  if (!collection->spec().encoder) {
    return WithHint(absl::FailedPreconditionError(absl::StrCat(
                        "collection \"", name, "\" has no encoder to embed the queries")),
                    "evaluate a collection created with --model MODEL");
  }
  if (settings.group_by.empty() && invocation.format == Format::kHuman &&
      LooksChunked(*collection, judged.front()->text)) {
    std::fprintf(stderr,
                 "ember: note: the hits are chunks (they have parent_id) and the qrels judge "
                 "documents: add --group-by parent_id\n");
  }

  eval::Run run;
  const auto start = std::chrono::steady_clock::now();
  for (const eval::Query* query : judged) {
    auto ranking = RankDocuments(*collection, query->text, settings);
    if (!ranking.ok()) {
      return absl::Status(ranking.status().code(),
                          absl::StrCat("query \"", query->id, "\": ", ranking.status().message()));
    }
    run[query->id] = *std::move(ranking);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double queries_per_second = seconds > 0 ? static_cast<double>(judged.size()) / seconds : 0;

  const eval::Metric metrics[] = {kNdcgAt10, kRecallAt100, kMrrAt10};
  EMBER_ASSIGN_OR_RETURN(const eval::Evaluation evaluation, eval::Evaluate(qrels, run, metrics));
  // Evaluate averages over the judged queries with a relevant document, counting those missing
  // from the queries file as empty rankings (trec_eval -c).
  const int64_t evaluated = static_cast<int64_t>(evaluation.per_query.size());
  if (invocation.format == Format::kJson) {
    PrintResult(stdout, invocation.format, "",
                json{{"queries", evaluated},
                     {"ndcg_at_10", evaluation.mean[0]},
                     {"recall_at_100", evaluation.mean[1]},
                     {"mrr_at_10", evaluation.mean[2]},
                     {"queries_per_s", queries_per_second}});
    return absl::OkStatus();
  }
  std::printf(
      "evaluated \"%s\" on %lld queries (k=%d%s) in %.1fs\n", name.c_str(),
      static_cast<long long>(evaluated), settings.k,
      settings.group_by.empty() ? "" : absl::StrCat(", grouped by ", settings.group_by).c_str(),
      seconds);
  if (evaluation.queries_missing_from_run > 0) {
    std::printf("(%lld judged queries are not in %s and score 0)\n",
                static_cast<long long>(evaluation.queries_missing_from_run), queries_path->c_str());
  }
  for (size_t i = 0; i < std::size(metrics); ++i) {
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
};

constexpr Verb kEvalVerbs[] = {
    {.name = "eval",
     .positionals = "COLL",
     .flag_synopsis = "--queries Q.jsonl --qrels QRELS [-k 100] [--group-by parent_id]",
     .summary = "retrieval quality on judged queries (nDCG@10, Recall@100, MRR@10)",
     .details =
         "Searches the collection (created with --model) with the text of every query that the\n"
         "qrels judge, and scores the rankings as trec_eval does. --json prints one object:\n"
         "queries, ndcg_at_10, recall_at_100, mrr_at_10, queries_per_s.\n"
         "  --queries FILE     BEIR queries.jsonl ({\"_id\", \"text\"} per line)\n"
         "  --qrels FILE       BEIR qrels/<split>.tsv, or JSON lines {\"query-id\", "
         "\"corpus-id\",\n"
         "                     \"score\"}\n"
         "  -k N               hits per query (default 100; Recall@100 needs 100)\n"
         "  --group-by ATTR    one hit per value of ATTR, judged as the document with that id:\n"
         "                     --group-by parent_id scores a chunked collection by documents\n",
     .flags = kEvalFlags,
     .run = RunEval},
};

}  // namespace

std::span<const Verb> EvalVerbs() { return kEvalVerbs; }

}  // namespace ember::cli
