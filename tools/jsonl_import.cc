#include "tools/jsonl_import.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "ember/document.h"
#include "ember/status.h"
#include "tools/document_json.h"
#include "tools/progress_bar.h"

namespace ember::cli {
namespace {

// The documents waiting for the next Upsert, with the line each came from.
struct Batch {
  std::vector<Document> documents;
  std::vector<int64_t> lines;
  // The ids of `documents`, and, when chunking, of the documents they were cut from: a parent
  // given twice in a batch is named as such rather than by its first chunk's id.
  std::unordered_map<std::string, int64_t> line_of_id;
  std::unordered_map<std::string, int64_t> line_of_parent;
  // Input documents the batch holds (chunks count once, as their parent).
  int64_t inputs = 0;

  void Clear() {
    documents.clear();
    lines.clear();
    line_of_id.clear();
    line_of_parent.clear();
    inputs = 0;
  }
};

// getline(3)'s buffer, which it grows with realloc.
struct LineBuffer {
  char* data = nullptr;
  size_t capacity = 0;
  ~LineBuffer() { std::free(data); }
};

struct FileCloser {
  void operator()(std::FILE* file) const {
    if (file != stdin) std::fclose(file);
  }
};

absl::Status ErrnoStatus(int error, absl::string_view what) {
  std::string message = absl::StrCat(what, ": ", std::strerror(error));
  switch (error) {
    case ENOENT:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    default:
      return absl::DataLossError(message);
  }
}

// The Upsert contract names the offending document by id; find which line that was. Ids are matched
// only inside quotes so that id "a" is not found inside "ab". Returns 0 when no id of the batch is
// named.
int64_t LineNamedBy(const absl::Status& status, const Batch& batch) {
  for (size_t i = 0; i < batch.documents.size(); ++i) {
    const std::string& id = batch.documents[i].id;
    for (const char quote : {'"', '\''}) {
      if (absl::StrContains(status.message(),
                            absl::StrCat(std::string(1, quote), id, std::string(1, quote)))) {
        return batch.lines[i];
      }
    }
  }
  return 0;
}

// Adds `documents`, all from `line_number`, to `batch`. InvalidArgument, leaving the batch
// unchanged, when an id is already in it.
absl::Status AddToBatch(std::vector<Document> documents, int64_t line_number, Batch& batch) {
  for (size_t i = 0; i < documents.size(); ++i) {
    auto [it, inserted] = batch.line_of_id.emplace(documents[i].id, line_number);
    if (!inserted) {
      const int64_t other_line = it->second;
      for (size_t j = 0; j < i; ++j) batch.line_of_id.erase(documents[j].id);
      return absl::InvalidArgumentError(
          absl::StrCat("id \"", documents[i].id, "\" is already on line ", other_line,
                       ", in the same batch; ids must be unique within a batch"));
    }
  }
  for (Document& document : documents) {
    batch.documents.push_back(std::move(document));
    batch.lines.push_back(line_number);
  }
  ++batch.inputs;
  return absl::OkStatus();
}

// Reads `attributes[name]` when it is a non-empty string.
std::optional<std::string> StringAttribute(const Attributes& attributes, const char* name) {
  const auto it = attributes.find(name);
  if (it == attributes.end()) return std::nullopt;
  const std::string* value = std::get_if<std::string>(&it->second);
  if (value == nullptr || value->empty()) return std::nullopt;
  return *value;
}

}  // namespace

absl::StatusOr<std::vector<Document>> ChunkDocument(const Document& parent,
                                                    const ChunkingOptions& options) {
  if (!parent.vector.empty()) {
    return absl::InvalidArgumentError(
        "the line has a vector: only texts can be chunked (leave the vector out, the database "
        "embeds each chunk)");
  }
  for (const char* name :
       {kParentIdAttribute, kChunkIndexAttribute, kChunkBeginAttribute, kChunkEndAttribute}) {
    if (parent.attributes.contains(name)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "attributes.", name, ": the name is reserved for the chunks' own attributes"));
    }
  }
  const std::string text = parent.text.value_or("");
  // With --situated the title goes in front of every chunk, so it need not be in the first one
  // as well: chunk what follows it when the text starts with it (BEIR's title + " " + text).
  std::optional<std::string> title;
  size_t body_begin = 0;
  if (options.situated) {
    title = StringAttribute(parent.attributes, "title");
    if (title && text.size() > title->size() && absl::StartsWith(text, *title) &&
        text[title->size()] == ' ') {
      body_begin = title->size() + 1;
    }
  }
  EMBER_ASSIGN_OR_RETURN(std::vector<embed::Chunk> chunks,
                         embed::ChunkText(std::string_view(text).substr(body_begin),
                                          options.count_tokens, options.chunk));
  if (chunks.empty()) {
    return absl::InvalidArgumentError("no text to chunk (give a non-empty \"text\")");
  }
  const std::string last_id = absl::StrCat(parent.id, "#", chunks.size() - 1);
  if (last_id.size() > kMaxDocumentIdBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("the chunk id \"", last_id.substr(0, 64), "...\" has ", last_id.size(),
                     " bytes; the limit is ", kMaxDocumentIdBytes, " (shorten the id)"));
  }
  std::vector<Document> documents;
  documents.reserve(chunks.size());
  for (embed::Chunk& chunk : chunks) {
    Document document{.id = absl::StrCat(parent.id, "#", chunk.index),
                      .attributes = parent.attributes};
    document.text = title ? absl::StrCat(*title, "\n", chunk.text) : std::move(chunk.text);
    document.attributes[kParentIdAttribute] = parent.id;
    document.attributes[kChunkIndexAttribute] = int64_t{chunk.index};
    document.attributes[kChunkBeginAttribute] = static_cast<int64_t>(body_begin + chunk.begin);
    document.attributes[kChunkEndAttribute] = static_cast<int64_t>(body_begin + chunk.end);
    documents.push_back(std::move(document));
  }
  return documents;
}

