// Tests of `ember DB eval`: retrieval metrics of a collection on judged queries, checked against
// values worked out by hand. The collection embeds with the random BERT fixture of
// ../shared/fixtures (the tests skip without it); each query's text equals one document's text, so
// that document is certainly ranked first and the rest of the ranking does not matter to the
// metrics the judgements make.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"
#include "tools_cli_runner.h"

namespace ember {
namespace {

using ::ember::testing::JsonLines;
using ::ember::testing::Keys;
using ::ember::testing::RunResult;
using ::ember::testing::WriteFile;
using ::nlohmann::json;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::string kModel = EMBER_SHARED_DIR "/fixtures/bert-tiny-random";

constexpr char kLongText[] =
    "Volcanoes form where magma reaches the surface of the Earth. Their eruptions can be "
    "explosive or gentle, depending on the gas in the magma. Ash clouds from large eruptions "
    "disturb air travel for weeks. Lava flows move slowly but destroy everything in their path.";

class CliEvalTest : public ::ember::testing::CliRunnerTest {
 protected:
  void SetUp() override {
    CliRunnerTest::SetUp();
    if (!std::filesystem::exists(kModel + "/config.json")) {
      GTEST_SKIP() << kModel << " is absent (../shared is not here)";
    }
    ASSERT_EQ(Ember({db_, "create", "docs", "--model", kModel, "--index", "flat"}).exit_code, 0);
    const RunResult imported = Ember(
        {db_, "import", "docs",
         WriteJsonLines(
             "corpus.jsonl",
             {
                 R"({"_id":"a","title":"","text":"The cat sat on the mat."})",
                 R"({"_id":"b","title":"Markets","text":"Stock markets fell sharply on Monday."})",
                 R"({"_id":"c","text":"A recipe for sourdough bread with a long cold proof."})",
                 R"({"_id":"d","text":"Ember stores vectors in RocksDB."})",
                 R"({"_id":"e","text":"Heavy rain is expected across the north tonight."})",
             })});
    ASSERT_EQ(imported.exit_code, 0) << imported.err;
    queries_ = WriteJsonLines(
        "queries.jsonl",
        {
            R"({"_id":"q1","text":"The cat sat on the mat."})",
            R"({"_id":"q2","text":"Markets Stock markets fell sharply on Monday.","metadata":{}})",
            R"({"_id":"q3","text":"A recipe for sourdough bread with a long cold proof."})",
            R"({"_id":"q4","text":"Ember stores vectors in RocksDB."})",
            R"({"_id":"q5","text":"Heavy rain is expected across the north tonight."})",
        });
  }

  // Writes a BEIR qrels file (with its header line) holding `lines`.
  std::string WriteQrels(const std::vector<std::string>& lines) {
    std::string contents = "query-id\tcorpus-id\tscore\n";
    for (const std::string& line : lines) absl::StrAppend(&contents, line, "\n");
    const std::string path = (dir_ / "qrels.tsv").string();
    WriteFile(path, contents);
    return path;
  }

