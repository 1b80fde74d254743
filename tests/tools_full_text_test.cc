// Tests of the `ember` command's full-text (BM25) and hybrid search: create --full-text (text-only
// or beside vectors), import into a text-only collection, search --mode text|hybrid with their
// fusion flags and --explain, eval --mode, and the errors these flags promise.
//
// Expected scores are worked out by hand from the formulas the library documents: BM25 as
// text/bm25_index.h scores it (k1 0.9, b 0.4, idf = ln(1 + (N - df + 0.5) / (df + 0.5)), without
// Lucene's (k1 + 1) factor), over the terms of Lucene's English analysis (stop words dropped,
// Porter stems), and the fusions of search.h. Hybrid searches give the vector side its own query
// vector (--vector with --text), so that they need no model; one test runs with the ../shared
// fixture model and skips without it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "fixture_model.h"
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
using ::testing::Not;

constexpr double kK1 = 0.9;
constexpr double kB = 0.4;

// One term's BM25 addend: the term occurs `tf` times in a document of `length` terms, in `df` of
// `documents` documents whose mean length is `mean_length`.
double Bm25(int tf, int length, int df, int documents, double mean_length) {
  const double idf = std::log(1 + (documents - df + 0.5) / (df + 0.5));
  return idf * tf / (tf + kK1 * (1 - kB + kB * length / mean_length));
}

// A score as the human table prints it.
std::string Shown(double score) { return absl::StrFormat("%.6g", static_cast<float>(score)); }

// The words of each of the first `count` lines of `out` (a table: its header, then its rows).
std::vector<std::vector<std::string>> TableLines(const std::string& out, size_t count) {
  std::vector<std::vector<std::string>> lines;
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (lines.size() == count) break;
    lines.push_back(absl::StrSplit(line, ' ', absl::SkipEmpty()));
  }
  lines.resize(count);
  return lines;
}

// Three documents whose analyzed terms are (stop words "the" and "a" dropped, Porter stems):
//   d1 "The quick brown fox"     -> quick brown fox             (3 terms)
//   d2 "Lazy brown dogs sleep"   -> lazi brown dog sleep        (4 terms)
//   d3 "A zebra crossing"        -> zebra cross                 (2 terms)
// N = 3, mean length 3; 8 distinct terms, 9 postings.
const std::vector<std::string> kAnimalLines = {
    R"({"id":"d1","text":"The quick brown fox"})",
    R"({"id":"d2","text":"Lazy brown dogs sleep"})",
    R"({"id":"d3","text":"A zebra crossing"})",
};

class CliFullTextTest : public ::ember::testing::CliRunnerTest {
 protected:
  // Creates the text-only collection `notes` holding kAnimalLines.
  void CreateAnimals(const std::vector<std::string>& flags = {}) {
    std::vector<std::string> create = {db_, "create", "notes", "--full-text"};
    create.insert(create.end(), flags.begin(), flags.end());
    const RunResult created = Ember(create);
    ASSERT_EQ(created.exit_code, 0) << created.err;
    const RunResult imported =
        Ember({db_, "import", "notes", WriteJsonLines("animals.jsonl", kAnimalLines)});
    ASSERT_EQ(imported.exit_code, 0) << imported.err;
    ASSERT_THAT(imported.out, HasSubstr("imported 3 documents"));
  }

