// Tests of the `ember` command on collections that embed their own texts: create --model, importing
// texts and BEIR corpus lines, chunking on import, search --text and --group-by. The model is the
// random BERT fixture of ../shared/fixtures (the tests skip without it): with no prompts, a query
// equal to a document's text gets exactly that document's vector, so it is found first with
// score 1.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
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
using ::nlohmann::json;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string& kModel = ::ember::testing::kFixtureModel;
constexpr int kModelDimension = ::ember::testing::kFixtureModelDimension;

// Two texts long enough to be cut into several chunks of 16 tokens.
constexpr char kVolcanoes[] =
    "Volcanoes form where magma reaches the surface of the Earth. Their eruptions can be "
    "explosive or gentle, depending on the gas in the magma. Ash clouds from large eruptions "
    "disturb air travel for weeks. Lava flows move slowly but destroy everything in their path. "
    "Scientists watch the ground swell with satellites before an eruption. Some islands, such as "
    "Hawaii, were built entirely by volcanoes.";
constexpr char kBread[] =
    "Sourdough bread rises with wild yeast instead of baker's yeast. The starter is a mix of "
    "flour and water that ferments for days. A long cold proof gives the crumb its open "
    "texture.\nBake it hot, with steam for the first twenty minutes. Let the loaf cool for an "
    "hour before cutting it.";

class CliTextTest : public ::ember::testing::CliRunnerTest {
 protected:
  void SetUp() override {
    CliRunnerTest::SetUp();
    if (!std::filesystem::exists(kModel + "/config.json")) {
      GTEST_SKIP() << kModel << " is absent (../shared is not here)";
    }
  }

  // Creates `collection` embedding with the fixture model, on an exact (flat) index.
  void CreateTextCollection(const std::string& collection,
                            const std::vector<std::string>& flags = {}) {
    std::vector<std::string> args = {db_,    "create",  collection, "--model",
                                     kModel, "--index", "flat"};
    args.insert(args.end(), flags.begin(), flags.end());
    const RunResult created = Ember(args);
    ASSERT_EQ(created.exit_code, 0) << created.err;
  }

  // The stored chunks of `parent`, in order: `get` of PARENT#0, PARENT#1, ... (at most 64).
  std::vector<json> Chunks(const std::string& collection, const std::string& parent) {
    std::vector<std::string> args = {db_, "get", collection, "--json"};
    for (int i = 0; i < 64; ++i) args.push_back(absl::StrCat(parent, "#", i));
    const RunResult got = Ember(args);
    // Exit code 1: some of the 64 ids are (rightly) missing.
    EXPECT_THAT(got.err, Not(HasSubstr(absl::StrCat("\"", parent, "#0\""))));
    std::vector<json> chunks = JsonLines(got.out);
    for (size_t i = 0; i < chunks.size(); ++i) {
      EXPECT_EQ(chunks[i]["id"], absl::StrCat(parent, "#", i)) << "chunks are numbered from 0";
    }
    return chunks;
  }

  // Checks that `chunks` are the pieces of `parent_text` their attributes say, in order, covering
  // every non-whitespace byte from `covered_from` on; `prefix` is what precedes each chunk's text
  // (--situated's title).
  void ExpectChunksOf(const std::vector<json>& chunks, const std::string& parent,
                      const std::string& parent_text, const std::string& prefix = "",
                      size_t covered_from = 0) {
    std::vector<bool> covered(parent_text.size(), false);
    int64_t previous_begin = -1, previous_end = -1;
    for (size_t i = 0; i < chunks.size(); ++i) {
      const json& attributes = chunks[i]["attributes"];
      SCOPED_TRACE(chunks[i].dump());
      EXPECT_EQ(attributes["parent_id"], parent);
      EXPECT_EQ(attributes["chunk_index"], i);
      const int64_t begin = attributes["chunk_begin"].get<int64_t>();
      const int64_t end = attributes["chunk_end"].get<int64_t>();
      ASSERT_LT(begin, end);
      ASSERT_LE(end, static_cast<int64_t>(parent_text.size()));
      EXPECT_EQ(chunks[i]["text"], prefix + parent_text.substr(begin, end - begin));
      EXPECT_GT(begin, previous_begin);
      EXPECT_GT(end, previous_end);
      previous_begin = begin;
      previous_end = end;
      for (int64_t b = begin; b < end; ++b) covered[b] = true;
    }
    for (size_t b = covered_from; b < parent_text.size(); ++b) {
      if (parent_text[b] != ' ' && parent_text[b] != '\n') {
        EXPECT_TRUE(covered[b]) << "byte " << b << " of " << parent << " is in no chunk";
      }
    }
  }
};

