#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "eval/beir.h"
#include "eval/metrics.h"
#include "status_matchers.h"
#include "temp_dir.h"

namespace ember::eval {
namespace {

using ::ember::testing::StatusIs;
using ::ember::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

const std::string kSharedData = std::string(EMBER_SHARED_DIR) + "/data";

std::vector<CorpusDocument> ReadAll(const std::string& path, absl::Status* status) {
  std::vector<CorpusDocument> documents;
  *status = ForEachCorpusDocument(path, [&](CorpusDocument&& document) {
    documents.push_back(std::move(document));
    return absl::OkStatus();
  });
  return documents;
}

TEST(EvalBeirTest, LoadsQueries) {
  TempDir dir;
  const std::string path = dir.Write("queries.jsonl",
                                     "{\"_id\": \"q1\", \"text\": \"first\", \"metadata\": {}}\r\n"
                                     "\n"
                                     "{\"_id\": 7, \"text\": \"caf\xC3\xA9\"}\n");
  ASSERT_OK_AND_ASSIGN(const std::vector<Query> queries, LoadQueries(path));
  ASSERT_EQ(queries.size(), 2);
  EXPECT_EQ(queries[0].id, "q1");
  EXPECT_EQ(queries[0].text, "first");
  EXPECT_EQ(queries[1].id, "7");
  EXPECT_EQ(queries[1].text, "caf\xC3\xA9");
}

TEST(EvalBeirTest, QueryErrorsNameFileAndLine) {
  TempDir dir;
  const std::string good = "{\"_id\": \"q1\", \"text\": \"a\"}\n";
  const std::pair<std::string, std::string> cases[] = {
      {good + "{\"_id\": \"q2\", \"text\": \"b\"\n", "not valid JSON"},
      {good + "[1, 2]\n", "not a JSON object"},
      {good + "{\"text\": \"b\"}\n", "missing \"_id\""},
      {good + "{\"_id\": \"q2\"}\n", "missing \"text\""},
      {good + "{\"_id\": \"q2\", \"text\": 5}\n", "\"text\" must be a string"},
      {good + "{\"_id\": \"\", \"text\": \"b\"}\n", "\"_id\" is empty"},
      {good + "{\"_id\": [1], \"text\": \"b\"}\n", "\"_id\" must be a string"},
      {good + "{\"_id\": \"q1\", \"text\": \"b\"}\n", "duplicate query id 'q1'"},
      {good + "{\"_id\": \"q2\", \"text\": \"\xFF\"}\n", "not valid JSON"},
  };
  for (const auto& [content, message] : cases) {
    const std::string path = dir.Write("queries.jsonl", content);
    EXPECT_THAT(LoadQueries(path),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(path + ":2: " + message)))
        << content;
  }
}

TEST(EvalBeirTest, MissingFileIsNotFound) {
  TempDir dir;
  const std::string path = dir.path() + "/absent.jsonl";
  EXPECT_THAT(LoadQueries(path), StatusIs(absl::StatusCode::kNotFound, HasSubstr(path)));
  EXPECT_THAT(LoadQrels(path), StatusIs(absl::StatusCode::kNotFound, HasSubstr(path)));
  EXPECT_THAT(ForEachCorpusDocument(path, [](CorpusDocument&&) { return absl::OkStatus(); }),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(path)));
  EXPECT_THAT(LoadQrels(dir.path()), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(EvalBeirTest, LoadsTsvQrelsWithHeader) {
  TempDir dir;
  const std::string path = dir.Write("test.tsv",
                                     "query-id\tcorpus-id\tscore\n"
                                     "1\t31715818\t1\n"
                                     "1\tdoc with spaces\t2\r\n"
                                     "\n"
                                     "3\t14717500\t0\n"
                                     "4\td\t-1\n"
                                     "1\t31715818\t3\n");  // repeated pair: the last grade wins
  ASSERT_OK_AND_ASSIGN(const Qrels qrels, LoadQrels(path));
  EXPECT_THAT(
      qrels,
      ElementsAre(Pair("1", UnorderedElementsAre(Pair("31715818", 3), Pair("doc with spaces", 2))),
                  Pair("3", UnorderedElementsAre(Pair("14717500", 0))),
                  Pair("4", UnorderedElementsAre(Pair("d", -1)))));
}

TEST(EvalBeirTest, LoadsHeaderlessAndTrecQrels) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(const Qrels tsv, LoadQrels(dir.Write("a.tsv", "q1\td1\t1\n")));
  EXPECT_THAT(tsv, ElementsAre(Pair("q1", ElementsAre(Pair("d1", 1)))));
  ASSERT_OK_AND_ASSIGN(const Qrels trec,
                       LoadQrels(dir.Write("qrels.txt", "q1 0 d1 2\nq1  0  d2  0\n")));
  EXPECT_THAT(trec, ElementsAre(Pair("q1", UnorderedElementsAre(Pair("d1", 2), Pair("d2", 0)))));
}

TEST(EvalBeirTest, LoadsJsonlQrels) {
  TempDir dir;
  const std::string path =
      dir.Write("qrels.jsonl",
                "{\"query-id\": \"query_0\", \"corpus-id\": \"Geneva Durben\", \"score\": 1}\n"
                "{\"query-id\": \"query_0\", \"corpus-id\": \"Dorathea Bastress\", \"score\": 1}\n"
                "  {\"query-id\": 5, \"corpus-id\": 6, \"score\": 2.0}\n");
  ASSERT_OK_AND_ASSIGN(const Qrels qrels, LoadQrels(path));
  EXPECT_THAT(qrels,
              ElementsAre(Pair("5", ElementsAre(Pair("6", 2))),
                          Pair("query_0", UnorderedElementsAre(Pair("Geneva Durben", 1),
                                                               Pair("Dorathea Bastress", 1)))));
}

TEST(EvalBeirTest, QrelsErrorsNameFileAndLine) {
  TempDir dir;
  const std::string tsv = "query-id\tcorpus-id\tscore\nq1\td1\t1\n";
  const std::string jsonl = "{\"query-id\": \"q\", \"corpus-id\": \"d\", \"score\": 1}\n";
  const std::pair<std::string, std::string> cases[] = {
      {tsv + "q2\td2\n", ":3: expected 3 tab-separated fields"},
      {tsv + "q2\td2\t1\t2\t3\n", ":3: expected 3 tab-separated fields"},
      {tsv + "q2\td2\thigh\n", ":3: score 'high' is not an integer"},
      {tsv + "q2\td2\t1.5\n", ":3: score '1.5' is not an integer"},
      {tsv + "q2\td2\t99999999999\n", ":3: score '99999999999' is not an integer"},
      {tsv + "\td2\t1\n", ":3: empty query-id"},
      {tsv + "q2\t\t1\n", ":3: empty corpus-id"},
      // The header is only accepted as the first line.
      {tsv + "query-id\tcorpus-id\tscore\n", ":3: score 'score' is not an integer"},
      {jsonl + "{\"query-id\": \"q\", \"corpus-id\": \"d\"}\n", ":2: missing \"score\""},
      {jsonl + "{\"query-id\": \"q\", \"corpus-id\": \"d\", \"score\": \"1\"}\n",
       ":2: \"score\" must be an integer"},
      {jsonl + "{\"query-id\": \"q\", \"corpus-id\": \"d\", \"score\": 0.5}\n",
       ":2: \"score\" must be an integer"},
      {jsonl + "{\"corpus-id\": \"d\", \"score\": 1}\n", ":2: missing \"query-id\""},
      {jsonl + "{\"query-id\": \"q\", \"corpus-id\": null, \"score\": 1}\n",
       ":2: \"corpus-id\" must be a string"},
      {jsonl + "q\td\t1\n", ":2: not valid JSON"},
  };
  for (const auto& [content, message] : cases) {
    const std::string path = dir.Write("qrels", content);
    EXPECT_THAT(LoadQrels(path),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(path + message)))
        << content;
  }
}

