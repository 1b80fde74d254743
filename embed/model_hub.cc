#include "embed/model_hub.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "embed/sha256.h"
#include "ember/status.h"

namespace ember::embed {
namespace {

namespace fs = std::filesystem;

constexpr char kDefaultEndpoint[] = "https://huggingface.co";
constexpr char kUserAgent[] = "ember/0.1 (libcurl)";
constexpr int kMaxRedirects = 10;
constexpr size_t kMaxNameLength = 96;
// Error pages and the API's JSON are kept in memory; a model's file list is well under this.
constexpr size_t kMaxBodyBytes = size_t{64} << 20;

// The files a model may have when the hub cannot list them (a mirror without the API): what
// sentence-transformers, model2vec and Ember's static models read. Those that do not exist are
// skipped. Module folders named in modules.json are added when it arrives.
constexpr const char* kFallbackFiles[] = {
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "vocab.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
    "ember_static.json",
    "vectors.bin",
};

// Weight formats the encoder cannot read: left out when the model has weights it can.
constexpr const char* kForeignWeightExtensions[] = {"bin",  "h5", "onnx",   "onnx_data", "msgpack",
                                                    "ot",   "pt", "pth",    "ckpt",      "tflite",
                                                    "gguf", "pb", "mlmodel"};
// Folders of exports for other runtimes, never what the encoder loads.
constexpr const char* kForeignWeightFolders[] = {"onnx", "openvino", "coreml", "tflite"};

// ---------------------------------------------------------------------------------------------
// Names and the environment

std::string GetEnv(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// "~/x" -> "$HOME/x", as huggingface_hub's os.path.expanduser does for its variables.
std::string ExpandHome(std::string path) {
  if (path == "~" || absl::StartsWith(path, "~/")) {
    const std::string home = GetEnv("HOME");
    if (!home.empty()) path = home + path.substr(1);
  }
  return path;
}

std::string HfHome() {
  std::string home = GetEnv("HF_HOME");
  if (!home.empty()) return ExpandHome(home);
  std::string xdg = GetEnv("XDG_CACHE_HOME");
  if (xdg.empty()) xdg = ExpandHome("~/.cache");
  return (fs::path(ExpandHome(xdg)) / "huggingface").string();
}

bool IsNameChar(char c) { return absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.'; }

// The hub's rule for the parts of a repository id.
bool IsValidRepoPart(absl::string_view part) {
  if (part.empty() || part.size() > kMaxNameLength) return false;
  if (!std::all_of(part.begin(), part.end(), IsNameChar)) return false;
  if (part.front() == '-' || part.front() == '.' || part.back() == '-' || part.back() == '.') {
    return false;
  }
  return part.find("--") == absl::string_view::npos && part.find("..") == absl::string_view::npos;
}

// Whether `token` (a commit hash or an ETag) can safely be one file or folder name.
bool IsSafeFileName(absl::string_view token) {
  return !token.empty() && token.size() <= 256 && token != "." && token != ".." &&
         std::all_of(token.begin(), token.end(), IsNameChar);
}

// A relative path of '/'-separated parts, none empty, "." or "..": it stays inside the folder it is
// joined to.
bool IsSafeRelativePath(absl::string_view path) {
  if (path.empty() || path.front() == '/') return false;
  if (path.find('\\') != absl::string_view::npos || path.find('\0') != absl::string_view::npos) {
    return false;
  }
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
}

bool IsHex(absl::string_view text, size_t length) {
  return text.size() == length && std::all_of(text.begin(), text.end(), [](char c) {
           return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
         });
}

// "models--ORG--NAME", the cache's folder for a model.
std::string RepoFolderName(const HubModelId& id) {
  return absl::StrCat("models--", id.org, "--", id.name);
}

// ---------------------------------------------------------------------------------------------
// URLs

// Percent-encodes every byte but RFC 3986's unreserved characters and, when `keep_slash`, '/'.
std::string PercentEncode(absl::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      encoded += c;
    } else {
      const unsigned char byte = static_cast<unsigned char>(c);
      encoded += '%';
      encoded += kHex[byte >> 4];
      encoded += kHex[byte & 0xF];
    }
  }
  return encoded;
}

// "scheme://host:port" of `url`, lower-cased: where a bearer token may be sent.
std::string Origin(absl::string_view url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos) return "";
  const size_t path_start = url.find_first_of("/?#", scheme_end + 3);
  return absl::AsciiStrToLower(url.substr(0, path_start));
}

// `url` without its query, which for a CDN link holds a signature that has no place in messages.
std::string WithoutQuery(absl::string_view url) {
  return std::string(url.substr(0, url.find('?')));
}

// ETag header values come as "abc", W/"abc" or abc; the cache names blobs by the bare value.
std::string NormalizeEtag(absl::string_view etag) {
  if (absl::StartsWith(etag, "W/")) etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

// ---------------------------------------------------------------------------------------------
// HTTP over libcurl

struct HttpResponse {
  std::string url;
  long status = 0;
  // Lower-cased names; the last value of a repeated header.
  std::map<std::string, std::string> headers;
  // The body of a response no sink took (error pages, the API's JSON), up to kMaxBodyBytes.
  std::string body;
  // Where a 3xx response points, made absolute by curl; empty otherwise.
  std::string redirect_url;

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
  bool ok() const { return status >= 200 && status < 300; }
  bool redirect() const {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
  }
};

// Receives the body of a 2xx response, chunk by chunk; a non-OK status aborts the transfer and is
// what the request returns.
using BodySink = std::function<absl::Status(const HttpResponse& response, absl::string_view bytes)>;

struct Transfer {
  HttpResponse* response;
  const BodySink* sink;
  absl::Status sink_status;
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  Transfer& transfer = *static_cast<Transfer*>(user);
  absl::string_view line(data, size * count);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (absl::StartsWith(line, "HTTP/")) {
    // A new response (after "100 Continue"): only the last one's headers count.
    transfer.response->headers.clear();
    const std::vector<absl::string_view> parts = absl::StrSplit(line, absl::MaxSplits(' ', 2));
    int status = 0;
    if (parts.size() >= 2 && absl::SimpleAtoi(parts[1], &status)) {
      transfer.response->status = status;
    }
    return size * count;
  }
  const size_t colon = line.find(':');
  if (colon != absl::string_view::npos) {
    transfer.response->headers[absl::AsciiStrToLower(line.substr(0, colon))] =
        std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
  }
  return size * count;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  Transfer& transfer = *static_cast<Transfer*>(user);
  const absl::string_view bytes(data, size * count);
  if (transfer.response->ok() && transfer.sink != nullptr) {
    transfer.sink_status = (*transfer.sink)(*transfer.response, bytes);
    return transfer.sink_status.ok() ? bytes.size() : 0;  // 0 aborts with CURLE_WRITE_ERROR
  }
  if (transfer.response->body.size() + bytes.size() > kMaxBodyBytes) return 0;
  transfer.response->body.append(bytes.data(), bytes.size());
  return bytes.size();
}

// The status for an HTTP error answer about `what` (a model or one of its files).
// `from_hub`: whether the hub answered (rather than the CDN it redirected to); `token_sent`:
// whether the request carried the token.
absl::Status HttpError(const HttpResponse& response, const std::string& what, bool from_hub,
                       bool token_sent) {
  std::string message = absl::StrCat("HTTP ", response.status, " for ", WithoutQuery(response.url));
  if (const std::string hub_says = response.Header("x-error-message"); !hub_says.empty()) {
    absl::StrAppend(&message, " (", hub_says, ")");
  }
  if (!from_hub && (response.status == 401 || response.status == 403)) {
    // A CDN refuses a signed link once it has expired.
    return absl::UnavailableError(
        absl::StrCat(message, ": the download link was refused; pull again"));
  }
  switch (response.status) {
    case 401:
    case 403:
      return absl::PermissionDeniedError(absl::StrCat(
          message, ": ",
          token_sent ? absl::StrCat("the token (HF_TOKEN) was refused; check that it can read ",
                                    what, " and, for a gated model, that its terms were accepted")
                     : absl::StrCat(what,
                                    " is private, gated or does not exist; set HF_TOKEN to a "
                                    "Hugging Face access token that can read it")));
    case 404: {
      const std::string code = response.Header("x-error-code");
      return absl::NotFoundError(
          absl::StrCat(message, ": ",
                       code == "RepoNotFound" ? "no such model (or it is private: set HF_TOKEN)"
                       : code == "RevisionNotFound" ? "no such revision"
                                                    : absl::StrCat(what, " does not exist")));
    }
    case 429:
      return absl::UnavailableError(absl::StrCat(message, ": rate limited; try again later"));
    default:
      if (response.status >= 500) {
        return absl::UnavailableError(absl::StrCat(message, ": the hub failed; try again later"));
      }
      if (response.redirect()) {
        return absl::FailedPreconditionError(
            absl::StrCat(message, ": a redirect with no Location"));
      }
      return absl::UnknownError(message);
  }
}

// One connection to the hub (one curl handle, so that requests reuse its connections). Redirects
// are followed here rather than by curl, so that the token goes only to the hub's own origin.
class HubConnection {
 public:
  HubConnection(std::string endpoint, std::string token, int stall_timeout_seconds)
      : endpoint_(std::move(endpoint)),
        token_(std::move(token)),
        stall_timeout_seconds_(stall_timeout_seconds) {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    curl_ = curl_easy_init();
  }
  ~HubConnection() {
    if (curl_ != nullptr) curl_easy_cleanup(curl_);
  }
  HubConnection(const HubConnection&) = delete;
  HubConnection& operator=(const HubConnection&) = delete;

  const std::string& endpoint() const { return endpoint_; }

  // The status for `response`, an HTTP error about `what` (a model or one of its files).
  absl::Status Error(const HttpResponse& response, const std::string& what) const {
    const bool from_hub = Origin(response.url) == Origin(endpoint_);
    return HttpError(response, what, from_hub, from_hub && !token_.empty());
  }

  // HEAD `url`, following only redirects within the hub (a renamed repository), as huggingface_hub
  // does: a redirect elsewhere (the CDN holding an LFS file) is returned, with the hub's
  // X-Linked-* headers.
  absl::StatusOr<HttpResponse> Head(std::string url) {
    for (int hop = 0; hop <= kMaxRedirects; ++hop) {
      EMBER_ASSIGN_OR_RETURN(HttpResponse response, Perform(/*head=*/true, url, 0, nullptr));
      const std::string location = response.Header("location");
      if (!response.redirect() || response.redirect_url.empty() ||
          location.find("://") != std::string::npos) {
        return response;
      }
      url = response.redirect_url;
    }
    return absl::UnavailableError(absl::StrCat("too many redirects from ", url));
  }

  // GET `url`, following redirects; from byte `range_start` on when it is positive. The body of the
  // final 2xx response goes to `sink` when given, else into the response.
  absl::StatusOr<HttpResponse> Get(std::string url, int64_t range_start, const BodySink* sink) {
    for (int hop = 0; hop <= kMaxRedirects; ++hop) {
      EMBER_ASSIGN_OR_RETURN(HttpResponse response,
                             Perform(/*head=*/false, url, range_start, sink));
      if (!response.redirect() || response.redirect_url.empty()) return response;
      url = response.redirect_url;
    }
    return absl::UnavailableError(absl::StrCat("too many redirects from ", url));
  }

 private:
  absl::StatusOr<HttpResponse> Perform(bool head, const std::string& url, int64_t range_start,
                                       const BodySink* sink) {
    if (curl_ == nullptr) return absl::InternalError("libcurl could not be initialized");
    curl_easy_reset(curl_);
    HttpResponse response;
    response.url = url;
    Transfer transfer{&response, sink, absl::OkStatus()};
    char error[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(curl_, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl_, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl_, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl_, CURLOPT_USERAGENT, kUserAgent);
    curl_easy_setopt(curl_, CURLOPT_CONNECTTIMEOUT, 30L);
    curl_easy_setopt(curl_, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl_, CURLOPT_LOW_SPEED_TIME, static_cast<long>(stall_timeout_seconds_));
    curl_easy_setopt(curl_, CURLOPT_ERRORBUFFER, error);
    curl_easy_setopt(curl_, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(curl_, CURLOPT_HEADERDATA, &transfer);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &transfer);
    if (head) {
      curl_easy_setopt(curl_, CURLOPT_NOBODY, 1L);
    } else {
      curl_easy_setopt(curl_, CURLOPT_HTTPGET, 1L);
    }
    const std::string range = absl::StrCat(range_start, "-");
    if (range_start > 0) curl_easy_setopt(curl_, CURLOPT_RANGE, range.c_str());
    // Sizes must be the files' own, not those of a compressed transfer.
    std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(
        curl_slist_append(nullptr, "Accept-Encoding: identity"), curl_slist_free_all);
    const std::string authorization = absl::StrCat("Authorization: Bearer ", token_);
    if (!token_.empty() && Origin(url) == Origin(endpoint_)) {
      if (curl_slist* longer = curl_slist_append(headers.get(), authorization.c_str())) {
        headers.release();
        headers.reset(longer);
      }
    }
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers.get());

    const CURLcode code = curl_easy_perform(curl_);
    if (!transfer.sink_status.ok()) return transfer.sink_status;
    if (code != CURLE_OK) {
      return absl::UnavailableError(
          absl::StrCat(head ? "HEAD " : "GET ", WithoutQuery(url),
                       " failed: ", *error != '\0' ? error : curl_easy_strerror(code)));
    }
    long status = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
    response.status = status;
    char* redirect = nullptr;
    if (curl_easy_getinfo(curl_, CURLINFO_REDIRECT_URL, &redirect) == CURLE_OK &&
        redirect != nullptr) {
      response.redirect_url = redirect;
    }
    return response;
  }

  std::string endpoint_;
  std::string token_;
  int stall_timeout_seconds_;
  CURL* curl_ = nullptr;
};

// ---------------------------------------------------------------------------------------------
// The cache on disk

absl::Status CreateFolder(const fs::path& folder) {
  std::error_code error;
  fs::create_directories(folder, error);
  if (error) {
    return absl::InternalError(
        absl::StrCat("cannot create ", folder.string(), ": ", error.message()));
  }
  return absl::OkStatus();
}

int64_t FileSizeOr(const fs::path& path, int64_t missing) {
  std::error_code error;
  const uintmax_t size = fs::file_size(path, error);
  return error ? missing : static_cast<int64_t>(size);
}

void RemoveQuietly(const fs::path& path) {
  std::error_code error;
  fs::remove(path, error);
}

// A name for a temporary file beside `path`, unique per process and call.
fs::path TemporaryBeside(const fs::path& path) {
  static std::atomic<uint64_t> counter{0};
  return fs::path(absl::StrCat(path.string(), ".tmp.", ::getpid(), ".", counter++));
}

// Writes `content` to `path` by a rename, so readers see the old content or the new, never half.
absl::Status WriteFileAtomically(const fs::path& path, const std::string& content) {
  EMBER_RETURN_IF_ERROR(CreateFolder(path.parent_path()));
  const fs::path temporary = TemporaryBeside(path);
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) {
      RemoveQuietly(temporary);
      return absl::InternalError(absl::StrCat("cannot write ", temporary.string()));
    }
  }
  std::error_code error;
  fs::rename(temporary, path, error);
  if (error) {
    RemoveQuietly(temporary);
    return absl::InternalError(absl::StrCat("cannot write ", path.string(), ": ", error.message()));
  }
  return absl::OkStatus();
}

