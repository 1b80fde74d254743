// The verb without a database: `ember embed MODEL`, which turns texts into vectors with the
// in-process encoder (embed/), for `ember DB search --vector` and `ember DB import`.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "embed/encoder.h"
#include "embed/model_hub.h"
#include "ember/status.h"
#include "nlohmann/json.hpp"
#include "tools/cli_args.h"
#include "tools/document_json.h"
#include "tools/models_dir.h"
#include "tools/output.h"
#include "tools/verbs.h"

namespace ember::cli {
namespace {

using json = nlohmann::ordered_json;

// Lines embedded per Encoder::Embed call in --jsonl mode: large enough to keep the encoder busy,
// small enough that a batch's lines stay a few megabytes.
constexpr size_t kJsonlBatchLines = 256;

// The text a JSON-lines line gives to embed, by document_json.h's rule: "text", or BEIR's
// title + " " + text. InvalidArgument naming `where` when there is no non-empty string text.
absl::StatusOr<std::string> TextOfLine(const json& line, const std::string& where) {
  if (!line.is_object()) return absl::InvalidArgumentError(absl::StrCat(where, ": not an object"));
  std::string text;
  for (const char* field : {"title", "text"}) {
    auto it = line.find(field);
    if (it == line.end() || it->is_null()) continue;
    if (!it->is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": \"", field, "\" must be a string"));
    }
    const std::string& part = it->get_ref<const std::string&>();
    if (part.empty()) continue;
    if (!text.empty()) text += ' ';
    text += part;
  }
  if (text.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": no text to embed (expected a non-empty \"text\" or \"title\")"));
  }
  return text;
}

// Embeds `lines`' texts and writes each line with its "vector" field set.
absl::Status EmbedAndWrite(const embed::Encoder& encoder, embed::EmbedRole role,
                           std::vector<json>& lines, std::vector<std::string>& texts) {
  if (lines.empty()) return absl::OkStatus();
  EMBER_ASSIGN_OR_RETURN(std::vector<float> vectors, encoder.Embed(texts, role));
  const size_t dimension = static_cast<size_t>(encoder.dimension());
  for (size_t i = 0; i < lines.size(); ++i) {
    lines[i]["vector"] = VectorToJson(std::vector<float>(
        vectors.begin() + i * dimension, vectors.begin() + (i + 1) * dimension));
    std::fprintf(stdout, "%s\n", DumpJson(lines[i]).c_str());
  }
  lines.clear();
  texts.clear();
  return absl::OkStatus();
}

// Reads JSON lines from `path` ("-": standard input) and writes each back with a "vector" field.
// Lines are checked and embedded batch by batch, so a bad line stops the output at its batch.
absl::Status EmbedJsonLines(const embed::Encoder& encoder, embed::EmbedRole role,
                            const std::string& path) {
  std::ifstream file;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  }
  std::istream& in = path == "-" ? std::cin : file;
  std::vector<json> lines;
  std::vector<std::string> texts;
  std::string text;
  for (int64_t number = 1; std::getline(in, text); ++number) {
    if (!text.empty() && text.back() == '\r') text.pop_back();
    if (number == 1 && text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);
    if (text.find_first_not_of(" \t") == std::string::npos) continue;
    const std::string where = absl::StrCat(path == "-" ? "<stdin>" : path, ":", number);
    // ordered_json keeps the line's fields in their order; ParseJson explains a malformed line.
    json line = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (line.is_discarded()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", ParseJson(text).status().message()));
    }
    EMBER_ASSIGN_OR_RETURN(std::string line_text, TextOfLine(line, where));
    lines.push_back(std::move(line));
    texts.push_back(std::move(line_text));
    if (lines.size() == kJsonlBatchLines) {
      EMBER_RETURN_IF_ERROR(EmbedAndWrite(encoder, role, lines, texts));
    }
  }
  if (in.bad()) return absl::DataLossError(absl::StrCat("error reading ", path));
  return EmbedAndWrite(encoder, role, lines, texts);
}

absl::Status RunEmbed(const Invocation& invocation) {
  const ParsedArgs& args = invocation.args;
  const std::vector<std::string>& positionals = args.positionals();
  const std::vector<std::string> texts(positionals.begin() + 1, positionals.end());
  const std::optional<std::string> jsonl = args.GetString("jsonl");
  if (jsonl && !texts.empty()) return UsageError("give either TEXT arguments or --jsonl FILE");
  if (!jsonl && texts.empty()) return UsageError("missing TEXT (or --jsonl FILE)");

  // A folder, a name in the models folder ("default"), or a hub id that `ember model pull` put in
  // the Hugging Face cache: resolved as collections resolve it, without network.
  EMBER_ASSIGN_OR_RETURN(const std::string model_dir,
                         ResolveModelName(positionals[0], FindModelsDir()));
  EMBER_ASSIGN_OR_RETURN(std::unique_ptr<embed::Encoder> encoder, embed::LoadEncoder(model_dir));
  const embed::EmbedRole role =
      args.Has("query") ? embed::EmbedRole::kQuery : embed::EmbedRole::kDocument;
  if (jsonl) return EmbedJsonLines(*encoder, role, *jsonl);

  EMBER_ASSIGN_OR_RETURN(std::vector<float> vectors, encoder->Embed(texts, role));
  const size_t dimension = static_cast<size_t>(encoder->dimension());
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::vector<float> vector(vectors.begin() + i * dimension,
                                    vectors.begin() + (i + 1) * dimension);
    std::fprintf(stdout, "%s\n", DumpJson(VectorToJson(vector)).c_str());
  }
  return absl::OkStatus();
}

constexpr FlagSpec kEmbedFlags[] = {
    {"jsonl"},
    {"query", FlagKind::kSwitch},
};

constexpr Verb kEmbedVerb = {
    .name = "embed",
    .positionals = "MODEL [TEXT]...",
    .flag_synopsis = "[--query] [--jsonl FILE]",
    .summary = "embed texts with a model: one JSON vector per line",
    .details =
        "MODEL is a model folder (or GloVe .txt file), or ORG/NAME[@REVISION] of a model\n"
        "`ember model pull` downloaded; `default` is models/default of the repository\n"
        "(scripts/fetch-default-model.sh makes it; EMBER_MODELS_DIR overrides the folder\n"
        "holding it).\n"
        "  TEXT...        print one JSON array per text, in order\n"
        "  --query        embed as queries (models with prompts differ); default: documents\n"
        "  --jsonl FILE   read JSON lines {\"id\", \"text\", ...} or BEIR {\"_id\", \"title\",\n"
        "                 \"text\"} (\"-\": standard input) and print each line back with a\n"
        "                 \"vector\" field, ready for `ember DB import`\n",
    .flags = kEmbedFlags,
    .run = RunEmbed,
    .takes_database = false};

}  // namespace

// `ember model` (model_verb.cc).
Verb ModelVerb();

std::span<const Verb> StandaloneVerbs() {
  static const Verb verbs[] = {kEmbedVerb, ModelVerb()};
  return verbs;
}

}  // namespace ember::cli
