// Crash test of the database (public API only): a child process upserts and deletes in batches and
// reports each acknowledged batch through a pipe; the parent kills it with SIGKILL at random
// moments, reopens the folder and checks that
//   - every acknowledged batch is present, and the batch in flight is entirely present or entirely
//     absent (the stored documents equal the model after exactly `acked` or `acked + 1` batches),
//   - deleted ids never come back (part of the same exact comparison),
//   - the index agrees with the store (Stats: index_vectors - index_tombstones == Count()),
//   - every stored vector is found by a search for itself (Flat and HNSW collections).
// The child checkpoints at random points, so both snapshot loading and change-log replay are
// exercised; once, the parent also corrupts or deletes the snapshot files under indexes/ and checks
// the rebuild.
//
// The child is this test binary re-executed (fork + exec of /proc/self/exe) running the disabled
// test DbCrashChild.DISABLED_Workload: a plain fork of a process that may already run RocksDB or
// OpenMP threads would inherit their locks but not the threads.
//
// Environment: EMBER_CRASH_ROUNDS (kill rounds, default 25), EMBER_CRASH_SEED (default: from the
// clock; printed so a failure can be replayed).
//
// A second crash test does the same to Database::ReembedCollection: the child moves a collection
// of texts from model to model, the parent checks after each kill that the collection is entirely
// in one model's space (see ReembedIsAllOrNothingUnderSigkill).

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "db/catalog.h"
#include "embed/encoder.h"
#include "ember/ember.h"
#include "fixture_model.h"
#include "status_matchers.h"
#include "storage/store.h"

extern char** environ;

namespace ember {
namespace {

using ::ember::testing::IsOk;

constexpr int kDimension = 16;
// Ids are drawn from a small space so that batches often replace and delete existing documents.
constexpr int kIdSpace = 400;
constexpr char kFlatName[] = "flat";
constexpr char kHnswName[] = "hnsw";
// Large enough that HNSW over <= kIdSpace vectors behaves as an exact search.
constexpr int kSearchEf = 400;

// Collections are identified in the pipe protocol by one letter.
struct CollectionInfo {
  const char* name;
  char tag;
  IndexKind kind;
};
constexpr CollectionInfo kCollections[] = {{kFlatName, 'F', IndexKind::kFlat},
                                           {kHnswName, 'H', IndexKind::kHnsw}};

std::string DocId(int slot) { return absl::StrCat("doc-", slot); }

// The vector of document `slot` as written by batch `version`: the parent recomputes it to compare.
std::vector<float> ExpectedVector(int slot, int64_t version) {
  std::mt19937_64 rng(static_cast<uint64_t>(slot) * 0x9E3779B97F4A7C15ull + version);
  std::uniform_real_distribution<float> component(-1.0f, 1.0f);
  std::vector<float> vector(kDimension);
  for (float& x : vector) x = component(rng);
  return vector;
}

// The attributes of document `slot` as written by batch `version`; both are indexed, so filters
// exercise the attribute indexes through every crash.
Attributes ExpectedAttributes(int slot, int64_t version) {
  return {{"batch", Value(int64_t{version})},
          {"tags", Value(std::vector<std::string>{absl::StrCat("m", version % 4),
                                                  absl::StrCat("s", slot % 3)})}};
}

// Batch n of the workload, a pure function of (seed, n) so the parent can replay it.
struct Batch {
  bool is_delete = false;
  std::vector<int> slots;
};

Batch PlanBatch(uint64_t seed, int64_t n) {
  std::mt19937_64 rng(seed * 1000003u + static_cast<uint64_t>(n));
  Batch batch;
  batch.is_delete = std::uniform_int_distribution<int>(0, 9)(rng) < 3;
  const int size = std::uniform_int_distribution<int>(1, batch.is_delete ? 12 : 32)(rng);
  std::vector<int> all(kIdSpace);
  for (int i = 0; i < kIdSpace; ++i) all[i] = i;
  std::shuffle(all.begin(), all.end(), rng);
  batch.slots.assign(all.begin(), all.begin() + size);
  return batch;
}

std::vector<Document> BatchDocuments(const Batch& batch, int64_t n) {
  std::vector<Document> documents;
  for (int slot : batch.slots) {
    documents.push_back({.id = DocId(slot),
                         .text = absl::StrCat("document ", slot, " version ", n),
                         .attributes = ExpectedAttributes(slot, n),
                         .vector = ExpectedVector(slot, n)});
  }
  return documents;
}

// What a collection must hold after a number of batches: the version (batch number) of each slot's
// document, or -1 when absent.
class Model {
 public:
  Model() : versions_(kIdSpace, -1) {}