// Points `link` at `blob` with a relative symbolic link (the cache stays valid when moved),
// replacing whatever was there by a rename.
absl::Status LinkSnapshotFile(const fs::path& link, const fs::path& blob) {
  EMBER_RETURN_IF_ERROR(CreateFolder(link.parent_path()));
  const fs::path target = blob.lexically_relative(link.parent_path());
  std::error_code error;
  if (fs::is_symlink(link, error) && fs::read_symlink(link, error) == target) {
    return absl::OkStatus();
  }
  const fs::path temporary = TemporaryBeside(link);
  fs::create_symlink(target, temporary, error);
  if (!error) fs::rename(temporary, link, error);
  if (error) {
    RemoveQuietly(temporary);
    return absl::InternalError(absl::StrCat("cannot link ", link.string(), ": ", error.message()));
  }
  return absl::OkStatus();
}

// An exclusive flock on a file, held for the object's life. huggingface_hub's filelock takes the
// same kind of lock on the same path, so the two never write one blob at once.
class FileLock {
 public:
  static absl::StatusOr<std::unique_ptr<FileLock>> Acquire(const fs::path& path) {
    EMBER_RETURN_IF_ERROR(CreateFolder(path.parent_path()));
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      return absl::InternalError(
          absl::StrCat("cannot open ", path.string(), ": ", std::strerror(errno)));
    }
    while (::flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd);
      return absl::InternalError(
          absl::StrCat("cannot lock ", path.string(), ": ", std::strerror(saved)));
    }
    return std::unique_ptr<FileLock>(new FileLock(fd));
  }
  ~FileLock() { ::close(fd_); }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  explicit FileLock(int fd) : fd_(fd) {}
  int fd_;
};

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using UniqueFile = std::unique_ptr<std::FILE, FileCloser>;