ImportReport ImportJsonLines(const std::string& path, Collection& collection,
                             const ImportOptions& options) {
  ImportReport report;
  const auto start = std::chrono::steady_clock::now();
  auto finish = [&](absl::Status status) {
    report.status = std::move(status);
    report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
  };

  const bool from_stdin = path == "-";
  const std::string name = from_stdin ? std::string("<stdin>") : path;
  std::unique_ptr<std::FILE, FileCloser> file(from_stdin ? stdin : std::fopen(path.c_str(), "r"));
  if (file == nullptr) return finish(ErrnoStatus(errno, absl::StrCat("cannot open ", path)));
  int64_t total_bytes = 0;
  if (struct stat info; fstat(fileno(file.get()), &info) == 0 && S_ISREG(info.st_mode)) {
    total_bytes = info.st_size;
  }
  ProgressBar progress(stderr, total_bytes, isatty(fileno(stderr)) == 1);

  const LineRules rules{.dimension = collection.spec().dimension,
                        .embeds_text = collection.spec().encoder.has_value()};
  Batch batch;
  int64_t bytes_read = 0;
  // Input bytes of the committed batches: the bar shows what is in the collection, not what was
  // read ahead of the encoder.
  int64_t bytes_committed = 0;
  auto commit = [&]() -> absl::Status {
    if (batch.documents.empty()) return absl::OkStatus();
    absl::Status status = collection.Upsert(batch.documents);
    if (!status.ok()) {
      report.failed_batch_first_line = batch.lines.front();
      const int64_t line = LineNamedBy(status, batch);
      const std::string where =
          line != 0 ? absl::StrCat(name, ":", line)
                    : absl::StrCat(name, ":", batch.lines.front(), "-", batch.lines.back());
      return absl::Status(status.code(), absl::StrCat(where, ": ", status.message()));
    }
    report.imported += batch.inputs;
    report.stored += static_cast<int64_t>(batch.documents.size());
    bytes_committed = bytes_read;
    batch.Clear();
    if (options.show_progress) {
      progress.Update(report.imported, bytes_committed,
                      options.chunking ? report.stored : ProgressBar::kNoChunks);
    }
    return absl::OkStatus();
  };

  LineBuffer buffer;
  absl::Status status;
  while (true) {
    errno = 0;
    const ssize_t length = getline(&buffer.data, &buffer.capacity, file.get());
    if (length < 0) {
      if (std::ferror(file.get())) status = ErrnoStatus(errno, absl::StrCat("reading ", name));
      break;
    }
    bytes_read += length;
    const int64_t line_number = ++report.lines_read;
    absl::string_view line(buffer.data, static_cast<size_t>(length));
    if (line_number == 1 && absl::StartsWith(line, "\xEF\xBB\xBF")) line.remove_prefix(3);
    line = absl::StripAsciiWhitespace(line);  // also drops "\n" and a Windows "\r"
    if (line.empty()) continue;

    auto bad_line = [&](absl::string_view reason) {
      report.failed_batch_first_line = batch.documents.empty() ? line_number : batch.lines.front();
      return absl::InvalidArgumentError(absl::StrCat(name, ":", line_number, ": ", reason));
    };
    auto json = ParseJson(line);
    if (!json.ok()) {
      status = bad_line(json.status().message());
      break;
    }
    auto document = DocumentFromJson(*json, rules);
    if (!document.ok()) {
      status = bad_line(document.status().message());
      break;
    }
    std::vector<Document> documents;
    if (options.chunking) {
      auto [it, inserted] = batch.line_of_parent.emplace(document->id, line_number);
      if (!inserted) {
        status = bad_line(absl::StrCat("id \"", document->id, "\" is already on line ", it->second,
                                       ", in the same batch; ids must be unique within a batch"));
        break;
      }
      auto chunks = ChunkDocument(*document, *options.chunking);
      if (!chunks.ok()) {
        status = bad_line(chunks.status().message());
        break;
      }
      documents = *std::move(chunks);
    } else {
      documents.push_back(*std::move(document));
    }
    if (absl::Status added = AddToBatch(std::move(documents), line_number, batch); !added.ok()) {
      status = bad_line(added.message());
      break;
    }
    if (batch.documents.size() >= static_cast<size_t>(options.batch_size)) {
      status = commit();
      if (!status.ok()) break;
    }
  }
  if (status.ok()) status = commit();
  progress.Finish();
  return finish(std::move(status));
}

}  // namespace ember::cli