  void Apply(const Batch& batch, int64_t n) {
    for (int slot : batch.slots) versions_[slot] = batch.is_delete ? -1 : n;
  }
  int64_t version(int slot) const { return versions_[slot]; }
  int64_t Count() const {
    return std::count_if(versions_.begin(), versions_.end(), [](int64_t v) { return v >= 0; });
  }
  friend bool operator==(const Model&, const Model&) = default;

 private:
  std::vector<int64_t> versions_;
};

CollectionSpec SpecFor(const CollectionInfo& info) {
  CollectionSpec spec{.name = info.name, .dimension = kDimension, .metric = Metric::kL2};
  spec.index.kind = info.kind;
  spec.index.hnsw = {.m = 8, .ef_construction = 64, .ef_search = kSearchEf};
  spec.attributes = {{.name = "batch", .type = AttributeType::kInt},
                     {.name = "tags", .type = AttributeType::kStringList}};
  spec.full_text.enabled = true;
  return spec;
}

// -------------------------------------------------------------------------------------------------
// The child: runs until killed.

void WriteLine(int fd, const std::string& line) {
  const std::string text = line + "\n";
  // Lines are far below PIPE_BUF, so each write is atomic and survives the writer's death.
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
}

int64_t EnvInt(const char* name, int64_t fallback) {
  const char* text = std::getenv(name);
  int64_t value;
  return text != nullptr && absl::SimpleAtoi(text, &value) ? value : fallback;
}

TEST(DbCrashChild, DISABLED_Workload) {
  const char* dir = std::getenv("EMBER_CRASH_CHILD_DIR");
  ASSERT_NE(dir, nullptr) << "runs only as the child process of DbCrashTest";
  const int fd = static_cast<int>(EnvInt("EMBER_CRASH_CHILD_FD", -1));
  const uint64_t seed = EnvInt("EMBER_CRASH_CHILD_SEED", 0);
  const int64_t starts[2] = {EnvInt("EMBER_CRASH_CHILD_START_F", 0),
                             EnvInt("EMBER_CRASH_CHILD_START_H", 0)};
  auto fail = [&](const absl::Status& status) {
    WriteLine(fd, absl::StrCat("E ", status.ToString()));
    _exit(1);
  };

  auto db = Database::Open(dir);
  if (!db.ok()) fail(db.status());
  std::shared_ptr<Collection> collections[2];
  for (int c = 0; c < 2; ++c) {
    auto collection = (*db)->GetCollection(kCollections[c].name);
    if (absl::IsNotFound(collection.status())) {
      collection = (*db)->CreateCollection(SpecFor(kCollections[c]));
    }
    if (!collection.ok()) fail(collection.status());
    collections[c] = *collection;
  }
  WriteLine(fd, "R");

  std::mt19937_64 checkpoint_rng(seed ^ static_cast<uint64_t>(starts[0] * 7919 + starts[1]));
  for (int64_t n = std::min(starts[0], starts[1]);; ++n) {
    for (int c = 0; c < 2; ++c) {
      if (n < starts[c]) continue;
      const Batch batch = PlanBatch(seed, n);
      if (batch.is_delete) {
        std::vector<std::string> ids;
        for (int slot : batch.slots) ids.push_back(DocId(slot));
        auto deleted = collections[c]->Delete(ids);
        if (!deleted.ok()) fail(deleted.status());
      } else {
        absl::Status status = collections[c]->Upsert(BatchDocuments(batch, n));
        if (!status.ok()) fail(status);
      }
      WriteLine(fd, absl::StrCat(std::string(1, kCollections[c].tag), " ", n));
    }
    if (std::uniform_int_distribution<int>(0, 9)(checkpoint_rng) == 0) {
      absl::Status status = (*db)->Checkpoint();
      if (!status.ok()) fail(status);
      WriteLine(fd, "C");
    }
  }
}

// -------------------------------------------------------------------------------------------------
// The parent.

// Runs the disabled test `child_test` of this binary in a child process, with `env` added to the
// environment and EMBER_CRASH_CHILD_FD naming the pipe it reports on (one line per write: "R" once
// ready, "E <message>" on an error, anything else the test defines), lets it run, kills it with
// SIGKILL and waits for it. The kill comes a random 2..max_delay_ms after "R" or, in one round of
// five, that long after the start, so that kills also land inside Open; or at once when `on_line`,
// which receives every line the child writes, returns true. A child that ends by itself is a test
// failure.
void RunChildUntilKilled(const std::string& child_test, std::vector<std::string> env,
                         int max_delay_ms, std::mt19937_64& rng,
                         const std::function<bool(const std::string& line)>& on_line) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    ADD_FAILURE() << "pipe2 failed";
    return;
  }
  for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
  env.push_back(absl::StrCat("EMBER_CRASH_CHILD_FD=", fds[1]));
  std::vector<char*> envp;
  for (std::string& s : env) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string arg0 = "db_tests";
  std::string filter = "--gtest_filter=" + child_test;
  std::string also = "--gtest_also_run_disabled_tests";
  char* argv[] = {arg0.data(), filter.data(), also.data(), nullptr};