// Feeds the first `size` bytes of the file at `path` to `hasher`. False when it cannot be read.
bool HashFilePrefix(const fs::path& path, int64_t size, Sha256& hasher) {
  UniqueFile file(std::fopen(path.c_str(), "rb"));
  if (file == nullptr) return false;
  std::vector<char> buffer(1 << 20);
  while (size > 0) {
    const size_t want = static_cast<size_t>(std::min<int64_t>(size, buffer.size()));
    const size_t got = std::fread(buffer.data(), 1, want, file.get());
    if (got != want) return false;
    hasher.Update(buffer.data(), got);
    size -= static_cast<int64_t>(got);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Which files to pull

std::string Extension(absl::string_view path) {
  const size_t slash = path.rfind('/');
  const absl::string_view base = slash == absl::string_view::npos ? path : path.substr(slash + 1);
  const size_t dot = base.rfind('.');
  return dot == absl::string_view::npos ? "" : absl::AsciiStrToLower(base.substr(dot + 1));
}

// The files of `listed` that an encoder may read, in their order.
std::vector<std::string> SelectEncoderFiles(const std::vector<std::string>& listed) {
  const bool has_readable_weights = std::any_of(listed.begin(), listed.end(), [](const auto& path) {
    return Extension(path) == "safetensors" || path == "ember_static.json";
  });
  std::vector<std::string> selected;
  for (const std::string& path : listed) {
    const size_t slash = path.find('/');
    if (slash != std::string::npos) {
      const std::string folder = path.substr(0, slash);
      if (std::find(std::begin(kForeignWeightFolders), std::end(kForeignWeightFolders), folder) !=
          std::end(kForeignWeightFolders)) {
        continue;
      }
    }
    const std::string extension = Extension(path);
    const bool foreign =
        std::find(std::begin(kForeignWeightExtensions), std::end(kForeignWeightExtensions),
                  extension) != std::end(kForeignWeightExtensions);
    // vectors.bin is Ember's own static-model format, not PyTorch's.
    if (foreign && has_readable_weights && path != "vectors.bin") continue;
    selected.push_back(path);
  }
  return selected;
}

// The module folders (e.g. "2_Dense") a sentence-transformers modules.json names.
std::vector<std::string> ModuleFolders(const fs::path& modules_json) {
  std::ifstream in(modules_json, std::ios::binary);
  const nlohmann::json modules = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  std::vector<std::string> folders;
  if (!modules.is_array()) return folders;
  for (const nlohmann::json& module : modules) {
    if (!module.is_object()) continue;
    auto path = module.find("path");
    if (path == module.end() || !path->is_string()) continue;
    const std::string& folder = path->get_ref<const std::string&>();
    if (IsSafeRelativePath(folder)) folders.push_back(folder);
  }
  return folders;
}

// ---------------------------------------------------------------------------------------------
// Pulling

struct ApiListing {
  std::string commit;
  std::vector<std::string> files;
};

class ModelPuller {
 public:
  ModelPuller(const HubModelId& id, HubConnection& hub, const fs::path& cache,
              const PullOptions& options)
      : id_(id),
        hub_(hub),
        repo_dir_(cache / RepoFolderName(id)),
        lock_dir_(cache / ".locks" / RepoFolderName(id)),
        options_(options) {}

  absl::StatusOr<PullResult> Pull() {
    EMBER_ASSIGN_OR_RETURN(std::optional<ApiListing> listing, ListFiles());
    PullResult result{.id = id_};
    if (listing.has_value()) {
      result.commit = listing->commit;
      for (const std::string& path : SelectEncoderFiles(listing->files)) {
        EMBER_ASSIGN_OR_RETURN(std::optional<PulledFile> file,
                               FetchFile(result.commit, path, &result.commit));
        if (!file.has_value()) {
          return absl::NotFoundError(
              absl::StrCat(id_.ToString(), ": the hub lists ", path, " but answers 404 for it"));
        }
        result.files.push_back(*std::move(file));
      }
    } else {
      std::vector<std::string> candidates(std::begin(kFallbackFiles), std::end(kFallbackFiles));
      for (size_t i = 0; i < candidates.size(); ++i) {
        const std::string path = candidates[i];
        const std::string revision = result.commit.empty() ? id_.revision : result.commit;
        EMBER_ASSIGN_OR_RETURN(std::optional<PulledFile> file,
                               FetchFile(revision, path, &result.commit));
        if (!file.has_value()) continue;
        result.files.push_back(*std::move(file));
        if (path != "modules.json") continue;
        for (const std::string& folder :
             ModuleFolders(repo_dir_ / "snapshots" / result.commit / path)) {
          for (const char* name : {"config.json", "model.safetensors"}) {
            const std::string module_file = absl::StrCat(folder, "/", name);
            if (std::find(candidates.begin(), candidates.end(), module_file) == candidates.end()) {
              candidates.push_back(module_file);
            }
          }
        }
      }
      if (result.files.empty()) {
        return absl::NotFoundError(
            absl::StrCat(id_.ToString(), " was not found on ", hub_.endpoint(),
                         " (its API answered 404 and none of the files a model has exist)"));
      }
    }
    if (result.commit.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat(id_.ToString(), ": ", hub_.endpoint(), " named no commit for the model"));
    }
    // Last, so that the revision names a snapshot only once all of it is in place.
    if (id_.revision != result.commit) {
      EMBER_RETURN_IF_ERROR(WriteFileAtomically(repo_dir_ / "refs" / id_.revision, result.commit));
    }
    result.snapshot_dir = (repo_dir_ / "snapshots" / result.commit).string();
    return result;
  }

 private:
  // The model's commit and files from the hub's API; nullopt when the API answers 404.
  absl::StatusOr<std::optional<ApiListing>> ListFiles() {
    const std::string url =
        absl::StrCat(hub_.endpoint(), "/api/models/", id_.org, "/", id_.name, "/revision/",
                     PercentEncode(id_.revision, /*keep_slash=*/false));
    EMBER_ASSIGN_OR_RETURN(HttpResponse response, hub_.Get(url, 0, nullptr));
    // The hub says which of repository or revision is missing; a bare 404 is a server without
    // the API (a mirror of the files).
    if (response.status == 404 && response.Header("x-error-code").empty()) return std::nullopt;
    if (!response.ok()) return hub_.Error(response, id_.ToString());
    const nlohmann::json info =
        nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    const auto not_hub = [&](const std::string& why) {
      return absl::FailedPreconditionError(
          absl::StrCat(url, " did not answer as a Hugging Face hub does: ", why));
    };
    if (!info.is_object()) return not_hub("not a JSON object");
    auto sha = info.find("sha");
    auto siblings = info.find("siblings");
    if (sha == info.end() || !sha->is_string()) return not_hub("no \"sha\"");
    if (siblings == info.end() || !siblings->is_array()) return not_hub("no \"siblings\"");
    ApiListing listing{.commit = sha->get<std::string>()};
    if (!IsSafeFileName(listing.commit)) {
      return absl::InvalidArgumentError(
          absl::StrCat(url, " named an unusable commit \"", listing.commit, "\""));
    }
    for (const nlohmann::json& sibling : *siblings) {
      auto name = sibling.is_object() ? sibling.find("rfilename") : sibling.end();
      if (!sibling.is_object() || name == sibling.end() || !name->is_string()) {
        return not_hub("a sibling without \"rfilename\"");
      }
      std::string path = name->get<std::string>();
      // Checked before anything is written: a hostile listing must not reach outside the cache.
      if (!IsSafeRelativePath(path)) {
        return absl::InvalidArgumentError(absl::StrCat(
            id_.ToString(), ": the hub listed the file name \"", path,
            "\", which is empty, absolute or has a \".\" or \"..\" part; nothing was downloaded"));
      }
      listing.files.push_back(std::move(path));
    }
    return listing;
  }

  // Brings `path` at `revision` into the cache and links it into the snapshot. Sets *commit from
  // the hub's X-Repo-Commit when it is empty. nullopt when the model has no such file; NotFound
  // when the hub says the model or the revision does not exist.
  absl::StatusOr<std::optional<PulledFile>> FetchFile(const std::string& revision,
                                                      const std::string& path,
                                                      std::string* commit) {
    const std::string what = absl::StrCat(id_.ToString(), " file ", path);
    // A pinned commit whose file is linked already needs no request at all.
    if (!commit->empty() && revision == *commit) {
      const fs::path linked = repo_dir_ / "snapshots" / *commit / path;
      if (const int64_t size = FileSizeOr(linked, -1); size >= 0) {
        return PulledFile{.path = path, .size = size, .downloaded = false};
      }
    }
    const std::string url = absl::StrCat(hub_.endpoint(), "/", id_.org, "/", id_.name, "/resolve/",
                                         PercentEncode(revision, /*keep_slash=*/false), "/",
                                         PercentEncode(path, /*keep_slash=*/true));
    EMBER_ASSIGN_OR_RETURN(HttpResponse head, hub_.Head(url));
    if (head.status == 404) {
      // huggingface.co names what is missing; only a missing file (or a server that does not
      // say) means "skip it".
      const std::string error_code = head.Header("x-error-code");
      if (error_code.empty() || error_code == "EntryNotFound") return std::nullopt;
    }
    if (!head.ok() && !(head.redirect() && !head.redirect_url.empty())) {
      return hub_.Error(head, what);
    }

    const std::string file_commit = head.Header("x-repo-commit");
    if (file_commit.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat(head.url, " sent no X-Repo-Commit header: is ", hub_.endpoint(),
                       " a Hugging Face hub? (check HF_ENDPOINT)"));
    }
    if (!IsSafeFileName(file_commit)) {
      return absl::InvalidArgumentError(
          absl::StrCat(head.url, " named an unusable commit \"", file_commit, "\""));
    }
    if (commit->empty()) *commit = file_commit;
    std::string etag = head.Header("x-linked-etag");
    if (etag.empty()) etag = head.Header("etag");
    etag = NormalizeEtag(etag);
    if (etag.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat(head.url, " sent no ETag: is ", hub_.endpoint(), " a Hugging Face hub?"));
    }
    if (!IsSafeFileName(etag)) {
      return absl::InvalidArgumentError(
          absl::StrCat(head.url, " sent an unusable ETag \"", etag, "\""));
    }
    // The size of an LFS file behind a redirect is X-Linked-Size; a redirect's own Content-Length
    // is that of its (empty) body.
    int64_t expected_size = -1;
    std::string size_header = head.Header("x-linked-size");
    if (size_header.empty() && head.ok()) size_header = head.Header("content-length");
    if (!size_header.empty() && !absl::SimpleAtoi(size_header, &expected_size)) expected_size = -1;

    const fs::path blob = repo_dir_ / "blobs" / etag;
    bool downloaded = false;
    if (FileSizeOr(blob, -1) < 0 || (expected_size >= 0 && FileSizeOr(blob, -1) != expected_size)) {
      // Straight to where the hub redirected (the CDN), as huggingface_hub does: one request fewer,
      // and the very object whose headers were just read.
      const std::string& source = head.redirect() ? head.redirect_url : head.url;
      EMBER_ASSIGN_OR_RETURN(downloaded, Download(source, path, etag, expected_size));
    }
    EMBER_RETURN_IF_ERROR(LinkSnapshotFile(repo_dir_ / "snapshots" / *commit / path, blob));
    return PulledFile{.path = path, .size = FileSizeOr(blob, 0), .downloaded = downloaded};
  }

  // Downloads `url` into blobs/<etag> through blobs/<etag>.incomplete, resuming it when present,
  // and checks size and (for an LFS etag, which is the content's SHA-256) digest. Returns false
  // when another process finished the blob while this one waited for its lock.
  absl::StatusOr<bool> Download(const std::string& url, const std::string& path,
                                const std::string& etag, int64_t expected_size) {
    const fs::path blob = repo_dir_ / "blobs" / etag;
    EMBER_RETURN_IF_ERROR(CreateFolder(blob.parent_path()));
    EMBER_ASSIGN_OR_RETURN(std::unique_ptr<FileLock> lock,
                           FileLock::Acquire(lock_dir_ / (etag + ".lock")));
    if (const int64_t size = FileSizeOr(blob, -1);
        size >= 0 && (expected_size < 0 || size == expected_size)) {
      return false;
    }
    const fs::path partial = fs::path(blob.string() + ".incomplete");
    const bool check_digest = IsHex(etag, 64);
    Sha256 hasher;
    int64_t have = FileSizeOr(partial, 0);
    if ((expected_size >= 0 && have > expected_size) ||
        (have > 0 && check_digest && !HashFilePrefix(partial, have, hasher))) {
      RemoveQuietly(partial);
      hasher = Sha256();
      have = 0;
    }

    if (expected_size < 0 || have < expected_size) {
      UniqueFile file;
      const int64_t resume_from = have;
      const BodySink sink = [&](const HttpResponse& response,
                                absl::string_view bytes) -> absl::Status {
        if (file == nullptr) {
          // 206 continues the partial file; 200 (a server that ignores Range) starts it over.
          const bool resume = response.status == 206 && resume_from > 0;
          if (resume && !absl::StartsWith(response.Header("content-range"),
                                          absl::StrCat("bytes ", resume_from, "-"))) {
            return absl::UnavailableError(absl::StrCat(
                WithoutQuery(response.url), " resumed ", path, " at the wrong offset (",
                response.Header("content-range"), "); pull again"));
          }
          if (!resume) {
            hasher = Sha256();
            have = 0;
          }
          file.reset(std::fopen(partial.c_str(), resume ? "ab" : "wb"));
          if (file == nullptr) {
            return absl::InternalError(
                absl::StrCat("cannot write ", partial.string(), ": ", std::strerror(errno)));
          }
        }
        if (std::fwrite(bytes.data(), 1, bytes.size(), file.get()) != bytes.size()) {
          return absl::InternalError(
              absl::StrCat("cannot write ", partial.string(), ": ", std::strerror(errno)));
        }
        if (check_digest) hasher.Update(bytes.data(), bytes.size());
        have += static_cast<int64_t>(bytes.size());
        if (options_.progress) {
          options_.progress(
              DownloadProgress{.path = path, .bytes_done = have, .bytes_total = expected_size});
        }
        return absl::OkStatus();
      };
      absl::StatusOr<HttpResponse> response = hub_.Get(url, resume_from, &sink);
      EMBER_RETURN_IF_ERROR(response.status());
      if (response->status == 416) {
        RemoveQuietly(partial);
        return absl::UnavailableError(absl::StrCat(WithoutQuery(response->url),
                                                   " refused to resume ", path,
                                                   " (HTTP 416); pull again to restart it"));
      }
      if (!response->ok()) {
        return hub_.Error(*response, absl::StrCat(id_.ToString(), " file ", path));
      }
      if (file == nullptr) {  // an empty body
        file.reset(std::fopen(partial.c_str(), response->status == 206 ? "ab" : "wb"));
        if (response->status != 206) hasher = Sha256();
      }
      if (file == nullptr || std::fflush(file.get()) != 0 || ::fsync(fileno(file.get())) != 0) {
        return absl::InternalError(absl::StrCat("cannot write ", partial.string()));
      }
      file.reset();
      if (expected_size < 0 && response->status == 200) {
        int64_t length = -1;
        if (absl::SimpleAtoi(response->Header("content-length"), &length)) expected_size = length;
      }
    }

    const int64_t actual_size = FileSizeOr(partial, 0);
    if (expected_size >= 0 && actual_size != expected_size) {
      RemoveQuietly(partial);
      return absl::DataLossError(absl::StrCat(id_.ToString(), " file ", path, ": downloaded ",
                                              actual_size, " bytes but the hub announced ",
                                              expected_size,
                                              "; the partial file was deleted, pull again"));
    }
    if (check_digest && hasher.HexDigest() != absl::AsciiStrToLower(etag)) {
      RemoveQuietly(partial);
      return absl::DataLossError(absl::StrCat(id_.ToString(), " file ", path, ": its SHA-256 is ",
                                              hasher.HexDigest(), " but the hub announced ", etag,
                                              "; the download was deleted, pull again"));
    }
    std::error_code error;
    fs::rename(partial, blob, error);
    if (error) {
      return absl::InternalError(
          absl::StrCat("cannot rename ", partial.string(), ": ", error.message()));
    }
    return true;
  }

  const HubModelId& id_;
  HubConnection& hub_;
  const fs::path repo_dir_;
  const fs::path lock_dir_;
  const PullOptions& options_;
};