TEST(EvalBeirTest, EmptyQrelsFile) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(const Qrels qrels, LoadQrels(dir.Write("empty.tsv", "")));
  EXPECT_TRUE(qrels.empty());
}

TEST(EvalBeirTest, StreamsCorpus) {
  TempDir dir;
  const std::string path =
      dir.Write("corpus.jsonl",
                "{\"_id\": \"4983\", \"title\": \"Micro\", \"text\": \"Alterations.\"}\n"
                "\n"
                "{\"_id\": \"Geneva Durben\", \"title\": \"\", \"text\": \"likes Quokkas\"}\n"
                "{\"_id\": 12, \"text\": \"no title\", \"metadata\": {\"x\": 1}}\n"
                "{\"_id\": \"n\", \"title\": null, \"text\": \"\"}\n");
  absl::Status status;
  const std::vector<CorpusDocument> documents = ReadAll(path, &status);
  ASSERT_OK(status);
  ASSERT_EQ(documents.size(), 4);
  EXPECT_EQ(documents[0].id, "4983");
  EXPECT_EQ(documents[0].title, "Micro");
  EXPECT_EQ(documents[0].text, "Alterations.");
  EXPECT_EQ(documents[0].line, 1);
  EXPECT_EQ(DocumentText(documents[0]), "Micro Alterations.");
  EXPECT_EQ(documents[1].id, "Geneva Durben");
  EXPECT_EQ(documents[1].line, 3);
  EXPECT_EQ(DocumentText(documents[1]), "likes Quokkas");
  EXPECT_EQ(documents[2].id, "12");
  EXPECT_EQ(documents[2].title, "");
  EXPECT_EQ(documents[3].text, "");
  EXPECT_EQ(documents[3].line, 5);
}