  std::string queries_;
};

TEST_F(CliEvalTest, ScoresTheJudgedQueriesAsWorkedOutByHand) {
  // q1: its only relevant document, a, is first: nDCG 1, recall 1, MRR 1.
  // q2: b (grade 2) is first, z (grade 1) is not in the corpus: DCG = 2 / log2(2) = 2,
  //     IDCG = 2 + 1 / log2(3), recall 1/2, MRR 1.
  // q3: its only relevant document is not in the corpus: 0 everywhere.
  // q4: judged, but not relevant to anything: searched, yet not evaluated (trec_eval).
  // q5: not judged: not searched.
  const std::string qrels =
      WriteQrels({"q1\ta\t1", "q2\tb\t2", "q2\tz\t1", "q3\tz\t1", "q4\td\t0"});
  const RunResult result =
      Ember({db_, "eval", "docs", "--queries", queries_, "--qrels", qrels, "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::vector<json> lines = JsonLines(result.out);
  ASSERT_EQ(lines.size(), 1u) << result.out;
  const json& report = lines[0];
  EXPECT_THAT(Keys(report), ElementsAre("mode", "mrr_at_10", "ndcg_at_10", "queries",
                                        "queries_per_s", "recall_at_100"));
  EXPECT_EQ(report["mode"], "vector");
  EXPECT_EQ(report["queries"], 3);
  const double q2_ndcg = 2.0 / (2.0 + 1.0 / std::log2(3.0));
  EXPECT_NEAR(report["ndcg_at_10"].get<double>(), (1.0 + q2_ndcg + 0.0) / 3, 1e-9);
  EXPECT_NEAR(report["recall_at_100"].get<double>(), (1.0 + 0.5 + 0.0) / 3, 1e-9);
  EXPECT_NEAR(report["mrr_at_10"].get<double>(), (1.0 + 1.0 + 0.0) / 3, 1e-9);
  EXPECT_GT(report["queries_per_s"].get<double>(), 0);

  const RunResult human = Ember({db_, "eval", "docs", "--queries", queries_, "--qrels", qrels});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_THAT(human.out, AllOf(HasSubstr("3 queries"), HasSubstr("nDCG@10"),
                               HasSubstr(absl::StrFormat("%.4f", (1.0 + q2_ndcg) / 3)),
                               HasSubstr("Recall@100"), HasSubstr("0.5000"), HasSubstr("MRR@10"),
                               HasSubstr("0.6667"), HasSubstr("queries/s")));
}

TEST_F(CliEvalTest, GroupByScoresChunksAsTheirDocuments) {
  ASSERT_EQ(Ember({db_, "create", "chunks", "--model", kModel, "--index", "flat"}).exit_code, 0);
  const std::string corpus =
      WriteJsonLines("chunked.jsonl", {json({{"_id", "long"}, {"text", kLongText}}).dump(),
                                       R"({"_id":"short","text":"The cat sat on the mat."})"});
  RunResult result = Ember({db_, "import", "chunks", corpus, "--chunk-tokens", "16"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  result = Ember({db_, "get", "chunks", "long#1", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string second_chunk = JsonLines(result.out).at(0)["text"];
  const std::string queries =
      WriteJsonLines("chunk-queries.jsonl", {json({{"_id", "q1"}, {"text", second_chunk}}).dump()});
  const std::string qrels = WriteQrels({"q1\tlong\t1"});

  result = Ember({db_, "eval", "chunks", "--queries", queries, "--qrels", qrels, "--group-by",
                  "parent_id", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  json report = JsonLines(result.out).at(0);
  EXPECT_EQ(report["queries"], 1);
  EXPECT_DOUBLE_EQ(report["ndcg_at_10"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(report["recall_at_100"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(report["mrr_at_10"].get<double>(), 1.0);

  // Ungrouped, the hits are chunk ids, which the qrels do not judge; people are told why.
  result = Ember({db_, "eval", "chunks", "--queries", queries, "--qrels", qrels, "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  report = JsonLines(result.out).at(0);
  EXPECT_DOUBLE_EQ(report["ndcg_at_10"].get<double>(), 0.0);
  result = Ember({db_, "eval", "chunks", "--queries", queries, "--qrels", qrels});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.err, HasSubstr("--group-by parent_id"));
}

TEST_F(CliEvalTest, MoreMetricsOnRequest) {
  // As above: q1 finds a first (recall@1 1), q2 finds b first of its two relevant (1/2), q3
  // nothing (0).
  const std::string qrels = WriteQrels({"q1\ta\t1", "q2\tb\t2", "q2\tz\t1", "q3\tz\t1"});
  const RunResult result = Ember({db_, "eval", "docs", "--queries", queries_, "--qrels", qrels,
                                  "--metric", "recall@1", "--metric", "MRR@10", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::vector<json> lines = JsonLines(result.out);
  ASSERT_EQ(lines.size(), 1u) << result.out;
  EXPECT_THAT(Keys(lines[0]), ElementsAre("mode", "mrr_at_10", "ndcg_at_10", "queries",
                                          "queries_per_s", "recall_at_1", "recall_at_100"));
  EXPECT_NEAR(lines[0]["recall_at_1"].get<double>(), (1.0 + 0.5 + 0.0) / 3, 1e-9);
  for (const char* bad : {"precision@5", "recall@0"}) {
    const RunResult rejected =
        Ember({db_, "eval", "docs", "--queries", queries_, "--qrels", qrels, "--metric", bad});
    EXPECT_EQ(rejected.exit_code, 2) << bad;
    EXPECT_THAT(rejected.err, HasSubstr("--metric")) << bad;
  }
  const RunResult too_deep = Ember({db_, "eval", "docs", "--queries", queries_, "--qrels", qrels,
                                    "-k", "10", "--metric", "recall@20"});
  EXPECT_EQ(too_deep.exit_code, 2);
  EXPECT_THAT(too_deep.err, HasSubstr("needs -k 20"));
}

TEST_F(CliEvalTest, BadInputIsReported) {
  const std::string good_qrels = WriteQrels({"q1\ta\t1"});
  const std::string bad_qrels = (dir_ / "bad.tsv").string();
  WriteFile(bad_qrels, "query-id\tcorpus-id\tscore\nq1\ta\tvery\n");
  const std::string other_qrels = (dir_ / "other.tsv").string();
  WriteFile(other_qrels, "x1\ta\t1\n");
  ASSERT_EQ(Ember({db_, "create", "plain", "--dim", "2"}).exit_code, 0);

  struct Failure {
    std::vector<std::string> args;
    const char* message;
  };
  const std::vector<Failure> failures = {
      {{db_, "eval", "docs", "--queries", queries_, "--qrels", bad_qrels}, "bad.tsv:2"},
      {{db_, "eval", "docs", "--queries", queries_, "--qrels", (dir_ / "none.tsv").string()},
       "none.tsv"},
      {{db_, "eval", "docs", "--queries", (dir_ / "none.jsonl").string(), "--qrels", good_qrels},
       "none.jsonl"},
      {{db_, "eval", "docs", "--queries", queries_, "--qrels", other_qrels}, "no query"},
      {{db_, "eval", "plain", "--queries", queries_, "--qrels", good_qrels}, "no encoder"},
      {{db_, "eval", "nope", "--queries", queries_, "--qrels", good_qrels}, "not found"},
  };
  for (const Failure& failure : failures) {
    const RunResult result = Ember(failure.args);
    EXPECT_EQ(result.exit_code, 1) << failure.message << "\n" << result.err;
    EXPECT_THAT(result.err, HasSubstr(failure.message));
  }
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {db_, "eval", "docs", "--queries", queries_},
           {db_, "eval", "docs", "--qrels", good_qrels},
           {db_, "eval", "docs", "--queries", queries_, "--qrels", good_qrels, "-k", "0"}}) {
    const RunResult result = Ember(args);
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_THAT(result.err, HasSubstr("usage"));
  }
}

}  // namespace
}  // namespace ember
