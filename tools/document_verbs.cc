// The verbs that work on documents: import, search, get, delete.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ember/database.h"
#include "ember/filter.h"
#include "ember/status.h"
#include "nlohmann/json.hpp"
#include "tools/cli_args.h"
#include "tools/document_json.h"
#include "tools/jsonl_import.h"
#include "tools/output.h"
#include "tools/verbs.h"

namespace ember::cli {
namespace {

using json = nlohmann::ordered_json;

// Large enough for any sensible batch, small enough that one batch's documents fit in memory.
constexpr int kMaxBatchSize = 1000000;

absl::Status RunImport(const Invocation& invocation) {
  const ParsedArgs& args = invocation.args;
  ImportOptions options;
  options.batch_size = args.GetInteger("batch").value_or(options.batch_size);
  if (options.batch_size < 1 || options.batch_size > kMaxBatchSize) {
    return UsageError(
        absl::StrCat("--batch must be in [1, ", kMaxBatchSize, "], got ", options.batch_size));
  }
  const std::string& name = args.positionals()[0];
  const std::string& path = args.positionals()[1];
  EMBER_ASSIGN_OR_RETURN(
      auto database,
      OpenDatabase(invocation, {.create_if_missing = false, .sync_writes = !args.Has("no-sync")}));
  EMBER_ASSIGN_OR_RETURN(auto collection, OpenCollection(invocation, *database, name));

  const ImportReport report = ImportJsonLines(path, *collection, options);
  json summary = {{"collection", name},
                  {"imported", report.imported},
                  {"lines", report.lines_read},
                  {"seconds", report.seconds}};
  if (report.status.ok()) {
    const double rate =
        report.seconds > 0 ? static_cast<double>(report.imported) / report.seconds : 0;
    PrintResult(stdout, invocation.format,
                absl::StrFormat("imported %d document%s into \"%s\" in %.1fs (%.0f docs/s)",
                                report.imported, report.imported == 1 ? "" : "s", name,
                                report.seconds, rate),
                summary);
    return absl::OkStatus();
  }
  if (report.failed_batch_first_line == 0) return report.status;
  // Documents were committed batch by batch: say exactly what is in the collection now.
  summary["error"] = report.status.message();
  summary["failed_batch_first_line"] = report.failed_batch_first_line;
  if (invocation.format == Format::kJson) PrintResult(stdout, invocation.format, "", summary);
  return absl::Status(
      report.status.code(),
      absl::StrCat(report.status.message(), "\nimported ", report.imported,
                   " documents (the batches before line ", report.failed_batch_first_line,
                   "); nothing from the failing batch was written"));
}

absl::StatusOr<HitFields> ParseHitFields(const std::string& list) {
  HitFields fields{.id = false, .score = false, .text = false, .attributes = false};
  for (absl::string_view name : absl::StrSplit(list, ',')) {
    bool* field = name == "id"           ? &fields.id
                  : name == "score"      ? &fields.score
                  : name == "distance"   ? &fields.distance
                  : name == "text"       ? &fields.text
                  : name == "attributes" ? &fields.attributes
                  : name == "vector"     ? &fields.vector
                                         : nullptr;
    if (field == nullptr) {
      return UsageError(absl::StrCat("--fields: unknown field \"", name,
                                     "\" (fields are id, score, distance, text, attributes, "
                                     "vector)"));
    }
    *field = true;
  }
  return fields;
}

absl::Status RunSearch(const Invocation& invocation) {
  const ParsedArgs& args = invocation.args;
  std::optional<std::string> vector_text = args.GetString("vector");
  if (!vector_text) return UsageError("missing --vector '[x, y, ...]' (the query vector)");
  SearchRequest request;
  {
    auto parsed = ParseJson(*vector_text);
    if (!parsed.ok()) return UsageError(absl::StrCat("--vector: ", parsed.status().message()));
    auto vector = VectorFromJson(*parsed, "--vector");
    if (!vector.ok()) return UsageError(vector.status().message());
    request.vector = *std::move(vector);
  }
  request.k = args.GetInteger("k").value_or(request.k);
  request.ef_search = args.GetInteger("ef-search").value_or(request.ef_search);
  request.nprobe = args.GetInteger("nprobe").value_or(request.nprobe);
  if (auto text = args.GetString("filter")) {
    // A filter's syntax error is the operation failing (exit 1), its message giving the position.
    EMBER_ASSIGN_OR_RETURN(request.filter, ParseFilter(*text));
  }
  HitFields fields;
  if (auto list = args.GetString("fields")) {
    EMBER_ASSIGN_OR_RETURN(fields, ParseHitFields(*list));
  }
  request.include_text = fields.text;
  request.include_attributes = fields.attributes;
  request.include_vector = fields.vector;

  EMBER_ASSIGN_OR_RETURN(auto database, OpenDatabase(invocation, {.create_if_missing = false}));
  EMBER_ASSIGN_OR_RETURN(auto collection,
                         OpenCollection(invocation, *database, args.positionals()[0]));
  EMBER_ASSIGN_OR_RETURN(SearchResponse response, collection->Search(request));
  PrintSearchHits(stdout, invocation.format, response.hits, fields);
  if (args.Has("explain")) PrintSearchPlan(stdout, invocation.format, response.plan);
  return absl::OkStatus();
}

absl::Status RunGet(const Invocation& invocation) {
  const std::vector<std::string>& positionals = invocation.args.positionals();
  const std::vector<std::string> ids(positionals.begin() + 1, positionals.end());
  EMBER_ASSIGN_OR_RETURN(auto database, OpenDatabase(invocation, {.create_if_missing = false}));
  EMBER_ASSIGN_OR_RETURN(auto collection, OpenCollection(invocation, *database, positionals[0]));
  EMBER_ASSIGN_OR_RETURN(auto found, collection->Get(ids));
  std::vector<Document> documents;
  std::vector<std::string> missing;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (found[i]) {
      documents.push_back(*std::move(found[i]));
    } else {
      missing.push_back(absl::StrCat("\"", ids[i], "\""));
    }
  }
  PrintDocuments(stdout, invocation.format, documents);
  if (missing.empty()) return absl::OkStatus();
  return absl::NotFoundError(absl::StrCat("not found in collection \"", positionals[0],
                                          "\": ", absl::StrJoin(missing, ", ")));
}

absl::Status RunDelete(const Invocation& invocation) {
  const std::vector<std::string>& positionals = invocation.args.positionals();
  const std::vector<std::string> ids(positionals.begin() + 1, positionals.end());
  EMBER_ASSIGN_OR_RETURN(auto database, OpenDatabase(invocation, {.create_if_missing = false}));
  EMBER_ASSIGN_OR_RETURN(auto collection, OpenCollection(invocation, *database, positionals[0]));
  EMBER_ASSIGN_OR_RETURN(int64_t deleted, collection->Delete(ids));
  PrintResult(stdout, invocation.format,
              absl::StrCat("deleted ", deleted, " of ", ids.size(), " documents"),
              {{"deleted", deleted}, {"requested", ids.size()}});
  return absl::OkStatus();
}

constexpr FlagSpec kImportFlags[] = {
    {"batch", FlagKind::kInteger},
    {"no-sync", FlagKind::kSwitch},
};

constexpr FlagSpec kSearchFlags[] = {
    {"vector"},
    {"k", FlagKind::kInteger, 'k'},
    {"ef-search", FlagKind::kInteger},
    {"nprobe", FlagKind::kInteger},
    {"fields"},
    {"filter"},
    {"explain", FlagKind::kSwitch},
};

constexpr Verb kDocumentVerbs[] = {
    {.name = "import",
     .positionals = "COLL FILE",
     .flag_synopsis = "[--batch 1000] [--no-sync]",
     .summary = "load documents from a JSON-lines file (\"-\": standard input)",
     .details =
         "Each line is {\"id\", \"text\", \"attributes\", \"vector\"}, or a BEIR corpus line\n"
         "{\"_id\", \"title\", \"text\"}. Attributes are null, booleans, numbers, strings or "
         "lists\n"
         "of strings. Documents are written in atomic batches; a bad line stops the import,\n"
         "reported as FILE:LINE, and nothing of its batch is written.\n"
         "  --batch N     documents per atomic batch (default 1000)\n"
         "  --no-sync     do not sync each batch to disk: faster; a power loss may drop the\n"
         "                last batches (never part of one)\n",
     .flags = kImportFlags,
     .run = RunImport},
    {.name = "search",
     .positionals = "COLL",
     .flag_synopsis =
         "--vector '[x, y, ...]' [-k 10] [--filter EXPR] [--explain] [--ef-search N]\n"
         "       [--nprobe N] [--fields F,...]",
     .summary = "the documents nearest to a vector, best first",
     .details = "  --vector V      the query: a JSON array of numbers (required)\n"
                "  -k N            number of results (default 10)\n"
                "  --filter EXPR   only documents whose attributes match, e.g.\n"
                "                  \"year >= 2015 AND (genre = 'drama' OR tags CONTAINS 'x')\"\n"
                "  --explain       also print how the search ran (strategy, candidates, ...)\n"
                "  --ef-search N   hnsw: candidates for this query (default: the collection's)\n"
                "  --nprobe N      ivf: lists visited for this query (default: the collection's)\n"
                "  --fields F,...  of id, score, distance, text, attributes, vector\n"
                "                  (default id,score,text,attributes)\n",
     .flags = kSearchFlags,
     .run = RunSearch},
    {.name = "get",
     .positionals = "COLL ID...",
     .flag_synopsis = "",
     .summary = "print documents by id",
     .details = "",
     .flags = {},
     .run = RunGet},
    {.name = "delete",
     .positionals = "COLL ID...",
     .flag_synopsis = "",
     .summary = "delete documents by id (ids not present are ignored)",
     .details = "",
     .flags = {},
     .run = RunDelete},
};

}  // namespace

std::span<const Verb> DocumentVerbs() { return kDocumentVerbs; }

}  // namespace ember::cli