  const pid_t pid = fork();
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    fcntl(fds[1], F_SETFD, 0);
    const int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    execve("/proc/self/exe", argv, envp.data());
    _exit(127);
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    ADD_FAILURE() << "fork failed";
    return;
  }

  std::string pending, error;
  bool ready = false, kill_now = false;
  auto consume = [&](int timeout_ms) {  // reads what is available; false at EOF
    pollfd p{.fd = fds[0], .events = POLLIN, .revents = 0};
    if (poll(&p, 1, timeout_ms) <= 0) return true;
    char buffer[4096];
    const ssize_t got = read(fds[0], buffer, sizeof buffer);
    if (got <= 0) return false;
    pending.append(buffer, got);
    size_t end;
    while ((end = pending.find('\n')) != std::string::npos) {
      const std::string line = pending.substr(0, end);
      pending.erase(0, end + 1);
      ready |= line == "R";
      if (line.starts_with("E ")) error = line.substr(2);
      kill_now |= on_line(line);
    }
    return true;
  };

  const bool wait_for_ready = std::uniform_int_distribution<int>(0, 4)(rng) != 0;
  const auto start = std::chrono::steady_clock::now();
  if (wait_for_ready) {
    while (!ready && !kill_now && consume(100)) {
      if (std::chrono::steady_clock::now() - start > std::chrono::seconds(60)) break;
    }
  }
  const int delay_ms = std::uniform_int_distribution<int>(2, max_delay_ms)(rng);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms);
  while (!kill_now && std::chrono::steady_clock::now() < deadline) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (!consume(std::max<int>(1, left.count()))) break;
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  while (consume(1000)) {
  }
  close(fds[0]);
  if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
    ADD_FAILURE() << "the child ended by itself (status " << status << "): " << error;
  }
}

struct ChildReport {
  bool ready = false;
  int64_t last_acked[2] = {-1, -1};
  int checkpoints = 0;
  std::string error;
};

class DbCrashTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::path(::testing::TempDir()) / absl::StrCat("ember_crash_test_", getpid());
    std::filesystem::remove_all(dir_);
    const char* seed_text = std::getenv("EMBER_CRASH_SEED");
    seed_ =
        seed_text != nullptr
            ? std::strtoull(seed_text, nullptr, 10)
            : static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) %
                  1000000007u;
    rng_.seed(seed_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs DbCrashChild.DISABLED_Workload until killed, and returns what it acknowledged.
  ChildReport RunAndKillChild(int64_t start_f, int64_t start_h) {
    ChildReport report;
    RunChildUntilKilled("DbCrashChild.DISABLED_Workload",
                        {absl::StrCat("EMBER_CRASH_CHILD_DIR=", dir_.string()),
                         absl::StrCat("EMBER_CRASH_CHILD_SEED=", seed_),
                         absl::StrCat("EMBER_CRASH_CHILD_START_F=", start_f),
                         absl::StrCat("EMBER_CRASH_CHILD_START_H=", start_h)},
                        /*max_delay_ms=*/300, rng_, [&](const std::string& line) {
                          if (line == "R") {
                            report.ready = true;
                          } else if (line == "C") {
                            ++report.checkpoints;
                          } else if (line.starts_with("E ")) {
                            report.error = line.substr(2);
                          } else {
                            std::vector<std::string> parts = absl::StrSplit(line, ' ');
                            int64_t n;
                            if (parts.size() == 2 && absl::SimpleAtoi(parts[1], &n)) {
                              report.last_acked[parts[0] == "F" ? 0 : 1] = n;
                            }
                          }
                          return false;
                        });
    return report;
  }

  // Empty when `collection` holds exactly what `model` says; otherwise the first difference.
  static std::string Difference(Collection& collection, const Model& model) {
    if (collection.Count() != model.Count()) {
      return absl::StrCat("Count() = ", collection.Count(), ", expected ", model.Count());
    }
    std::vector<std::string> ids;
    for (int slot = 0; slot < kIdSpace; ++slot) ids.push_back(DocId(slot));
    auto got = collection.Get(ids);
    if (!got.ok()) return got.status().ToString();
    for (int slot = 0; slot < kIdSpace; ++slot) {
      const std::optional<Document>& document = (*got)[slot];
      const int64_t version = model.version(slot);
      if (version < 0) {
        if (document.has_value()) return absl::StrCat(ids[slot], " is present, expected absent");
        continue;
      }
      if (!document.has_value())
        return absl::StrCat(ids[slot], " is absent, expected version ", version);
      if (document->attributes != ExpectedAttributes(slot, version) ||
          document->vector != ExpectedVector(slot, version) ||
          document->text != absl::StrCat("document ", slot, " version ", version)) {
        return absl::StrCat(ids[slot], " differs from its version ", version);
      }
    }
    return "";
  }

  // Index checks on a collection holding `model`: the index counts match the store, every document
  // is the top hit of a search for its own vector, and a search for everything returns exactly the
  // stored ids.
  static void CheckIndex(Collection& collection, const Model& model, const std::string& context) {
    const CollectionStats stats = collection.Stats();
    EXPECT_EQ(stats.index_vectors - stats.index_tombstones, collection.Count()) << context;
    std::vector<std::string> stored;
    for (int slot = 0; slot < kIdSpace; ++slot) {
      const int64_t version = model.version(slot);
      if (version < 0) continue;
      stored.push_back(DocId(slot));
      auto response = collection.Search({.vector = ExpectedVector(slot, version),
                                         .k = 1,
                                         .ef_search = kSearchEf,
                                         .include_text = false,
                                         .include_attributes = false});
      ASSERT_THAT(response, IsOk()) << context;
      ASSERT_EQ(response->hits.size(), 1u) << context << ": search for " << DocId(slot);
      EXPECT_EQ(response->hits[0].id, DocId(slot)) << context;
      EXPECT_NEAR(response->hits[0].distance, 0.0f, 1e-4) << context << ": " << DocId(slot);
    }
    if (stored.empty()) return;
    auto everything = collection.Search({.vector = std::vector<float>(kDimension, 0.0f),
                                         .k = kIdSpace,
                                         .ef_search = kSearchEf,
                                         .include_text = false,
                                         .include_attributes = false});
    ASSERT_THAT(everything, IsOk()) << context;
    std::vector<std::string> found;
    for (const SearchHit& hit : everything->hits) found.push_back(hit.id);
    std::sort(found.begin(), found.end());
    std::sort(stored.begin(), stored.end());
    EXPECT_EQ(found, stored) << context << ": a search for all documents returned other ids";
    CheckFilters(collection, model, context);
    CheckText(collection, model, context);
  }

  // The full-text index agrees with the documents after every crash: a text search for a word
  // returns exactly the stored documents whose text holds it, alone and with a filter.
  static void CheckText(Collection& collection, const Model& model, const std::string& context) {
    // Texts are "document SLOT version N": "document" is in every one, a number in those of its
    // slot and of its version.
    int64_t newest = 0;
    for (int slot = 0; slot < kIdSpace; ++slot) newest = std::max(newest, model.version(slot));
    const struct {
      std::string query;
      std::function<bool(int slot, int64_t version)> holds;
    } cases[] = {
        {"documents", [](int, int64_t) { return true; }},
        {absl::StrCat(newest), [&](int slot, int64_t v) { return v == newest || slot == newest; }},
        {"7", [](int slot, int64_t v) { return v == 7 || slot == 7; }},
    };
    for (const auto& c : cases) {
      for (const Filter& filter : {Filter::All(), Filter::Contains("tags", "s1")}) {
        std::vector<std::string> expected;
        for (int slot = 0; slot < kIdSpace; ++slot) {
          const int64_t version = model.version(slot);
          const bool filtered_out = filter.op() != Filter::Op::kAll && slot % 3 != 1;
          if (version >= 0 && c.holds(slot, version) && !filtered_out) {
            expected.push_back(DocId(slot));
          }
        }
        SearchRequest request{.text = c.query, .k = kIdSpace, .mode = SearchMode::kText};
        request.filter = filter;
        request.include_text = request.include_attributes = false;
        auto response = collection.Search(request);
        ASSERT_THAT(response, IsOk()) << context;
        std::vector<std::string> found;
        for (const SearchHit& hit : response->hits) found.push_back(hit.id);
        std::sort(found.begin(), found.end());
        std::sort(expected.begin(), expected.end());
        EXPECT_EQ(found, expected)
            << context << ": text search \"" << c.query << "\" with filter " << filter.ToString();
      }
    }
  }

  // Filtered searches for every document return exactly the documents the model says match: the
  // attribute indexes agree with the documents after every crash.
  static void CheckFilters(Collection& collection, const Model& model, const std::string& context) {
    std::vector<int64_t> versions;
    for (int slot = 0; slot < kIdSpace; ++slot) {
      if (model.version(slot) >= 0) versions.push_back(model.version(slot));
    }
    std::sort(versions.begin(), versions.end());
    const int64_t median = versions[versions.size() / 2];
    struct Case {
      Filter filter;
      std::function<bool(int slot, int64_t version)> matches;
    };
    const Case cases[] = {
        {Filter::Ge("batch", median), [&](int, int64_t v) { return v >= median; }},
        {Filter::Contains("tags", "m1"), [](int, int64_t v) { return v % 4 == 1; }},
        {Filter::And(Filter::Not(Filter::Contains("tags", "s0")), Filter::Lt("batch", median)),
         [&](int slot, int64_t v) { return slot % 3 != 0 && v < median; }},
        {Filter::In("batch", {Literal(median), Literal(versions.front())}),
         [&](int, int64_t v) { return v == median || v == versions.front(); }},
    };
    for (const Case& c : cases) {
      std::vector<std::string> expected;
      for (int slot = 0; slot < kIdSpace; ++slot) {
        const int64_t version = model.version(slot);
        if (version >= 0 && c.matches(slot, version)) expected.push_back(DocId(slot));
      }
      auto response = collection.Search({.vector = std::vector<float>(kDimension, 0.0f),
                                         .k = kIdSpace,
                                         .ef_search = kSearchEf,
                                         .filter = c.filter,
                                         .include_text = false,
                                         .include_attributes = false});
      ASSERT_THAT(response, IsOk()) << context;
      std::vector<std::string> found;
      for (const SearchHit& hit : response->hits) found.push_back(hit.id);
      std::sort(found.begin(), found.end());
      std::sort(expected.begin(), expected.end());
      EXPECT_EQ(found, expected) << context << ": filter " << c.filter.ToString();
    }
  }

  std::filesystem::path dir_;
  uint64_t seed_ = 0;
  std::mt19937_64 rng_;
};