TEST(EvalBeirTest, CorpusErrorsNameLineAndStopStreaming) {
  TempDir dir;
  const std::string path = dir.Write("corpus.jsonl",
                                     "{\"_id\": \"a\", \"text\": \"x\"}\n"
                                     "{\"_id\": \"b\", \"title\": 3, \"text\": \"y\"}\n"
                                     "{\"_id\": \"c\", \"text\": \"z\"}\n");
  absl::Status status;
  const std::vector<CorpusDocument> documents = ReadAll(path, &status);
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr(path + ":2: \"title\" must be a string")));
  ASSERT_EQ(documents.size(), 1);  // delivered before the error
  EXPECT_EQ(documents[0].id, "a");

  const std::string truncated = dir.Write("cut.jsonl", "{\"_id\": \"a\", \"text\": \"x\"}\n{\"_id");
  EXPECT_THAT(ReadAll(truncated, &status), ::testing::SizeIs(1));
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument,
                               HasSubstr(truncated + ":2: not valid JSON")));
}

TEST(EvalBeirTest, CallbackErrorStopsStreaming) {
  TempDir dir;
  const std::string path = dir.Write("corpus.jsonl",
                                     "{\"_id\": \"a\", \"text\": \"x\"}\n"
                                     "{\"_id\": \"b\", \"text\": \"y\"}\n"
                                     "{\"_id\": \"c\", \"text\": \"z\"}\n");
  int calls = 0;
  const absl::Status status = ForEachCorpusDocument(path, [&](CorpusDocument&& document) {
    ++calls;
    if (document.id == "b") return absl::ResourceExhaustedError("enough");
    return absl::OkStatus();
  });
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kResourceExhausted, "enough"));
  EXPECT_EQ(calls, 2);
}

