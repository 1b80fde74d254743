// Tests of the `ember` command: runs the built binary in a temporary folder and checks its output,
// exit codes and what ends up in the database (read back through the command itself).
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "tools_cli_runner.h"

namespace ember {
namespace {

using ::nlohmann::json;
using ::testing::AllOf;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

using ::ember::testing::JsonLines;
using ::ember::testing::Keys;
using ::ember::testing::RunResult;
using ::ember::testing::ShellQuote;
using ::ember::testing::WriteFile;

constexpr const char* kBinary = ::ember::testing::kEmberBinary;
constexpr int kDimension = 8;

std::string VectorJson(const std::vector<float>& vector) {
  std::vector<std::string> parts;
  // %.9g prints every float exactly enough to read back the same float.
  for (float x : vector) parts.push_back(absl::StrFormat("%.9g", x));
  return absl::StrCat("[", absl::StrJoin(parts, ","), "]");
}

struct TestDocument {
  std::string id;
  std::vector<float> vector;
};

enum class ScoreMetric { kCosine, kInnerProduct, kL2 };

// The score Ember promises for `metric` (higher is better), computed in double.
double Score(ScoreMetric metric, const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0, l2 = 0, norm_a = 0, norm_b = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    dot += double{a[i]} * b[i];
    l2 += (double{a[i]} - b[i]) * (double{a[i]} - b[i]);
    norm_a += double{a[i]} * a[i];
    norm_b += double{b[i]} * b[i];
  }
  switch (metric) {
    case ScoreMetric::kCosine:
      return dot / std::sqrt(norm_a * norm_b);
    case ScoreMetric::kInnerProduct:
      return dot;
    case ScoreMetric::kL2:
      break;
  }
  return -l2;
}

class CliTest : public ::ember::testing::CliRunnerTest {
 protected:
  // `count` documents with seeded random vectors, imported into `collection` (created with
  // `flags`).
  std::vector<TestDocument> CreateAndImport(const std::string& collection, int count,
                                            const std::vector<std::string>& flags) {
    std::vector<std::string> create = {db_, "create", collection, "--dim",
                                       absl::StrCat(kDimension)};
    create.insert(create.end(), flags.begin(), flags.end());
    const RunResult created = Ember(create);
    EXPECT_EQ(created.exit_code, 0) << created.err;

    std::mt19937 random(1234);
    std::uniform_real_distribution<float> component(-1, 1);
    std::vector<TestDocument> documents;
    std::vector<std::string> lines;
    for (int i = 0; i < count; ++i) {
      TestDocument document{.id = absl::StrCat("doc-", i), .vector = {}};
      for (int j = 0; j < kDimension; ++j) document.vector.push_back(component(random));
      lines.push_back(absl::StrCat(R"({"id":")", document.id, R"(","text":"text of )", i,
                                   R"(","attributes":{"i":)", i, R"(,"even":)",
                                   i % 2 == 0 ? "true" : "false", R"(},"vector":)",
                                   VectorJson(document.vector), "}"));
      documents.push_back(std::move(document));
    }
    const RunResult imported =
        Ember({db_, "import", collection, WriteJsonLines("docs.jsonl", lines), "--batch", "64"});
    EXPECT_EQ(imported.exit_code, 0) << imported.err;
    EXPECT_THAT(imported.out, HasSubstr(absl::StrCat("imported ", count, " documents")));
    return documents;
  }
};

struct MetricCase {
  const char* name;
  ScoreMetric metric;
};

class CliMetricTest : public CliTest, public ::testing::WithParamInterface<MetricCase> {};

INSTANTIATE_TEST_SUITE_P(Metrics, CliMetricTest,
                         ::testing::Values(MetricCase{"cosine", ScoreMetric::kCosine},
                                           MetricCase{"ip", ScoreMetric::kInnerProduct},
                                           MetricCase{"l2", ScoreMetric::kL2}),
                         [](const auto& info) { return std::string(info.param.name); });

std::vector<float> QueryVector(int seed) {
  std::mt19937 random(seed);
  std::uniform_real_distribution<float> component(-1, 1);
  std::vector<float> query;
  for (int j = 0; j < kDimension; ++j) query.push_back(component(random));
  return query;
}

