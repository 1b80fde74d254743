// Bad input to the database (public API only): every bad input the contract names returns its
// status, and leaves the folder usable exactly as before: after each rejected call, Get / Count /
// Search / ListCollections return what they returned before it, and again after closing and
// reopening. Also: corrupt and foreign folders, a second writer from another process, writes on a
// read-only handle.
//
// The second process is this test binary re-executed (fork + exec of /proc/self/exe) running the
// disabled test DbBadInputChild.DISABLED_Open, which reports the status code of its Open as its
// exit code.

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ember/ember.h"
#include "status_matchers.h"

extern char** environ;

namespace ember {
namespace {

using ::ember::testing::IsOk;
using ::ember::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

constexpr int kDimension = 4;
constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

// In the child: opens EMBER_BAD_INPUT_CHILD_DIR (read-only when EMBER_BAD_INPUT_CHILD_READ_ONLY=1)
// and exits with the status code; with OK, first checks it can read collection "docs".
TEST(DbBadInputChild, DISABLED_Open) {
  const char* dir = std::getenv("EMBER_BAD_INPUT_CHILD_DIR");
  ASSERT_NE(dir, nullptr) << "runs only as the child process of DbBadInputTest";
  const char* read_only = std::getenv("EMBER_BAD_INPUT_CHILD_READ_ONLY");
  auto db =
      Database::Open(dir, {.read_only = read_only != nullptr && std::string(read_only) == "1"});
  if (db.ok()) {
    auto docs = (*db)->GetCollection("docs");
    if (!docs.ok()) _exit(100);
    if ((*docs)->Count() <= 0) _exit(101);
  }
  _exit(static_cast<int>(db.status().code()));
}

// Runs DbBadInputChild.DISABLED_Open in a new process; returns the status code it reports.
int OpenInOtherProcess(const std::string& dir, bool read_only) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  env_strings.push_back("EMBER_BAD_INPUT_CHILD_DIR=" + dir);
  env_strings.push_back(absl::StrCat("EMBER_BAD_INPUT_CHILD_READ_ONLY=", read_only ? 1 : 0));
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string arg0 = "db_tests";
  std::string filter = "--gtest_filter=DbBadInputChild.DISABLED_Open";
  std::string also = "--gtest_also_run_disabled_tests";
  char* argv[] = {arg0.data(), filter.data(), also.data(), nullptr};
  const pid_t pid = fork();
  if (pid == 0) {
    const int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    execve("/proc/self/exe", argv, envp.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<float> Vector(float a, float b, float c, float d) { return {a, b, c, d}; }

std::vector<Document> GoodDocuments() {
  std::vector<Document> documents;
  for (int i = 0; i < 10; ++i) {
    documents.push_back({.id = absl::StrCat("doc-", i),
                         .text = absl::StrCat("text ", i),
                         .attributes = {{"i", Value(int64_t{i})}, {"tag", Value(std::string("t"))}},
                         .vector = Vector(std::cos(0.3f * i), std::sin(0.3f * i), 0.1f * i, 1.0f)});
  }
  return documents;
}

// Everything a user can observe of the database, as text, to compare before and after.
std::string Observe(Database& db) {
  std::string out;
  for (const CollectionSpec& spec : db.ListCollections()) {
    absl::StrAppend(&out, "collection ", spec.name, " dim ", spec.dimension, " metric ",
                    static_cast<int>(spec.metric), " kind ", static_cast<int>(spec.index.kind),
                    "\n");
    auto collection = db.GetCollection(spec.name);
    if (!collection.ok()) {
      absl::StrAppend(&out, "  get: ", collection.status().ToString(), "\n");
      continue;
    }
    absl::StrAppend(&out, "  count ", (*collection)->Count(), "\n");
    std::vector<std::string> ids = {"doc-0", "doc-5", "doc-9", "new-0", "new-1", "dup"};
    auto got = (*collection)->Get(ids);
    if (!got.ok()) {
      absl::StrAppend(&out, "  get: ", got.status().ToString(), "\n");
    } else {
      for (size_t i = 0; i < ids.size(); ++i) {
        const auto& document = (*got)[i];
        absl::StrAppend(&out, "  ", ids[i], ": ");
        if (!document.has_value()) {
          absl::StrAppend(&out, "absent\n");
          continue;
        }
        absl::StrAppend(&out, document->text.value_or("<no text>"), " attributes ",
                        document->attributes.size(), " vector");
        for (float x : document->vector) absl::StrAppend(&out, " ", x);
        absl::StrAppend(&out, "\n");
      }
    }
    for (float angle : {0.0f, 1.0f, 2.5f}) {
      std::vector<float> query(spec.dimension, 0.5f);
      query[0] = std::cos(angle);
      auto response = (*collection)->Search({.vector = query, .k = 5});
      if (!response.ok()) {
        absl::StrAppend(&out, "  search: ", response.status().ToString(), "\n");
        continue;
      }
      absl::StrAppend(&out, "  search");
      for (const SearchHit& hit : response->hits) {
        absl::StrAppend(&out, " ", hit.id, "=", hit.score);
      }
      absl::StrAppend(&out, "\n");
    }
  }
  return out;
}

class DbBadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = std::filesystem::path(::testing::TempDir()) /
            absl::StrCat("ember_bad_input_test_", getpid());
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);
    path_ = (root_ / "db").string();
    auto db = Database::Open(path_);
    ASSERT_THAT(db, IsOk());
    db_ = std::move(*db);
    CollectionSpec hnsw{.name = "docs", .dimension = kDimension, .metric = Metric::kL2};
    hnsw.index.hnsw = {.m = 8, .ef_construction = 32, .ef_search = 32};
    CollectionSpec flat{.name = "flat", .dimension = kDimension, .metric = Metric::kCosine};
    flat.index.kind = IndexKind::kFlat;
    for (const CollectionSpec& spec : {hnsw, flat}) {
      auto collection = db_->CreateCollection(spec);
      ASSERT_THAT(collection, IsOk());
      ASSERT_OK((*collection)->Upsert(GoodDocuments()));
    }
    auto docs = db_->GetCollection("docs");
    ASSERT_THAT(docs, IsOk());
    docs_ = *docs;
    before_ = Observe(*db_);
    ASSERT_THAT(before_, HasSubstr("doc-5: text 5"));
  }
  void TearDown() override {
    docs_.reset();
    db_.reset();
    std::filesystem::remove_all(root_);
  }