  // `search notes --json` with `flags`: the hits' ids and scores.
  std::vector<json> SearchJson(const std::string& collection,
                               const std::vector<std::string>& flags) {
    std::vector<std::string> args = {db_, "search", collection, "--json"};
    args.insert(args.end(), flags.begin(), flags.end());
    const RunResult result = Ember(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return JsonLines(result.out);
  }

  // The 2-dimensional collection `fruit` (flat, cosine) with a full-text index:
  //   a "red apple"        [1, 0]      terms red appl          (2)
  //   b "green apple pie"  [0, 1]      terms green appl pie    (3)
  //   c "banana bread"     [0.6, 0.8]  terms banana bread      (2)
  // N = 3, mean length 7/3.
  void CreateFruit() {
    const RunResult created =
        Ember({db_, "create", "fruit", "--dim", "2", "--index", "flat", "--full-text"});
    ASSERT_EQ(created.exit_code, 0) << created.err;
    const RunResult imported = Ember(
        {db_, "import", "fruit",
         WriteJsonLines("fruit.jsonl", {
                                           R"({"id":"a","text":"red apple","vector":[1,0]})",
                                           R"({"id":"b","text":"green apple pie","vector":[0,1]})",
                                           R"({"id":"c","text":"banana bread","vector":[0.6,0.8]})",
                                       })});
    ASSERT_EQ(imported.exit_code, 0) << imported.err;
  }
};

TEST_F(CliFullTextTest, TextOnlyCollectionIsCreatedImportedAndShown) {
  RunResult result = Ember({db_, "create", "notes", "--full-text"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out,
            "created collection \"notes\": text-only, full text (stemmer porter, stop words "
            "removed, k1 0.9, b 0.4)\n");
  result = Ember({db_, "import", "notes", WriteJsonLines("animals.jsonl", kAnimalLines)});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("imported 3 documents"));

  result = Ember({db_, "stats", "notes", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::vector<json> lines = JsonLines(result.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["dimension"], 0);
  EXPECT_EQ(lines[0]["full_text"], json::parse(R"({"attributes":[],"stemmer":"porter",
                                                  "remove_stop_words":true,"k1":0.9,"b":0.4})"));
  EXPECT_EQ(lines[0]["documents"], 3);
  EXPECT_EQ(lines[0]["text_terms"], 8);
  EXPECT_EQ(lines[0]["text_postings"], 9);
  EXPECT_GT(lines[0]["text_memory_bytes"].get<int64_t>(), 0);

  result = Ember({db_, "stats", "notes"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(
      result.out,
      AllOf(HasSubstr("dimension               none (text-only: no vectors)\n"),
            HasSubstr("full text               stemmer porter, stop words removed, k1 "
                      "0.9, b 0.4\n"),
            HasSubstr("text terms              8\n"), HasSubstr("text postings           9\n"),
            HasSubstr("text index memory"), Not(HasSubstr("index vectors"))));

  result = Ember({db_, "collections"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out,
            "name   dimension  metric  index  model  full text      documents\n"
            "notes          -  -       -      -      bm25 (porter)          3\n");

  // A text-only document has no vector to show.
  result = Ember({db_, "get", "notes", "d3"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "id          d3\ntext        A zebra crossing\n");

  // A line with a vector does not belong in a text-only collection.
  result = Ember({db_, "import", "notes", "-"}, R"({"id":"v","text":"x","vector":[1,0]})");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, AllOf(HasSubstr("<stdin>:1: vector: the collection is text-only")));
  EXPECT_EQ(StoredCount("notes"), 3);
}

TEST_F(CliFullTextTest, TextSearchRanksByBm25) {
  CreateAnimals();
  // "zebra" is in d3 only.
  std::vector<json> hits = SearchJson("notes", {"--text", "zebra", "--mode", "text"});
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]["id"], "d3");
  EXPECT_NEAR(hits[0]["score"].get<double>(), Bm25(1, 2, 1, 3, 3.0), 1e-6);
  EXPECT_EQ(Keys(hits[0]), (std::vector<std::string>{"attributes", "id", "rank", "score", "text"}));

  // "brown" is in d1 and d2; the shorter d1 ranks first. Mode auto is text on a text-only
  // collection. Stems match: "foxes" finds "fox".
  hits = SearchJson("notes", {"--text", "Brown foxes"});
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0]["id"], "d1");
  EXPECT_NEAR(hits[0]["score"].get<double>(), Bm25(1, 3, 2, 3, 3.0) + Bm25(1, 3, 1, 3, 3.0), 1e-6);
  EXPECT_EQ(hits[1]["id"], "d2");
  EXPECT_NEAR(hits[1]["score"].get<double>(), Bm25(1, 4, 2, 3, 3.0), 1e-6);

  // Stop words alone match nothing.
  const RunResult none = Ember({db_, "search", "notes", "--text", "the"});
  ASSERT_EQ(none.exit_code, 0) << none.err;
  EXPECT_EQ(none.out, "no results\n");

  const RunResult explained =
      Ember({db_, "search", "notes", "--text", "brown fox", "--explain", "--fields", "id,score"});
  ASSERT_EQ(explained.exit_code, 0) << explained.err;
  EXPECT_THAT(explained.out,
              AllOf(HasSubstr("plan:\n  mode: text\n"), HasSubstr("  query terms: brown fox\n"),
                    HasSubstr("  text hits: 2\n"), Not(HasSubstr("bm25 rank"))));
  const std::vector<std::vector<std::string>> rows = TableLines(explained.out, 3);
  EXPECT_THAT(rows[0], ElementsAre("rank", "id", "score"));
  EXPECT_THAT(rows[1],
              ElementsAre("1", "d1", Shown(Bm25(1, 3, 2, 3, 3.0) + Bm25(1, 3, 1, 3, 3.0))));
  EXPECT_THAT(rows[2], ElementsAre("2", "d2", Shown(Bm25(1, 4, 2, 3, 3.0))));

  const RunResult plan_json =
      Ember({db_, "search", "notes", "--text", "brown fox", "--explain", "--json"});
  ASSERT_EQ(plan_json.exit_code, 0) << plan_json.err;
  const std::vector<json> lines = JsonLines(plan_json.out);
  ASSERT_EQ(lines.size(), 3u);
  const json& plan = lines[2]["plan"];
  EXPECT_EQ(plan["mode"], "text");
  EXPECT_EQ(plan["text_terms"], json::parse(R"(["brown", "fox"])"));
  EXPECT_EQ(plan["text_hits"], 2);
  EXPECT_EQ(plan["fusion"], "");
}

TEST_F(CliFullTextTest, AnalysisFlagsShapeTheTerms) {
  // Stop words kept and no stemming: "the" is a word, "foxes" is not "fox".
  CreateAnimals({"--keep-stop-words", "--stemmer", "none", "--k1", "1.2", "--b", "0.75"});
  RunResult result = Ember({db_, "stats", "notes", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(JsonLines(result.out).at(0)["full_text"],
            json::parse(R"({"attributes":[],"stemmer":"none","remove_stop_words":false,
                            "k1":1.2,"b":0.75})"));
  std::vector<json> hits = SearchJson("notes", {"--text", "the"});
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]["id"], "d1");
  EXPECT_TRUE(SearchJson("notes", {"--text", "foxes"}).empty());

  // Words of a declared attribute are indexed as more words of the document.
  result = Ember({db_, "create", "titled", "--full-text", "--attribute", "title:string",
                  "--full-text-attribute", "title"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("attributes title)"));
  result =
      Ember({db_, "import", "titled",
             WriteJsonLines("titled.jsonl", {R"({"id":"t1","text":"a small citrus","attributes":)"
                                             R"({"title":"Kumquat"}})",
                                             R"({"id":"t2","text":"a large citrus"})"})});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  hits = SearchJson("titled", {"--text", "kumquat"});
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]["id"], "t1");
}

TEST_F(CliFullTextTest, HybridExplainShowsBothSides) {
  CreateFruit();
  // Vector side, cosine to [0, 1]: b 1, c 0.8, a 0. Text side, "apple": a (2 terms) before b (3).
  const double mean = 7.0 / 3;
  const double text_a = Bm25(1, 2, 2, 3, mean);
  const double text_b = Bm25(1, 3, 2, 3, mean);
  const RunResult result =
      Ember({db_, "search", "fruit", "--text", "apple", "--vector", "[0, 1]", "--mode", "hybrid",
             "--fusion", "rrf", "--explain", "--fields", "id,score"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  // Reciprocal-rank fusion with constant 60: b 1/61 + 1/62, a 1/63 + 1/61, c 1/62.
  const std::vector<std::vector<std::string>> rows = TableLines(result.out, 4);
  EXPECT_THAT(rows[0], ElementsAre("rank", "id", "score", "vec", "rank", "vec", "score", "bm25",
                                   "rank", "bm25", "score"))
      << "the header";
  EXPECT_THAT(rows[1],
              ElementsAre("1", "b", Shown(1.0 / 61 + 1.0 / 62), "1", "1", "2", Shown(text_b)));
  EXPECT_THAT(rows[2],
              ElementsAre("2", "a", Shown(1.0 / 63 + 1.0 / 61), "3", "0", "1", Shown(text_a)));
  EXPECT_THAT(rows[3], ElementsAre("3", "c", Shown(1.0 / 62), "2", "0.8", "-", "-"));
  EXPECT_THAT(result.out,
              AllOf(HasSubstr("  mode: hybrid\n"), HasSubstr("  query terms: appl\n"),
                    HasSubstr("  fusion: rrf, rank constant 60, depth 100\n"),
                    HasSubstr("  hits from the vector side: 3, from the text side: 2\n")));
}

TEST_F(CliFullTextTest, HybridJsonCarriesEachSideAndTheFusionFlagsApply) {
  CreateFruit();
  const double mean = 7.0 / 3;
  // The default fusion: weighted, vector weight 0.2, each side min-max scaled: vector b 1, c 0.8,
  // a 0; text a 1, b 0. So a 0.8, b 0.2, c 0.16.
  std::vector<json> hits = SearchJson("fruit", {"--text", "apple", "--vector", "[0, 1]", "--mode",
                                                "hybrid", "--fields", "id,score"});
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(Keys(hits[2]), (std::vector<std::string>{"id", "rank", "score", "text_rank",
                                                     "text_score", "vector_rank", "vector_score"}));
  EXPECT_EQ(hits[0]["id"], "a");
  EXPECT_NEAR(hits[0]["score"].get<double>(), 0.8, 1e-6);
  EXPECT_EQ(hits[0]["vector_rank"], 3);
  EXPECT_DOUBLE_EQ(hits[0]["vector_score"].get<double>(), 0.0);
  EXPECT_EQ(hits[0]["text_rank"], 1);
  EXPECT_NEAR(hits[0]["text_score"].get<double>(), Bm25(1, 2, 2, 3, mean), 1e-6);
  EXPECT_EQ(hits[1]["id"], "b");
  EXPECT_NEAR(hits[1]["score"].get<double>(), 0.2, 1e-6);
  EXPECT_EQ(hits[1]["vector_rank"], 1);
  EXPECT_DOUBLE_EQ(hits[1]["vector_score"].get<double>(), 1.0);
  EXPECT_EQ(hits[1]["text_rank"], 2);
  EXPECT_NEAR(hits[1]["text_score"].get<double>(), Bm25(1, 3, 2, 3, mean), 1e-6);
  EXPECT_EQ(hits[2]["id"], "c");
  EXPECT_NEAR(hits[2]["score"].get<double>(), 0.16, 1e-6);
  EXPECT_EQ(hits[2]["vector_rank"], 2);
  EXPECT_EQ(hits[2]["text_rank"], nullptr);
  EXPECT_EQ(hits[2]["text_score"], nullptr);

  // Reciprocal-rank fusion with a small constant: b 1/11 + 1/12, a 1/13 + 1/11, c 1/12.
  hits = SearchJson("fruit", {"--text", "apple", "--vector", "[0, 1]", "--mode", "hybrid",
                              "--fusion", "rrf", "--rank-constant", "10", "--fields", "id,score"});
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_NEAR(hits[0]["score"].get<double>(), 1.0 / 11 + 1.0 / 12, 1e-6);
  EXPECT_NEAR(hits[1]["score"].get<double>(), 1.0 / 13 + 1.0 / 11, 1e-6);
  EXPECT_NEAR(hits[2]["score"].get<double>(), 1.0 / 12, 1e-6);

  // Weighted fusion with vector weight 0.3: a 0.7, b 0.3, c 0.24.
  hits =
      SearchJson("fruit", {"--text", "apple", "--vector", "[0, 1]", "--mode", "hybrid", "--fusion",
                           "weighted", "--vector-weight", "0.3", "--fields", "id,score"});
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0]["id"], "a");
  EXPECT_NEAR(hits[0]["score"].get<double>(), 0.7, 1e-6);
  EXPECT_EQ(hits[1]["id"], "b");
  EXPECT_NEAR(hits[1]["score"].get<double>(), 0.3, 1e-6);
  EXPECT_EQ(hits[2]["id"], "c");
  EXPECT_NEAR(hits[2]["score"].get<double>(), 0.24, 1e-6);

  // A fusion depth of 1: each side gives its best hit only (vector b, text a), each ranked first.
  hits =
      SearchJson("fruit", {"--text", "apple", "--vector", "[0, 1]", "--mode", "hybrid", "--fusion",
                           "rrf", "--fusion-depth", "1", "-k", "1", "--fields", "id,score"});
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_NEAR(hits[0]["score"].get<double>(), 1.0 / 61, 1e-6);

  // The one-sided modes of the same collection.
  hits = SearchJson("fruit", {"--text", "apple", "--mode", "text", "--fields", "id"});
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0]["id"], "a");
  EXPECT_EQ(Keys(hits[0]), (std::vector<std::string>{"id", "rank"}));
  hits = SearchJson("fruit", {"--vector", "[0, 1]", "--fields", "id"});
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0]["id"], "b");
}