// Garbles the first snapshot file under indexes/ and deletes the others; returns how many it
// touched.
int DamageSnapshots(const std::filesystem::path& dir) {
  const std::filesystem::path indexes = dir / "indexes";
  if (!std::filesystem::exists(indexes)) return 0;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(indexes)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (size_t i = 0; i < files.size(); ++i) {
    if (i > 0) {
      std::filesystem::remove(files[i]);
      continue;
    }
    std::fstream file(files[i], std::ios::in | std::ios::out | std::ios::binary);
    const auto size = std::filesystem::file_size(files[i]);
    for (uint64_t at = size / 3; at < size && at < size / 3 + 64; ++at) {
      file.seekp(static_cast<std::streamoff>(at));
      file.put(static_cast<char>(0xA5 ^ (at & 0xFF)));
    }
  }
  return static_cast<int>(files.size());
}

TEST_F(DbCrashTest, AcknowledgedBatchesSurviveSigkill) {
  const int64_t rounds = std::max<int64_t>(1, EnvInt("EMBER_CRASH_ROUNDS", 25));
  std::cout << "crash test: seed " << seed_ << " (EMBER_CRASH_SEED), " << rounds << " rounds\n";
  // applied[c]: batches the collection holds; models[c]: its expected contents.
  int64_t applied[2] = {0, 0};
  Model models[2];
  int64_t total_checkpoints = 0;
  int in_flight_applied = 0;
  bool damaged = false;

  for (int64_t round = 0; round < rounds; ++round) {
    const ChildReport report = RunAndKillChild(applied[0], applied[1]);
    ASSERT_TRUE(report.error.empty()) << "child error: " << report.error;
    total_checkpoints += report.checkpoints;

    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, Database::Open(dir_.string()));
    for (int c = 0; c < 2; ++c) {
      const std::string context =
          absl::StrCat("round ", round, ", collection ", kCollections[c].name, ", seed ", seed_);
      const int64_t acked = report.last_acked[c] >= 0 ? report.last_acked[c] + 1 : applied[c];
      ASSERT_GE(acked, applied[c]) << context;
      for (int64_t n = applied[c]; n < acked; ++n) models[c].Apply(PlanBatch(seed_, n), n);
      applied[c] = acked;

      auto collection = db->GetCollection(kCollections[c].name);
      if (absl::IsNotFound(collection.status())) {
        // Killed before the collection was created: nothing can have been acknowledged.
        ASSERT_EQ(applied[c], 0) << context << ": collection lost";
        continue;
      }
      ASSERT_THAT(collection, IsOk()) << context;

      // The batch in flight at the kill is either entirely applied or entirely absent.
      Model with_in_flight = models[c];
      with_in_flight.Apply(PlanBatch(seed_, acked), acked);
      const std::string without = Difference(**collection, models[c]);
      if (!without.empty()) {
        const std::string with = Difference(**collection, with_in_flight);
        ASSERT_TRUE(with.empty()) << context << ": matches neither the " << acked
                                  << " acknowledged batches (" << without
                                  << ") nor those plus the batch in flight (" << with << ")";
        models[c] = with_in_flight;
        ++applied[c];
        ++in_flight_applied;
      }
      CheckIndex(**collection, models[c], context);
    }
    if (::testing::Test::HasFatalFailure()) return;

    // Once, half way: damage the snapshots (after the clean close has written them) and check that
    // the indexes are rebuilt from the stored vectors.
    if (!damaged && round >= rounds / 2) {
      damaged = true;
      ASSERT_OK(db->Checkpoint());
      db.reset();
      ASSERT_GT(DamageSnapshots(dir_), 0) << "no snapshot files under " << (dir_ / "indexes");
      ASSERT_OK_AND_ASSIGN(db, Database::Open(dir_.string()));
      for (int c = 0; c < 2; ++c) {
        ASSERT_OK_AND_ASSIGN(auto collection, db->GetCollection(kCollections[c].name));
        const std::string context =
            absl::StrCat("after damaging snapshots, ", kCollections[c].name);
        EXPECT_EQ(Difference(*collection, models[c]), "") << context;
        CheckIndex(*collection, models[c], context);
      }
    }
  }
  std::cout << "crash test: " << rounds << " kills, batches applied: flat " << applied[0]
            << ", hnsw " << applied[1] << "; batches in flight found applied: " << in_flight_applied
            << "; checkpoints in children: " << total_checkpoints << "\n";
  // Guards against a vacuous pass: the children must have made progress between kills.
  EXPECT_GT(applied[0] + applied[1], rounds);
}

