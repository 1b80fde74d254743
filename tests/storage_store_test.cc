#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "status_matchers.h"
#include "storage/key_encoding.h"
#include "storage/store.h"

namespace ember::storage {
namespace {

using ::ember::testing::IsOk;
using ::ember::testing::IsOkAndHolds;
using ::ember::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Optional;
using ::testing::Pair;
using std::string_literals::operator""s;

// Set in the environment of a re-executed copy of this binary: the store directory the child opens.
constexpr char kChildDirectoryVariable[] = "EMBER_STORE_TEST_CHILD_DIRECTORY";

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    root_ = std::filesystem::path(::testing::TempDir()) /
            ("ember_store_" + std::to_string(getpid()) + "_" + info->name());
    std::filesystem::remove_all(root_);
    directory_ = root_ / "store";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::unique_ptr<Store> OpenOrDie(StoreOptions options = {}) {
    auto store = Store::Open(directory_.string(), options);
    EXPECT_THAT(store, IsOk());
    return store.ok() ? std::move(store).value() : nullptr;
  }

  static void PutOne(Store& store, Column column, std::string_view key, std::string_view value) {
    WriteBatch batch;
    batch.Put(column, key, value);
    ASSERT_OK(store.Write(batch));
  }

  // Every (key, value) pair the scan visits, in order.
  static std::vector<std::pair<std::string, std::string>> ScanAll(const Store& store, Column column,
                                                                  std::string_view prefix) {
    std::vector<std::pair<std::string, std::string>> seen;
    EXPECT_OK(store.ScanPrefix(column, prefix, [&](std::string_view key, std::string_view value) {
      seen.emplace_back(key, value);
      return true;
    }));
    return seen;
  }

  // Opens the store in a fresh process (this binary re-executed) and returns the absl::StatusCode
  // the child's Store::Open returned. A fresh process is needed because RocksDB tracks its locks
  // per process.
  int OpenInChildProcess() {
    const pid_t pid = fork();
    if (pid == 0) {
      setenv(kChildDirectoryVariable, directory_.c_str(), 1);
      execl("/proc/self/exe", "storage_tests", "--gtest_filter=StoreChildProcess.OpenAndExit",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    int wait_status = 0;
    EXPECT_EQ(waitpid(pid, &wait_status, 0), pid);
    EXPECT_TRUE(WIFEXITED(wait_status));
    return WEXITSTATUS(wait_status);
  }

  std::filesystem::path root_;       // removed after each test
  std::filesystem::path directory_;  // the store, under root_
};

// Runs only as the child of OpenInChildProcess: opens the store and reports the status code as the
// exit code.
TEST(StoreChildProcess, OpenAndExit) {
  const char* directory = std::getenv(kChildDirectoryVariable);
  if (directory == nullptr) GTEST_SKIP() << "runs only in a child process started by StoreTest";
  auto store = Store::Open(directory, StoreOptions{.create_if_missing = false});
  std::_Exit(static_cast<int>(store.status().code()));
}

TEST_F(StoreTest, ValuesSurviveCloseAndReopen) {
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    WriteBatch batch;
    for (int column = 0; column < kColumnCount; ++column) {
      // The same key in every family holds a different value: the families are separate.
      batch.Put(static_cast<Column>(column), "key", "value" + std::to_string(column));
    }
    batch.Put(Column::kVectors, "\0binary\xff"s, "\0\x01\x02"s);
    ASSERT_OK(store->Write(batch));
  }
  auto store = OpenOrDie(StoreOptions{.create_if_missing = false});
  ASSERT_NE(store, nullptr);
  for (int column = 0; column < kColumnCount; ++column) {
    EXPECT_THAT(store->Get(static_cast<Column>(column), "key"),
                IsOkAndHolds(Optional("value"s + std::to_string(column))));
  }
  EXPECT_THAT(store->Get(Column::kVectors, "\0binary\xff"s), IsOkAndHolds(Optional("\0\x01\x02"s)));
  EXPECT_THAT(store->Get(Column::kVectors, "absent"), IsOkAndHolds(std::nullopt));
}

TEST_F(StoreTest, FlushedValuesSurviveReopen) {
  {
    auto store = OpenOrDie(StoreOptions{.sync_writes = false});
    ASSERT_NE(store, nullptr);
    PutOne(*store, Column::kDocuments, "doc", "record");
    ASSERT_OK(store->Flush());
  }
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->Get(Column::kDocuments, "doc"), IsOkAndHolds(Optional("record"s)));
}

TEST_F(StoreTest, OpenCreatesMissingParentDirectories) {
  directory_ = directory_ / "nested" / "deeper";
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(std::filesystem::exists(directory_ / "CURRENT"));
}

TEST_F(StoreTest, BatchAppliesAllOperationsTogether) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  PutOne(*store, Column::kIds, "old", "1");
  WriteBatch batch;
  batch.Put(Column::kIds, "new", "2");
  batch.Put(Column::kDocuments, "2", "doc");
  batch.Delete(Column::kIds, "old");
  batch.Put(Column::kIds, "new", "3");  // later operations in a batch win
  EXPECT_EQ(batch.Count(), 4);
  ASSERT_OK(store->Write(batch));
  EXPECT_THAT(store->Get(Column::kIds, "old"), IsOkAndHolds(std::nullopt));
  EXPECT_THAT(store->Get(Column::kIds, "new"), IsOkAndHolds(Optional("3"s)));
  EXPECT_THAT(store->Get(Column::kDocuments, "2"), IsOkAndHolds(Optional("doc"s)));
}

