#include "eval/beir.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string_view>
#include <system_error>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ember/status.h"
#include "nlohmann/json.hpp"

namespace ember::eval {
namespace {

using nlohmann::json;

// Reads a text file line by line, counting lines from 1 and dropping a trailing '\r'.
class LineReader {
 public:
  static absl::StatusOr<LineReader> Open(const std::string& path) {
    std::error_code error;
    if (!std::filesystem::exists(path, error)) {
      return absl::NotFoundError(absl::StrCat(path, ": no such file"));
    }
    if (std::filesystem::is_directory(path, error)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory, not a file"));
    }
    LineReader reader(path);
    if (!reader.stream_.is_open()) {
      const int saved_errno = errno;
      const std::string reason = std::strerror(saved_errno);
      if (saved_errno == EACCES) {
        return absl::PermissionDeniedError(absl::StrCat(path, ": cannot open: ", reason));
      }
      return absl::InternalError(absl::StrCat(path, ": cannot open: ", reason));
    }
    return reader;
  }

  // Reads the next line into `line`; false at the end of the file or on a read error (check
  // status() afterwards).
  bool Next(std::string& line) {
    if (!std::getline(stream_, line)) return false;
    ++line_number_;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return true;
  }

  // OK unless reading stopped for a reason other than the end of the file.
  absl::Status status() const {
    if (stream_.bad()) {
      return absl::InternalError(absl::StrCat(path_, ": read error after line ", line_number_));
    }
    return absl::OkStatus();
  }

  int64_t line_number() const { return line_number_; }

  // InvalidArgument "path:line: message" for the current line.
  absl::Status LineError(std::string_view message) const {
    return absl::InvalidArgumentError(
        absl::StrCat(path_, ":", line_number_, ": ", std::string(message)));
  }

 private:
  explicit LineReader(const std::string& path) : path_(path), stream_(path, std::ios::binary) {}

  std::string path_;
  std::ifstream stream_;
  int64_t line_number_ = 0;
};

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

// Parses one line as a JSON object.
absl::StatusOr<json> ParseObjectLine(const LineReader& reader, const std::string& line) {
  json value;
  try {
    value = json::parse(line);
  } catch (const json::parse_error& error) {
    return reader.LineError(absl::StrCat("not valid JSON (at byte ", error.byte, ")"));
  }
  if (!value.is_object()) return reader.LineError("not a JSON object");
  return value;
}

// The id stored under `key`: a non-empty string, or an integer written in decimal.
absl::StatusOr<std::string> IdField(const LineReader& reader, const json& object, const char* key) {
  const auto it = object.find(key);
  if (it == object.end()) return reader.LineError(absl::StrCat("missing \"", key, "\""));
  std::string id;
  if (it->is_string()) {
    id = it->get<std::string>();
  } else if (it->is_number_integer()) {
    id = it->dump();
  } else {
    return reader.LineError(absl::StrCat("\"", key, "\" must be a string"));
  }
  if (id.empty()) return reader.LineError(absl::StrCat("\"", key, "\" is empty"));
  return id;
}

// The string under `key`; when `optional`, an absent or null field reads as "".
absl::StatusOr<std::string> StringField(const LineReader& reader, const json& object,
                                        const char* key, bool optional) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    if (optional) return std::string();
    return reader.LineError(absl::StrCat("missing \"", key, "\""));
  }
  if (!it->is_string()) return reader.LineError(absl::StrCat("\"", key, "\" must be a string"));
  return it->get<std::string>();
}

absl::StatusOr<int> JsonGrade(const LineReader& reader, const json& object) {
  const auto it = object.find("score");
  if (it == object.end()) return reader.LineError("missing \"score\"");
  double value = 0;
  if (it->is_number_integer()) {
    value = static_cast<double>(it->get<int64_t>());
  } else if (it->is_number_float()) {
    value = it->get<double>();
  } else {
    return reader.LineError("\"score\" must be an integer");
  }
  if (value != static_cast<double>(static_cast<int64_t>(value)) ||
      value < std::numeric_limits<int>::min() || value > std::numeric_limits<int>::max()) {
    return reader.LineError("\"score\" must be an integer");
  }
  return static_cast<int>(value);
}

// One judgement line of a TSV (or space-separated TREC) qrels file. Sets `*is_header` instead when
// `may_be_header` and the line is BEIR's header.
absl::Status ParseTextQrelsLine(const LineReader& reader, const std::string& line,
                                bool may_be_header, bool* is_header, Qrels& qrels) {
  // absl::string_view, not std::string_view: Debian's Abseil does not alias the two.
  std::vector<absl::string_view> fields = absl::StrSplit(line, '\t');
  if (fields.size() == 1) fields = absl::StrSplit(line, ' ', absl::SkipEmpty());
  for (absl::string_view& field : fields) field = absl::StripAsciiWhitespace(field);
  absl::string_view query_id, doc_id, score;
  if (fields.size() == 3) {
    query_id = fields[0];
    doc_id = fields[1];
    score = fields[2];
  } else if (fields.size() == 4) {
    query_id = fields[0];
    doc_id = fields[2];
    score = fields[3];
  } else {
    return reader.LineError(absl::StrCat(
        "expected 3 tab-separated fields (query-id, corpus-id, score), found ", fields.size()));
  }
  *is_header = may_be_header && query_id == "query-id" && doc_id == "corpus-id" && score == "score";
  if (*is_header) return absl::OkStatus();
  if (query_id.empty()) return reader.LineError("empty query-id");
  if (doc_id.empty()) return reader.LineError("empty corpus-id");
  int grade = 0;
  if (!absl::SimpleAtoi(score, &grade)) {
    return reader.LineError(absl::StrCat("score '", std::string(score), "' is not an integer"));
  }
  qrels[std::string(query_id)][std::string(doc_id)] = grade;
  return absl::OkStatus();
}