  // After a rejected call: the database shows what it showed before, also after closing and
  // reopening.
  void ExpectUnchanged(const std::string& context) { EXPECT_EQ(Observe(*db_), before_) << context; }
  void ExpectUnchangedAfterReopen() {
    docs_.reset();
    db_.reset();
    auto db = Database::Open(path_);
    ASSERT_THAT(db, IsOk());
    db_ = std::move(*db);
    EXPECT_EQ(Observe(*db_), before_) << "after reopening";
    auto docs = db_->GetCollection("docs");
    ASSERT_THAT(docs, IsOk());
    docs_ = *docs;
  }

  std::filesystem::path root_;
  std::string path_;
  std::unique_ptr<Database> db_;
  std::shared_ptr<Collection> docs_;
  std::string before_;
};

TEST_F(DbBadInputTest, BadDocumentsChangeNothingAndNameTheDocument) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  struct Case {
    const char* what;
    Document bad;
    const char* reason;  // a word the message must contain
  };
  const std::vector<Case> cases = {
      {"short vector", {.id = "bad", .vector = {1, 2, 3}}, "dimension"},
      {"long vector", {.id = "bad", .vector = {1, 2, 3, 4, 5}}, "dimension"},
      {"no vector", {.id = "bad", .text = "no encoder here"}, "vector"},
      {"NaN", {.id = "bad", .vector = Vector(1, nan, 0, 0)}, ""},
      {"Inf", {.id = "bad", .vector = Vector(1, 0, inf, 0)}, ""},
      {"-Inf", {.id = "bad", .vector = Vector(-inf, 0, 0, 0)}, ""},
      {"empty id", {.id = "", .vector = Vector(1, 0, 0, 0)}, "id"},
      {"over-long id",
       {.id = std::string(kMaxDocumentIdBytes + 1, 'x'), .vector = Vector(1, 0, 0, 0)},
       "id"},
  };
  for (const Case& c : cases) {
    for (const char* collection : {"docs", "flat"}) {
      ASSERT_OK_AND_ASSIGN(auto target, db_->GetCollection(collection));
      // A batch with the bad document in the middle: the good ones before it must not be applied.
      std::vector<Document> batch = {{.id = "new-0", .vector = Vector(9, 9, 9, 9)},
                                     {.id = "doc-5", .vector = Vector(8, 8, 8, 8)},
                                     c.bad,
                                     {.id = "new-1", .vector = Vector(7, 7, 7, 7)}};
      const std::string context = absl::StrCat(c.what, " in ", collection);
      absl::Status status = target->Upsert(batch);
      EXPECT_THAT(status, StatusIs(kInvalid, HasSubstr(c.reason))) << context;
      // The message names the document: by position (2) and, when it has a printable one, by id.
      EXPECT_THAT(std::string(status.message()), HasSubstr("document 2")) << context;
      if (!c.bad.id.empty() && c.bad.id.size() <= kMaxDocumentIdBytes) {
        EXPECT_THAT(std::string(status.message()), HasSubstr(c.bad.id)) << context;
      }
      ExpectUnchanged(context);
    }
  }
  // The boundary is accepted: an id of exactly kMaxDocumentIdBytes, in a separate collection.
  CollectionSpec spec{.name = "boundary", .dimension = kDimension};
  ASSERT_OK_AND_ASSIGN(auto boundary, db_->CreateCollection(spec));
  EXPECT_OK(boundary->Upsert(std::vector<Document>{
      {.id = std::string(kMaxDocumentIdBytes, 'x'), .vector = Vector(1, 0, 0, 0)}}));
  EXPECT_EQ(boundary->Count(), 1);
  ASSERT_OK(db_->DropCollection("boundary"));
  ExpectUnchanged("after the boundary collection");
  ExpectUnchangedAfterReopen();
}