TEST_P(CliMetricTest, SearchFindsTheExactNearestNeighbours) {
  const ScoreMetric metric = GetParam().metric;
  const std::vector<TestDocument> documents =
      CreateAndImport("docs", 300, {"--metric", GetParam().name, "--index", "flat"});
  for (int q = 0; q < 5; ++q) {
    const std::vector<float> query = QueryVector(100 + q);
    std::vector<std::pair<double, std::string>> expected;
    for (const TestDocument& document : documents) {
      expected.emplace_back(Score(metric, query, document.vector), document.id);
    }
    std::sort(expected.begin(), expected.end(), std::greater<>());
    expected.resize(10);

    const RunResult result =
        Ember({db_, "search", "docs", "--vector", VectorJson(query), "-k", "10", "--json"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const std::vector<json> hits = JsonLines(result.out);
    ASSERT_EQ(hits.size(), 10u);
    for (size_t i = 0; i < hits.size(); ++i) {
      EXPECT_EQ(hits[i]["rank"], i + 1);
      EXPECT_EQ(hits[i]["id"], expected[i].second) << "query " << q << " rank " << i + 1;
      EXPECT_NEAR(hits[i]["score"].get<double>(), expected[i].first, 1e-4);
    }
  }
}

TEST_F(CliTest, HnswSearchMatchesBruteForceOnASmallCollection) {
  const std::vector<TestDocument> documents =
      CreateAndImport("docs", 300, {"--metric", "l2", "--index", "hnsw", "--m", "16"});
  const std::vector<float> query = QueryVector(7);
  std::vector<std::pair<double, std::string>> expected;
  for (const TestDocument& document : documents) {
    expected.emplace_back(Score(ScoreMetric::kL2, query, document.vector), document.id);
  }
  std::sort(expected.begin(), expected.end(), std::greater<>());
  std::vector<std::string> expected_ids;
  for (int i = 0; i < 5; ++i) expected_ids.push_back(expected[i].second);

  // ef_search covering the whole collection makes the graph search exhaustive.
  const RunResult result = Ember({db_, "search", "docs", "--vector", VectorJson(query), "-k", "5",
                                  "--ef-search", "300", "--fields", "id", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::vector<std::string> ids;
  for (const json& hit : JsonLines(result.out)) {
    EXPECT_EQ(Keys(hit), (std::vector<std::string>{"id", "rank"}));
    ids.push_back(hit["id"]);
  }
  EXPECT_THAT(ids, ElementsAreArray(expected_ids));
}

TEST_F(CliTest, GetDeleteAndStatsReflectTheStoredDocuments) {
  const std::vector<TestDocument> documents = CreateAndImport("docs", 50, {"--index", "flat"});
  EXPECT_EQ(StoredCount("docs"), 50);

  RunResult got = Ember({db_, "get", "docs", "doc-3", "doc-4", "--json"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  std::vector<json> lines = JsonLines(got.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["id"], "doc-3");
  EXPECT_EQ(lines[0]["text"], "text of 3");
  EXPECT_EQ(lines[0]["attributes"], json({{"i", 3}, {"even", false}}));
  EXPECT_TRUE(lines[0]["attributes"]["i"].is_number_integer());
  EXPECT_EQ(lines[0]["vector"].get<std::vector<float>>(), documents[3].vector);
  EXPECT_EQ(lines[1]["id"], "doc-4");

  const RunResult deleted =
      Ember({db_, "delete", "docs", "doc-3", "doc-4", "no-such-id", "--json"});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_EQ(JsonLines(deleted.out).at(0), json({{"deleted", 2}, {"requested", 3}}));
  EXPECT_EQ(StoredCount("docs"), 48);

  got = Ember({db_, "get", "docs", "doc-3", "doc-5"});
  EXPECT_EQ(got.exit_code, 1);
  EXPECT_THAT(got.err, AllOf(HasSubstr("not found"), HasSubstr("doc-3"), Not(HasSubstr("doc-5"))));
  EXPECT_THAT(got.out, HasSubstr("doc-5"));

  // A search for a deleted document's own vector no longer returns it.
  const RunResult search =
      Ember({db_, "search", "docs", "--vector", VectorJson(documents[3].vector), "-k", "48",
             "--fields", "id", "--json"});
  ASSERT_EQ(search.exit_code, 0) << search.err;
  const std::vector<json> hits = JsonLines(search.out);
  EXPECT_EQ(hits.size(), 48u);
  for (const json& hit : hits) EXPECT_NE(hit["id"], "doc-3");
}

TEST_F(CliTest, JsonOutputHasTheExpectedKeys) {
  RunResult result = Ember({"--json", db_, "create", "docs", "--dim", "2", "--metric", "ip"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::vector<json> lines = JsonLines(result.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Keys(lines[0]), (std::vector<std::string>{"dimension", "index", "metric", "name"}));
  EXPECT_EQ(lines[0]["metric"], "ip");
  EXPECT_EQ(lines[0]["index"]["kind"], "hnsw");

  const std::string file = WriteJsonLines(
      "a.jsonl",
      {
          R"({"id":"a","text":"alpha","attributes":{"tags":["x","y"],"score":0.5,"n":null},"vector":[1,0]})",
          R"({"id":"b","vector":[0,1]})",
      });
  result = Ember({db_, "import", "docs", file, "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  lines = JsonLines(result.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Keys(lines[0]),
            (std::vector<std::string>{"collection", "imported", "lines", "seconds"}));
  EXPECT_EQ(lines[0]["imported"], 2);

  result = Ember({db_, "search", "docs", "--vector", "[1, 0.25]", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  lines = JsonLines(result.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(Keys(lines[0]),
            (std::vector<std::string>{"attributes", "id", "rank", "score", "text"}));
  EXPECT_EQ(lines[0]["id"], "a");
  EXPECT_EQ(lines[0]["text"], "alpha");
  EXPECT_EQ(lines[0]["attributes"], json::parse(R"({"tags":["x","y"],"score":0.5,"n":null})"));
  EXPECT_DOUBLE_EQ(lines[0]["score"].get<double>(), 1.0);
  EXPECT_EQ(lines[1]["text"], nullptr);

  result = Ember({db_, "search", "docs", "--vector", "[1, 0.25]", "--fields", "id,distance,vector",
                  "-k", "1", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  lines = JsonLines(result.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Keys(lines[0]), (std::vector<std::string>{"distance", "id", "rank", "vector"}));
  EXPECT_EQ(lines[0]["vector"], json::parse("[1.0, 0.0]"));

  result = Ember({db_, "stats", "docs", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  lines = JsonLines(result.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Keys(lines[0]),
            (std::vector<std::string>{"changes_since_snapshot", "dimension", "documents", "index",
                                      "index_memory_bytes", "index_tombstones", "index_trained",
                                      "index_vectors", "metric", "name"}));
  EXPECT_EQ(lines[0]["documents"], 2);

  result = Ember({db_, "collections", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  lines = JsonLines(result.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["name"], "docs");
  EXPECT_EQ(lines[0]["documents"], 2);

  result = Ember({db_, "drop", "docs", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(JsonLines(result.out).at(0), json({{"dropped", "docs"}}));
  result = Ember({db_, "collections", "--json"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(JsonLines(result.out), IsEmpty());
}

TEST_F(CliTest, HumanOutputIsATableAndReadableStats) {
  ASSERT_EQ(Ember({db_, "create", "docs", "--dim", "2", "--index", "flat"}).exit_code, 0);
  const std::string file = WriteJsonLines(
      "a.jsonl", {
                     R"({"id":"first","text":"a line\nwith a newline","vector":[1,0]})",
                     R"({"id":"second-document","text":"short","vector":[0,1]})",
                 });
  ASSERT_EQ(Ember({db_, "import", "docs", file}).exit_code, 0);

  RunResult result = Ember({db_, "search", "docs", "--vector", "[1,0]"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::vector<std::string> rows = absl::StrSplit(result.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(rows.size(), 3u) << result.out;
  EXPECT_THAT(rows[0],
              AllOf(HasSubstr("rank"), HasSubstr("id"), HasSubstr("score"), HasSubstr("text")));
  EXPECT_THAT(rows[1], AllOf(HasSubstr("first"), HasSubstr("a line with a newline")));
  EXPECT_THAT(rows[2], HasSubstr("second-document"));
  // Aligned: the text column starts at the same offset on every row.
  EXPECT_EQ(rows[1].find("a line"), rows[2].find("short"));
  EXPECT_EQ(rows[0].find("text"), rows[2].find("short"));

  result = Ember({db_, "stats", "docs"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, AllOf(HasSubstr("collection"), HasSubstr("docs"), HasSubstr("documents"),
                                HasSubstr("flat")));
}

struct BadLineCase {
  const char* name;
  // Replaces line 7 of a file of 8 good lines.
  const char* line;
  // Expected in the error after "FILE:7: ".
  const char* reason;
};

class CliBadLineTest : public CliTest, public ::testing::WithParamInterface<BadLineCase> {};

INSTANTIATE_TEST_SUITE_P(
    BadLines, CliBadLineTest,
    ::testing::Values(BadLineCase{"MalformedJson", R"({"id":"x","vector":[1,)", "invalid JSON"},
                      BadLineCase{"WrongDimension", R"({"id":"x","vector":[1,2,3]})", "vector"},
                      BadLineCase{"NanAsString", R"({"id":"x","vector":[1,"NaN"]})", "vector[1]"},
                      BadLineCase{"Infinite", R"({"id":"x","vector":[1,1e39]})", "vector[1]"},
                      BadLineCase{"DuplicateIdInBatch", R"({"id":"d5","vector":[1,2]})", "line 5"},
                      BadLineCase{"NestedObjectAttribute",
                                  R"({"id":"x","vector":[1,2],"attributes":{"meta":{"a":1}}})",
                                  "attributes.meta"},
                      BadLineCase{"MixedArrayAttribute",
                                  R"({"id":"x","vector":[1,2],"attributes":{"tags":["a",1]}})",
                                  "attributes.tags[1]"},
                      BadLineCase{"MissingVector", R"({"id":"x","text":"no vector"})", "vector"},
                      BadLineCase{"EmptyId", R"({"id":"","vector":[1,2]})", "id"},
                      BadLineCase{"NotAnObject", R"([1,2])", "object"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_P(CliBadLineTest, StopsAtTheLineAndWritesNothingOfItsBatch) {
  ASSERT_EQ(Ember({db_, "create", "docs", "--dim", "2", "--index", "flat"}).exit_code, 0);
  std::vector<std::string> lines;
  for (int i = 1; i <= 8; ++i)
    lines.push_back(absl::StrCat(R"({"id":"d)", i, R"(","vector":[1,2]})"));
  lines[6] = GetParam().line;
  const std::string file = WriteJsonLines("bad.jsonl", lines);

  // Batches of 4: lines 1-4 are committed, the batch of lines 5-8 holds the bad line.
  const RunResult result = Ember({db_, "import", "docs", file, "--batch", "4"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr(absl::StrCat(file, ":7: ")));
  EXPECT_THAT(result.err, HasSubstr(GetParam().reason));
  EXPECT_THAT(result.err, HasSubstr("imported 4 documents (the batches before line 5)"));
  EXPECT_THAT(result.err, HasSubstr("nothing from the failing batch was written"));

  EXPECT_EQ(StoredCount("docs"), 4);
  EXPECT_EQ(Ember({db_, "get", "docs", "d1", "d2", "d3", "d4"}).exit_code, 0);
  for (const char* id : {"d5", "d6", "d8"}) {
    EXPECT_EQ(Ember({db_, "get", "docs", id}).exit_code, 1) << id << " should not be stored";
  }
}

TEST_F(CliTest, ImportsBeirLinesAndStandardInput) {
  ASSERT_EQ(Ember({db_, "create", "docs", "--dim", "2"}).exit_code, 0);
  const std::string input =
      R"({"_id":"beir-1","title":"Title","text":"body text","metadata":{},"vector":[1,2]})"
      "\n\n"
      R"({"_id":"beir-2","text":"only text","vector":[2,1]})"
      "\r\n";
  const RunResult result = Ember({db_, "import", "docs", "-"}, input);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("imported 2 documents"));

  const RunResult got = Ember({db_, "get", "docs", "beir-1", "beir-2", "--json"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  const std::vector<json> lines = JsonLines(got.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["text"], "Title body text");
  EXPECT_EQ(lines[1]["text"], "only text");
}

TEST_F(CliTest, UsageErrorsExitWithTwo) {
  ASSERT_EQ(Ember({db_, "create", "docs", "--dim", "2"}).exit_code, 0);
  const std::vector<std::vector<std::string>> mistakes = {
      {},
      {db_},
      {db_, "frobnicate"},
      {db_, "create", "other"},                  // missing --model or --dim
      {db_, "create", "other", "--dim", "two"},  // bad number
      {db_, "create", "other", "--dim", "2", "--metric", "manhattan"},
      {db_, "create", "other", "--dim", "2", "--index", "flat", "--m", "16"},
      {db_, "create", "other", "--dim", "2", "--dim", "3"},
      {db_, "search", "docs", "--vector", "[1,0]", "--colour", "red"},
      {db_, "search", "docs", "--vector", "[1,0]", "-k"},  // missing value
      {db_, "search", "docs", "--vector", "[1,0]", "-k", "ten"},
      {db_, "search", "docs", "--vector", "[1, zero]"},
      {db_, "search", "docs", "--vector", "[1, \"0\"]"},
      {db_, "search", "docs"},  // missing --vector
      {db_, "search", "docs", "--vector", "[1,0]", "--fields", "id,colour"},
      {db_, "search"},       // missing COLL
      {db_, "get", "docs"},  // missing ID
      {db_, "stats", "docs", "extra"},
      {db_, "import", "docs", "file.jsonl", "--batch", "0"},
      {db_, "import", "docs", "file.jsonl", "--no-sync=yes"},
      {"help", "frobnicate"},
  };
  for (const std::vector<std::string>& args : mistakes) {
    const RunResult result = Ember(args);
    EXPECT_EQ(result.exit_code, 2) << absl::StrJoin(args, " ") << "\n" << result.err;
    EXPECT_THAT(result.err, HasSubstr("usage")) << absl::StrJoin(args, " ");
    EXPECT_THAT(result.out, IsEmpty()) << absl::StrJoin(args, " ");
  }
  // A rejected create left no collection behind.
  const RunResult list = Ember({db_, "collections", "--json"});
  EXPECT_EQ(JsonLines(list.out).size(), 1u);
}

TEST_F(CliTest, FailedOperationsExitWithOne) {
  ASSERT_EQ(Ember({db_, "create", "docs", "--dim", "2"}).exit_code, 0);
  struct Failure {
    std::vector<std::string> args;
    const char* message;
  };
  const std::vector<Failure> failures = {
      {{db_, "search", "nope", "--vector", "[1,0]"}, "not found"},
      {{db_, "get", "nope", "a"}, "not found"},
      {{db_, "delete", "nope", "a"}, "not found"},
      {{db_, "stats", "nope"}, "not found"},
      {{db_, "drop", "nope"}, "not found"},
      {{db_, "import", "nope", "-"}, "not found"},
      {{db_, "import", "docs", (dir_ / "missing.jsonl").string()}, "missing.jsonl"},
      {{db_, "create", "docs", "--dim", "2"}, "docs"},  // already exists
      {{db_, "create", "other", "--dim", "2", "--m", "0"}, "hnsw.m"},
      {{db_, "search", "docs", "--vector", "[1,0,0]"}, "dimension"},
      {{db_, "search", "docs", "--vector", "[1,0]", "-k", "0"}, "k"},
      {{(dir_ / "no-such-db").string(), "stats"}, "no-such-db"},
  };
  for (const Failure& failure : failures) {
    const RunResult result = Ember(failure.args);
    EXPECT_EQ(result.exit_code, 1) << absl::StrJoin(failure.args, " ") << "\n" << result.err;
    EXPECT_THAT(result.err, AllOf(HasSubstr("ember: "), HasSubstr(failure.message)))
        << absl::StrJoin(failure.args, " ");
  }
  // Reading a missing database does not create it.
  EXPECT_FALSE(std::filesystem::exists(dir_ / "no-such-db"));
}

TEST_F(CliTest, ReadOnlyReadsButDoesNotWrite) {
  EXPECT_EQ(Ember({db_, "create", "docs", "--dim", "2", "--read-only"}).exit_code, 1);
  ASSERT_EQ(Ember({db_, "create", "docs", "--dim", "2", "--index", "flat"}).exit_code, 0);
  ASSERT_EQ(Ember({db_, "import", "docs", "-"}, R"({"id":"a","vector":[1,0]})").exit_code, 0);

  const RunResult search =
      Ember({"--read-only", db_, "search", "docs", "--vector", "[1,0]", "--json"});
  ASSERT_EQ(search.exit_code, 0) << search.err;
  EXPECT_EQ(JsonLines(search.out).at(0)["id"], "a");

  const RunResult import =
      Ember({db_, "import", "docs", "-", "--read-only"}, R"({"id":"b","vector":[0,1]})");
  EXPECT_EQ(import.exit_code, 1);
  EXPECT_THAT(import.err, HasSubstr("--read-only"));
  EXPECT_EQ(Ember({db_, "delete", "docs", "a", "--read-only"}).exit_code, 1);
  EXPECT_EQ(StoredCount("docs"), 1);
}

TEST_F(CliTest, ASecondWriterIsToldToUseReadOnly) {
  ASSERT_EQ(Ember({db_, "create", "docs", "--dim", "2", "--index", "flat"}).exit_code, 0);
  // The import opens the database first and the FIFO second, so once the FIFO has a reader the
  // database is held for writing; the import then waits for the FIFO's data.
  const std::string fifo = (dir_ / "fifo").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const std::string command =
      absl::StrCat(ShellQuote(kBinary), " ", ShellQuote(db_), " import docs ", ShellQuote(fifo));
  std::FILE* writer = popen(command.c_str(), "r");
  ASSERT_NE(writer, nullptr);
  // A non-blocking open for writing succeeds only once the reader has opened the FIFO; bounded, so
  // that an import that failed early cannot hang the test.
  int fd = -1;
  for (int attempt = 0; attempt < 600 && fd < 0; ++attempt) {
    fd = open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (fd < 0) usleep(50 * 1000);
  }
  EXPECT_GE(fd, 0) << "the importing process never opened " << fifo;

  if (fd >= 0) {
    const RunResult locked = Ember({db_, "stats", "docs"});
    EXPECT_EQ(locked.exit_code, 1);
    EXPECT_THAT(locked.err, AllOf(HasSubstr("another process"), HasSubstr("--read-only")));
    const RunResult reader = Ember({db_, "stats", "docs", "--read-only"});
    EXPECT_EQ(reader.exit_code, 0) << reader.err;

    const std::string line = R"({"id":"a","vector":[1,0]})";
    EXPECT_EQ(write(fd, line.data(), line.size()), static_cast<ssize_t>(line.size()));
    close(fd);
  }
  std::string writer_output(4096, '\0');
  writer_output.resize(std::fread(writer_output.data(), 1, writer_output.size(), writer));
  EXPECT_EQ(WEXITSTATUS(pclose(writer)), 0);
  EXPECT_THAT(writer_output, HasSubstr("imported 1 document "));
  EXPECT_EQ(StoredCount("docs"), 1);
}

TEST_F(CliTest, HelpExitsWithZero) {
  RunResult result = Ember({"--help"});
  EXPECT_EQ(result.exit_code, 0);
  for (const char* verb :
       {"create", "import", "search", "get", "delete", "stats", "collections", "drop", "eval"}) {
    EXPECT_THAT(result.out, HasSubstr(verb));
  }
  result = Ember({db_, "--help"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_THAT(result.out, HasSubstr("search"));
  result = Ember({"help", "search"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_THAT(result.out, AllOf(HasSubstr("--vector"), HasSubstr("--ef-search")));
  result = Ember({db_, "import", "--help"});
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_THAT(result.out, HasSubstr("--batch"));
  // Help never touches the database.
  EXPECT_FALSE(std::filesystem::exists(db_));
}

TEST_F(CliTest, FilteredSearchReturnsTheNearestMatchingDocuments) {
  const std::vector<TestDocument> documents = CreateAndImport(
      "docs", 300,
      {"--index", "flat", "--attribute", "i:int", "--attribute", "even:bool:noindex"});
  const std::vector<float> query = QueryVector(11);
  std::vector<std::pair<double, std::string>> expected;
  for (size_t i = 0; i < documents.size(); ++i) {
    if (i < 100 && i % 2 == 0) {
      expected.emplace_back(Score(ScoreMetric::kCosine, query, documents[i].vector),
                            documents[i].id);
    }
  }
  std::sort(expected.begin(), expected.end(), std::greater<>());
  expected.resize(10);
  std::vector<std::string> expected_ids;
  for (const auto& [score, id] : expected) expected_ids.push_back(id);

  const RunResult result = Ember({db_, "search", "docs", "--vector", VectorJson(query), "-k", "10",
                                  "--filter", "i < 100 AND even = TRUE", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::vector<std::string> ids;
  for (const json& hit : JsonLines(result.out)) {
    EXPECT_LT(hit["attributes"]["i"].get<int>(), 100);
    EXPECT_EQ(hit["attributes"]["even"], true);
    ids.push_back(hit["id"]);
  }
  EXPECT_THAT(ids, ElementsAreArray(expected_ids));
}

TEST_F(CliTest, ExplainPrintsThePlan) {
  CreateAndImport("docs", 50, {"--index", "flat", "--attribute", "i:int"});
  const std::string vector = VectorJson(QueryVector(3));
  const RunResult human = Ember(
      {db_, "search", "docs", "--vector", vector, "-k", "3", "--filter", "i >= 40", "--explain"});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_THAT(human.out, AllOf(HasSubstr("plan:"), HasSubstr("strategy: "),
                               HasSubstr("matching documents: 10")));

  const RunResult machine = Ember({db_, "search", "docs", "--vector", vector, "-k", "3",
                                   "--filter", "i >= 40", "--explain", "--json"});
  ASSERT_EQ(machine.exit_code, 0) << machine.err;
  const std::vector<json> lines = JsonLines(machine.out);
  ASSERT_EQ(lines.size(), 4u);  // three hits, then the plan
  EXPECT_EQ(lines[0]["rank"], 1);
  ASSERT_TRUE(lines[3].contains("plan")) << lines[3];
  EXPECT_TRUE(lines[3]["plan"]["strategy"].is_string());
  EXPECT_EQ(lines[3]["plan"]["matching_documents"], 10);

  // Without --explain no plan is printed.
  const RunResult plain = Ember({db_, "search", "docs", "--vector", vector, "-k", "3", "--json"});
  EXPECT_EQ(JsonLines(plain.out).size(), 3u);
}

TEST_F(CliTest, BadFiltersFailWithTheirReason) {
  CreateAndImport("docs", 10, {"--index", "flat", "--attribute", "i:int"});
  const std::string vector = VectorJson(QueryVector(3));
  const RunResult syntax =
      Ember({db_, "search", "docs", "--vector", vector, "--filter", "i < AND"});
  EXPECT_EQ(syntax.exit_code, 1) << syntax.err;
  EXPECT_THAT(syntax.err, AllOf(HasSubstr("ember: "), HasSubstr("position")));
  EXPECT_THAT(syntax.out, IsEmpty());

  // A declared int compared with a string: the search rejects the filter's types.
  const RunResult types =
      Ember({db_, "search", "docs", "--vector", vector, "--filter", "i = 'seven'"});
  EXPECT_EQ(types.exit_code, 1) << types.err;
  EXPECT_THAT(types.err, HasSubstr("ember: "));
}

TEST_F(CliTest, DeclaredAttributesAreTypeChecked) {
  ASSERT_EQ(Ember({db_, "create", "docs", "--dim", "2", "--attribute", "size:int", "--attribute",
                   "tags:list:noindex"})
                .exit_code,
            0);
  const RunResult good = Ember(
      {db_, "import", "docs", "-"},
      R"({"id":"a","attributes":{"size":3,"tags":["x","y"]},"vector":[1,0]})");
  EXPECT_EQ(good.exit_code, 0) << good.err;
  const RunResult bad =
      Ember({db_, "import", "docs", "-"}, R"({"id":"b","attributes":{"size":"big"},"vector":[0,1]})");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.err, HasSubstr("size"));
  const RunResult bad_list =
      Ember({db_, "import", "docs", "-"}, R"({"id":"c","attributes":{"tags":"x"},"vector":[0,1]})");
  EXPECT_EQ(bad_list.exit_code, 1);
  EXPECT_EQ(StoredCount("docs"), 1);

  for (const char* flag : {"size", "size:float", "size:int:unindexed", ":int", "a:int:noindex:x"}) {
    const RunResult result =
        Ember({db_, "create", "other", "--dim", "2", "--attribute", flag});
    EXPECT_EQ(result.exit_code, 2) << flag << "\n" << result.err;
    EXPECT_THAT(result.err, HasSubstr("--attribute")) << flag;
  }
  // Two attributes of one name: the library's validation names it.
  const RunResult twice = Ember(
      {db_, "create", "other", "--dim", "2", "--attribute", "a:int", "--attribute", "a:string"});
  EXPECT_EQ(twice.exit_code, 1) << twice.err;
}

class CliEmbedTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    // A GloVe text model: words most frequent first, 4 components each.
    model_ = (dir_ / "glove.txt").string();
    WriteFile(model_,
              "the 0.9 0.1 0.1 0.1\n"
              "fast 0.1 0.8 0.3 -0.2\n"
              "editor 0.2 -0.5 0.7 0.1\n"
              "music -0.3 0.2 0.1 0.9\n"
              "player 0.1 0.1 -0.6 0.6\n"
              "text 0.4 -0.2 0.5 -0.5\n");
  }

  std::vector<std::vector<double>> Vectors(const std::string& out) {
    std::vector<std::vector<double>> vectors;
    for (const json& line : JsonLines(out)) vectors.push_back(line.get<std::vector<double>>());
    return vectors;
  }

  std::string model_;
};

TEST_F(CliEmbedTest, PrintsOneUnitVectorPerTextDeterministically) {
  const std::vector<std::string> args = {"embed", model_, "fast text editor", "the music player"};
  const RunResult first = Ember(args);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::vector<std::vector<double>> vectors = Vectors(first.out);
  ASSERT_EQ(vectors.size(), 2u);
  for (const std::vector<double>& vector : vectors) {
    ASSERT_EQ(vector.size(), 4u);
    double norm = 0;
    for (double x : vector) norm += x * x;
    EXPECT_NEAR(std::sqrt(norm), 1.0, 1e-5);
  }
  EXPECT_NE(vectors[0], vectors[1]);
  EXPECT_EQ(Ember(args).out, first.out);

  // Static models have no prompts: the query role gives the same vector.
  const RunResult query = Ember({"embed", model_, "--query", "fast text editor"});
  ASSERT_EQ(query.exit_code, 0) << query.err;
  EXPECT_EQ(Vectors(query.out).at(0), vectors[0]);
}

TEST_F(CliEmbedTest, JsonLinesGetAVectorAndKeepTheirFields) {
  const std::string input =
      R"({"id":"a","text":"fast text editor","attributes":{"n":1}})"
      "\n\n"
      R"({"_id":"b","title":"music","text":"player"})"
      "\n";
  const RunResult result = Ember({"embed", model_, "--jsonl", "-"}, input);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::vector<json> lines = JsonLines(result.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(Keys(lines[0]), ElementsAreArray({"attributes", "id", "text", "vector"}));
  EXPECT_EQ(lines[0]["attributes"]["n"], 1);
  EXPECT_EQ(lines[1]["_id"], "b");
  // Each vector is the one embedding the line's text (BEIR: title + " " + text) gives.
  const RunResult direct = Ember({"embed", model_, "fast text editor", "music player"});
  const std::vector<std::vector<double>> expected = Vectors(direct.out);
  EXPECT_EQ(lines[0]["vector"].get<std::vector<double>>(), expected.at(0));
  EXPECT_EQ(lines[1]["vector"].get<std::vector<double>>(), expected.at(1));

  // The output imports as it is.
  ASSERT_EQ(Ember({db_, "create", "docs", "--dim", "4", "--index", "flat"}).exit_code, 0);
  const RunResult imported = Ember({db_, "import", "docs", "-"}, result.out);
  EXPECT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_EQ(StoredCount("docs"), 2);
}

TEST_F(CliEmbedTest, ALineWithoutTextIsAnErrorNamingIt) {
  const std::string path = WriteJsonLines(
      "in.jsonl", {R"({"id":"a","text":"fast editor"})", R"({"id":"b","attributes":{}})"});
  const RunResult result = Ember({"embed", model_, "--jsonl", path});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, AllOf(HasSubstr("in.jsonl:2"), HasSubstr("text")));

  const RunResult malformed = Ember({"embed", model_, "--jsonl", "-"}, "{\"id\":\n");
  EXPECT_EQ(malformed.exit_code, 1);
  EXPECT_THAT(malformed.err, HasSubstr("<stdin>:1"));
}

TEST_F(CliEmbedTest, MistakesAreReported) {
  EXPECT_EQ(Ember({"embed", model_}).exit_code, 2);  // nothing to embed
  EXPECT_EQ(Ember({"embed", model_, "text", "--jsonl", "-"}).exit_code, 2);
  const RunResult missing = Ember({"embed", (dir_ / "no-model").string(), "text"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("no-model"));
  const RunResult help = Ember({"help", "embed"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, AllOf(HasSubstr("usage: ember embed"), HasSubstr("--jsonl")));
}

}  // namespace
}  // namespace ember
