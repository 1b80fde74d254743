// The verbs that work on documents: import, search, get, delete.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "embed/encoder.h"
#include "ember/database.h"
#include "ember/filter.h"
#include "ember/status.h"
#include "nlohmann/json.hpp"
#include "tools/cli_args.h"
#include "tools/document_json.h"
#include "tools/jsonl_import.h"
#include "tools/models_dir.h"
#include "tools/output.h"
#include "tools/search_mode_flags.h"
#include "tools/verbs.h"

namespace ember::cli {
namespace {

using json = nlohmann::ordered_json;

// Large enough for any sensible batch, small enough that one batch's documents fit in memory.
constexpr int kMaxBatchSize = 1000000;
// The default batch when the database embeds the texts: embedding dominates the cost of a batch,
// so smaller batches cost nothing and let the progress bar move every few seconds.
constexpr int kEmbeddingBatchSize = 256;

// The chunking `import` flags ask for, without its token counter; none without --chunk-tokens.
// UsageError for --overlap or --situated without --chunk-tokens and for values out of range.
absl::StatusOr<std::optional<ChunkingOptions>> ChunkingFromFlags(const ParsedArgs& args) {
  const std::optional<int> max_tokens = args.GetInteger("chunk-tokens");
  if (!max_tokens) {
    for (const char* flag : {"overlap", "situated"}) {
      if (args.Has(flag)) {
        return UsageError(absl::StrCat("--", flag, " applies with --chunk-tokens only"));
      }
    }
    return std::nullopt;
  }
  ChunkingOptions chunking{.situated = args.Has("situated")};
  chunking.chunk.max_tokens = *max_tokens;
  // An eighth of the budget, like the chunker's own default (32 of 256).
  chunking.chunk.overlap_tokens = args.GetInteger("overlap").value_or(*max_tokens / 8);
  if (chunking.chunk.max_tokens < 1) {
    return UsageError(absl::StrCat("--chunk-tokens must be at least 1, got ", *max_tokens));
  }
  if (chunking.chunk.overlap_tokens < 0 || chunking.chunk.overlap_tokens >= *max_tokens) {
    return UsageError(absl::StrCat("--overlap must be in [0, --chunk-tokens), got ",
                                   chunking.chunk.overlap_tokens));
  }
  return chunking;
}

// Sets chunking.count_tokens to count as `collection`'s document model does, loading the model
// resolved as the database resolves it. FailedPrecondition on a collection without an encoder;
// the model's loading errors.
absl::Status LoadTokenCounter(const Collection& collection, ChunkingOptions& chunking) {
  const CollectionSpec& spec = collection.spec();
  if (!spec.encoder) {
    return WithHint(absl::FailedPreconditionError(absl::StrCat(
                        "collection \"", spec.name,
                        "\" has no encoder: chunks are texts for the collection's model to embed")),
                    "create the collection with --model MODEL to import chunked texts");
  }
  EMBER_ASSIGN_OR_RETURN(const std::string folder,
                         ResolveModelName(spec.encoder->model, FindModelsDir()));
  EMBER_ASSIGN_OR_RETURN(std::shared_ptr<const embed::Encoder> encoder, embed::LoadEncoder(folder));
  chunking.count_tokens = [encoder](std::string_view text) { return encoder->CountTokens(text); };
  return absl::OkStatus();
}

absl::Status RunImport(const Invocation& invocation) {
  const ParsedArgs& args = invocation.args;
  if (std::optional<int> batch = args.GetInteger("batch");
      batch && (*batch < 1 || *batch > kMaxBatchSize)) {
    return UsageError(absl::StrCat("--batch must be in [1, ", kMaxBatchSize, "], got ", *batch));
  }
  ImportOptions options;
  EMBER_ASSIGN_OR_RETURN(options.chunking, ChunkingFromFlags(args));
  const std::string& name = args.positionals()[0];
  const std::string& path = args.positionals()[1];
  EMBER_ASSIGN_OR_RETURN(
      auto database,
      OpenDatabase(invocation, {.create_if_missing = false, .sync_writes = !args.Has("no-sync")}));
  EMBER_ASSIGN_OR_RETURN(auto collection, OpenCollection(invocation, *database, name));
  if (collection->spec().encoder) options.batch_size = kEmbeddingBatchSize;
  options.batch_size = args.GetInteger("batch").value_or(options.batch_size);
  if (options.chunking) {
    EMBER_RETURN_IF_ERROR(LoadTokenCounter(*collection, *options.chunking));
  }

  const ImportReport report = ImportJsonLines(path, *collection, options);
  json summary = {{"collection", name},
                  {"imported", report.imported},
                  {"lines", report.lines_read},
                  {"seconds", report.seconds}};
  if (options.chunking) summary["chunks"] = report.stored;
  if (report.status.ok()) {
    const double rate =
        report.seconds > 0 ? static_cast<double>(report.imported) / report.seconds : 0;
    const std::string chunks =
        options.chunking ? absl::StrCat(" as ", report.stored, " chunks") : "";
    PrintResult(stdout, invocation.format,
                absl::StrFormat("imported %d document%s%s into \"%s\" in %.1fs (%.0f docs/s)",
                                report.imported, report.imported == 1 ? "" : "s", chunks, name,
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
  SearchRequest request;
  EMBER_RETURN_IF_ERROR(ApplySearchModeFlags(args, request));
  std::optional<std::string> vector_text = args.GetString("vector");
  std::optional<std::string> query_text = args.GetString("text");
  // Both only in hybrid mode, where each feeds its own side; elsewhere one would be ignored.
  if (vector_text && query_text && request.mode != SearchMode::kHybrid) {
    return UsageError(
        "give either --text or --vector, not both (both only with --mode hybrid: the vector for "
        "the vector side, the text for the text side)");
  }
  if (!vector_text && !query_text) {
    return UsageError("missing --text \"...\" (a query) or --vector '[x, y, ...]'");
  }
  if (query_text) {
    if (query_text->empty()) return UsageError("--text is empty");
    request.text = *std::move(query_text);
  }
  if (vector_text) {
    auto parsed = ParseJson(*vector_text);
    if (!parsed.ok()) return UsageError(absl::StrCat("--vector: ", parsed.status().message()));
    auto vector = VectorFromJson(*parsed, "--vector");
    if (!vector.ok()) return UsageError(vector.status().message());
    request.vector = *std::move(vector);
  }
  request.group_by = args.GetString("group-by").value_or("");
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
  const CollectionSpec spec = collection->spec();
  const SearchMode resolved = ResolveSearchMode(request.mode, spec, !request.text.empty());
  EMBER_RETURN_IF_ERROR(CheckFusionFlagsApply(args, resolved));
  const bool text_side = resolved == SearchMode::kText || resolved == SearchMode::kHybrid;
  if (text_side && request.text.empty() && spec.full_text.enabled) {
    return UsageError(absl::StrCat(
        SearchModeName(resolved), " search needs --text \"...\"",
        spec.dimension == 0
            ? absl::StrCat(": collection \"", spec.name, "\" is text-only, searched by words")
            : " (its words are looked up in the full-text index)"));
  }
  // The vector side needs the text embedded when no vector is given. (A text-only collection has
  // no vector side at all, which the search itself reports.)
  const bool vector_side = resolved == SearchMode::kVector || resolved == SearchMode::kHybrid;
  if (vector_side && request.vector.empty() && !spec.encoder && spec.dimension > 0) {
    return WithHint(
        absl::FailedPreconditionError(
            absl::StrCat("collection \"", spec.name, "\" has no encoder to embed --text")),
        spec.full_text.enabled
            ? "search it by words with --mode text, or give the vector side its query with "
              "--vector '[x, y, ...]' (with --mode hybrid to combine them)"
            : "search it with --vector '[x, y, ...]', or create a collection with --model MODEL");
  }
  auto response = collection->Search(request);
  if (!response.ok()) return WithSearchModeHint(response.status(), spec, request.mode);
  // Each side's rank and score explain a fused ranking; in one-sided modes they repeat the score.
  if (response->plan.mode == SearchModeName(SearchMode::kHybrid)) {
    fields.sides = invocation.format == Format::kJson || args.Has("explain");
  }
  PrintSearchHits(stdout, invocation.format, response->hits, fields);
  if (args.Has("explain")) PrintSearchPlan(stdout, invocation.format, response->plan);
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
    {"batch", FlagKind::kInteger},        {"no-sync", FlagKind::kSwitch},
    {"chunk-tokens", FlagKind::kInteger}, {"overlap", FlagKind::kInteger},
    {"situated", FlagKind::kSwitch},
};

constexpr FlagSpec kSearchFlags[] = {
    {"text"},
    {"vector"},
    {"group-by"},
    {"k", FlagKind::kInteger, 'k'},
    {"ef-search", FlagKind::kInteger},
    {"nprobe", FlagKind::kInteger},
    {"fields"},
    {"filter"},
    {"explain", FlagKind::kSwitch},
    kModeFlag,
    kFusionFlag,
    kRankConstantFlag,
    kVectorWeightFlag,
    kFusionDepthFlag,
};

constexpr Verb kDocumentVerbs[] = {
    {.name = "import",
     .positionals = "COLL FILE",
     .flag_synopsis = "[--batch N] [--no-sync] [--chunk-tokens N [--overlap M] [--situated]]",
     .summary = "load documents from a JSON-lines file (\"-\": standard input)",
     .details =
         "Each line is {\"id\", \"text\", \"attributes\", \"vector\"}, or a BEIR corpus line\n"
         "{\"_id\", \"title\", \"text\"} (text = title + \" \" + text; the title is also kept as\n"
         "the attribute \"title\"). On a collection created with --model, a line may leave out\n"
         "\"vector\": the database embeds its text; on a text-only one (--full-text alone), a\n"
         "line has no vector. Attributes are null, booleans, numbers,\n"
         "strings or lists of strings. Documents are written in atomic batches; a bad line\n"
         "stops the import, reported as FILE:LINE, and nothing of its batch is written.\n"
         "  --batch N          documents per atomic batch (default 1000; 256 when the\n"
         "                     collection embeds the texts)\n"
         "  --no-sync          do not sync each batch to disk: faster; a power loss may drop\n"
         "                     the last batches (never part of one)\n"
         "  --chunk-tokens N   store each document as chunks of at most N tokens of the\n"
         "                     collection's model, cut at sentence ends: ids ID#0, ID#1, ...\n"
         "                     with the attributes parent_id, chunk_index, chunk_begin and\n"
         "                     chunk_end (byte offsets into the document's text) besides the\n"
         "                     document's own. Search them with --group-by parent_id.\n"
         "                     Re-importing a document that now has fewer chunks leaves its\n"
         "                     old extra chunks in place.\n"
         "  --overlap M        tokens repeated between neighbouring chunks (default N/8)\n"
         "  --situated         put the title in front of every chunk (title + newline +\n"
         "                     chunk), so that each is embedded knowing its document\n",
     .flags = kImportFlags,
     .run = RunImport},
    {.name = "search",
     .positionals = "COLL",
     .flag_synopsis =
         "--text \"...\" | --vector '[x, y, ...]' [-k 10] [--filter EXPR] [--group-by ATTR]\n"
         "       [--mode auto|vector|text|hybrid] [--fusion weighted|rrf] [--vector-weight 0.2]\n"
         "       [--rank-constant 60] [--fusion-depth N] [--explain] [--ef-search N]\n"
         "       [--nprobe N] [--fields F,...]",
     .summary = "find documents by a text (meaning, words or both) or a vector",
     .details =
         "  --text T         the query as text: embedded with the collection's query model\n"
         "                   (collections created with --model), and its words looked up\n"
         "                   in the full-text index (collections created with --full-text)\n"
         "  --vector V       the query as a JSON array of numbers\n"
         "  -k N             number of results (default 10)\n"
         "  --mode M         which index answers: vector (nearest vectors), text (BM25 over\n"
         "                   the full-text index: only documents holding a query word),\n"
         "                   hybrid (both, fused), or auto (default): hybrid for --text on a\n"
         "                   collection with vectors and full text, text on a text-only\n"
         "                   collection, vector otherwise. --mode hybrid also takes both\n"
         "                   --text and --vector (a collection without a model)\n"
         "  --fusion F       how hybrid merges its two rankings: weighted (default; each\n"
         "                   side's scores scaled to [0, 1], then mixed) or rrf (reciprocal\n"
         "                   rank: sum of 1 / (rank constant + rank))\n"
         "  --vector-weight W  weighted: the vector side's weight in [0, 1], the text side\n"
         "                   gets the rest (default 0.2: BM25 leads, as the default static\n"
         "                   encoder is weaker than BM25; raise it for a trained model)\n"
         "  --rank-constant C  rrf: larger flattens the top ranks' lead (default 60)\n"
         "  --fusion-depth N hits each side contributes before fusion\n"
         "                   (default: k, and at least 100)\n"
         "  --filter EXPR    only documents whose attributes match, e.g.\n"
         "                   \"year >= 2015 AND (genre = 'drama' OR tags CONTAINS 'x')\"\n"
         "  --group-by ATTR  one result per value of ATTR, the best of each (e.g. the best\n"
         "                   chunk of each document: --group-by parent_id); k counts groups\n"
         "  --explain        also print how the search ran (mode, strategy, candidates,\n"
         "                   query terms, fusion, ...) and, in hybrid mode, each hit's rank\n"
         "                   and score on the vector side and on the text (bm25) side\n"
         "  --ef-search N    hnsw: candidates for this query (default: the collection's)\n"
         "  --nprobe N       ivf: lists visited for this query (default: the collection's)\n"
         "  --fields F,...   of id, score, distance, text, attributes, vector\n"
         "                   (default id,score,text,attributes)\n",
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