TEST_F(StoreTest, RejectedBatchChangesNothing) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  batch.Put(Column::kIds, "a", "1");
  batch.DeleteRange(Column::kIds, "z", "b");  // end before begin
  EXPECT_THAT(store->Write(batch), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("ids")));
  EXPECT_THAT(store->Get(Column::kIds, "a"), IsOkAndHolds(std::nullopt));
  store.reset();
  store = OpenOrDie();  // nor did the rejected batch reach the write-ahead log
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->Get(Column::kIds, "a"), IsOkAndHolds(std::nullopt));
  WriteBatch empty_range;
  empty_range.DeleteRange(Column::kIds, "b", "b");
  EXPECT_OK(store->Write(empty_range));
}

TEST_F(StoreTest, EmptyBatchIsAccepted) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  EXPECT_EQ(batch.Count(), 0);
  EXPECT_OK(store->Write(batch));
}

TEST_F(StoreTest, DeleteRangeRemovesHalfOpenInterval) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  for (std::string key : {"a"s, "b"s, "b\0"s, "c"s, "d"s, "e"s}) {
    batch.Put(Column::kAttributes, key, "v");
    batch.Put(Column::kChangeLog, key, "v");
  }
  ASSERT_OK(store->Write(batch));
  WriteBatch deletion;
  deletion.DeleteRange(Column::kAttributes, "b", "d");
  EXPECT_EQ(deletion.Count(), 1);
  ASSERT_OK(store->Write(deletion));
  EXPECT_THAT(ScanAll(*store, Column::kAttributes, ""),
              ElementsAre(Pair("a", "v"), Pair("d", "v"), Pair("e", "v")));
  EXPECT_EQ(ScanAll(*store, Column::kChangeLog, "").size(), 6u) << "other families untouched";
}