// -------------------------------------------------------------------------------------------------
// ReembedCollection under SIGKILL. The collection holds kReembedDocuments texts and moves between
// three models in a cycle: a copy of the fixture model (mean-pooled), a copy pooling with CLS
// instead (another model of the same dimension, so that neither a stale snapshot nor a half-swapped
// store would be caught by a dimension check), and the CLS one truncated to 16 dimensions. Between
// reembeds the child re-saves a few documents (same texts), so that the change log holds entries a
// recovery must not replay onto the new index.

using ::ember::testing::kFixtureModel;
constexpr int kReembedDocuments = 300;
constexpr char kReembedCollection[] = "texts";

struct ReembedTarget {
  const char* folder;  // under the test's folder
  int truncate_dim;
  int dimension;
};
constexpr ReembedTarget kTargets[] = {{"mean", 0, 32}, {"cls", 0, 32}, {"cls", 16, 16}};
constexpr int kTargetCount = 3;

EncoderSpec TargetSpec(const std::filesystem::path& dir, int target) {
  return {.model = (dir / kTargets[target].folder).string(),
          .truncate_dim = kTargets[target].truncate_dim};
}

// Which of kTargets `spec` names; -1 when none.
int TargetOf(const std::filesystem::path& dir, const CollectionSpec& spec) {
  for (int target = 0; target < kTargetCount; ++target) {
    if (spec.encoder == TargetSpec(dir, target) && spec.dimension == kTargets[target].dimension) {
      return target;
    }
  }
  return -1;
}

std::string ReembedText(int i) {
  static const char* const kWords[] = {"river",   "engine", "violin", "harbor", "pepper",
                                       "glacier", "ledger", "orchid", "cobalt", "falcon",
                                       "tundra",  "sonnet", "quartz", "meadow", "lantern"};
  return absl::StrCat("entry ", i, " tells of the ", kWords[i % 15], ", the ",
                      kWords[(i * 7 + 3) % 15], " and the ", kWords[(i / 15) % 15]);
}

std::string ReembedId(int i) { return absl::StrCat("t", i); }

