// The verbs that manage collections: create, reembed, drop, collections, stats.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "ember/database.h"
#include "ember/status.h"
#include "nlohmann/json.hpp"
#include "tools/cli_args.h"
#include "tools/models_dir.h"
#include "tools/output.h"
#include "tools/progress_bar.h"
#include "tools/verbs.h"

namespace ember::cli {
namespace {

using json = nlohmann::ordered_json;

// The library's parsers name the accepted values; a wrong value is a command-line mistake.
template <typename T>
absl::StatusOr<T> ParseFlagValue(absl::StatusOr<T> parsed, absl::string_view flag) {
  if (parsed.ok()) return parsed;
  return UsageError(absl::StrCat(flag, ": ", parsed.status().message()));
}

// Copies an index parameter flag into `target`, refusing it when the chosen index kind has no use
// for it: a silently ignored `--m` would leave the user believing it took effect.
absl::Status ApplyIndexFlag(const ParsedArgs& args, const char* flag, IndexKind owner,
                            IndexKind chosen, int& target) {
  std::optional<int> value = args.GetInteger(flag);
  if (!value) return absl::OkStatus();
  if (owner != chosen) {
    return UsageError(
        absl::StrCat("--", flag, " applies to --index ", IndexKindName(owner), " only"));
  }
  target = *value;
  return absl::OkStatus();
}

// Parses one `--attribute NAME:TYPE[:noindex]`. UsageError naming the flag's value for a missing
// name or type, an unknown type, or a third part other than "noindex".
absl::StatusOr<AttributeSpec> ParseAttributeFlag(const std::string& value) {
  const std::vector<std::string> parts = absl::StrSplit(value, ':');
  const std::string context = absl::StrCat("--attribute \"", value, "\"");
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty()) {
    return UsageError(absl::StrCat(context, ": expected NAME:TYPE or NAME:TYPE:noindex"));
  }
  if (parts.size() == 3 && parts[2] != "noindex") {
    return UsageError(absl::StrCat(context, ": the third part can only be \"noindex\""));
  }
  AttributeSpec attribute{.name = parts[0], .indexed = parts.size() == 2};
  EMBER_ASSIGN_OR_RETURN(attribute.type, ParseFlagValue(ParseAttributeType(parts[1]), context));
  return attribute;
}

// The flags that only mean something with --model.
constexpr const char* kEncoderOnlyFlags[] = {"query-model", "query-prompt", "document-prompt",
                                             "truncate-dim"};

// The encoder the create flags ask for: none without --model. UsageError for an encoder flag
// given without --model.
absl::StatusOr<std::optional<EncoderSpec>> EncoderFromFlags(const ParsedArgs& args) {
  std::optional<std::string> model = args.GetString("model");
  if (!model) {
    for (const char* flag : kEncoderOnlyFlags) {
      if (args.Has(flag)) return UsageError(absl::StrCat("--", flag, " applies with --model only"));
    }
    return std::nullopt;
  }
  EncoderSpec encoder{.model = *std::move(model),
                      .query_model = args.GetString("query-model").value_or(""),
                      .query_prompt = args.GetString("query-prompt"),
                      .document_prompt = args.GetString("document-prompt"),
                      .truncate_dim = args.GetInteger("truncate-dim").value_or(0)};
  return encoder;
}

// Resolves every model `encoder` names before anything is opened, so that a missing model fails
// with the command's hint rather than after work has begun.
absl::Status CheckModelsExist(const EncoderSpec& encoder, const std::string& models_dir) {
  for (const std::string* model : {&encoder.model, &encoder.query_model}) {
    if (!model->empty()) EMBER_RETURN_IF_ERROR(ResolveModelName(*model, models_dir).status());
  }
  return absl::OkStatus();
}

// The flags that only mean something with --full-text.
constexpr const char* kFullTextOnlyFlags[] = {"full-text-attribute", "stemmer", "keep-stop-words",
                                              "k1", "b"};

// The full-text index the create flags ask for: off without --full-text. UsageError for a
// full-text flag given without --full-text. The attributes named must be declared with
// --attribute (ValidateCollectionSpec says so otherwise).
absl::StatusOr<FullTextSpec> FullTextFromFlags(const ParsedArgs& args) {
  FullTextSpec full_text;
  if (!args.Has("full-text")) {
    for (const char* flag : kFullTextOnlyFlags) {
      if (args.Has(flag))
        return UsageError(absl::StrCat("--", flag, " applies with --full-text only"));
    }
    return full_text;
  }
  full_text.enabled = true;
  full_text.attributes = args.GetAll("full-text-attribute");
  full_text.stemmer = args.GetString("stemmer").value_or(full_text.stemmer);
  full_text.remove_stop_words = !args.Has("keep-stop-words");
  full_text.k1 = args.GetNumber("k1").value_or(full_text.k1);
  full_text.b = args.GetNumber("b").value_or(full_text.b);
  return full_text;
}

absl::Status RunCreate(const Invocation& invocation) {
  const ParsedArgs& args = invocation.args;
  CollectionSpec spec;
  spec.name = args.positionals()[0];
  EMBER_ASSIGN_OR_RETURN(spec.encoder, EncoderFromFlags(args));
  EMBER_ASSIGN_OR_RETURN(spec.full_text, FullTextFromFlags(args));
  std::optional<int> dimension = args.GetInteger("dim");
  if (!dimension && !spec.encoder && !spec.full_text.enabled) {
    return UsageError(
        "missing --model MODEL (to embed texts), --dim N (the vectors' number of components) or "
        "--full-text (a text-only collection, searched by words)");
  }
  const bool text_only = !dimension && !spec.encoder;
  if (text_only) {
    // A vector index setting on a collection without vectors would be silently ignored.
    for (const char* flag :
         {"metric", "index", "m", "ef-construction", "ef-search", "nlist", "nprobe"}) {
      if (args.Has(flag)) {
        return UsageError(absl::StrCat("--", flag,
                                       " applies to vectors, and a collection created with "
                                       "--full-text alone is text-only (add --model or --dim)"));
      }
    }
  }
  // With a model, 0 stands for the model's dimension; a given --dim is checked against it. Without
  // one, 0 makes a text-only collection.
  spec.dimension = dimension.value_or(0);
  if (auto name = args.GetString("metric")) {
    EMBER_ASSIGN_OR_RETURN(spec.metric, ParseFlagValue(ParseMetric(*name), "--metric"));
  }
  if (auto name = args.GetString("index")) {
    EMBER_ASSIGN_OR_RETURN(spec.index.kind, ParseFlagValue(ParseIndexKind(*name), "--index"));
  }
  const IndexKind kind = spec.index.kind;
  EMBER_RETURN_IF_ERROR(ApplyIndexFlag(args, "m", IndexKind::kHnsw, kind, spec.index.hnsw.m));
  EMBER_RETURN_IF_ERROR(ApplyIndexFlag(args, "ef-construction", IndexKind::kHnsw, kind,
                                       spec.index.hnsw.ef_construction));
  EMBER_RETURN_IF_ERROR(
      ApplyIndexFlag(args, "ef-search", IndexKind::kHnsw, kind, spec.index.hnsw.ef_search));
  EMBER_RETURN_IF_ERROR(ApplyIndexFlag(args, "nlist", IndexKind::kIvf, kind, spec.index.ivf.nlist));
  EMBER_RETURN_IF_ERROR(
      ApplyIndexFlag(args, "nprobe", IndexKind::kIvf, kind, spec.index.ivf.nprobe));
  for (const std::string& value : args.GetAll("attribute")) {
    EMBER_ASSIGN_OR_RETURN(AttributeSpec attribute, ParseAttributeFlag(value));
    spec.attributes.push_back(std::move(attribute));
  }
  // Checked before opening so that a bad spec, or a model that is not there, does not create an
  // empty database folder.
  EMBER_RETURN_IF_ERROR(ValidateCollectionSpec(spec));
  const std::string models_dir = FindModelsDir();
  if (spec.encoder) EMBER_RETURN_IF_ERROR(CheckModelsExist(*spec.encoder, models_dir));

  EMBER_ASSIGN_OR_RETURN(auto database, OpenDatabase(invocation, {.create_if_missing = true,
                                                                  .models_dir = models_dir}));
  EMBER_ASSIGN_OR_RETURN(auto collection, database->CreateCollection(spec));
  const CollectionSpec created = collection->spec();
  std::string message = absl::StrCat("created collection \"", created.name, "\": ");
  if (created.dimension > 0) {
    absl::StrAppend(&message, "dimension ", created.dimension, ", ", MetricName(created.metric),
                    ", ", DescribeIndex(created.index));
  } else {
    absl::StrAppend(&message, "text-only");
  }
  if (created.encoder) absl::StrAppend(&message, ", ", DescribeEncoder(*created.encoder));
  if (created.full_text.enabled) {
    absl::StrAppend(&message, ", full text (", DescribeFullText(created.full_text), ")");
  }
  PrintResult(stdout, invocation.format, message, SpecToJson(created));
  return absl::OkStatus();
}

absl::Status RunReembed(const Invocation& invocation) {
  const ParsedArgs& args = invocation.args;
  const std::string& name = args.positionals()[0];
  EMBER_ASSIGN_OR_RETURN(std::optional<EncoderSpec> encoder, EncoderFromFlags(args));
  if (!encoder) return UsageError("missing --model MODEL: the model to embed the texts with");
  const std::string models_dir = FindModelsDir();
  EMBER_RETURN_IF_ERROR(CheckModelsExist(*encoder, models_dir));
  EMBER_ASSIGN_OR_RETURN(auto database, OpenDatabase(invocation, {.create_if_missing = false,
                                                                  .models_dir = models_dir}));
  const auto start = std::chrono::steady_clock::now();
  std::optional<ProgressBar> progress;
  int64_t documents = 0;
  EMBER_RETURN_IF_ERROR(
      database->ReembedCollection(name, *encoder, {.progress = [&](int64_t done, int64_t total) {
                                    // The bar counts documents where an import counts bytes.
                                    if (!progress)
                                      progress.emplace(stderr, total, isatty(fileno(stderr)) != 0);
                                    progress->Update(done, done);
                                    documents = total;
                                  }}));
  if (progress) progress->Finish();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EMBER_ASSIGN_OR_RETURN(auto collection, OpenCollection(invocation, *database, name));
  const CollectionSpec spec = collection->spec();
  PrintResult(stdout, invocation.format,
              absl::StrFormat("re-embedded %d documents of \"%s\" in %.1fs (%.0f docs/s): %s, "
                              "dimension %d",
                              documents, name, seconds, seconds > 0 ? documents / seconds : 0.0,
                              DescribeEncoder(*spec.encoder), spec.dimension),
              {{"collection", name},
               {"documents", documents},
               {"seconds", seconds},
               {"spec", SpecToJson(spec)}});
  return absl::OkStatus();
}

absl::Status RunDrop(const Invocation& invocation) {
  const std::string& name = invocation.args.positionals()[0];
  EMBER_ASSIGN_OR_RETURN(auto database, OpenDatabase(invocation, {.create_if_missing = false}));
  EMBER_RETURN_IF_ERROR(OpenCollection(invocation, *database, name).status());
  EMBER_RETURN_IF_ERROR(database->DropCollection(name));
  PrintResult(stdout, invocation.format, absl::StrCat("dropped collection \"", name, "\""),
              {{"dropped", name}});
  return absl::OkStatus();
}

absl::Status RunCollections(const Invocation& invocation) {
  EMBER_ASSIGN_OR_RETURN(auto database, OpenDatabase(invocation, {.create_if_missing = false}));
  std::vector<CollectionSummary> summaries;
  for (CollectionSpec& spec : database->ListCollections()) {
    EMBER_ASSIGN_OR_RETURN(auto collection, OpenCollection(invocation, *database, spec.name));
    summaries.push_back({.spec = std::move(spec), .document_count = collection->Count()});
  }
  PrintCollections(stdout, invocation.format, summaries);
  return absl::OkStatus();
}

absl::Status RunStats(const Invocation& invocation) {
  EMBER_ASSIGN_OR_RETURN(auto database, OpenDatabase(invocation, {.create_if_missing = false}));
  std::vector<std::string> names;
  if (invocation.args.positionals().empty()) {
    for (const CollectionSpec& spec : database->ListCollections()) names.push_back(spec.name);
    if (names.empty() && invocation.format == Format::kHuman) std::printf("no collections\n");
  } else {
    names.push_back(invocation.args.positionals()[0]);
  }
  for (size_t i = 0; i < names.size(); ++i) {
    EMBER_ASSIGN_OR_RETURN(auto collection, OpenCollection(invocation, *database, names[i]));
    if (i > 0 && invocation.format == Format::kHuman) std::printf("\n");
    PrintCollectionStats(stdout, invocation.format, collection->spec(), collection->Stats());
  }
  return absl::OkStatus();
}

constexpr FlagSpec kCreateFlags[] = {
    {"model"},
    {"query-model"},
    {"query-prompt"},
    {"document-prompt"},
    {"truncate-dim", FlagKind::kInteger},
    {"dim", FlagKind::kInteger},
    {"metric"},
    {"index"},
    {"m", FlagKind::kInteger},
    {"ef-construction", FlagKind::kInteger},
    {"ef-search", FlagKind::kInteger},
    {"nlist", FlagKind::kInteger},
    {"nprobe", FlagKind::kInteger},
    {"attribute", FlagKind::kRepeated},
    {"full-text", FlagKind::kSwitch},
    {"full-text-attribute", FlagKind::kRepeated},
    {"stemmer"},
    {"keep-stop-words", FlagKind::kSwitch},
    {"k1", FlagKind::kNumber},
    {"b", FlagKind::kNumber},
};

constexpr FlagSpec kReembedFlags[] = {
    {"model"},
    {"query-model"},
    {"query-prompt"},
    {"document-prompt"},
    {"truncate-dim", FlagKind::kInteger},
};

constexpr Verb kCollectionVerbs[] = {
    {.name = "create",
     .positionals = "COLL",
     .flag_synopsis =
         "(--model MODEL [model options] | --dim N) [--full-text [full-text options]]\n"
         "       [--metric cosine|ip|l2] [--index hnsw|ivf|flat] [index options]\n"
         "       [--attribute NAME:TYPE[:noindex]]...     (--full-text alone: text-only)",
     .summary = "create a collection (and the database folder when missing)",
     .details =
         "  --model MODEL         embed texts with this model: imported lines may be texts\n"
         "                        without vectors, and `search --text` embeds the query.\n"
         "                        A model folder, ORG/NAME[@REV] of a model `ember model\n"
         "                        pull` fetched, or a name in the models folder: `default`\n"
         "                        is models/default of the repository ($EMBER_MODELS_DIR\n"
         "                        overrides the folder). Later opens check it is unchanged.\n"
         "  --query-model MODEL   embed queries with another model of the same space\n"
         "  --query-prompt P      text put before each query (default: the model's)\n"
         "  --document-prompt P   text put before each document (default: the model's)\n"
         "  --truncate-dim N      keep the first N components (Matryoshka models)\n"
         "  --dim N               components per vector: required without --model; with it,\n"
         "                        checked against the model's\n"
         "  --metric M            cosine (default), ip (inner product) or l2\n"
         "  --index K             hnsw (default), ivf or flat (exact)\n"
         "  --m N                 hnsw: neighbours per node (default 32)\n"
         "  --ef-construction N   hnsw: candidates while inserting (default 200)\n"
         "  --ef-search N         hnsw: candidates while searching (default 64)\n"
         "  --nlist N             ivf: inverted lists (default 1024)\n"
         "  --nprobe N            ivf: lists visited per query (default 32)\n"
         "  --attribute N:T       declare attribute N of type T (bool, int, double, string,\n"
         "                        list): type-checked on import and indexed for --filter;\n"
         "                        N:T:noindex declares it without an index. Repeatable.\n"
         "  --full-text           also keep a full-text (BM25) index of each document's text,\n"
         "                        for `search --mode text|hybrid`: with --model, searches by\n"
         "                        text then run hybrid by default. Alone (no --model, no\n"
         "                        --dim), a text-only collection: no vectors, search by words\n"
         "  --full-text-attribute N  index the values of attribute N (declared string or list)\n"
         "                        as more words of the document, e.g. a title. Repeatable.\n"
         "  --stemmer S           porter (default), english (Porter2), french, german, ...,\n"
         "                        or none; fixed at creation\n"
         "  --keep-stop-words     index \"the\", \"of\", ... too (default: dropped)\n"
         "  --k1 X                BM25 term-frequency saturation (default 0.9)\n"
         "  --b Y                 BM25 length normalization in [0, 1] (default 0.4)\n",
     .flags = kCreateFlags,
     .run = RunCreate},
    {.name = "reembed",
     .positionals = "COLL",
     .flag_synopsis =
         "--model MODEL [--query-model MODEL] [--query-prompt P] [--document-prompt P]\n"
         "       [--truncate-dim N]",
     .summary = "embed every stored text again with another model, atomically",
     .details = "  Builds a new index from the stored texts with the new model(s) and swaps it in\n"
                "  with the new model in one step: searches keep working on the old index\n"
                "  meanwhile (writes wait), and a crash leaves either the old or the new model in\n"
                "  force. The way back in when `create`'s model changed and the collection no\n"
                "  longer opens. Every document must have a text. Flags as for `create`; the\n"
                "  dimension follows the new model.\n",
     .flags = kReembedFlags,
     .run = RunReembed},
    {.name = "drop",
     .positionals = "COLL",
     .flag_synopsis = "",
     .summary = "delete a collection and all its documents",
     .details = "",
     .flags = {},
     .run = RunDrop},
    {.name = "collections",
     .positionals = "",
     .flag_synopsis = "",
     .summary = "list the collections with their settings and sizes",
     .details = "",
     .flags = {},
     .run = RunCollections},
    {.name = "stats",
     .positionals = "[COLL]",
     .flag_synopsis = "",
     .summary = "statistics of one collection, or of all",
     .details = "",
     .flags = {},
     .run = RunStats},
};

}  // namespace

