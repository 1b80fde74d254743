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

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ember/ember.h"
#include "status_matchers.h"

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

  // Starts the child, lets it run (until it says it opened the database, then a random 2-300 ms;
  // or, in some rounds, a random time from its start so that kills also land inside Open), kills
  // it, and returns what it acknowledged.
  ChildReport RunAndKillChild(int64_t start_f, int64_t start_h) {
    ChildReport report;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2 failed";
      return report;
    }
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
    env_strings.push_back(absl::StrCat("EMBER_CRASH_CHILD_DIR=", dir_.string()));
    env_strings.push_back(absl::StrCat("EMBER_CRASH_CHILD_FD=", fds[1]));
    env_strings.push_back(absl::StrCat("EMBER_CRASH_CHILD_SEED=", seed_));
    env_strings.push_back(absl::StrCat("EMBER_CRASH_CHILD_START_F=", start_f));
    env_strings.push_back(absl::StrCat("EMBER_CRASH_CHILD_START_H=", start_h));
    std::vector<char*> envp;
    for (std::string& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string arg0 = "db_tests";
    std::string filter = "--gtest_filter=DbCrashChild.DISABLED_Workload";
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
      return report;
    }

    std::string pending;
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
      }
      return true;
    };

    const bool wait_for_ready = std::uniform_int_distribution<int>(0, 4)(rng_) != 0;
    const auto start = std::chrono::steady_clock::now();
    if (wait_for_ready) {
      while (!report.ready && consume(100)) {
        if (std::chrono::steady_clock::now() - start > std::chrono::seconds(60)) break;
      }
    }
    const int delay_ms = std::uniform_int_distribution<int>(2, 300)(rng_);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms);
    while (std::chrono::steady_clock::now() < deadline) {
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
      ADD_FAILURE() << "the child ended by itself (status " << status << "): " << report.error;
    }
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

}  // namespace
}  // namespace ember