TEST(DbReembedCrashChild, DISABLED_Workload) {
  const char* dir_text = std::getenv("EMBER_CRASH_CHILD_DIR");
  ASSERT_NE(dir_text, nullptr) << "runs only as the child process of DbCrashTest";
  const std::filesystem::path dir(dir_text);
  const int fd = static_cast<int>(EnvInt("EMBER_CRASH_CHILD_FD", -1));
  std::mt19937_64 rng(EnvInt("EMBER_CRASH_CHILD_SEED", 0));
  auto fail = [&](const absl::Status& status) {
    WriteLine(fd, absl::StrCat("E ", status.ToString()));
    _exit(1);
  };
  auto db = Database::Open((dir / "db").string());
  if (!db.ok()) fail(db.status());
  auto collection = (*db)->GetCollection(kReembedCollection);
  if (!collection.ok()) fail(collection.status());
  WriteLine(fd, "R");
  while (true) {
    // Re-save a few documents: change-log entries after the last snapshot.
    std::vector<Document> documents;
    for (int n = std::uniform_int_distribution<int>(1, 20)(rng); n > 0; --n) {
      const int i = std::uniform_int_distribution<int>(0, kReembedDocuments - 1)(rng);
      if (absl::c_any_of(documents, [&](const Document& d) { return d.id == ReembedId(i); })) {
        continue;
      }
      documents.push_back({.id = ReembedId(i), .text = ReembedText(i)});
    }
    if (absl::Status status = (*collection)->Upsert(documents); !status.ok()) fail(status);
    if (std::uniform_int_distribution<int>(0, 3)(rng) == 0) {
      if (absl::Status status = (*db)->Checkpoint(); !status.ok()) fail(status);
    }

    const int current = TargetOf(dir, (*collection)->spec());
    if (current < 0) fail(absl::InternalError("the collection's spec names none of the models"));
    const int next = (current + 1) % kTargetCount;
    WriteLine(fd, absl::StrCat("B ", next));
    const absl::Status status = (*db)->ReembedCollection(
        kReembedCollection, TargetSpec(dir, next),
        {.batch_size = std::uniform_int_distribution<int>(4, 64)(rng),
         .progress = [&](int64_t done, int64_t) { WriteLine(fd, absl::StrCat("P ", done)); }});
    if (!status.ok()) fail(status);
    WriteLine(fd, absl::StrCat("D ", next));
  }
}