TEST_F(StoreTest, MultiGetAnswersInKeyOrderWithAbsentKeys) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  batch.Put(Column::kVectors, "k1", "v1");
  batch.Put(Column::kVectors, "k2", "v2");
  batch.Put(Column::kVectors, "k3", "v3");
  batch.Put(Column::kDocuments, "missing-in-vectors", "x");
  ASSERT_OK(store->Write(batch));
  const std::vector<std::string> keys = {"k3", "missing-in-vectors", "k1", "k1", "zz", "k2"};
  EXPECT_THAT(store->MultiGet(Column::kVectors, keys),
              IsOkAndHolds(ElementsAre(Optional("v3"s), std::nullopt, Optional("v1"s),
                                       Optional("v1"s), std::nullopt, Optional("v2"s))));
  EXPECT_THAT(store->MultiGet(Column::kVectors, {}), IsOkAndHolds(::testing::IsEmpty()));
}

TEST_F(StoreTest, MultiGetReadsFlushedAndUnflushedValues) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  PutOne(*store, Column::kVectors, "flushed", "f");
  ASSERT_OK(store->Flush());
  PutOne(*store, Column::kVectors, "memtable", "m");
  const std::vector<std::string> keys = {"memtable", "nothing", "flushed"};
  EXPECT_THAT(store->MultiGet(Column::kVectors, keys),
              IsOkAndHolds(ElementsAre(Optional("m"s), std::nullopt, Optional("f"s))));
}

TEST_F(StoreTest, ScanPrefixStaysInsideThePrefix) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  for (std::string key :
       {"a"s, "aa\xff"s, "ab"s, "ab\0"s, "ab\x01"s, "ab\xff"s, "ab\xff\xff"s, "ac"s, "b"s}) {
    batch.Put(Column::kAttributes, key, "v:" + key);
  }
  ASSERT_OK(store->Write(batch));
  EXPECT_THAT(
      ScanAll(*store, Column::kAttributes, "ab"),
      ElementsAre(Pair("ab", "v:ab"), Pair("ab\0"s, "v:ab\0"s), Pair("ab\x01"s, "v:ab\x01"s),
                  Pair("ab\xff"s, "v:ab\xff"s), Pair("ab\xff\xff"s, "v:ab\xff\xff"s)));
  EXPECT_THAT(ScanAll(*store, Column::kAttributes, "ab\xff"s),
              ElementsAre(Pair("ab\xff"s, "v:ab\xff"s), Pair("ab\xff\xff"s, "v:ab\xff\xff"s)));
  EXPECT_THAT(ScanAll(*store, Column::kAttributes, "x"), ::testing::IsEmpty());
  EXPECT_EQ(ScanAll(*store, Column::kAttributes, "").size(), 9u);
  EXPECT_THAT(ScanAll(*store, Column::kIds, "ab"), ::testing::IsEmpty());
}

TEST_F(StoreTest, ScanPrefixOfAllOnesHasNoUpperBound) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  for (std::string key : {"\xfe\xff"s, "\xff"s, "\xff\xff"s, "\xff\xff\x01"s}) {
    batch.Put(Column::kChangeLog, key, "");
  }
  ASSERT_OK(store->Write(batch));
  std::vector<std::string> seen;
  for (const auto& [key, value] : ScanAll(*store, Column::kChangeLog, "\xff\xff"s)) {
    seen.push_back(key);
  }
  EXPECT_THAT(seen, ElementsAre("\xff\xff"s, "\xff\xff\x01"s));
}

TEST_F(StoreTest, ScanStopsWhenVisitReturnsFalse) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  for (uint32_t i = 0; i < 10; ++i) {
    std::string key(1, 'p');
    AppendUint32(&key, i);
    batch.Put(Column::kChangeLog, key, std::to_string(i));
  }
  ASSERT_OK(store->Write(batch));
  std::vector<std::string> seen;
  EXPECT_OK(
      store->ScanPrefix(Column::kChangeLog, "p", [&](std::string_view, std::string_view value) {
        seen.emplace_back(value);
        return seen.size() < 3;
      }));
  EXPECT_THAT(seen, ElementsAre("0", "1", "2"));
}

