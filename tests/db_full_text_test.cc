// Full-text and hybrid search through the public API. Text-mode results are compared with a BM25
// index built afresh from the surviving documents (the text library's own tests compare that index
// with brute-force scoring), through upserts, replacements, deletes, filters and reopening; hybrid
// results are compared with the fusion of the two modes' own results; text-only collections, the
// mode rules, and the repair of lost or stale terms are checked.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "db/filter_eval.h"
#include "db/fusion.h"
#include "ember/ember.h"
#include "status_matchers.h"
#include "storage/store.h"
#include "temp_dir.h"
#include "text/analyzer.h"
#include "text/bm25_index.h"

namespace ember {
namespace {

using ::ember::testing::IsOk;
using ::ember::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int kDimension = 8;

// Words drawn with a skewed distribution, so that some terms are frequent and some rare.
const std::vector<std::string>& Vocabulary() {
  static const auto* words = new std::vector<std::string>{
      "river",  "stone",   "light",   "garden", "engine",  "music",  "paper", "window",
      "forest", "signal",  "harbour", "copper", "lantern", "meadow", "orbit", "quartz",
      "saddle", "thistle", "violet",  "walnut", "yonder",  "zephyr", "amber", "bramble"};
  return *words;
}

std::string RandomText(std::mt19937& rng, int words) {
  const int n = static_cast<int>(Vocabulary().size());
  std::geometric_distribution<int> skew(0.15);
  std::string text;
  for (int i = 0; i < words; ++i) {
    absl::StrAppend(&text, i ? " " : "", Vocabulary()[std::min(skew(rng), n - 1)]);
    // Stop words and inflections the analyzer must treat as Lucene does.
    if (i % 5 == 4) absl::StrAppend(&text, " the");
    if (i % 7 == 6) absl::StrAppend(&text, "s");
  }
  return text;
}

Document RandomDocument(std::mt19937& rng, int i) {
  std::normal_distribution<float> normal;
  Document d;
  d.id = absl::StrCat("doc", i);
  d.text = RandomText(rng, 3 + static_cast<int>(rng() % 20));
  d.vector.resize(kDimension);
  for (float& x : d.vector) x = normal(rng);
  d.attributes["bucket"] = int64_t{static_cast<int64_t>(rng() % 10)};
  return d;
}

CollectionSpec TextSpec(const std::string& name, int dimension = kDimension) {
  CollectionSpec spec{.name = name, .dimension = dimension, .index = {.kind = IndexKind::kFlat}};
  spec.attributes = {{"bucket", AttributeType::kInt}, {"title", AttributeType::kString}};
  spec.full_text.enabled = true;
  return spec;
}

struct Ranked {
  std::string id;
  double score;
};

// The reference: a fresh BM25 index over `documents` (the analyzer the collection's default spec
// describes), searched for `query` among the documents `filter` matches.
std::vector<Ranked> ReferenceTextSearch(const std::map<std::string, Document>& documents,
                                        const std::string& query, int k,
                                        const Filter& filter = Filter::All()) {
  auto analyzer = text::Analyzer::Create().value();
  text::Bm25Index index;
  std::vector<std::string> ids;
  std::set<uint64_t> accepted;
  for (const auto& [id, document] : documents) {
    const uint64_t label = ids.size();
    ids.push_back(id);
    EXPECT_OK(index.Add(label, analyzer->AnalyzeToFrequencies(document.text.value_or(""))));
    if (db::Matches(filter, document.attributes)) accepted.insert(label);
  }
  const text::FunctionLabelFilter accepts([&](uint64_t label) { return accepted.contains(label); });
  std::vector<Ranked> ranked;
  const std::vector<text::Bm25Hit> hits =
      index.Search(analyzer->Analyze(query), k, &accepts).value();
  for (const text::Bm25Hit& hit : hits) {
    ranked.push_back({ids[hit.label], hit.score});
  }
  return ranked;
}

// Compares scores and, among equal scores (ties break by label in both, but labels differ between
// the collection and the reference), the sets of ids.
void ExpectSameRanking(const std::vector<SearchHit>& hits, const std::vector<Ranked>& expected,
                       const std::string& context) {
  ASSERT_EQ(hits.size(), expected.size()) << context;
  if (hits.empty()) return;
  std::multimap<float, std::string> got_by_score, want_by_score;
  for (size_t i = 0; i < hits.size(); ++i) {
    EXPECT_FLOAT_EQ(hits[i].score, static_cast<float>(expected[i].score)) << context << " #" << i;
    EXPECT_EQ(hits[i].text_rank, static_cast<int>(i + 1));
    got_by_score.emplace(hits[i].score, hits[i].id);
    want_by_score.emplace(static_cast<float>(expected[i].score), expected[i].id);
  }
  // Ties at the cut-off may be broken differently; every score strictly above it must match.
  const float cutoff = hits.back().score;
  for (const auto& [score, id] : want_by_score) {
    if (score <= cutoff) continue;
    const auto range = got_by_score.equal_range(score);
    EXPECT_TRUE(
        std::any_of(range.first, range.second, [&](const auto& e) { return e.second == id; }))
        << context << ": " << id << " with score " << score << " is missing";
  }
}

class FullTextTest : public ::testing::Test {
 protected:
  void SetUp() override { path_ = dir_.path() + "/db"; }
  std::unique_ptr<Database> OpenDb(const DatabaseOptions& options = {}) {
    return Database::Open(path_, options).value();
  }