TEST_F(DbCrashTest, ReembedIsAllOrNothingUnderSigkill) {
  if (!std::filesystem::exists(kFixtureModel + "/config.json")) {
    GTEST_SKIP() << kFixtureModel << " is absent (../shared is not here)";
  }
  const int64_t rounds = std::max<int64_t>(1, EnvInt("EMBER_REEMBED_CRASH_ROUNDS", 25));
  std::cout << "reembed crash test: seed " << seed_ << " (EMBER_CRASH_SEED), " << rounds
            << " rounds\n";
  std::filesystem::create_directories(dir_);
  for (const char* folder : {"mean", "cls"}) {
    std::filesystem::copy(kFixtureModel, dir_ / folder, std::filesystem::copy_options::recursive);
  }
  ::ember::testing::PoolWithCls((dir_ / "cls").string());
  std::vector<std::string> texts, ids;
  for (int i = 0; i < kReembedDocuments; ++i) {
    texts.push_back(ReembedText(i));
    ids.push_back(ReembedId(i));
  }
  // Each model's embeddings of the texts, computed apart from the database.
  std::vector<float> expected[kTargetCount];
  for (int target = 0; target < kTargetCount; ++target) {
    auto encoder = embed::LoadEncoder((dir_ / kTargets[target].folder).string(),
                                      {.truncate_dim = kTargets[target].truncate_dim});
    ASSERT_THAT(encoder, IsOk());
    ASSERT_EQ((*encoder)->dimension(), kTargets[target].dimension);
    ASSERT_OK_AND_ASSIGN(expected[target], (*encoder)->Embed(texts, embed::EmbedRole::kDocument));
  }
  const std::string db_path = (dir_ / "db").string();
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, Database::Open(db_path));
    CollectionSpec spec{.name = kReembedCollection, .metric = Metric::kCosine};
    spec.index.hnsw = {.m = 8, .ef_construction = 64, .ef_search = kSearchEf};
    spec.encoder = TargetSpec(dir_, 0);
    ASSERT_OK_AND_ASSIGN(auto collection, db->CreateCollection(spec));
    std::vector<Document> documents;
    for (int i = 0; i < kReembedDocuments; ++i) {
      documents.push_back({.id = ids[i], .text = texts[i]});
    }
    ASSERT_OK(collection->Upsert(documents));
  }

  int current = 0;  // the model the collection was last seen in
  int kills_inside = 0, swaps_found = 0, completed = 0;
  for (int64_t round = 0; round < rounds; ++round) {
    // What the child said: the reembed begun last, whether it finished, and batches done in it.
    int begun = -1, acknowledged = current, batches = 0;
    bool in_flight = false;
    std::string error;
    // In half the rounds the kill aims at the swap: 0-15 ms after some reembed's last batch, when
    // the old snapshot is deleted, the swap committed and the new snapshot written.
    const bool aim_at_swap = std::uniform_int_distribution<int>(0, 1)(rng_) == 0;
    int swaps_to_let_pass = std::uniform_int_distribution<int>(0, 2)(rng_);
    const int aim_delay_us = std::uniform_int_distribution<int>(0, 15000)(rng_);
    RunChildUntilKilled("DbReembedCrashChild.DISABLED_Workload",
                        {absl::StrCat("EMBER_CRASH_CHILD_DIR=", dir_.string()),
                         absl::StrCat("EMBER_CRASH_CHILD_SEED=", seed_ + round)},
                        /*max_delay_ms=*/600, rng_, [&](const std::string& line) {
                          if (line.starts_with("E ")) error = line.substr(2);
                          if (line.starts_with("B ")) {
                            begun = line[2] - '0';
                            in_flight = true;
                            batches = 0;
                          } else if (line.starts_with("P ") && line != "P 0") {
                            ++batches;
                            if (aim_at_swap && line == absl::StrCat("P ", kReembedDocuments) &&
                                swaps_to_let_pass-- == 0) {
                              std::this_thread::sleep_for(std::chrono::microseconds(aim_delay_us));
                              return true;
                            }
                          } else if (line.starts_with("D ")) {
                            acknowledged = line[2] - '0';
                            in_flight = false;
                            ++completed;
                          }
                          return false;
                        });
    ASSERT_TRUE(error.empty()) << "child error: " << error;
    const std::string context = absl::StrCat("round ", round, ", seed ", seed_);

    ASSERT_OK_AND_ASSIGN(std::unique_ptr<Database> db, Database::Open(db_path));
    // The catalog names one model, and GetCollection checks that model's fingerprint against the
    // one recorded: record and fingerprints agree.
    auto collection = db->GetCollection(kReembedCollection);
    ASSERT_THAT(collection, IsOk()) << context;
    const int target = TargetOf(dir_, (*collection)->spec());
    ASSERT_GE(target, 0) << context << ": the spec names none of the models";
    ASSERT_TRUE(target == acknowledged || (in_flight && target == begun))
        << context << ": the collection is in model " << target << ", but the child finished "
        << acknowledged << (in_flight ? absl::StrCat(" and had begun ", begun) : "");
    if (in_flight && batches > 0) ++kills_inside;
    if (in_flight && target == begun) ++swaps_found;

    // Every stored vector is that model's embedding of its text, in that model's dimension.
    const int dimension = kTargets[target].dimension;
    ASSERT_EQ((*collection)->Count(), kReembedDocuments) << context;
    ASSERT_OK_AND_ASSIGN(auto documents, (*collection)->Get(ids));
    for (int i = 0; i < kReembedDocuments; ++i) {
      ASSERT_TRUE(documents[i].has_value()) << context << ": " << ids[i];
      ASSERT_EQ(documents[i]->vector.size(), static_cast<size_t>(dimension)) << context;
      for (int j = 0; j < dimension; ++j) {
        ASSERT_NEAR(documents[i]->vector[j], expected[target][i * dimension + j], 1e-5)
            << context << ": " << ids[i] << " is not model " << target << "'s embedding";
      }
    }
    // The index agrees: it holds every document once, and each is its own nearest neighbour.
    const CollectionStats stats = (*collection)->Stats();
    EXPECT_EQ(stats.index_vectors - stats.index_tombstones, kReembedDocuments) << context;
    for (int i = 0; i < kReembedDocuments; ++i) {
      auto response = (*collection)
                          ->Search({.vector = documents[i]->vector,
                                    .k = 1,
                                    .ef_search = kSearchEf,
                                    .include_text = false});
      ASSERT_THAT(response, IsOk()) << context;
      ASSERT_EQ(response->hits.size(), 1u) << context;
      ASSERT_EQ(response->hits[0].id, ids[i]) << context;
      EXPECT_NEAR(response->hits[0].score, 1.0f, 1e-4) << context << ": " << ids[i];
    }
    collection->reset();
    db.reset();

    // In the store: one vector per document (a killed reembed's staged vectors were discarded by
    // the Open above), and no reembed left in progress.
    ASSERT_OK_AND_ASSIGN(
        auto store, storage::Store::Open((dir_ / "db" / "store").string(), {.read_only = true}));
    int vectors = 0, staged = 0;
    ASSERT_OK(store->ScanPrefix(storage::Column::kVectors, "", [&](auto, auto) {
      ++vectors;
      return true;
    }));
    ASSERT_OK(
        store->ScanPrefix(storage::Column::kCatalog, db::kStagedVectorsPrefix, [&](auto, auto) {
          ++staged;
          return true;
        }));
    EXPECT_EQ(vectors, kReembedDocuments) << context;
    EXPECT_EQ(staged, 0) << context;
    current = target;
    if (::testing::Test::HasFailure()) return;
  }
  std::cout << "reembed crash test: " << rounds << " kills, " << kills_inside
            << " inside a reembed (of which " << swaps_found << " found swapped), " << completed
            << " reembeds completed\n";
  // Guards against a vacuous pass: kills must have landed inside reembeds, on both sides of the
  // swap, and reembeds must have completed.
  EXPECT_GT(kills_inside, 0);
  EXPECT_GT(completed, 0);
}

}  // namespace
}  // namespace ember