TEST(EvalBeirTest, FindsBeirFiles) {
  TempDir dir;
  dir.Write("corpus.jsonl", "");
  dir.Write("queries.jsonl", "");
  EXPECT_THAT(FindBeirFiles(dir.path()), StatusIs(absl::StatusCode::kNotFound, HasSubstr("qrels")));
  dir.Write("qrels.jsonl", "");
  ASSERT_OK_AND_ASSIGN(BeirFiles files, FindBeirFiles(dir.path()));
  EXPECT_EQ(files.qrels, dir.path() + "/qrels.jsonl");
  std::filesystem::create_directory(dir.path() + "/qrels");
  dir.Write("qrels/dev.tsv", "");
  ASSERT_OK_AND_ASSIGN(files, FindBeirFiles(dir.path(), "dev"));
  EXPECT_EQ(files.corpus, dir.path() + "/corpus.jsonl");
  EXPECT_EQ(files.queries, dir.path() + "/queries.jsonl");
  EXPECT_EQ(files.qrels, dir.path() + "/qrels/dev.tsv");
  std::filesystem::remove(dir.path() + "/queries.jsonl");
  EXPECT_THAT(FindBeirFiles(dir.path(), "dev"),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("queries.jsonl")));
  EXPECT_THAT(FindBeirFiles(dir.path() + "/nope"), StatusIs(absl::StatusCode::kNotFound));
}

int RelevantPairs(const Qrels& qrels) {
  int pairs = 0;
  for (const auto& [query_id, judged] : qrels) {
    for (const auto& [doc_id, grade] : judged) pairs += grade > 0;
  }
  return pairs;
}

TEST(EvalBeirTest, SciFact) {
  const std::string dir = kSharedData + "/scifact";
  if (!std::filesystem::exists(dir + "/qrels/test.tsv")) {
    GTEST_SKIP() << "SciFact is not in " << dir;
  }
  ASSERT_OK_AND_ASSIGN(const BeirFiles files, FindBeirFiles(dir));
  ASSERT_OK_AND_ASSIGN(const Qrels qrels, LoadQrels(files.qrels));
  EXPECT_EQ(qrels.size(), 300);
  EXPECT_EQ(RelevantPairs(qrels), 339);
  ASSERT_OK_AND_ASSIGN(const std::vector<Query> queries, LoadQueries(files.queries));
  EXPECT_EQ(queries.size(), 1109);
  int64_t documents = 0;
  ASSERT_OK(ForEachCorpusDocument(files.corpus, [&](CorpusDocument&& document) {
    ++documents;
    return absl::OkStatus();
  }));
  EXPECT_EQ(documents, 5183);
  // Every judged query exists; a run that returns exactly the relevant documents scores 1.
  eval::Run run;
  for (const auto& [query_id, judged] : qrels) {
    for (const auto& [doc_id, grade] : judged) run[query_id].push_back(doc_id);
  }
  ASSERT_OK_AND_ASSIGN(const Evaluation evaluation,
                       Evaluate(qrels, run, {{MetricKind::kRecall, 100}, {MetricKind::kMrr, 10}}));
  EXPECT_EQ(evaluation.per_query.size(), 300);
  EXPECT_THAT(evaluation.mean, ElementsAre(1.0, 1.0));
}

TEST(EvalBeirTest, LimitSmall) {
  const std::string dir = kSharedData + "/limit-small";
  if (!std::filesystem::exists(dir + "/qrels.jsonl")) {
    GTEST_SKIP() << "LIMIT-small is not in " << dir;
  }
  ASSERT_OK_AND_ASSIGN(const BeirFiles files, FindBeirFiles(dir));
  ASSERT_OK_AND_ASSIGN(const Qrels qrels, LoadQrels(files.qrels));
  EXPECT_EQ(qrels.size(), 1000);
  EXPECT_EQ(RelevantPairs(qrels), 2000);
  for (const auto& [query_id, judged] : qrels) EXPECT_EQ(judged.size(), 2) << query_id;
  ASSERT_OK_AND_ASSIGN(const std::vector<Query> queries, LoadQueries(files.queries));
  EXPECT_EQ(queries.size(), 1000);
  EXPECT_EQ(queries[0].id, "query_0");
  int64_t documents = 0;
  ASSERT_OK(ForEachCorpusDocument(files.corpus, [&](CorpusDocument&& document) {
    ++documents;
    return absl::OkStatus();
  }));
  EXPECT_EQ(documents, 46);
}

}  // namespace
}  // namespace ember::eval