  ember::testing::TempDir dir_;
  std::string path_;
};

TEST_F(FullTextTest, TextSearchEqualsAFreshIndexThroughChurnFiltersAndReopen) {
  std::mt19937 rng(7);
  std::map<std::string, Document> model;
  const std::vector<std::string> queries = {
      "river stone",         "lantern",     "the meadows",     "bramble amber", "zephyr yonder",
      "engine engine light", "unknownword", "garden of stones"};
  const std::vector<Filter> filters = {Filter::All(), Filter::Eq("bucket", int64_t{3}),
                                       Filter::Lt("bucket", int64_t{5}),
                                       Filter::Eq("bucket", int64_t{11})};
  const auto check = [&](Collection& collection, const std::string& when) {
    for (const std::string& query : queries) {
      for (size_t f = 0; f < filters.size(); ++f) {
        for (int k : {1, 10, 400}) {
          SearchRequest request{.text = query, .k = k, .mode = SearchMode::kText};
          request.filter = filters[f];
          ASSERT_OK_AND_ASSIGN(SearchResponse response, collection.Search(request));
          EXPECT_EQ(response.plan.mode, "text");
          ExpectSameRanking(response.hits, ReferenceTextSearch(model, query, k, filters[f]),
                            absl::StrCat(when, " query \"", query, "\" filter ", f, " k ", k));
          for (const SearchHit& hit : response.hits) {
            EXPECT_TRUE(db::Matches(filters[f], model.at(hit.id).attributes));
            EXPECT_EQ(hit.vector_rank, 0);
          }
        }
      }
    }
  };
  {
    auto db = OpenDb();
    ASSERT_OK_AND_ASSIGN(auto collection, db->CreateCollection(TextSpec("c")));
    std::vector<Document> batch;
    for (int i = 0; i < 600; ++i) batch.push_back(RandomDocument(rng, i));
    ASSERT_OK(collection->Upsert(batch));
    for (Document& d : batch) model[d.id] = d;
    check(*collection, "after insert");

    // Replace a third with new texts, delete a sixth.
    std::vector<Document> replaced;
    for (int i = 0; i < 600; i += 3) replaced.push_back(RandomDocument(rng, i));
    ASSERT_OK(collection->Upsert(replaced));
    for (Document& d : replaced) model[d.id] = d;
    std::vector<std::string> deleted;
    for (int i = 1; i < 600; i += 6) deleted.push_back(absl::StrCat("doc", i));
    ASSERT_OK_AND_ASSIGN(int64_t count, collection->Delete(deleted));
    EXPECT_EQ(count, static_cast<int64_t>(deleted.size()));
    for (const std::string& id : deleted) model.erase(id);
    check(*collection, "after churn");
    const CollectionStats stats = collection->Stats();
    EXPECT_GT(stats.text_terms, 10);
    EXPECT_GT(stats.text_postings, stats.text_terms);
    EXPECT_GT(stats.text_memory_bytes, 0);
  }
  auto db = OpenDb();
  ASSERT_OK_AND_ASSIGN(auto collection, db->GetCollection("c"));
  check(*collection, "after reopen");
  auto read_only = OpenDb({.read_only = true});
  ASSERT_OK_AND_ASSIGN(auto read_only_collection, read_only->GetCollection("c"));
  check(*read_only_collection, "read-only");
}

TEST_F(FullTextTest, HybridIsTheFusionOfBothModes) {
  std::mt19937 rng(11);
  auto db = OpenDb();
  ASSERT_OK_AND_ASSIGN(auto collection, db->CreateCollection(TextSpec("c")));
  std::vector<Document> batch;
  for (int i = 0; i < 500; ++i) batch.push_back(RandomDocument(rng, i));
  ASSERT_OK(collection->Upsert(batch));

  const std::vector<float> query_vector = batch[17].vector;
  for (const FusionOptions& fusion :
       {FusionOptions{}, FusionOptions{.method = FusionMethod::kReciprocalRank},
        FusionOptions{.method = FusionMethod::kReciprocalRank, .rank_constant = 5, .depth = 30},
        FusionOptions{.method = FusionMethod::kWeighted, .vector_weight = 0.3, .depth = 50},
        FusionOptions{.method = FusionMethod::kWeighted, .vector_weight = 1}}) {
    for (const Filter& filter : {Filter::All(), Filter::Ge("bucket", int64_t{6})}) {
      const int depth = fusion.depth > 0 ? fusion.depth : 100;
      SearchRequest side{.vector = query_vector, .k = depth, .mode = SearchMode::kVector};
      side.filter = filter;
      ASSERT_OK_AND_ASSIGN(SearchResponse vector_side, collection->Search(side));
      side = SearchRequest{.text = "river lantern", .k = depth, .mode = SearchMode::kText};
      side.filter = filter;
      ASSERT_OK_AND_ASSIGN(SearchResponse text_side, collection->Search(side));

      // The expected fusion, over ids standing in for labels (ties compared by score only).
      std::map<std::string, int> ordinal;
      std::vector<std::string> names;
      const auto as_list = [&](const SearchResponse& response) {
        std::vector<db::RankedHit> list;
        for (const SearchHit& hit : response.hits) {
          auto [it, added] = ordinal.emplace(hit.id, static_cast<int>(names.size()));
          if (added) names.push_back(hit.id);
          list.push_back({it->second, hit.score});
        }
        return list;
      };
      const std::vector<db::RankedHit> lists[] = {as_list(vector_side), as_list(text_side)};
      const double weights[] = {fusion.vector_weight, 1 - fusion.vector_weight};
      const std::vector<db::FusedHit> expected =
          fusion.method == FusionMethod::kReciprocalRank
              ? db::FuseReciprocalRank(lists, fusion.rank_constant, 10)
              : db::FuseWeighted(lists, weights, 10);

      SearchRequest request{.vector = query_vector, .text = "river lantern", .k = 10};
      request.filter = filter;
      request.fusion = fusion;
      ASSERT_OK_AND_ASSIGN(SearchResponse hybrid, collection->Search(request));
      EXPECT_EQ(hybrid.plan.mode, "hybrid");  // kAuto with both sides available
      EXPECT_EQ(hybrid.plan.fusion_depth, depth);
      ASSERT_EQ(hybrid.hits.size(), expected.size());
      for (size_t i = 0; i < expected.size(); ++i) {
        const SearchHit& hit = hybrid.hits[i];
        EXPECT_NEAR(hit.score, expected[i].score, 1e-6) << i;
        // Side ranks and scores agree with the single-mode searches.
        const auto rank_in = [&](const SearchResponse& response) {
          for (size_t r = 0; r < response.hits.size(); ++r) {
            if (response.hits[r].id == hit.id) return static_cast<int>(r + 1);
          }
          return 0;
        };
        const int vector_rank = rank_in(vector_side), text_rank = rank_in(text_side);
        EXPECT_EQ(hit.vector_rank, vector_rank) << hit.id;
        EXPECT_EQ(hit.text_rank, text_rank) << hit.id;
        if (vector_rank > 0) {
          EXPECT_FLOAT_EQ(hit.vector_score, vector_side.hits[vector_rank - 1].score);
          EXPECT_FLOAT_EQ(hit.distance, vector_side.hits[vector_rank - 1].distance);
        }
        if (text_rank > 0) EXPECT_FLOAT_EQ(hit.text_score, text_side.hits[text_rank - 1].score);
        // Equal fused scores tie-break by label, and the labels here are stand-ins: compare each
        // group of equal scores as a set, except the group the cut-off may split.
        if (expected[i].score > expected.back().score) {
          std::set<std::string> want, got;
          for (size_t j = 0; j < expected.size(); ++j) {
            if (expected[j].score != expected[i].score) continue;
            want.insert(names[expected[j].label]);
            got.insert(hybrid.hits[j].id);
          }
          EXPECT_EQ(got, want) << i;
        }
      }
    }
  }
  // Weight 1 ranks by the vector side alone: the query's own document first.
  SearchRequest request{.vector = query_vector, .text = "river lantern", .k = 3};
  request.fusion = {.method = FusionMethod::kWeighted, .vector_weight = 1};
  ASSERT_OK_AND_ASSIGN(SearchResponse response, collection->Search(request));
  EXPECT_EQ(response.hits[0].id, "doc17");
  EXPECT_THAT(response.plan.ToString(), HasSubstr("fusion: weighted, vector weight 1"));
}

TEST_F(FullTextTest, ModesAreCheckedAgainstTheCollection) {
  auto db = OpenDb();
  CollectionSpec vectors_only = TextSpec("vectors");
  vectors_only.full_text = {};
  ASSERT_OK_AND_ASSIGN(auto plain, db->CreateCollection(vectors_only));
  ASSERT_OK_AND_ASSIGN(auto both, db->CreateCollection(TextSpec("both")));
  const std::vector<float> vector(kDimension, 0.5f);
  Document d{.id = "a", .text = "a lantern by the river", .vector = vector};
  ASSERT_OK(plain->Upsert({&d, 1}));
  ASSERT_OK(both->Upsert({&d, 1}));

  EXPECT_THAT(plain->Search({.text = "lantern", .mode = SearchMode::kText}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no full-text index")));
  EXPECT_THAT(plain->Search({.vector = vector, .text = "lantern", .mode = SearchMode::kHybrid}),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  // kAuto on a collection without full text and without an encoder: vector search, which needs
  // the vector.
  ASSERT_OK_AND_ASSIGN(SearchResponse plain_auto, plain->Search({.vector = vector}));
  EXPECT_EQ(plain_auto.plan.mode, "vector");
  EXPECT_THAT(both->Search({.vector = vector, .mode = SearchMode::kText}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("needs a query text")));
  EXPECT_THAT(both->Search({.vector = vector, .text = "x", .mode = SearchMode::kText}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no query vector")));
  // Hybrid needs a vector too: without an encoder, the text cannot become one.
  EXPECT_THAT(both->Search({.text = "lantern", .mode = SearchMode::kHybrid}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no encoder")));
  EXPECT_THAT(both->Search({.vector = {1}, .text = "lantern", .mode = SearchMode::kHybrid}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("query vector")));
  ASSERT_OK_AND_ASSIGN(SearchResponse auto_vector, both->Search({.vector = vector}));
  EXPECT_EQ(auto_vector.plan.mode, "vector");
  ASSERT_OK_AND_ASSIGN(SearchResponse text,
                       both->Search({.text = "Lanterns", .mode = SearchMode::kText}));
  ASSERT_EQ(text.hits.size(), 1u);
  EXPECT_EQ(text.hits[0].distance, 0);
  EXPECT_THAT(text.plan.text_terms, ElementsAre("lantern"));
  // Words the index does not hold, or only stop words: no hit, not an error.
  ASSERT_OK_AND_ASSIGN(text, both->Search({.text = "the of and", .mode = SearchMode::kText}));
  EXPECT_TRUE(text.hits.empty());
  EXPECT_THAT(both->Search({.vector = vector, .fusion = {.vector_weight = 2}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("vector_weight")));
}

TEST_F(FullTextTest, TextOnlyCollectionsStoreNoVectors) {
  {
    auto db = OpenDb();
    CollectionSpec spec = TextSpec("notes", /*dimension=*/0);
    spec.full_text.attributes = {"title"};
    ASSERT_OK_AND_ASSIGN(auto notes, db->CreateCollection(spec));
    std::vector<Document> documents = {
        {.id = "1",
         .text = "Copper kettles and brass lanterns",
         .attributes = {{"title", "Kitchen"}}},
        {.id = "2", .text = "A field guide to meadow flowers", .attributes = {{"title", "Botany"}}},
        {.id = "3", .text = "Lanterns, lamps and candles", .attributes = {{"bucket", int64_t{2}}}},
    };
    ASSERT_OK(notes->Upsert(documents));
    Document with_vector{.id = "4", .text = "x", .vector = {1.0f}};
    EXPECT_THAT(notes->Upsert({&with_vector, 1}),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("text-only")));
    EXPECT_THAT(notes->Search({.text = "lantern", .mode = SearchMode::kVector}),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("text-only")));
    EXPECT_THAT(notes->Search({.text = "lantern", .mode = SearchMode::kHybrid}),
                StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("text-only")));
    ASSERT_OK(notes->Delete(std::vector<std::string>{"2"}).status());
    const CollectionStats stats = notes->Stats();
    EXPECT_EQ(stats.document_count, 2);
    EXPECT_EQ(stats.index_vectors, 0);
  }
  auto db = OpenDb();
  ASSERT_OK_AND_ASSIGN(auto notes, db->GetCollection("notes"));
  EXPECT_EQ(notes->spec().dimension, 0);
  EXPECT_THAT(notes->spec().full_text.attributes, ElementsAre("title"));
  ASSERT_OK_AND_ASSIGN(SearchResponse response, notes->Search({.text = "lantern"}));
  EXPECT_EQ(response.plan.mode, "text");
  ASSERT_EQ(response.hits.size(), 2u);
  // "Lanterns, lamps and candles" is the shorter document: BM25 ranks it first.
  EXPECT_EQ(response.hits[0].id, "3");
  EXPECT_EQ(response.hits[1].id, "1");
  // The title attribute is indexed as text: "kitchen" finds document 1; "botany" was deleted.
  ASSERT_OK_AND_ASSIGN(response, notes->Search({.text = "kitchen"}));
  ASSERT_EQ(response.hits.size(), 1u);
  EXPECT_EQ(response.hits[0].id, "1");
  ASSERT_OK_AND_ASSIGN(response, notes->Search({.text = "botany flowers"}));
  EXPECT_TRUE(response.hits.empty());
  ASSERT_OK_AND_ASSIGN(auto got, notes->Get(std::vector<std::string>{"1", "2"}));
  ASSERT_TRUE(got[0].has_value());
  EXPECT_TRUE(got[0]->vector.empty());
  EXPECT_FALSE(got[1].has_value());
  EXPECT_THAT(db->ReembedCollection("notes", EncoderSpec{.model = "default"}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("text-only")));
}

TEST_F(FullTextTest, GroupByKeepsTheBestTextHitOfEachParent) {
  auto db = OpenDb();
  CollectionSpec spec = TextSpec("chunks", 0);
  spec.attributes.push_back({"parent", AttributeType::kString});
  ASSERT_OK_AND_ASSIGN(auto chunks, db->CreateCollection(spec));
  std::vector<Document> documents;
  for (int parent = 0; parent < 5; ++parent) {
    for (int chunk = 0; chunk < 4; ++chunk) {
      // Parent p's chunk c mentions "harbour" c + 1 times (and parent 4 never).
      std::string text = "words about ships";
      for (int i = 0; i <= chunk && parent < 4; ++i) text += " harbour";
      documents.push_back({.id = absl::StrCat(parent, "-", chunk),
                           .text = text,
                           .attributes = {{"parent", absl::StrCat("p", parent)}}});
    }
  }
  ASSERT_OK(chunks->Upsert(documents));
  ASSERT_OK_AND_ASSIGN(SearchResponse response,
                       chunks->Search({.text = "harbour", .k = 10, .group_by = "parent"}));
  // Four parents hold the word; each is represented by its chunk with the most occurrences.
  ASSERT_EQ(response.hits.size(), 4u);
  std::set<std::string> parents;
  for (const SearchHit& hit : response.hits) {
    EXPECT_EQ(hit.id.substr(1), "-3") << hit.id;
    parents.insert(hit.id.substr(0, 1));
    // Each leader carries its own document (grouping read it; the response reuses it).
    EXPECT_EQ(hit.attributes.at("parent"), Value(absl::StrCat("p", hit.id.substr(0, 1))));
    EXPECT_EQ(hit.text, "words about ships harbour harbour harbour harbour") << hit.id;
  }
  EXPECT_EQ(parents.size(), 4u);
}

TEST_F(FullTextTest, LostOrStaleTermsAreRebuiltFromTheDocuments) {
  std::mt19937 rng(3);
  std::map<std::string, Document> model;
  {
    auto db = OpenDb();
    ASSERT_OK_AND_ASSIGN(auto collection, db->CreateCollection(TextSpec("c")));
    std::vector<Document> batch;
    for (int i = 0; i < 300; ++i) batch.push_back(RandomDocument(rng, i));
    ASSERT_OK(collection->Upsert(batch));
    for (Document& d : batch) model[d.id] = d;
  }
  const auto expect_intact = [&](const std::string& when) {
    auto db = OpenDb();
    ASSERT_OK_AND_ASSIGN(auto collection, db->GetCollection("c"));
    for (const std::string query : {"river", "lantern meadow", "amber"}) {
      ASSERT_OK_AND_ASSIGN(SearchResponse response,
                           collection->Search({.text = query, .k = 20, .mode = SearchMode::kText}));
      ExpectSameRanking(response.hits, ReferenceTextSearch(model, query, 20), when);
    }
  };
  const auto edit_store = [&](const std::function<void(storage::Store&)>& edit) {
    auto store = storage::Store::Open(path_ + "/store", {}).value();
    edit(*store);
  };
  // Half the terms lost (as by a bug or by hand): the count disagrees, the documents are analyzed
  // again.
  edit_store([](storage::Store& store) {
    std::vector<std::string> keys;
    ASSERT_OK(store.ScanPrefix(storage::Column::kTerms, "", [&](std::string_view key, auto) {
      keys.emplace_back(key);
      return true;
    }));
    ASSERT_EQ(keys.size(), 300u);
    storage::WriteBatch batch;
    for (size_t i = 0; i < keys.size(); i += 2) batch.Delete(storage::Column::kTerms, keys[i]);
    ASSERT_OK(store.Write(batch));
  });
  expect_intact("after losing terms");
  // The repair was stored: every document has its terms again.
  edit_store([](storage::Store& store) {
    int count = 0;
    ASSERT_OK(store.ScanPrefix(storage::Column::kTerms, "", [&](auto, auto) {
      ++count;
      return true;
    }));
    EXPECT_EQ(count, 300);
  });
  // Terms made by another analyzer (a stored fingerprint that is not this build's): every
  // document is analyzed again, and the record takes this build's fingerprint.
  edit_store([](storage::Store& store) {
    std::string key, record;
    ASSERT_OK(store.ScanPrefix(storage::Column::kCatalog, "",
                               [&](std::string_view k, std::string_view v) {
                                 if (v.find("analyzer_fingerprint") == std::string_view::npos)
                                   return true;
                                 key = k;
                                 record = v;
                                 return false;
                               }));
    ASSERT_FALSE(key.empty());
    const size_t at = record.find("ember-text-analyzer/");
    ASSERT_NE(at, std::string::npos) << record;
    record.replace(at, 20, "older-text-analyzer/");
    // Stale terms under the old fingerprint: a word no document has, for every document.
    std::vector<std::string> keys;
    ASSERT_OK(store.ScanPrefix(storage::Column::kTerms, "", [&](std::string_view k, auto) {
      keys.emplace_back(k);
      return true;
    }));
    storage::WriteBatch batch;
    batch.Put(storage::Column::kCatalog, key, record);
    text::TermFrequencies stale{.terms = {{"stale", 1}}, .length = 1};
    for (const std::string& k : keys) {
      batch.Put(storage::Column::kTerms, k, text::EncodeTermFrequencies(stale));
    }
    ASSERT_OK(store.Write(batch));
  });
  expect_intact("after an analyzer change");
  {
    auto db = OpenDb();
    ASSERT_OK_AND_ASSIGN(auto collection, db->GetCollection("c"));
    ASSERT_OK_AND_ASSIGN(SearchResponse response,
                         collection->Search({.text = "stale", .mode = SearchMode::kText}));
    EXPECT_TRUE(response.hits.empty());
  }
}

// Readers searching text and hybrid modes while a writer replaces and deletes documents see each
// write entirely or not at all: every hit's text (read with it) holds the query's word, and a
// document's text and its terms never disagree.
TEST_F(FullTextTest, SearchesDuringWritesSeeConsistentDocuments) {
  auto db = OpenDb();
  ASSERT_OK_AND_ASSIGN(auto collection, db->CreateCollection(TextSpec("c")));
  const auto document = [](int slot, int version) {
    // Even versions mention the lantern, odd ones the meadow.
    Document d{.id = absl::StrCat("d", slot),
               .text = absl::StrCat(version % 2 ? "a meadow" : "a lantern", " version ", version),
               .vector = std::vector<float>(kDimension, static_cast<float>(slot % 5))};
    d.attributes["bucket"] = int64_t{slot % 3};
    return d;
  };
  std::vector<Document> initial;
  for (int slot = 0; slot < 200; ++slot) initial.push_back(document(slot, 0));
  ASSERT_OK(collection->Upsert(initial));

  std::atomic<bool> done{false};
  std::atomic<int> searches{0};
  const auto reader = [&](SearchMode mode) {
    while (!done.load()) {
      SearchRequest request{.text = "lanterns", .k = 50, .mode = mode};
      if (mode == SearchMode::kHybrid) request.vector.assign(kDimension, 1.0f);
      if (searches.load() % 2) request.filter = Filter::Eq("bucket", int64_t{1});
      absl::StatusOr<SearchResponse> response = collection->Search(request);
      ASSERT_THAT(response, IsOk());
      for (const SearchHit& hit : response->hits) {
        ASSERT_TRUE(hit.text.has_value());
        if (hit.text_rank > 0) EXPECT_THAT(*hit.text, HasSubstr("lantern")) << hit.id;
      }
      ++searches;
    }
  };
  std::thread text_reader(reader, SearchMode::kText);
  std::thread hybrid_reader(reader, SearchMode::kHybrid);
  std::mt19937 rng(5);
  for (int round = 1; round <= 60; ++round) {
    std::vector<Document> batch;
    for (int i = 0; i < 20; ++i) batch.push_back(document(static_cast<int>(rng() % 200), round));
    std::sort(batch.begin(), batch.end(), [](auto& a, auto& b) { return a.id < b.id; });
    batch.erase(
        std::unique(batch.begin(), batch.end(), [](auto& a, auto& b) { return a.id == b.id; }),
        batch.end());
    ASSERT_OK(collection->Upsert(batch));
    ASSERT_OK(
        collection->Delete(std::vector<std::string>{absl::StrCat("d", rng() % 200)}).status());
  }
  done = true;
  text_reader.join();
  hybrid_reader.join();
  EXPECT_GT(searches.load(), 0);
}

}  // namespace
}  // namespace ember