TEST_F(StoreTest, ScanRangeIsHalfOpen) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  for (std::string key : {"a"s, "b"s, "b\0"s, "c"s, "d"s, "e"s}) batch.Put(Column::kIds, key, key);
  ASSERT_OK(store->Write(batch));
  const auto range = [&](std::string_view begin, std::string_view end) {
    std::vector<std::string> seen;
    EXPECT_OK(
        store->ScanRange(Column::kIds, begin, end, [&](std::string_view key, std::string_view) {
          seen.emplace_back(key);
          return true;
        }));
    return seen;
  };
  EXPECT_THAT(range("b", "d"), ElementsAre("b", "b\0"s, "c"));
  EXPECT_THAT(range("b\0"s, "c"), ElementsAre("b\0"s));
  EXPECT_THAT(range("c", "c"), ::testing::IsEmpty());
  EXPECT_THAT(range("d", ""), ElementsAre("d", "e"));  // empty end: no upper bound
}

TEST_F(StoreTest, ReadOnlyStoreSeesDataAndRejectsWrites) {
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    PutOne(*store, Column::kCatalog, "spec", "1");
  }
  auto reader = OpenOrDie(StoreOptions{.read_only = true});
  ASSERT_NE(reader, nullptr);
  EXPECT_THAT(reader->Get(Column::kCatalog, "spec"), IsOkAndHolds(Optional("1"s)));
  WriteBatch batch;
  batch.Put(Column::kCatalog, "spec", "2");
  EXPECT_THAT(reader->Write(batch),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(directory_.string())));
  EXPECT_THAT(reader->Flush(), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(reader->Get(Column::kCatalog, "spec"), IsOkAndHolds(Optional("1"s)));
}

TEST_F(StoreTest, ReadOnlyStoreCoexistsWithWriter) {
  auto writer = OpenOrDie();
  ASSERT_NE(writer, nullptr);
  PutOne(*writer, Column::kDocuments, "before", "1");  // only in the WAL, not flushed
  auto reader = OpenOrDie(StoreOptions{.read_only = true});
  ASSERT_NE(reader, nullptr);
  EXPECT_THAT(reader->Get(Column::kDocuments, "before"), IsOkAndHolds(Optional("1"s)));
  EXPECT_GT(reader->ApproximateDiskBytes(), 0) << "the write-ahead log counts";
  // The writer keeps working; a read-only store is a snapshot of the moment it was opened.
  PutOne(*writer, Column::kDocuments, "after", "2");
  ASSERT_OK(writer->Flush());
  EXPECT_THAT(reader->Get(Column::kDocuments, "after"), IsOkAndHolds(std::nullopt));
  auto second_reader = OpenOrDie(StoreOptions{.read_only = true});
  ASSERT_NE(second_reader, nullptr);
  EXPECT_THAT(second_reader->Get(Column::kDocuments, "after"), IsOkAndHolds(Optional("2"s)));
}

TEST_F(StoreTest, WriterInAnotherProcessIsUnavailable) {
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(OpenInChildProcess(), static_cast<int>(absl::StatusCode::kUnavailable));
  }
  // Once this process closes the store, the other process can open it.
  EXPECT_EQ(OpenInChildProcess(), static_cast<int>(absl::StatusCode::kOk));
}

TEST_F(StoreTest, SecondWriterInThisProcessIsUnavailable) {
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(Store::Open(directory_.string(), StoreOptions{}),
              StatusIs(absl::StatusCode::kUnavailable,
                       ::testing::AllOf(HasSubstr(directory_.string()),
                                        HasSubstr("open for writing by another Store"))));
  // A read-only store takes no lock.
  EXPECT_THAT(Store::Open(directory_.string(), StoreOptions{.read_only = true}), IsOk());
}