absl::Status ParseJsonQrelsLine(const LineReader& reader, const std::string& line, Qrels& qrels) {
  EMBER_ASSIGN_OR_RETURN(const json object, ParseObjectLine(reader, line));
  EMBER_ASSIGN_OR_RETURN(std::string query_id, IdField(reader, object, "query-id"));
  EMBER_ASSIGN_OR_RETURN(std::string doc_id, IdField(reader, object, "corpus-id"));
  EMBER_ASSIGN_OR_RETURN(const int grade, JsonGrade(reader, object));
  qrels[std::move(query_id)][std::move(doc_id)] = grade;
  return absl::OkStatus();
}

}  // namespace

std::string DocumentText(const CorpusDocument& document) {
  if (document.title.empty()) return document.text;
  return absl::StrCat(document.title, " ", document.text);
}

absl::StatusOr<std::vector<Query>> LoadQueries(const std::string& path) {
  EMBER_ASSIGN_OR_RETURN(LineReader reader, LineReader::Open(path));
  std::vector<Query> queries;
  absl::flat_hash_set<std::string> seen;
  std::string line;
  while (reader.Next(line)) {
    if (IsBlank(line)) continue;
    EMBER_ASSIGN_OR_RETURN(const json object, ParseObjectLine(reader, line));
    Query query;
    EMBER_ASSIGN_OR_RETURN(query.id, IdField(reader, object, "_id"));
    EMBER_ASSIGN_OR_RETURN(query.text, StringField(reader, object, "text", /*optional=*/false));
    if (!seen.insert(query.id).second) {
      return reader.LineError(absl::StrCat("duplicate query id '", query.id, "'"));
    }
    queries.push_back(std::move(query));
  }
  EMBER_RETURN_IF_ERROR(reader.status());
  return queries;
}

absl::StatusOr<Qrels> LoadQrels(const std::string& path) {
  EMBER_ASSIGN_OR_RETURN(LineReader reader, LineReader::Open(path));
  enum class Format { kUnknown, kJson, kText };
  Format format = Format::kUnknown;
  Qrels qrels;
  std::string line;
  while (reader.Next(line)) {
    if (IsBlank(line)) continue;
    bool may_be_header = false;
    if (format == Format::kUnknown) {
      const size_t first = line.find_first_not_of(" \t");
      format = line[first] == '{' ? Format::kJson : Format::kText;
      may_be_header = true;
    }
    if (format == Format::kJson) {
      EMBER_RETURN_IF_ERROR(ParseJsonQrelsLine(reader, line, qrels));
    } else {
      bool is_header = false;
      EMBER_RETURN_IF_ERROR(ParseTextQrelsLine(reader, line, may_be_header, &is_header, qrels));
    }
  }
  EMBER_RETURN_IF_ERROR(reader.status());
  return qrels;
}

absl::Status ForEachCorpusDocument(const std::string& path,
                                   absl::FunctionRef<absl::Status(CorpusDocument&&)> callback) {
  EMBER_ASSIGN_OR_RETURN(LineReader reader, LineReader::Open(path));
  std::string line;
  while (reader.Next(line)) {
    if (IsBlank(line)) continue;
    EMBER_ASSIGN_OR_RETURN(const json object, ParseObjectLine(reader, line));
    CorpusDocument document;
    EMBER_ASSIGN_OR_RETURN(document.id, IdField(reader, object, "_id"));
    EMBER_ASSIGN_OR_RETURN(document.title, StringField(reader, object, "title", /*optional=*/true));
    EMBER_ASSIGN_OR_RETURN(document.text, StringField(reader, object, "text", /*optional=*/false));
    document.line = reader.line_number();
    EMBER_RETURN_IF_ERROR(callback(std::move(document)));
  }
  return reader.status();
}

absl::StatusOr<BeirFiles> FindBeirFiles(const std::string& dir, const std::string& split) {
  const std::filesystem::path root(dir);
  std::error_code error;
  if (!std::filesystem::is_directory(root, error)) {
    return absl::NotFoundError(absl::StrCat(dir, ": no such directory"));
  }
  BeirFiles files{
      .corpus = (root / "corpus.jsonl").string(),
      .queries = (root / "queries.jsonl").string(),
      .qrels = (root / "qrels" / (split + ".tsv")).string(),
  };
  if (!std::filesystem::exists(files.qrels, error)) {
    const std::string jsonl = (root / "qrels.jsonl").string();
    if (!std::filesystem::exists(jsonl, error)) {
      return absl::NotFoundError(
          absl::StrCat(dir, ": no qrels (looked for ", files.qrels, " and ", jsonl, ")"));
    }
    files.qrels = jsonl;
  }
  for (const std::string* file : {&files.corpus, &files.queries}) {
    if (!std::filesystem::exists(*file, error)) {
      return absl::NotFoundError(absl::StrCat(*file, ": no such file"));
    }
  }
  return files;
}

}  // namespace ember::eval