std::span<const Verb> CollectionVerbs() { return kCollectionVerbs; }

absl::StatusOr<std::unique_ptr<Database>> OpenDatabase(const Invocation& invocation,
                                                       DatabaseOptions options) {
  options.read_only = invocation.read_only;
  if (options.models_dir.empty()) options.models_dir = FindModelsDir();
  auto database = Database::Open(invocation.database_path, options);
  if (database.ok()) return database;
  const std::string& path = invocation.database_path;
  switch (database.status().code()) {
    case absl::StatusCode::kUnavailable:
      return WithHint(database.status(),
                      absl::StrCat("another process has ", path,
                                   " open for writing; close it or use --read-only"));
    case absl::StatusCode::kNotFound:
      return WithHint(database.status(),
                      absl::StrCat("check the path, or create the database with `ember ", path,
                                   " create COLL --model MODEL` (or --dim N)"));
    default:
      return database.status();
  }
}

absl::StatusOr<std::shared_ptr<Collection>> OpenCollection(const Invocation& invocation,
                                                           const Database& database,
                                                           const std::string& name) {
  auto collection = database.GetCollection(name);
  if (collection.status().code() == absl::StatusCode::kNotFound) {
    return WithHint(
        absl::NotFoundError(
            absl::StrCat("collection \"", name, "\" not found in ", invocation.database_path)),
        absl::StrCat("`ember ", invocation.database_path, " collections` lists the collections"));
  }
  return collection;
}

}  // namespace ember::cli