TEST_F(StoreTest, MissingDirectoryIsNotFound) {
  EXPECT_THAT(Store::Open(directory_.string(), StoreOptions{.create_if_missing = false}),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(directory_.string())));
  EXPECT_THAT(Store::Open(directory_.string(), StoreOptions{.read_only = true}),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_FALSE(std::filesystem::exists(directory_)) << "a failed open must not create anything";
  // An existing but empty directory holds no store either.
  std::filesystem::create_directories(directory_);
  EXPECT_THAT(Store::Open(directory_.string(), StoreOptions{.create_if_missing = false}),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(StoreTest, ForeignRocksDbIsFailedPrecondition) {
  std::filesystem::create_directories(directory_);
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(options, directory_.string(), &db).ok());
  ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "foreign", "data").ok());
  delete db;
  for (bool read_only : {false, true}) {
    EXPECT_THAT(Store::Open(directory_.string(), StoreOptions{.read_only = read_only}),
                StatusIs(absl::StatusCode::kFailedPrecondition,
                         ::testing::AllOf(HasSubstr(directory_.string()), HasSubstr("catalog"))));
  }
}

// A crash while RocksDB adds the column families of a new store, one at a time, leaves some of
// them.
TEST_F(StoreTest, InterruptedCreationIsCompletedByAWritableOpen) {
  std::filesystem::create_directories(directory_);
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, directory_.string(), &db).ok());
    rocksdb::ColumnFamilyHandle* handle = nullptr;
    ASSERT_TRUE(db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "catalog", &handle).ok());
    db->DestroyColumnFamilyHandle(handle);
    delete db;
  }
  EXPECT_THAT(Store::Open(directory_.string(), StoreOptions{.read_only = true}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    PutOne(*store, Column::kVectors, "k", "v");
  }
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->Get(Column::kVectors, "k"), IsOkAndHolds(Optional("v"s)));
}

// A store written before the "terms" family existed (with data in it, so it is not an interrupted
// creation): read-only, the family reads as empty; writable, the store gains it.
TEST_F(StoreTest, StoreFromBeforeAnAddedFamilyGainsItWhenOpenedWritable) {
  std::filesystem::create_directories(directory_);
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, directory_.string(), &db).ok());
    for (const char* name : {"catalog", "documents", "ids", "vectors", "attributes", "changelog"}) {
      rocksdb::ColumnFamilyHandle* handle = nullptr;
      ASSERT_TRUE(db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), name, &handle).ok());
      if (std::string_view(name) == "catalog") {
        ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handle, "format_version", "2").ok());
      }
      db->DestroyColumnFamilyHandle(handle);
    }
    delete db;
  }
  {
    ASSERT_OK_AND_ASSIGN(auto read_only,
                         Store::Open(directory_.string(), StoreOptions{.read_only = true}));
    EXPECT_THAT(read_only->Get(Column::kCatalog, "format_version"), IsOkAndHolds(Optional("2"s)));
    EXPECT_THAT(read_only->Get(Column::kTerms, "k"), IsOkAndHolds(std::nullopt));
    ASSERT_OK_AND_ASSIGN(auto values,
                         read_only->MultiGet(Column::kTerms, std::vector<std::string>{"k"}));
    EXPECT_EQ(values, std::vector<std::optional<std::string>>(1));
    int visited = 0;
    EXPECT_OK(
        read_only->ScanPrefix(Column::kTerms, "", [&](auto, auto) { return ++visited, true; }));
    EXPECT_EQ(visited, 0);
  }
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    PutOne(*store, Column::kTerms, "k", "v");
  }
  std::vector<std::string> families;
  ASSERT_TRUE(
      rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), directory_.string(), &families).ok());
  EXPECT_THAT(families, ::testing::Contains("terms"));
  auto store = OpenOrDie();
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->Get(Column::kTerms, "k"), IsOkAndHolds(Optional("v"s)));
  EXPECT_THAT(store->Get(Column::kCatalog, "format_version"), IsOkAndHolds(Optional("2"s)));
}