TEST_F(DbBadInputTest, DuplicateIdInOneBatchChangesNothing) {
  std::vector<Document> batch = {{.id = "new-0", .vector = Vector(1, 1, 1, 1)},
                                 {.id = "dup", .vector = Vector(1, 2, 3, 4)},
                                 {.id = "dup", .vector = Vector(4, 3, 2, 1)}};
  absl::Status status = docs_->Upsert(batch);
  EXPECT_THAT(status, StatusIs(kInvalid, HasSubstr("dup")));
  ExpectUnchanged("duplicate id");
  ExpectUnchangedAfterReopen();
}

TEST_F(DbBadInputTest, BadIdsInGetAndDeleteChangeNothing) {
  const std::string too_long(kMaxDocumentIdBytes + 1, 'y');
  for (const std::string& bad : {std::string(), too_long}) {
    std::vector<std::string> ids = {"doc-1", bad, "doc-2"};
    EXPECT_THAT(docs_->Get(ids), StatusIs(kInvalid));
    EXPECT_THAT(docs_->Delete(ids), StatusIs(kInvalid));
    ExpectUnchanged(absl::StrCat("delete with an id of ", bad.size(), " bytes"));
  }
  ExpectUnchangedAfterReopen();
}

TEST_F(DbBadInputTest, BadSearchesAreRejected) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> good = Vector(1, 0, 0, 0);
  EXPECT_THAT(docs_->Search({.vector = good, .k = 0}), StatusIs(kInvalid));
  EXPECT_THAT(docs_->Search({.vector = good, .k = -3}), StatusIs(kInvalid));
  EXPECT_THAT(docs_->Search({.vector = good, .k = kMaxSearchK + 1}), StatusIs(kInvalid));
  EXPECT_THAT(docs_->Search({.vector = {1, 0, 0}, .k = 1}), StatusIs(kInvalid, HasSubstr("3")));
  EXPECT_THAT(docs_->Search({.vector = {}, .k = 1}), StatusIs(kInvalid));
  EXPECT_THAT(docs_->Search({.vector = Vector(nan, 0, 0, 0), .k = 1}), StatusIs(kInvalid));
  EXPECT_THAT(docs_->Search({.vector = good, .k = 1, .ef_search = -1}), StatusIs(kInvalid));
  EXPECT_THAT(docs_->Search({.vector = good, .k = 1, .nprobe = -1}), StatusIs(kInvalid));
  // The limits themselves are accepted.
  ASSERT_OK_AND_ASSIGN(auto all, docs_->Search({.vector = good, .k = kMaxSearchK}));
  EXPECT_EQ(all.hits.size(), 10u);
  ExpectUnchanged("bad searches");
}