TEST_F(CliFullTextTest, ModeAndFusionMistakesAreReported) {
  CreateAnimals();
  CreateFruit();
  ASSERT_EQ(Ember({db_, "create", "vectors", "--dim", "2"}).exit_code, 0);

  struct Mistake {
    std::vector<std::string> args;
    int exit_code;
    std::vector<const char*> messages;
  };
  const std::vector<Mistake> mistakes = {
      {{"search", "notes", "--text", "fox", "--mode", "fuzzy"},
       2,
       {"--mode: unknown search mode \"fuzzy\"; expected auto, vector, text or hybrid"}},
      {{"search", "fruit", "--text", "x", "--vector", "[0,1]", "--mode", "hybrid", "--fusion",
        "max"},
       2,
       {"--fusion: unknown fusion method \"max\"; expected rrf or weighted"}},
      {{"search", "fruit", "--text", "x", "--mode", "text", "--fusion", "weighted"},
       2,
       {"--fusion applies to hybrid search only, and this one runs in text mode"}},
      // Mode auto on a text-only collection is text: fusion would do nothing.
      {{"search", "notes", "--text", "x", "--fusion-depth", "5"},
       2,
       {"--fusion-depth applies to hybrid search only, and this one runs in text mode"}},
      {{"search", "fruit", "--text", "x", "--vector", "[0,1]", "--mode", "hybrid", "--fusion",
        "rrf", "--vector-weight", "0.2"},
       2,
       {"--vector-weight applies to --fusion weighted only"}},
      // The default fusion is weighted.
      {{"search", "fruit", "--text", "x", "--vector", "[0,1]", "--mode", "hybrid",
        "--rank-constant", "10"},
       2,
       {"--rank-constant applies to reciprocal-rank fusion only (--fusion rrf)"}},
      {{"search", "fruit", "--text", "x", "--vector", "[0,1]", "--mode", "hybrid", "--fusion",
        "rrf", "--rank-constant", "abc"},
       2,
       {"--rank-constant needs a number, got \"abc\""}},
      {{"search", "fruit", "--text", "x", "--vector", "[0,1]"},
       2,
       {"give either --text or --vector, not both (both only with --mode hybrid"}},
      {{"search", "notes", "--vector", "[0,1]"},
       2,
       {"text search needs --text \"...\": collection \"notes\" is text-only"}},
      {{"search", "fruit", "--text", "x", "--vector", "[0,1]", "--mode", "hybrid", "--fusion",
        "weighted", "--vector-weight", "2"},
       1,
       {"fusion.vector_weight must be in [0, 1], got 2"}},
      {{"search", "notes", "--text", "fox", "--mode", "vector"},
       1,
       {"collection \"notes\" is text-only", "hint: a text-only collection", "--mode text"}},
      {{"search", "vectors", "--text", "fox", "--mode", "text"},
       1,
       {"collection \"vectors\" has no full-text index", "hint:", "--full-text"}},
      // Hybrid on `fruit`, which has no model to embed the text for the vector side.
      {{"search", "fruit", "--text", "apple"},
       1,
       {"collection \"fruit\" has no encoder to embed --text", "--mode text"}},
      {{"create", "bad", "--stemmer", "porter"}, 2, {"--stemmer applies with --full-text only"}},
      {{"create", "bad", "--full-text", "--index", "flat"},
       2,
       {"--index applies to vectors, and a collection created with --full-text alone is "
        "text-only"}},
      {{"create", "bad"}, 2, {"missing --model MODEL", "--full-text"}},
      {{"create", "bad", "--full-text", "--k1", "high"}, 2, {"--k1 needs a number"}},
      {{"create", "bad", "--full-text", "--b", "1.5"}, 1, {"full_text.b must be in [0, 1]"}},
      {{"create", "bad", "--full-text", "--stemmer", "klingon"},
       1,
       {"unknown algorithm 'klingon'"}},
      {{"create", "bad", "--full-text", "--full-text-attribute", "title"},
       1,
       {"full_text.attributes names \"title\", which is not a declared attribute"}},
  };
  for (const Mistake& mistake : mistakes) {
    std::vector<std::string> args = {db_};
    args.insert(args.end(), mistake.args.begin(), mistake.args.end());
    const RunResult result = Ember(args);
    const std::string command = absl::StrJoin(mistake.args, " ");
    EXPECT_EQ(result.exit_code, mistake.exit_code) << command << "\n" << result.err;
    for (const char* message : mistake.messages) {
      EXPECT_THAT(result.err, HasSubstr(message)) << command;
    }
    EXPECT_THAT(result.err, Not(HasSubstr("internal error"))) << command;
  }
  // Nothing was created by the failed creates.
  const RunResult listed = Ember({db_, "collections", "--json"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_EQ(JsonLines(listed.out).size(), 3u);
}

class CliFullTextEvalTest : public CliFullTextTest {
 protected:
  // Writes a BEIR qrels file (with its header line) holding `lines`.
  std::string WriteQrels(const std::vector<std::string>& lines) {
    std::string contents = "query-id\tcorpus-id\tscore\n";
    for (const std::string& line : lines) absl::StrAppend(&contents, line, "\n");
    const std::string path = (dir_ / "qrels.tsv").string();
    WriteFile(path, contents);
    return path;
  }
};

TEST_F(CliFullTextEvalTest, TextModeScoresAsWorkedOutByHand) {
  // A text-only collection of BEIR lines: d1..d3 as kAnimalLines, d4 "Sourdough bread" (title +
  // text). Lengths in terms: 3, 4, 2, 2.
  ASSERT_EQ(Ember({db_, "create", "corpus", "--full-text"}).exit_code, 0);
  const RunResult imported = Ember(
      {db_, "import", "corpus",
       WriteJsonLines("corpus.jsonl", {R"({"_id":"d1","title":"","text":"The quick brown fox"})",
                                       R"({"_id":"d2","text":"Lazy brown dogs sleep"})",
                                       R"({"_id":"d3","text":"A zebra crossing"})",
                                       R"({"_id":"d4","title":"Sourdough","text":"bread"})"})});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  const std::string queries =
      WriteJsonLines("queries.jsonl", {
                                          R"({"_id":"q1","text":"zebra"})",
                                          R"({"_id":"q2","text":"brown"})",
                                          R"({"_id":"q3","text":"kumquat"})",
                                          R"({"_id":"q4","text":"brown fox"})",
                                      });
  // q1 finds only d3, relevant: nDCG 1, recall 1, MRR 1.
  // q2 finds d1 (3 terms) before d2 (4 terms); d2 is relevant: nDCG 1/log2(3), recall 1, MRR 1/2.
  // q3 finds nothing: 0 everywhere.
  // q4 finds d1 (both words) then d2; d1 is graded 2, d2 1: the ideal order, nDCG 1, recall 1,
  //    MRR 1.
  const std::string qrels =
      WriteQrels({"q1\td3\t1", "q2\td2\t1", "q3\td4\t1", "q4\td1\t2", "q4\td2\t1"});
  const RunResult result = Ember(
      {db_, "eval", "corpus", "--queries", queries, "--qrels", qrels, "--mode", "text", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::vector<json> lines = JsonLines(result.out);
  ASSERT_EQ(lines.size(), 1u) << result.out;
  const json& report = lines[0];
  EXPECT_THAT(Keys(report), ElementsAre("mode", "mrr_at_10", "ndcg_at_10", "queries",
                                        "queries_per_s", "recall_at_100"));
  EXPECT_EQ(report["mode"], "text");
  EXPECT_EQ(report["queries"], 4);
  EXPECT_NEAR(report["ndcg_at_10"].get<double>(), (1 + 1 / std::log2(3.0) + 0 + 1) / 4, 1e-9);
  EXPECT_NEAR(report["recall_at_100"].get<double>(), 0.75, 1e-9);
  EXPECT_NEAR(report["mrr_at_10"].get<double>(), 0.625, 1e-9);

  // Mode auto is text on a text-only collection; the human form says so.
  const RunResult human = Ember({db_, "eval", "corpus", "--queries", queries, "--qrels", qrels});
  ASSERT_EQ(human.exit_code, 0) << human.err;
  EXPECT_THAT(human.out, AllOf(HasSubstr("on 4 queries (k=100, text mode)"),
                               HasSubstr(absl::StrFormat("%.4f", (2 + 1 / std::log2(3.0)) / 4)),
                               HasSubstr("0.7500"), HasSubstr("0.6250")));

  struct Mistake {
    std::vector<std::string> flags;
    int exit_code;
    const char* message;
  };
  for (const Mistake& mistake : std::vector<Mistake>{
           {{"--mode", "semantic"}, 2, "expected auto, vector, text or hybrid"},
           {{"--fusion", "weighted"}, 2, "--fusion applies to hybrid search only"},
           {{"--mode", "vector"}, 1, "is text-only"},
       }) {
    std::vector<std::string> args = {db_, "eval", "corpus", "--queries", queries, "--qrels", qrels};
    args.insert(args.end(), mistake.flags.begin(), mistake.flags.end());
    const RunResult failed = Ember(args);
    EXPECT_EQ(failed.exit_code, mistake.exit_code) << failed.err;
    EXPECT_THAT(failed.err, HasSubstr(mistake.message));
  }
}

// With a model and a full-text index, a search by text is hybrid unless told otherwise.
TEST_F(CliFullTextEvalTest, ModelCollectionSearchesAndEvaluatesHybridByDefault) {
  const std::string& model = ::ember::testing::kFixtureModel;
  if (!std::filesystem::exists(model + "/config.json")) {
    GTEST_SKIP() << model << " is absent (../shared is not here)";
  }
  RunResult result =
      Ember({db_, "create", "docs", "--model", model, "--index", "flat", "--full-text"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr(", full text (stemmer porter"));
  result = Ember({db_, "import", "docs",
                  WriteJsonLines("docs.jsonl", {R"({"id":"cat","text":"The cat sat on the mat."})",
                                                R"({"id":"bread","text":"Sourdough bread rises."})",
                                                R"({"id":"rain","text":"Heavy rain tonight."})"})});
  ASSERT_EQ(result.exit_code, 0) << result.err;

  // The query equals the text of "cat": the nearest vector (cosine 1) and the only BM25 match.
  std::vector<json> hits =
      SearchJson("docs", {"--text", "The cat sat on the mat.", "--fields", "id,score"});
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0]["id"], "cat");
  EXPECT_EQ(hits[0]["vector_rank"], 1);
  EXPECT_EQ(hits[0]["text_rank"], 1);
  // Best on both sides: 0.2 * 1 + 0.8 * 1 under the default weighted fusion.
  EXPECT_NEAR(hits[0]["score"].get<double>(), 1.0, 1e-6);
  EXPECT_EQ(hits[1]["text_rank"], nullptr);

  // The same collection in text mode: only the document holding the words.
  hits = SearchJson("docs", {"--text", "cat mat", "--mode", "text", "--fields", "id"});
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]["id"], "cat");

  const std::string queries =
      WriteJsonLines("queries.jsonl", {R"({"_id":"q1","text":"The cat sat on the mat."})"});
  const std::string qrels = WriteQrels({"q1\tcat\t1"});
  result = Ember({db_, "eval", "docs", "--queries", queries, "--qrels", qrels, "--fusion", "rrf",
                  "--rank-constant", "30", "--fusion-depth", "50", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const json report = JsonLines(result.out).at(0);
  EXPECT_THAT(Keys(report),
              ElementsAre("fusion", "fusion_depth", "mode", "mrr_at_10", "ndcg_at_10", "queries",
                          "queries_per_s", "rank_constant", "recall_at_100"));
  EXPECT_EQ(report["mode"], "hybrid");
  EXPECT_EQ(report["fusion"], "rrf");
  EXPECT_DOUBLE_EQ(report["rank_constant"].get<double>(), 30.0);
  EXPECT_EQ(report["fusion_depth"], 100) << "at least k (100)";
  EXPECT_DOUBLE_EQ(report["ndcg_at_10"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(report["mrr_at_10"].get<double>(), 1.0);

  result = Ember({db_, "eval", "docs", "--queries", queries, "--qrels", qrels});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out,
              HasSubstr("(k=100, hybrid mode: weighted, vector weight 0.2, fusion depth 100)"));
}

}  // namespace
}  // namespace ember