TEST_F(StoreTest, GarbledCurrentFileIsDataLoss) {
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    PutOne(*store, Column::kCatalog, "k", "v");
  }
  // Junk, and a well-formed name of a MANIFEST that does not exist.
  for (std::string current : {"\x01\x02garbage"s, "MANIFEST-999999\n"s}) {
    std::ofstream(directory_ / "CURRENT", std::ios::trunc | std::ios::binary) << current;
    for (bool read_only : {false, true}) {
      EXPECT_THAT(Store::Open(directory_.string(), StoreOptions{.read_only = read_only}),
                  StatusIs(absl::StatusCode::kDataLoss, HasSubstr(directory_.string())))
          << ::testing::PrintToString(current);
    }
  }
}

TEST_F(StoreTest, GarbledManifestIsDataLoss) {
  {
    auto store = OpenOrDie();
    ASSERT_NE(store, nullptr);
    PutOne(*store, Column::kCatalog, "k", "v");
    ASSERT_OK(store->Flush());
  }
  std::string manifest_name;
  std::getline(std::ifstream(directory_ / "CURRENT"), manifest_name);
  const std::filesystem::path manifest = directory_ / manifest_name;
  ASSERT_TRUE(std::filesystem::exists(manifest)) << manifest;
  const auto size = std::filesystem::file_size(manifest);
  std::ofstream(manifest, std::ios::trunc | std::ios::binary) << std::string(size, '\x5a');
  EXPECT_THAT(Store::Open(directory_.string(), StoreOptions{}),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr(directory_.string())));
}

TEST_F(StoreTest, ApproximateDiskBytesCountsWalAndTables) {
  auto store = OpenOrDie(StoreOptions{.sync_writes = false});
  ASSERT_NE(store, nullptr);
  const int64_t empty = store->ApproximateDiskBytes();
  EXPECT_GE(empty, 0);
  EXPECT_LT(empty, 64 << 10);
  constexpr int kCount = 1000;
  constexpr int kValueBytes = 1536;  // a 384-dimensional float32 vector
  WriteBatch batch;
  std::mt19937 random(1);
  std::string key;
  for (uint64_t label = 0; label < kCount; ++label) {
    key.clear();
    AppendUint64(&key, label);
    // Random bytes, incompressible like float32 vectors.
    std::string value(kValueBytes, '\0');
    for (char& c : value) c = static_cast<char>(random());
    batch.Put(Column::kVectors, key, value);
  }
  ASSERT_OK(store->Write(batch));
  constexpr int64_t kPayload = int64_t{kCount} * kValueBytes;
  const int64_t in_wal = store->ApproximateDiskBytes();
  EXPECT_GE(in_wal, kPayload);
  EXPECT_LT(in_wal, 2 * kPayload);
  ASSERT_OK(store->Flush());
  const int64_t in_tables = store->ApproximateDiskBytes();
  EXPECT_GE(in_tables, kPayload);
  EXPECT_LT(in_tables, 2 * kPayload);  // the flushed WAL no longer counts
}

std::string ThreadPrefix(int thread) { return absl::StrCat("t", thread, "_"); }

TEST_F(StoreTest, ConcurrentWritersAndReaders) {
  auto store = OpenOrDie(StoreOptions{.sync_writes = false});
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 4;
  constexpr int kBatchesPerThread = 100;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < kBatchesPerThread; ++i) {
        std::string key = ThreadPrefix(t);
        AppendUint32(&key, i);
        WriteBatch batch;
        batch.Put(Column::kIds, key, std::to_string(i));
        batch.Put(Column::kDocuments, key, std::to_string(i));
        EXPECT_OK(store->Write(batch));
        EXPECT_THAT(store->Get(Column::kDocuments, key), IsOkAndHolds(Optional(std::to_string(i))));
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    const std::string prefix = ThreadPrefix(t);
    EXPECT_EQ(ScanAll(*store, Column::kIds, prefix).size(), size_t{kBatchesPerThread});
    EXPECT_EQ(ScanAll(*store, Column::kDocuments, prefix).size(), size_t{kBatchesPerThread});
  }
}

}  // namespace
}  // namespace ember::storage