// The token to send: the option, $HF_TOKEN, or the file `huggingface-cli login` writes.
std::string FindToken(const PullOptions& options) {
  if (!options.token.empty()) return options.token;
  if (std::string token = GetEnv("HF_TOKEN"); !token.empty()) return token;
  std::string path = GetEnv("HF_TOKEN_PATH");
  path = path.empty() ? (fs::path(HfHome()) / "token").string() : ExpandHome(path);
  std::ifstream in(path, std::ios::binary);
  std::string token;
  std::getline(in, token);
  return std::string(absl::StripAsciiWhitespace(token));
}

}  // namespace

std::string HubModelId::ToString() const {
  return revision == "main" ? repo() : absl::StrCat(repo(), "@", revision);
}

absl::StatusOr<HubModelId> ParseHubModelId(std::string_view std_text) {
  const absl::string_view text(std_text.data(), std_text.size());
  const auto invalid = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", std::string(text),
                     "\" is not a hub model id ORG/NAME[@REVISION]: ", std::string(why)));
  };
  HubModelId id;
  absl::string_view repo = text;
  if (const size_t at = text.find('@'); at != absl::string_view::npos) {
    repo = text.substr(0, at);
    const absl::string_view revision = text.substr(at + 1);
    if (!IsSafeRelativePath(revision)) {
      return invalid("the revision is empty or has an empty, \".\" or \"..\" part");
    }
    id.revision = std::string(revision);
  }
  const std::vector<absl::string_view> parts = absl::StrSplit(repo, '/');
  if (parts.size() != 2) return invalid("expected exactly one '/'");
  if (!IsValidRepoPart(parts[0]) || !IsValidRepoPart(parts[1])) {
    return invalid(
        "ORG and NAME are letters, digits, '-', '_' and '.', not starting or ending with '-' or "
        "'.', with no \"--\" or \"..\"");
  }
  id.org = std::string(parts[0]);
  id.name = std::string(parts[1]);
  return id;
}

