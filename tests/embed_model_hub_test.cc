// PullModel and ResolveModel against a small Hugging Face hub served from this process
// (127.0.0.1, port 0): the fixture model ../shared/fixtures/bert-tiny-random in the hub's URL
// layout, with the hub's headers, Range support and a redirect to a "CDN" for the LFS weights.
// Also SHA-256 known answers, since the pull's verification rests on them.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "embed/encoder.h"
#include "embed/model_hub.h"
#include "embed/sha256.h"
#include "status_matchers.h"
#include "temp_dir.h"

namespace ember::embed {
namespace {

namespace fs = std::filesystem;

using ::ember::testing::IsOk;
using ::ember::testing::StatusIs;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::Each;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kTinyDir = std::string(EMBER_SHARED_DIR) + "/fixtures/bert-tiny-random";
constexpr char kOrg[] = "test-org";
constexpr char kName[] = "bert-tiny";
constexpr char kCommit[] = "0123456789abcdef0123456789abcdef01234567";

// ---------------------------------------------------------------------------------------------
// SHA-256

TEST(Sha256Test, KnownAnswers) {
  // FIPS 180-2 examples and the empty string.
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Sha256Test, DigestDoesNotDependOnChunking) {
  std::string text;
  for (int i = 0; i < 1000; ++i) text += static_cast<char>(i * 7 + 3);
  const std::string whole = Sha256Hex(text);
  for (size_t chunk : {1, 3, 55, 56, 63, 64, 65, 127, 999}) {
    Sha256 hasher;
    for (size_t at = 0; at < text.size(); at += chunk) {
      hasher.Update(std::string_view(text).substr(at, chunk));
    }
    EXPECT_EQ(hasher.HexDigest(), whole) << "chunk " << chunk;
  }
  // Every length around the padding boundary (55, 56, 64 bytes) against one-shot hashing.
  Sha256 growing;
  for (size_t length = 0; length < 130; ++length) {
    EXPECT_EQ(growing.HexDigest(), Sha256Hex(text.substr(0, length))) << "length " << length;
    growing.Update(text.substr(length, 1));
  }
}

// ---------------------------------------------------------------------------------------------
// Model ids and the cache folder

TEST(HubModelIdTest, ParsesOrgNameAndRevision) {
  ASSERT_OK_AND_ASSIGN(HubModelId id, ParseHubModelId("sentence-transformers/all-MiniLM-L6-v2"));
  EXPECT_EQ(id.org, "sentence-transformers");
  EXPECT_EQ(id.name, "all-MiniLM-L6-v2");
  EXPECT_EQ(id.revision, "main");
  EXPECT_EQ(id.ToString(), "sentence-transformers/all-MiniLM-L6-v2");
  ASSERT_OK_AND_ASSIGN(id, ParseHubModelId("BAAI/bge-small-en-v1.5@refs/pr/12"));
  EXPECT_EQ(id.name, "bge-small-en-v1.5");
  EXPECT_EQ(id.revision, "refs/pr/12");
  EXPECT_EQ(id.ToString(), "BAAI/bge-small-en-v1.5@refs/pr/12");
}

TEST(HubModelIdTest, RejectsNamesThatCouldLeaveTheCache) {
  for (const char* bad :
       {"", "name-only", "/abs/path", "a/b/c", "a//b", "../b", "a/..", "a/b..c", "a/b--c", "a/-b",
        "a/b.", "a/b c", "a/b@", "a/b@../x", "a/b@x/../y", "a/b@/x", "a/b@x//y", "./b", "a\\b/c"}) {
    EXPECT_THAT(ParseHubModelId(bad), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
  }
  EXPECT_THAT(ParseHubModelId(std::string(97, 'a') + "/b"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// Sets environment variables for one test and restores them after.
class ScopedEnv {
 public:
  ~ScopedEnv() {
    for (const auto& [name, value] : saved_) {
      if (value) {
        ::setenv(name.c_str(), value->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }
  void Set(const std::string& name, const std::optional<std::string>& value) {
    if (!saved_.count(name)) {
      const char* old = std::getenv(name.c_str());
      saved_[name] = old ? std::optional<std::string>(old) : std::nullopt;
    }
    if (value) {
      ::setenv(name.c_str(), value->c_str(), 1);
    } else {
      ::unsetenv(name.c_str());
    }
  }

 private:
  std::map<std::string, std::optional<std::string>> saved_;
};

TEST(HubCacheDirTest, FollowsHuggingFaceVariables) {
  ScopedEnv env;
  env.Set("HF_HUB_CACHE", std::nullopt);
  env.Set("HF_HOME", std::nullopt);
  env.Set("XDG_CACHE_HOME", std::nullopt);
  env.Set("HOME", "/home/someone");
  EXPECT_EQ(HubCacheDir(), "/home/someone/.cache/huggingface/hub");
  env.Set("XDG_CACHE_HOME", "/xdg");
  EXPECT_EQ(HubCacheDir(), "/xdg/huggingface/hub");
  env.Set("HF_HOME", "~/hf");
  EXPECT_EQ(HubCacheDir(), "/home/someone/hf/hub");
  env.Set("HF_HUB_CACHE", "/cache/hub");
  EXPECT_EQ(HubCacheDir(), "/cache/hub");
}

// ---------------------------------------------------------------------------------------------
// A hub in this process

struct SeenRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> headers;  // lower-case names

  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

// Serves one model, test-org/bert-tiny at kCommit ("main" names it), the way huggingface.co does:
//   GET  /api/models/ORG/NAME/revision/REV  {"sha", "siblings": [{"rfilename"}]}
//   HEAD/GET /ORG/NAME/resolve/REV/PATH     X-Repo-Commit, ETag; for .safetensors (LFS) a 302 to
//                                           http://localhost:PORT/cdn/<sha256> with X-Linked-Etag
//                                           and X-Linked-Size
//   GET  /cdn/<sha256>                      the LFS content, with Range support
// Each connection carries one request (Connection: close). Faults are switched on by the fields.
class FakeHub {
 public:
  explicit FakeHub(const std::string& model_dir) {
    for (const auto& entry : fs::recursive_directory_iterator(model_dir)) {
      if (!entry.is_regular_file()) continue;
      std::ifstream in(entry.path(), std::ios::binary);
      std::stringstream content;
      content << in.rdbuf();
      files_[entry.path().lexically_relative(model_dir).generic_string()] = content.str();
    }
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof(address);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::listen(listen_fd_, 16) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      ADD_FAILURE() << "cannot listen on 127.0.0.1";
      return;
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }

  ~FakeHub() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    ::close(listen_fd_);
  }

  std::string endpoint() const { return absl::StrCat("http://127.0.0.1:", port_); }
  const std::map<std::string, std::string>& files() const { return files_; }

  std::vector<SeenRequest> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  void ClearRequests() {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.clear();
  }
  // Requests that transferred file content (GET of a file or of the CDN).
  std::vector<SeenRequest> ContentRequests() {
    std::vector<SeenRequest> content;
    for (const SeenRequest& request : requests()) {
      if (request.method == "GET" && !absl::StartsWith(request.path, "/api/")) {
        content.push_back(request);
      }
    }
    return content;
  }

  // Faults and variations; set them before the pull.
  /// Whether /api/models/... answers (false: 404, like a mirror that only serves files).
  std::atomic<bool> api_available{true};
  /// When non-empty, every request to the hub (not the CDN) needs "Authorization: Bearer <token>".
  std::string required_token;
  /// When >= 0, the next CDN GET sends this many bytes of the body and drops the connection.
  std::atomic<int64_t> drop_after_bytes{-1};
  /// When true, the CDN serves the LFS file with one byte changed (same size).
  std::atomic<bool> corrupt_lfs{false};
  /// Extra names the API lists (served with small stand-in content).
  std::vector<std::string> extra_siblings;

 private:
  static bool IsLfs(const std::string& path) { return absl::EndsWith(path, ".safetensors"); }

  void Serve() {
    while (!stop_) {
      pollfd poll_fd{listen_fd_, POLLIN, 0};
      if (::poll(&poll_fd, 1, 50) <= 0) continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      timeval timeout{5, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
      Handle(fd);
      ::close(fd);
    }
  }

  static void SendAll(int fd, std::string_view data) {
    while (!data.empty()) {
      const ssize_t sent = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (sent <= 0) return;
      data.remove_prefix(static_cast<size_t>(sent));
    }
  }

  static void Respond(int fd, const SeenRequest& request, int status,
                      const std::vector<std::pair<std::string, std::string>>& headers,
                      std::string_view body, int64_t body_limit = -1) {
    static const std::map<int, std::string> kReasons = {
        {200, "OK"},           {206, "Partial Content"}, {302, "Found"},
        {401, "Unauthorized"}, {404, "Not Found"},       {416, "Range Not Satisfiable"}};
    std::string head = absl::StrCat("HTTP/1.1 ", status, " ", kReasons.at(status), "\r\n");
    for (const auto& [name, value] : headers) absl::StrAppend(&head, name, ": ", value, "\r\n");
    absl::StrAppend(&head, "Content-Length: ", body.size(), "\r\nConnection: close\r\n\r\n");
    SendAll(fd, head);
    if (request.method == "HEAD") return;
    if (body_limit >= 0 && body_limit < static_cast<int64_t>(body.size())) {
      SendAll(fd, body.substr(0, body_limit));
      ::shutdown(fd, SHUT_RDWR);
      return;
    }
    SendAll(fd, body);
  }

  // Serves `content` honouring a "Range: bytes=N-" request.
  void ServeContent(int fd, const SeenRequest& request,
                    std::vector<std::pair<std::string, std::string>> headers,
                    std::string_view content, int64_t body_limit = -1) {
    const std::string range = request.Header("range");
    int64_t start = 0;
    if (absl::StartsWith(range, "bytes=") && absl::EndsWith(range, "-") &&
        absl::SimpleAtoi(range.substr(6, range.size() - 7), &start)) {
      if (start >= static_cast<int64_t>(content.size())) {
        Respond(fd, request, 416, headers, "");
        return;
      }
      headers.push_back({"Content-Range", absl::StrCat("bytes ", start, "-", content.size() - 1,
                                                       "/", content.size())});
      Respond(fd, request, 206, headers, content.substr(start), body_limit);
      return;
    }
    Respond(fd, request, 200, headers, content, body_limit);
  }

  void Handle(int fd) {
    std::string data;
    char buffer[4096];
    while (data.find("\r\n\r\n") == std::string::npos) {
      const ssize_t got = ::recv(fd, buffer, sizeof(buffer), 0);
      if (got <= 0) return;
      data.append(buffer, static_cast<size_t>(got));
    }
    SeenRequest request;
    const std::vector<std::string> lines =
        absl::StrSplit(data.substr(0, data.find("\r\n\r\n")), "\r\n");
    const std::vector<std::string> request_line = absl::StrSplit(lines[0], ' ');
    if (request_line.size() != 3) return;
    request.method = request_line[0];
    request.path = request_line[1];
    for (size_t i = 1; i < lines.size(); ++i) {
      const size_t colon = lines[i].find(':');
      if (colon == std::string::npos) continue;
      request.headers[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
          std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(request);
    }

    // The CDN: no token needed, content named by its SHA-256.
    if (absl::StartsWith(request.path, "/cdn/")) {
      const std::string sha = request.path.substr(5);
      for (const auto& [path, content] : files_) {
        if (!IsLfs(path) || Sha256Hex(content) != sha) continue;
        std::string served = content;
        if (corrupt_lfs) served[served.size() / 2] ^= 0x55;
        const int64_t limit = drop_after_bytes.exchange(-1);
        ServeContent(fd, request, {{"ETag", absl::StrCat("\"", sha, "\"")}}, served, limit);
        return;
      }
      Respond(fd, request, 404, {}, "no such object");
      return;
    }
    if (!required_token.empty() &&
        request.Header("authorization") != absl::StrCat("Bearer ", required_token)) {
      Respond(fd, request, 401,
              {{"X-Error-Message", "Invalid credentials in Authorization header"}},
              "{\"error\":\"Invalid credentials\"}");
      return;
    }
    const std::string repo = absl::StrCat("/", kOrg, "/", kName, "/resolve/");
    const std::string api = absl::StrCat("/api/models/", kOrg, "/", kName, "/revision/");
    if (absl::StartsWith(request.path, api)) {
      const std::string revision = request.path.substr(api.size());
      if (!api_available) {
        Respond(fd, request, 404, {}, "Not Found");
        return;
      }
      if (revision != "main" && revision != kCommit) {
        Respond(fd, request, 404, {{"X-Error-Code", "RevisionNotFound"}},
                "{\"error\":\"Invalid rev id\"}");
        return;
      }
      nlohmann::json siblings = nlohmann::json::array();
      for (const auto& [path, content] : files_) siblings.push_back({{"rfilename", path}});
      for (const std::string& path : extra_siblings) siblings.push_back({{"rfilename", path}});
      const nlohmann::json info = {
          {"id", absl::StrCat(kOrg, "/", kName)}, {"sha", kCommit}, {"siblings", siblings}};
      Respond(fd, request, 200, {{"Content-Type", "application/json"}}, info.dump());
      return;
    }
    if (!absl::StartsWith(request.path, repo)) {
      Respond(fd, request, 404, {{"X-Error-Code", "RepoNotFound"}}, "Repository not found");
      return;
    }
    const std::string rest = request.path.substr(repo.size());
    const size_t slash = rest.find('/');
    const std::string revision = rest.substr(0, slash);
    const std::string path = slash == std::string::npos ? "" : rest.substr(slash + 1);
    std::string content;
    if (auto it = files_.find(path); it != files_.end()) {
      content = it->second;
    } else if (std::find(extra_siblings.begin(), extra_siblings.end(), path) !=
               extra_siblings.end()) {
      content = "stand-in for " + path;
    } else {
      Respond(fd, request, 404, {{"X-Error-Code", "EntryNotFound"}}, "Entry not found");
      return;
    }
    if (revision != "main" && revision != kCommit) {
      Respond(fd, request, 404, {{"X-Error-Code", "RevisionNotFound"}}, "Revision not found");
      return;
    }
    const std::string sha = Sha256Hex(content);
    if (IsLfs(path)) {
      Respond(fd, request, 302,
              {{"Location", absl::StrCat("http://localhost:", port_, "/cdn/", sha)},
               {"X-Repo-Commit", kCommit},
               {"X-Linked-Etag", absl::StrCat("\"", sha, "\"")},
               {"X-Linked-Size", absl::StrCat(content.size())},
               {"ETag", "\"not-the-content-hash\""}},
              "");
      return;
    }
    // Small files: the hub's ETag is the git blob hash; 40 hex digits stand in for it.
    ServeContent(
        fd, request,
        {{"X-Repo-Commit", kCommit}, {"ETag", absl::StrCat("W/\"", sha.substr(0, 40), "\"")}},
        content);
  }

  std::map<std::string, std::string> files_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<SeenRequest> requests_;
};

// Every test gets its own HF_HOME and talks to its own hub; the real cache is never touched.
class ModelHubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kTinyDir))
      GTEST_SKIP() << "no fixtures at " << kTinyDir << " (../shared is absent)";
    hub_ = std::make_unique<FakeHub>(kTinyDir);
    env_.Set("HF_HOME", home_.path());
    env_.Set("HF_HUB_CACHE", std::nullopt);
    env_.Set("HF_TOKEN", std::nullopt);
    env_.Set("HF_TOKEN_PATH", std::nullopt);
    env_.Set("HF_ENDPOINT", hub_->endpoint());
  }

  HubModelId Id(const std::string& revision = "main") {
    return HubModelId{.org = kOrg, .name = kName, .revision = revision};
  }
  fs::path RepoDir() const {
    return fs::path(home_.path()) / "hub" / "models--test-org--bert-tiny";
  }
  fs::path SnapshotDir() const { return RepoDir() / "snapshots" / kCommit; }

  static std::vector<float> EmbedTexts(const std::string& model_dir) {
    absl::StatusOr<std::unique_ptr<Encoder>> encoder = LoadEncoder(model_dir);
    EXPECT_THAT(encoder, IsOk());
    if (!encoder.ok()) return {};
    const std::vector<std::string> texts = {"a fast text editor", "the music player",
                                            "Ünïcödé and emoji 🎵"};
    absl::StatusOr<std::vector<float>> vectors = (*encoder)->Embed(texts, EmbedRole::kDocument);
    EXPECT_THAT(vectors, IsOk());
    return vectors.ok() ? *vectors : std::vector<float>();
  }

  ember::testing::TempDir home_;
  ScopedEnv env_;
  std::unique_ptr<FakeHub> hub_;
};

TEST_F(ModelHubTest, PullThenResolveOfflineLoadsTheSameModel) {
  ASSERT_OK_AND_ASSIGN(PullResult pulled, PullModel(Id()));
  EXPECT_EQ(pulled.commit, kCommit);
  EXPECT_EQ(pulled.snapshot_dir, SnapshotDir().string());
  EXPECT_EQ(pulled.files.size(), hub_->files().size());
  for (const auto& [path, content] : hub_->files()) {
    EXPECT_THAT(pulled.files,
                Contains(AllOf(Field(&PulledFile::path, path),
                               Field(&PulledFile::size, static_cast<int64_t>(content.size())),
                               Field(&PulledFile::downloaded, true))));
  }

  // The layout huggingface_hub reads: refs/main -> commit, snapshot entries are relative links to
  // blobs named by ETag (the SHA-256 for the LFS file), with the content of the hub's files.
  std::ifstream ref(RepoDir() / "refs" / "main");
  std::string ref_commit;
  std::getline(ref, ref_commit);
  EXPECT_EQ(ref_commit, kCommit);
  const std::string weights = hub_->files().at("model.safetensors");
  const fs::path weights_link = SnapshotDir() / "model.safetensors";
  ASSERT_TRUE(fs::is_symlink(weights_link));
  EXPECT_EQ(fs::read_symlink(weights_link), fs::path("../../blobs") / Sha256Hex(weights));
  EXPECT_EQ(fs::read_symlink(SnapshotDir() / "1_Pooling" / "config.json").string().substr(0, 15),
            "../../../blobs/");
  for (const auto& [path, content] : hub_->files()) {
    std::ifstream in(SnapshotDir() / path, std::ios::binary);
    std::stringstream cached;
    cached << in.rdbuf();
    EXPECT_TRUE(cached.str() == content) << path;
  }
  for (const auto& entry : fs::directory_iterator(RepoDir() / "blobs")) {
    EXPECT_FALSE(absl::EndsWith(entry.path().string(), ".incomplete")) << entry.path();
  }

  // Offline: no hub at all.
  hub_.reset();
  ASSERT_OK_AND_ASSIGN(std::string resolved, ResolveModel("test-org/bert-tiny"));
  EXPECT_EQ(resolved, SnapshotDir().string());
  EXPECT_THAT(ResolveModel(absl::StrCat("test-org/bert-tiny@", kCommit)),
              ::ember::testing::IsOkAndHolds(SnapshotDir().string()));
  const std::vector<float> from_cache = EmbedTexts(resolved);
  const std::vector<float> from_fixture = EmbedTexts(kTinyDir);
  ASSERT_FALSE(from_cache.empty());
  EXPECT_EQ(from_cache, from_fixture);
  ASSERT_OK_AND_ASSIGN(auto cached_encoder, LoadEncoder(resolved));
  ASSERT_OK_AND_ASSIGN(auto fixture_encoder, LoadEncoder(kTinyDir));
  EXPECT_EQ(cached_encoder->fingerprint(), fixture_encoder->fingerprint());
}

TEST_F(ModelHubTest, SecondPullDownloadsNothing) {
  ASSERT_OK(PullModel(Id()).status());
  hub_->ClearRequests();
  ASSERT_OK_AND_ASSIGN(PullResult again, PullModel(Id()));
  EXPECT_THAT(again.files, Each(Field(&PulledFile::downloaded, false)));
  EXPECT_EQ(again.files.size(), hub_->files().size());
  EXPECT_TRUE(hub_->ContentRequests().empty());
  // Only the API call: with the commit known and its files linked, no HEAD is needed either.
  EXPECT_EQ(hub_->requests().size(), 1u);

  // A pull by branch with its files already in the cache (API down, so each file is HEADed): still
  // no content transferred.
  hub_->api_available = false;
  hub_->ClearRequests();
  ASSERT_OK_AND_ASSIGN(again, PullModel(Id()));
  EXPECT_THAT(again.files, Each(Field(&PulledFile::downloaded, false)));
  EXPECT_TRUE(hub_->ContentRequests().empty());
}

TEST_F(ModelHubTest, ResumesADroppedDownloadWithARangeRequest) {
  const std::string weights = hub_->files().at("model.safetensors");
  const int64_t dropped_at = 1'000'000;
  hub_->drop_after_bytes = dropped_at;
  const absl::StatusOr<PullResult> first = PullModel(Id());
  EXPECT_THAT(first, StatusIs(absl::StatusCode::kUnavailable));
  const fs::path partial = RepoDir() / "blobs" / (Sha256Hex(weights) + ".incomplete");
  ASSERT_TRUE(fs::exists(partial));
  const int64_t kept = static_cast<int64_t>(fs::file_size(partial));
  EXPECT_GT(kept, 0);
  EXPECT_LE(kept, dropped_at);
  // Not resolvable: refs/main is written only once the pull is complete.
  EXPECT_THAT(ResolveModel("test-org/bert-tiny"), StatusIs(absl::StatusCode::kNotFound));

  hub_->ClearRequests();
  std::vector<int64_t> progress;
  PullOptions options;
  options.progress = [&](const DownloadProgress& update) {
    if (update.path != "model.safetensors") return;
    progress.push_back(update.bytes_done);
    EXPECT_EQ(update.bytes_total, static_cast<int64_t>(weights.size()));
  };
  ASSERT_OK_AND_ASSIGN(PullResult second, PullModel(Id(), options));
  std::vector<std::string> ranges;
  for (const SeenRequest& request : hub_->ContentRequests()) {
    if (absl::StartsWith(request.path, "/cdn/")) ranges.push_back(request.Header("range"));
  }
  EXPECT_EQ(ranges, std::vector<std::string>{absl::StrCat("bytes=", kept, "-")});
  ASSERT_FALSE(progress.empty());
  EXPECT_GT(progress.front(), kept);
  EXPECT_EQ(progress.back(), static_cast<int64_t>(weights.size()));
  EXPECT_FALSE(fs::exists(partial));
  std::ifstream in(SnapshotDir() / "model.safetensors", std::ios::binary);
  std::stringstream cached;
  cached << in.rdbuf();
  EXPECT_TRUE(cached.str() == weights);
  EXPECT_EQ(EmbedTexts(second.snapshot_dir), EmbedTexts(kTinyDir));
}

TEST_F(ModelHubTest, CorruptContentIsDataLossAndLeavesNoFile) {
  hub_->corrupt_lfs = true;
  EXPECT_THAT(PullModel(Id()),
              StatusIs(absl::StatusCode::kDataLoss,
                       AllOf(HasSubstr("model.safetensors"), HasSubstr("SHA-256"))));
  EXPECT_FALSE(fs::exists(SnapshotDir() / "model.safetensors"));
  EXPECT_FALSE(fs::exists(RepoDir() / "refs" / "main"));
  for (const auto& entry : fs::directory_iterator(RepoDir() / "blobs")) {
    EXPECT_NE(entry.path().filename(), Sha256Hex(hub_->files().at("model.safetensors")));
    EXPECT_FALSE(absl::EndsWith(entry.path().string(), ".incomplete")) << entry.path();
  }
  EXPECT_THAT(ResolveModel("test-org/bert-tiny"), StatusIs(absl::StatusCode::kNotFound));

  // Fixed on the hub: the next pull completes.
  hub_->corrupt_lfs = false;
  EXPECT_OK(PullModel(Id()).status());
}

TEST_F(ModelHubTest, MissingTokenIsPermissionDenied) {
  hub_->required_token = "hf_secret";
  EXPECT_THAT(PullModel(Id()),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("HF_TOKEN")));
  env_.Set("HF_TOKEN", "hf_wrong");
  EXPECT_THAT(PullModel(Id()), StatusIs(absl::StatusCode::kPermissionDenied,
                                        AllOf(HasSubstr("HF_TOKEN"), HasSubstr("refused"))));
}

TEST_F(ModelHubTest, TokenGoesToTheHubButNotToTheCdn) {
  hub_->required_token = "hf_secret";
  env_.Set("HF_TOKEN", "hf_secret");
  ASSERT_OK(PullModel(Id()).status());
  int hub_requests = 0, cdn_requests = 0;
  for (const SeenRequest& request : hub_->requests()) {
    if (absl::StartsWith(request.path, "/cdn/")) {
      ++cdn_requests;
      EXPECT_EQ(request.Header("authorization"), "") << "token leaked to " << request.path;
    } else {
      ++hub_requests;
      EXPECT_EQ(request.Header("authorization"), "Bearer hf_secret") << request.path;
    }
  }
  EXPECT_GT(hub_requests, 0);
  EXPECT_EQ(cdn_requests, 1);
}

TEST_F(ModelHubTest, TokenFileIsReadWhenHfTokenIsUnset) {
  hub_->required_token = "hf_from_file";
  std::ofstream(fs::path(home_.path()) / "token") << "hf_from_file\n";
  EXPECT_OK(PullModel(Id()).status());
}

TEST_F(ModelHubTest, PathTraversalInTheFileListIsRejected) {
  for (const char* bad : {"../../../escaped.json", "/tmp/escaped.json", "a//escaped.json",
                          "1_Pooling/../../escaped.json", "./escaped.json"}) {
    hub_->extra_siblings = {bad};
    hub_->ClearRequests();
    EXPECT_THAT(PullModel(Id()), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(bad)));
    // Refused before any file was asked for.
    EXPECT_TRUE(hub_->ContentRequests().empty()) << bad;
  }
  for (const auto& entry : fs::recursive_directory_iterator(home_.path())) {
    EXPECT_NE(entry.path().filename(), "escaped.json") << entry.path();
  }
  EXPECT_FALSE(fs::exists("/tmp/escaped.json"));
}

TEST_F(ModelHubTest, LeavesOutWeightsTheEncoderCannotRead) {
  hub_->extra_siblings = {"pytorch_model.bin", "tf_model.h5",      "flax_model.msgpack",
                          "onnx/model.onnx",   "onnx/config.json", "README.md"};
  ASSERT_OK_AND_ASSIGN(PullResult pulled, PullModel(Id()));
  std::vector<std::string> paths;
  for (const PulledFile& file : pulled.files) paths.push_back(file.path);
  EXPECT_THAT(paths, Contains("README.md"));
  for (const char* skipped : {"pytorch_model.bin", "tf_model.h5", "flax_model.msgpack",
                              "onnx/model.onnx", "onnx/config.json"}) {
    EXPECT_THAT(paths, Not(Contains(skipped)));
    for (const SeenRequest& request : hub_->requests()) {
      EXPECT_FALSE(absl::EndsWith(request.path, skipped)) << request.path;
    }
  }
}

TEST_F(ModelHubTest, WithoutTheApiFetchesTheFilesAModelHas) {
  hub_->api_available = false;
  ASSERT_OK_AND_ASSIGN(PullResult pulled, PullModel(Id()));
  EXPECT_EQ(pulled.commit, kCommit);
  std::vector<std::string> paths;
  for (const PulledFile& file : pulled.files) paths.push_back(file.path);
  // The fixture's files (not reference.jsonl, which no model reads), and none of the absent ones.
  EXPECT_THAT(paths, ::testing::UnorderedElementsAre(
                         "config.json", "model.safetensors", "tokenizer.json", "vocab.txt",
                         "tokenizer_config.json", "special_tokens_map.json", "modules.json",
                         "sentence_bert_config.json", "1_Pooling/config.json"));
  EXPECT_EQ(EmbedTexts(pulled.snapshot_dir), EmbedTexts(kTinyDir));
  ASSERT_OK_AND_ASSIGN(std::string resolved, ResolveModel("test-org/bert-tiny"));
  EXPECT_EQ(resolved, pulled.snapshot_dir);
}

TEST_F(ModelHubTest, PinnedCommitPullsAndResolves) {
  ASSERT_OK_AND_ASSIGN(PullResult pulled, PullModel(Id(kCommit)));
  EXPECT_EQ(pulled.snapshot_dir, SnapshotDir().string());
  EXPECT_FALSE(fs::exists(RepoDir() / "refs" / kCommit));  // a commit needs no ref
  EXPECT_THAT(ResolveModel(absl::StrCat("test-org/bert-tiny@", kCommit)),
              ::ember::testing::IsOkAndHolds(SnapshotDir().string()));
  EXPECT_THAT(ResolveModel("test-org/bert-tiny"), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(ModelHubTest, UnknownModelOrRevisionIsNotFound) {
  EXPECT_THAT(PullModel(HubModelId{.org = "test-org", .name = "no-such-model"}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("test-org/no-such-model")));
  EXPECT_THAT(PullModel(Id("v9")), StatusIs(absl::StatusCode::kNotFound));
  hub_->api_available = false;
  EXPECT_THAT(PullModel(Id("v9")), StatusIs(absl::StatusCode::kNotFound, HasSubstr("v9")));
}

TEST_F(ModelHubTest, UnreachableHubIsUnavailable) {
  const std::string endpoint = hub_->endpoint();
  hub_.reset();  // nothing listens on its port now
  env_.Set("HF_ENDPOINT", endpoint);
  EXPECT_THAT(PullModel(Id()), StatusIs(absl::StatusCode::kUnavailable, HasSubstr("127.0.0.1")));
  env_.Set("HF_ENDPOINT", "ftp://example.invalid");
  EXPECT_THAT(PullModel(Id()),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("HF_ENDPOINT")));
}

TEST_F(ModelHubTest, ResolveModelNeedsNoNetworkAndExplainsWhatIsMissing) {
  // A folder is itself, whatever it is called.
  EXPECT_THAT(ResolveModel(kTinyDir), ::ember::testing::IsOkAndHolds(kTinyDir));
  EXPECT_THAT(ResolveModel("test-org/bert-tiny"),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr("ember model pull test-org/bert-tiny"),
                             HasSubstr((fs::path(home_.path()) / "hub").string()))));
  EXPECT_THAT(
      ResolveModel("test-org/bert-tiny@v2"),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("ember model pull test-org/bert-tiny@v2")));
  EXPECT_THAT(ResolveModel("/no/such/folder"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("/no/such/folder")));
  EXPECT_THAT(ResolveModel(""), StatusIs(absl::StatusCode::kNotFound));
  // An explicit cache folder overrides the environment.
  ASSERT_OK(PullModel(Id()).status());
  ember::testing::TempDir other;
  EXPECT_THAT(ResolveModel("test-org/bert-tiny", other.path()),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(ResolveModel("test-org/bert-tiny", (fs::path(home_.path()) / "hub").string()),
              ::ember::testing::IsOkAndHolds(SnapshotDir().string()));
}

}  // namespace
}  // namespace ember::embed