TEST_F(DbBadInputTest, InvalidSpecsAndUnknownCollections) {
  auto hnsw = [](auto change) {
    CollectionSpec spec{.name = "new", .dimension = kDimension};
    change(spec);
    return spec;
  };
  struct Case {
    const char* field;  // the message must name it
    CollectionSpec spec;
  };
  const std::vector<Case> cases = {
      {"m", hnsw([](CollectionSpec& s) { s.index.hnsw.m = 0; })},
      {"m", hnsw([](CollectionSpec& s) { s.index.hnsw.m = 1; })},
      {"m", hnsw([](CollectionSpec& s) { s.index.hnsw.m = 257; })},
      {"ef_construction", hnsw([](CollectionSpec& s) { s.index.hnsw.ef_construction = 0; })},
      {"ef_search", hnsw([](CollectionSpec& s) { s.index.hnsw.ef_search = 0; })},
      {"dimension", hnsw([](CollectionSpec& s) { s.dimension = 0; })},
      {"dimension", hnsw([](CollectionSpec& s) { s.dimension = -4; })},
      {"dimension", hnsw([](CollectionSpec& s) { s.dimension = 65537; })},
      {"name", hnsw([](CollectionSpec& s) { s.name = ""; })},
      {"name", hnsw([](CollectionSpec& s) { s.name = "a/b"; })},
      {"name", hnsw([](CollectionSpec& s) { s.name = ".hidden"; })},
      {"name", hnsw([](CollectionSpec& s) { s.name = "with space"; })},
      {"name", hnsw([](CollectionSpec& s) { s.name = std::string(129, 'n'); })},
      {"metric", hnsw([](CollectionSpec& s) { s.metric = static_cast<Metric>(7); })},
      {"kind", hnsw([](CollectionSpec& s) { s.index.kind = static_cast<IndexKind>(9); })},
      {"nlist", hnsw([](CollectionSpec& s) {
         s.index.kind = IndexKind::kIvf;
         s.index.ivf = {.nlist = 0, .nprobe = 1};
       })},
      {"nprobe", hnsw([](CollectionSpec& s) {
         s.index.kind = IndexKind::kIvf;
         s.index.ivf = {.nlist = 16, .nprobe = 17};
       })},
      {"nprobe", hnsw([](CollectionSpec& s) {
         s.index.kind = IndexKind::kIvf;
         s.index.ivf = {.nlist = 16, .nprobe = 0};
       })},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(ValidateCollectionSpec(c.spec), StatusIs(kInvalid, HasSubstr(c.field))) << c.field;
    EXPECT_THAT(db_->CreateCollection(c.spec), StatusIs(kInvalid, HasSubstr(c.field))) << c.field;
  }
  // The limits are valid.
  EXPECT_OK(ValidateCollectionSpec(hnsw([](CollectionSpec& s) {
    s.name = std::string(128, 'n');
    s.dimension = 65536;
    s.index.hnsw = {.m = 256, .ef_construction = 4096, .ef_search = 32768};
  })));
  EXPECT_OK(ValidateCollectionSpec(hnsw([](CollectionSpec& s) { s.name = "a-b_c.D9"; })));

  CollectionSpec taken{.name = "docs", .dimension = 8};
  EXPECT_THAT(db_->CreateCollection(taken), StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(db_->GetCollection("nope"), StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope")));
  EXPECT_THAT(db_->DropCollection("nope"), StatusIs(absl::StatusCode::kNotFound));
  ExpectUnchanged("invalid specs");
  ExpectUnchangedAfterReopen();
}

TEST_F(DbBadInputTest, DroppedCollectionHandleReturnsNotFound) {
  ASSERT_OK_AND_ASSIGN(auto flat, db_->GetCollection("flat"));
  ASSERT_OK(db_->DropCollection("flat"));
  const std::vector<std::string> ids = {"doc-1"};
  EXPECT_THAT(flat->Search({.vector = Vector(1, 0, 0, 0), .k = 1}),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(flat->Get(ids), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(flat->Delete(ids), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(flat->Upsert(GoodDocuments()), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(db_->GetCollection("flat"), StatusIs(absl::StatusCode::kNotFound));
  // Recreating the name gives an empty collection: nothing of the old one comes back.
  CollectionSpec spec{.name = "flat", .dimension = kDimension};
  ASSERT_OK_AND_ASSIGN(auto again, db_->CreateCollection(spec));
  EXPECT_EQ(again->Count(), 0);
  ASSERT_OK_AND_ASSIGN(auto got, again->Get(ids));
  EXPECT_FALSE(got[0].has_value());
}

TEST_F(DbBadInputTest, ReadOnlyHandleRejectsWrites) {
  docs_.reset();
  db_.reset();
  ASSERT_OK_AND_ASSIGN(auto db, Database::Open(path_, {.read_only = true}));
  EXPECT_EQ(Observe(*db), before_);
  ASSERT_OK_AND_ASSIGN(auto docs, db->GetCollection("docs"));
  constexpr absl::StatusCode kPrecondition = absl::StatusCode::kFailedPrecondition;
  EXPECT_THAT(docs->Upsert(GoodDocuments()), StatusIs(kPrecondition));
  const std::vector<std::string> ids = {"doc-1"};
  EXPECT_THAT(docs->Delete(ids), StatusIs(kPrecondition));
  CollectionSpec spec{.name = "other", .dimension = kDimension};
  EXPECT_THAT(db->CreateCollection(spec), StatusIs(kPrecondition));
  EXPECT_THAT(db->DropCollection("docs"), StatusIs(kPrecondition));
  EXPECT_EQ(Observe(*db), before_);
  docs.reset();
  db.reset();
  // A read-only open of a missing folder creates nothing.
  EXPECT_THAT(Database::Open((root_ / "missing").string(), {.read_only = true}),
              StatusIs(absl::StatusCode::kNotFound));
  EXPECT_FALSE(std::filesystem::exists(root_ / "missing"));
  ExpectUnchangedAfterReopen();
}

TEST_F(DbBadInputTest, SecondWriterProcessIsUnavailableAndReadersCoexist) {
  EXPECT_EQ(OpenInOtherProcess(path_, /*read_only=*/false),
            static_cast<int>(absl::StatusCode::kUnavailable));
  EXPECT_EQ(OpenInOtherProcess(path_, /*read_only=*/true), static_cast<int>(absl::StatusCode::kOk));
  ExpectUnchanged("second writer");
  // Once this process closes it, another process may write.
  docs_.reset();
  db_.reset();
  EXPECT_EQ(OpenInOtherProcess(path_, /*read_only=*/false),
            static_cast<int>(absl::StatusCode::kOk));
  ExpectUnchangedAfterReopen();
}

TEST_F(DbBadInputTest, MissingForeignAndCorruptFolders) {
  EXPECT_THAT(Database::Open((root_ / "absent").string(), {.create_if_missing = false}),
              StatusIs(absl::StatusCode::kNotFound));

  // A folder with other things in it is not taken over.
  const std::filesystem::path foreign = root_ / "foreign";
  std::filesystem::create_directories(foreign);
  std::ofstream(foreign / "notes.txt") << "my notes, not a database\n";
  EXPECT_THAT(Database::Open(foreign.string()), StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(foreign),
                          std::filesystem::directory_iterator()),
            1)
      << "opening a foreign folder wrote into it";
  // A regular file where the folder should be.
  EXPECT_THAT(Database::Open((foreign / "notes.txt").string()), ::testing::Not(IsOk()));

  docs_.reset();
  db_.reset();
  // Corrupt copies of the good database: every file garbled, or only the small metadata files.
  auto garbled_copy = [&](const std::string& name, auto should_garble) {
    const std::filesystem::path copy = root_ / name;
    std::filesystem::copy(path_, copy, std::filesystem::copy_options::recursive);
    std::mt19937 rng(7);
    int garbled = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(copy)) {
      if (!entry.is_regular_file() || !should_garble(entry.path())) continue;
      const auto size = std::filesystem::file_size(entry.path());
      std::string bytes(std::max<uintmax_t>(size, 16), '\0');
      for (char& b : bytes) b = static_cast<char>(rng());
      std::ofstream(entry.path(), std::ios::binary | std::ios::trunc) << bytes;
      ++garbled;
    }
    EXPECT_GT(garbled, 0) << name;
    return copy.string();
  };
  const std::string all = garbled_copy("all_garbled", [](const auto&) { return true; });
  auto opened = Database::Open(all);
  EXPECT_TRUE(absl::IsDataLoss(opened.status()) || absl::IsFailedPrecondition(opened.status()))
      << opened.status();
  const std::string metadata = garbled_copy("metadata_garbled", [](const std::filesystem::path& p) {
    const std::string name = p.filename().string();
    return name == "CURRENT" || name.starts_with("MANIFEST");
  });
  opened = Database::Open(metadata);
  EXPECT_TRUE(absl::IsDataLoss(opened.status()) || absl::IsFailedPrecondition(opened.status()))
      << opened.status();

  // None of this touched the good database.
  ExpectUnchangedAfterReopen();
}

}  // namespace
}  // namespace ember