TEST_F(CliTextTest, CreateTakesTheModelsDimensionAndShowsTheEncoder) {
  RunResult result = Ember({"--json", db_, "create", "docs", "--model", kModel});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::vector<json> lines = JsonLines(result.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["dimension"], kModelDimension);
  EXPECT_EQ(lines[0]["encoder"], json({{"model", kModel}, {"truncate_dim", 0}}));

  result = Ember({db_, "create", "small", "--model", kModel, "--query-prompt",
                  "query: ", "--document-prompt", "passage: ", "--truncate-dim", "16"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, AllOf(HasSubstr("dimension 16"), HasSubstr("query prompt \"query: \"")));
  result = Ember({db_, "stats", "small", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  lines = JsonLines(result.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["encoder"], json({{"model", kModel},
                                       {"query_prompt", "query: "},
                                       {"document_prompt", "passage: "},
                                       {"truncate_dim", 16}}));
  result = Ember({db_, "stats", "small"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, AllOf(HasSubstr("model"), HasSubstr(kModel), HasSubstr("\"passage: \""),
                                HasSubstr("truncate dim")));
  result = Ember({db_, "collections"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, AllOf(HasSubstr("model"), HasSubstr(kModel)));

  // A given --dim is checked against the model's.
  EXPECT_EQ(Ember({db_, "create", "same", "--model", kModel, "--dim", "32"}).exit_code, 0);
  result = Ember({db_, "create", "other", "--model", kModel, "--dim", "16"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("dimension"));
  // Encoder flags without a model are a command-line mistake.
  result = Ember({db_, "create", "other", "--dim", "4", "--query-prompt", "query: "});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("--query-prompt"));
}

TEST_F(CliTextTest, BareModelNamesAreLookedUpInTheModelsFolder) {
  const std::filesystem::path models = dir_ / "models";
  std::filesystem::create_directories(models);
  std::filesystem::create_directory_symlink(kModel, models / "default");
  environment_ = {{"EMBER_MODELS_DIR", models.string()}};

  RunResult result = Ember({db_, "create", "docs", "--model", "default", "--index", "flat"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, AllOf(HasSubstr("dimension 32"), HasSubstr("model default")));
  result = Ember({db_, "import", "docs", "-"}, R"({"id":"a","text":"The cat sat on the mat."})");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  result = Ember({db_, "search", "docs", "--text", "The cat sat on the mat.", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(JsonLines(result.out).at(0)["id"], "a");

  // An unknown model fails naming it, and leaves no database folder behind.
  const std::string fresh = (dir_ / "fresh").string();
  result = Ember({fresh, "create", "docs", "--model", "no-such-model"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("no-such-model"));
  result = Ember({fresh, "create", "docs", "--model", (dir_ / "no-such-folder").string()});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("no-such-folder"));
  EXPECT_FALSE(std::filesystem::exists(fresh));
}

TEST_F(CliTextTest, ImportsTextsAndFindsThemByText) {
  CreateTextCollection("docs", {"--attribute", "kind:string"});
  const std::vector<std::pair<std::string, std::string>> documents = {
      {"cat", "The cat sat on the mat."},
      {"stocks", "Stock markets fell sharply on Monday."},
      {"bread", "A recipe for sourdough bread with a long cold proof."},
      {"ember", "Ember stores vectors in RocksDB."},
      {"rain", "Heavy rain is expected across the north tonight."},
  };
  std::vector<std::string> lines;
  for (const auto& [id, text] : documents) {
    lines.push_back(json({{"id", id},
                          {"text", text},
                          {"attributes", {{"kind", id == "bread" ? "food" : "other"}}}})
                        .dump());
  }
  // A line may still bring its own vector.
  std::vector<float> unit(kModelDimension, 0.0f);
  unit[0] = 1;
  lines.push_back(json({{"id", "vector"}, {"vector", unit}}).dump());
  RunResult result = Ember({db_, "import", "docs", WriteJsonLines("docs.jsonl", lines)});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("imported 6 documents"));

  for (const auto& [id, text] : documents) {
    result = Ember({db_, "search", "docs", "--text", text, "-k", "3", "--json"});
    ASSERT_EQ(result.exit_code, 0) << result.err;
    const std::vector<json> hits = JsonLines(result.out);
    ASSERT_EQ(hits.size(), 3u);
    EXPECT_EQ(hits[0]["id"], id);
    EXPECT_EQ(hits[0]["text"], text);
    EXPECT_NEAR(hits[0]["score"].get<double>(), 1.0, 1e-4);
    EXPECT_LT(hits[1]["score"].get<double>(), hits[0]["score"].get<double>() - 1e-4);
  }
  // Filters apply to text queries as to vector ones.
  result = Ember({db_, "search", "docs", "--text", "The cat sat on the mat.", "--filter",
                  "kind = 'food'", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::vector<json> hits = JsonLines(result.out);
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0]["id"], "bread");
  result = Ember({db_, "search", "docs", "--text", "rain", "--explain"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, AllOf(HasSubstr("rank"), HasSubstr("plan:")));

  std::string query = "[";
  for (int i = 0; i < kModelDimension; ++i) absl::StrAppend(&query, i == 0 ? "1" : ",0");
  result = Ember({db_, "search", "docs", "--vector", query + "]", "-k", "1", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(JsonLines(result.out).at(0)["id"], "vector");
}

TEST_F(CliTextTest, ReembedMovesACollectionWhoseModelChangedToTheNewModel) {
  // A copy of the fixture the test changes under the collection.
  const std::string model = (dir_ / "model").string();
  std::filesystem::copy(kModel, model, std::filesystem::copy_options::recursive);
  ASSERT_EQ(Ember({db_, "create", "docs", "--model", model, "--index", "flat"}).exit_code, 0);
  const std::vector<std::string> lines = {
      json({{"id", "cat"}, {"text", "The cat sat on the mat."}}).dump(),
      json({{"id", "bread"}, {"text", "A recipe for sourdough bread."}}).dump()};
  ASSERT_EQ(Ember({db_, "import", "docs", WriteJsonLines("docs.jsonl", lines)}).exit_code, 0);

  ::ember::testing::PoolWithCls(model);

  RunResult result = Ember({db_, "search", "docs", "--text", "cat"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, AllOf(HasSubstr("fingerprint"), HasSubstr("reembed")));

  result = Ember({db_, "reembed", "docs", "--model", model, "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(JsonLines(result.out).at(0)["documents"], 2);
  result = Ember({db_, "search", "docs", "--text", "The cat sat on the mat.", "-k", "1", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(JsonLines(result.out).at(0)["id"], "cat");
  EXPECT_NEAR(JsonLines(result.out).at(0)["score"].get<double>(), 1.0, 1e-4);

  // Usage: the model is required; an unknown model changes nothing.
  EXPECT_EQ(Ember({db_, "reembed", "docs"}).exit_code, 2);
  EXPECT_EQ(Ember({db_, "reembed", "docs", "--model", (dir_ / "nothing").string()}).exit_code, 1);
  EXPECT_EQ(Ember({db_, "search", "docs", "--text", "cat"}).exit_code, 0);
}

TEST_F(CliTextTest, ImportsBeirCorpusLines) {
  CreateTextCollection("docs");
  const std::string input =
      R"({"_id":"d1","title":"Sourdough","text":"Bread with a long cold proof.","metadata":{}})"
      "\n"
      R"({"_id":"d2","title":"","text":"Markets fell on Monday."})"
      "\n"
      R"({"_id":"d3","text":"No title at all."})"
      "\n";
  RunResult result = Ember({db_, "import", "docs", "-"}, input);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  result = Ember({db_, "get", "docs", "d1", "d2", "d3", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::vector<json> documents = JsonLines(result.out);
  ASSERT_EQ(documents.size(), 3u);
  EXPECT_EQ(documents[0]["text"], "Sourdough Bread with a long cold proof.");
  EXPECT_EQ(documents[0]["attributes"], json({{"title", "Sourdough"}}));
  EXPECT_EQ(documents[1]["text"], "Markets fell on Monday.");
  EXPECT_EQ(documents[1]["attributes"], json::object());
  EXPECT_EQ(documents[2]["text"], "No title at all.");
  result =
      Ember({db_, "search", "docs", "--text", "Sourdough Bread with a long cold proof.", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(JsonLines(result.out).at(0)["id"], "d1");

  // Real BEIR lines, when ../shared has them.
  const std::string corpus = EMBER_SHARED_DIR "/data/scifact/corpus.jsonl";
  if (!std::filesystem::exists(corpus)) return;
  std::ifstream in(corpus);
  std::vector<std::string> lines(20);
  for (std::string& line : lines) ASSERT_TRUE(std::getline(in, line));
  result = Ember({db_, "import", "docs", WriteJsonLines("scifact.jsonl", lines)});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(StoredCount("docs"), 23);
  const json first = json::parse(lines[0]);
  result = Ember({db_, "get", "docs", first["_id"].get<std::string>(), "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(JsonLines(result.out).at(0)["text"],
            absl::StrCat(first["title"].get<std::string>(), " ", first["text"].get<std::string>()));
}

TEST_F(CliTextTest, TextLinesAreCheckedWithTheirLineNumbers) {
  CreateTextCollection("docs");
  const std::vector<std::string> bad_lines = {
      R"({"id":"x"})",
      R"({"id":"x","text":""})",
      R"({"id":"x","text":null,"vector":null})",
      R"({"id":"x","text":"wrong size","vector":[1,2]})",
      R"({"id":"x","title":"T","text":"t","attributes":{"title":"U"}})",
  };
  for (const std::string& bad : bad_lines) {
    const std::string file = WriteJsonLines(
        "bad.jsonl", {R"({"id":"a","text":"first"})", R"({"id":"b","text":"second"})", bad,
                      R"({"id":"c","text":"fourth"})"});
    const RunResult result = Ember({db_, "import", "docs", file, "--batch", "2"});
    EXPECT_EQ(result.exit_code, 1) << bad;
    EXPECT_THAT(result.err, HasSubstr(absl::StrCat(file, ":3: "))) << bad;
    EXPECT_THAT(result.err, HasSubstr("imported 2 documents")) << bad;
  }
  EXPECT_EQ(StoredCount("docs"), 2);

  // On a collection without a model, text alone is not enough.
  ASSERT_EQ(Ember({db_, "create", "plain", "--dim", "2"}).exit_code, 0);
  const RunResult plain = Ember({db_, "import", "plain", "-"}, R"({"id":"a","text":"no vector"})");
  EXPECT_EQ(plain.exit_code, 1);
  EXPECT_THAT(plain.err, AllOf(HasSubstr("<stdin>:1: "), HasSubstr("\"vector\"")));
}

TEST_F(CliTextTest, SearchByTextNeedsAnEncoderAndOneQuery) {
  CreateTextCollection("docs");
  ASSERT_EQ(Ember({db_, "create", "plain", "--dim", "2"}).exit_code, 0);
  RunResult result = Ember({db_, "search", "plain", "--text", "hello"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, AllOf(HasSubstr("no encoder"), HasSubstr("--vector")));
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {db_, "search", "docs", "--text", "a", "--vector", "[1,0]"},
           {db_, "search", "docs"},
           {db_, "search", "docs", "--text", ""}}) {
    result = Ember(args);
    EXPECT_EQ(result.exit_code, 2) << absl::StrJoin(args, " ");
    EXPECT_THAT(result.err, HasSubstr("usage")) << absl::StrJoin(args, " ");
  }
}

TEST_F(CliTextTest, ChunkedImportRecordsWhereEachChunkComesFrom) {
  CreateTextCollection("docs");
  const std::string input =
      json({{"_id", "volcanoes"}, {"title", "Volcanoes"}, {"text", kVolcanoes}}).dump() + "\n" +
      json({{"id", "bread"}, {"text", kBread}, {"attributes", {{"source", "notes"}}}}).dump() +
      "\n" + json({{"id", "short"}, {"text", "  A short note.  "}}).dump() + "\n";
  RunResult result = Ember(
      {db_, "import", "docs", "-", "--chunk-tokens", "16", "--overlap", "4", "--json"}, input);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const json summary = JsonLines(result.out).at(0);
  EXPECT_EQ(summary["imported"], 3);

  const std::string volcanoes_text = absl::StrCat("Volcanoes ", kVolcanoes);
  const std::vector<json> volcanoes = Chunks("docs", "volcanoes");
  const std::vector<json> bread = Chunks("docs", "bread");
  const std::vector<json> short_note = Chunks("docs", "short");
  EXPECT_GE(volcanoes.size(), 4u);
  EXPECT_GE(bread.size(), 4u);
  ASSERT_EQ(short_note.size(), 1u);
  EXPECT_EQ(summary["chunks"], volcanoes.size() + bread.size() + 1);
  EXPECT_EQ(StoredCount("docs"), summary["chunks"].get<int64_t>());
  ExpectChunksOf(volcanoes, "volcanoes", volcanoes_text);
  ExpectChunksOf(bread, "bread", kBread);
  ExpectChunksOf(short_note, "short", "  A short note.  ");
  EXPECT_EQ(short_note[0]["text"], "A short note.");
  // The parent's attributes come along.
  for (const json& chunk : volcanoes) EXPECT_EQ(chunk["attributes"]["title"], "Volcanoes");
  for (const json& chunk : bread) EXPECT_EQ(chunk["attributes"]["source"], "notes");

  // Without grouping, the chunks nearest the query; grouped, the best chunk of each document.
  const std::string query = volcanoes[1]["text"];
  result = Ember({db_, "search", "docs", "--text", query, "-k", "5", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::vector<json> hits = JsonLines(result.out);
  ASSERT_EQ(hits.size(), 5u);
  EXPECT_EQ(hits[0]["id"], "volcanoes#1");
  result = Ember({db_, "search", "docs", "--text", query, "-k", "5", "--group-by", "parent_id",
                  "--fields", "id,attributes", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  hits = JsonLines(result.out);
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0]["id"], "volcanoes#1");
  std::set<std::string> parents;
  for (const json& hit : hits) parents.insert(hit["attributes"]["parent_id"].get<std::string>());
  EXPECT_THAT(parents, ElementsAre("bread", "short", "volcanoes"));

  // A budget larger than the text keeps it whole.
  CreateTextCollection("whole");
  result = Ember({db_, "import", "whole", "-", "--chunk-tokens", "512"}, input);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("imported 3 documents as 3 chunks"));
  const std::vector<json> whole = Chunks("whole", "volcanoes");
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(whole[0]["text"], volcanoes_text);
}

TEST_F(CliTextTest, SituatedChunksCarryTheTitle) {
  CreateTextCollection("docs");
  const std::string input =
      json({{"_id", "volcanoes"}, {"title", "Volcanoes"}, {"text", kVolcanoes}}).dump() + "\n" +
      json({{"id", "bread"}, {"text", kBread}}).dump() + "\n";
  const RunResult result =
      Ember({db_, "import", "docs", "-", "--chunk-tokens", "16", "--situated"}, input);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::vector<json> volcanoes = Chunks("docs", "volcanoes");
  ASSERT_GE(volcanoes.size(), 4u);
  // The title is in front of every chunk, so the chunks cover the text after it.
  ExpectChunksOf(volcanoes, "volcanoes", absl::StrCat("Volcanoes ", kVolcanoes), "Volcanoes\n",
                 /*covered_from=*/10);
  EXPECT_EQ(volcanoes[0]["attributes"]["chunk_begin"], 10);
  // Without a title there is nothing to put in front.
  ExpectChunksOf(Chunks("docs", "bread"), "bread", kBread);
}

TEST_F(CliTextTest, ChunkingMistakesAreReported) {
  CreateTextCollection("docs");
  ASSERT_EQ(Ember({db_, "create", "plain", "--dim", "2"}).exit_code, 0);
  const std::string line = R"({"id":"a","text":"Some text."})";
  for (const std::vector<std::string>& flags :
       std::vector<std::vector<std::string>>{{"--overlap", "4"},
                                             {"--situated"},
                                             {"--chunk-tokens", "0"},
                                             {"--chunk-tokens", "8", "--overlap", "8"},
                                             {"--chunk-tokens", "8", "--overlap", "-1"}}) {
    std::vector<std::string> args = {db_, "import", "docs", "-"};
    args.insert(args.end(), flags.begin(), flags.end());
    const RunResult result = Ember(args, line);
    EXPECT_EQ(result.exit_code, 2) << absl::StrJoin(flags, " ") << "\n" << result.err;
  }
  RunResult result = Ember({db_, "import", "plain", "-", "--chunk-tokens", "8"}, line);
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("no encoder"));

  const std::vector<std::pair<std::string, std::string>> bad_lines = {
      {R"({"id":"v","vector":[)" + absl::StrJoin(std::vector<int>(kModelDimension, 0), ",") + "]}",
       "vector"},
      {R"({"id":"p","text":"Some text.","attributes":{"parent_id":"q"}})", "parent_id"},
      {R"({"id":"w","text":"   "})", "no text to chunk"},
      {R"({"id":"a","text":"Again."})", "line 1"},
  };
  for (const auto& [bad, reason] : bad_lines) {
    result = Ember({db_, "import", "docs", "-", "--chunk-tokens", "8"}, line + "\n" + bad + "\n");
    EXPECT_EQ(result.exit_code, 1) << bad;
    EXPECT_THAT(result.err, AllOf(HasSubstr("<stdin>:2: "), HasSubstr(reason))) << bad;
  }
  EXPECT_EQ(StoredCount("docs"), 0);
}

}  // namespace
}  // namespace ember