std::string HubCacheDir() {
  if (std::string cache = GetEnv("HF_HUB_CACHE"); !cache.empty()) return ExpandHome(cache);
  return (fs::path(HfHome()) / "hub").string();
}

absl::StatusOr<PullResult> PullModel(const HubModelId& id, const PullOptions& options) {
  std::string endpoint = options.endpoint.empty() ? GetEnv("HF_ENDPOINT") : options.endpoint;
  if (endpoint.empty()) endpoint = kDefaultEndpoint;
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  if (!absl::StartsWith(endpoint, "http://") && !absl::StartsWith(endpoint, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("the hub endpoint \"", endpoint, "\" (HF_ENDPOINT) is not an http(s) URL"));
  }
  const fs::path cache = options.cache_dir.empty() ? HubCacheDir() : options.cache_dir;
  HubConnection hub(endpoint, FindToken(options), std::max(1, options.stall_timeout_seconds));
  return ModelPuller(id, hub, cache, options).Pull();
}

absl::StatusOr<std::string> ResolveModel(std::string_view std_name, const std::string& cache_dir) {
  const absl::string_view name(std_name.data(), std_name.size());
  std::error_code error;
  if (!name.empty() && fs::exists(fs::path(std_name), error)) return std::string(name);
  absl::StatusOr<HubModelId> id = ParseHubModelId(std_name);
  if (!id.ok()) {
    return absl::NotFoundError(absl::StrCat("no model folder or file at ", std::string(name)));
  }
  const fs::path cache = cache_dir.empty() ? HubCacheDir() : cache_dir;
  const fs::path repo_dir = cache / RepoFolderName(*id);
  std::string commit;
  {
    std::ifstream ref(repo_dir / "refs" / id->revision, std::ios::binary);
    std::getline(ref, commit);
    commit = std::string(absl::StripAsciiWhitespace(commit));
  }
  if (commit.empty()) commit = id->revision;  // a commit hash, named directly
  if (IsSafeFileName(commit)) {
    const fs::path snapshot = repo_dir / "snapshots" / commit;
    if (fs::is_directory(snapshot, error)) return snapshot.string();
  }
  return absl::NotFoundError(absl::StrCat("no model folder ", std::string(name), ", and ",
                                          id->ToString(), " is not in the Hugging Face cache at ",
                                          cache.string(), ": run `ember model pull ",
                                          id->ToString(), "` to download it"));
}

}  // namespace ember::embed
