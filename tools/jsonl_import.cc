#include "tools/jsonl_import.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "ember/document.h"
#include "tools/document_json.h"
#include "tools/progress_bar.h"

namespace ember::cli {
namespace {

// The documents waiting for the next Upsert, with the line each came from.
struct Batch {
  std::vector<Document> documents;
  std::vector<int64_t> lines;
  std::unordered_map<std::string, int64_t> line_of_id;

  void Clear() {
    documents.clear();
    lines.clear();
    line_of_id.clear();
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

}  // namespace

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

  const int dimension = collection.spec().dimension;
  Batch batch;
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
    report.imported += static_cast<int64_t>(batch.documents.size());
    batch.Clear();
    return absl::OkStatus();
  };

  LineBuffer buffer;
  int64_t bytes_read = 0;
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
    auto document = DocumentFromJson(*json, dimension);
    if (!document.ok()) {
      status = bad_line(document.status().message());
      break;
    }
    auto [it, inserted] = batch.line_of_id.emplace(document->id, line_number);
    if (!inserted) {
      status = bad_line(absl::StrCat("id \"", document->id, "\" is already on line ", it->second,
                                     ", in the same batch; ids must be unique within a batch"));
      break;
    }
    batch.documents.push_back(*std::move(document));
    batch.lines.push_back(line_number);
    if (batch.documents.size() >= static_cast<size_t>(options.batch_size)) {
      status = commit();
      if (!status.ok()) break;
    }
    if (options.show_progress) {
      progress.Update(report.imported + static_cast<int64_t>(batch.documents.size()), bytes_read);
    }
  }
  if (status.ok()) status = commit();
  progress.Finish();
  return finish(std::move(status));
}

}  // namespace ember::cli
