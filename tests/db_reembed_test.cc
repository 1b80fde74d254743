// Database::ReembedCollection: moving a collection to another model (a changed model folder, a
// truncated dimension), with searches running meanwhile, and the refusals its contract promises.
// The crash test of a reembed (SIGKILL at random moments) is in db_crash_test.cc.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "db/catalog.h"
#include "db/records.h"
#include "embed/encoder.h"
#include "ember/ember.h"
#include "fixture_model.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "status_matchers.h"
#include "storage/store.h"
#include "temp_dir.h"

namespace ember {
namespace {

using ::ember::testing::IsOk;
using ::ember::testing::StatusIs;
using ::testing::HasSubstr;

using ::ember::testing::PoolWithCls;
const std::string& kModelDir = ::ember::testing::kFixtureModel;
constexpr int kModelDimension = ::ember::testing::kFixtureModelDimension;

// Texts different enough that each is its own nearest neighbour under every model used here.
std::vector<std::string> Texts(int count) {
  static const char* const kWords[] = {"river",   "engine", "violin", "harbor", "pepper",
                                       "glacier", "ledger", "orchid", "cobalt", "falcon",
                                       "tundra",  "sonnet", "quartz", "meadow", "lantern"};
  std::vector<std::string> texts;
  for (int i = 0; i < count; ++i) {
    texts.push_back(absl::StrCat("note ", i, ": the ", kWords[i % 15], " and the ",
                                 kWords[(i * 7 + 3) % 15], " near ", kWords[(i / 15) % 15]));
  }
  return texts;
}

std::vector<Document> TextDocuments(const std::vector<std::string>& texts) {
  std::vector<Document> documents;
  for (size_t i = 0; i < texts.size(); ++i) {
    documents.push_back({.id = absl::StrCat("doc", i), .text = texts[i]});
  }
  return documents;
}

std::vector<std::string> Ids(size_t count) {
  std::vector<std::string> ids;
  for (size_t i = 0; i < count; ++i) ids.push_back(absl::StrCat("doc", i));
  return ids;
}

// The document embeddings the model in `folder` gives `texts`, loaded apart from any database.
std::vector<float> Embed(const std::string& folder, const std::vector<std::string>& texts,
                         int truncate_dim = 0) {
  auto encoder = embed::LoadEncoder(folder, {.truncate_dim = truncate_dim});
  EXPECT_THAT(encoder, IsOk());
  if (!encoder.ok()) return {};
  auto vectors = (*encoder)->Embed(texts, embed::EmbedRole::kDocument);
  EXPECT_THAT(vectors, IsOk());
  return vectors.ok() ? *vectors : std::vector<float>();
}

std::string Fingerprint(const std::string& folder, int truncate_dim = 0) {
  auto encoder = embed::LoadEncoder(folder, {.truncate_dim = truncate_dim});
  EXPECT_THAT(encoder, IsOk());
  return encoder.ok() ? (*encoder)->fingerprint() : "";
}

// The largest difference between the stored vectors of documents doc0.. and `expected` (row-major,
// `dimension` per row); infinity when a document or component is missing.
float MaxStoredDifference(Collection& collection, const std::vector<float>& expected,
                          int dimension) {
  const size_t count = expected.size() / dimension;
  auto got = collection.Get(Ids(count));
  if (!got.ok()) return INFINITY;
  float worst = 0;
  for (size_t i = 0; i < count; ++i) {
    const std::optional<Document>& document = (*got)[i];
    if (!document || document->vector.size() != static_cast<size_t>(dimension)) return INFINITY;
    for (int j = 0; j < dimension; ++j) {
      worst = std::max(worst, std::abs(document->vector[j] - expected[i * dimension + j]));
    }
  }
  return worst;
}

// What the store of the (closed) database at `db_path` holds besides documents: the number of
// stored vectors of all collections, of reembeds in progress, and the next collection id.
struct StoreContents {
  int vectors = 0;
  int staged_reembeds = 0;
  std::string next_collection_id;
};
StoreContents ReadStore(const std::string& db_path) {
  StoreContents contents;
  auto store = storage::Store::Open(db_path + "/store", {.read_only = true});
  EXPECT_THAT(store, IsOk());
  if (!store.ok()) return contents;
  EXPECT_OK((*store)->ScanPrefix(storage::Column::kVectors, "", [&](auto, auto) {
    ++contents.vectors;
    return true;
  }));
  EXPECT_OK(
      (*store)->ScanPrefix(storage::Column::kCatalog, db::kStagedVectorsPrefix, [&](auto, auto) {
        ++contents.staged_reembeds;
        return true;
      }));
  auto next = (*store)->Get(storage::Column::kCatalog, db::kNextCollectionIdKey);
  EXPECT_THAT(next, IsOk());
  if (next.ok() && next->has_value()) contents.next_collection_id = **next;
  return contents;
}

class ReembedTest : public ::ember::testing::FixtureModelTest {
 protected:
  CollectionSpec TextSpec(IndexKind kind = IndexKind::kFlat) const {
    CollectionSpec spec{.name = "docs", .metric = Metric::kCosine};
    spec.index.kind = kind;
    spec.index.hnsw.ef_search = 256;
    spec.encoder = EncoderSpec{.model = model_};
    return spec;
  }

  // Creates "docs" with `texts` and closes the database.
  void CreateCollection(const std::vector<std::string>& texts, IndexKind kind = IndexKind::kFlat) {
    auto db = OpenDatabase();
    ASSERT_NE(db, nullptr);
    ASSERT_OK_AND_ASSIGN(auto collection, db->CreateCollection(TextSpec(kind)));
    ASSERT_OK(collection->Upsert(TextDocuments(texts)));
  }
};

// Every text, as a query, finds its own document first with a cosine of 1: the query model and
// the stored vectors are the same space.
void ExpectTextsFindTheirDocuments(Collection& collection, const std::vector<std::string>& texts) {
  for (size_t i = 0; i < texts.size(); ++i) {
    auto response = collection.Search({.text = texts[i], .k = 3});
    ASSERT_THAT(response, IsOk());
    ASSERT_EQ(response->hits.size(), std::min<size_t>(3, texts.size()));
    EXPECT_EQ(response->hits[0].id, absl::StrCat("doc", i));
    EXPECT_NEAR(response->hits[0].score, 1.0f, 1e-4) << texts[i];
  }
}

TEST_F(ReembedTest, RepairsACollectionWhoseModelChanged) {
  const std::vector<std::string> texts = Texts(40);
  const std::vector<float> mean_vectors = Embed(model_, texts);
  const std::string mean_fingerprint = Fingerprint(model_);
  CreateCollection(texts, IndexKind::kHnsw);
  if (HasFatalFailure()) return;

  PoolWithCls(model_);
  const std::vector<float> cls_vectors = Embed(model_, texts);
  const std::string cls_fingerprint = Fingerprint(model_);
  ASSERT_NE(cls_fingerprint, mean_fingerprint);
  ASSERT_EQ(cls_vectors.size(), mean_vectors.size());
  float model_difference = 0;
  for (size_t i = 0; i < cls_vectors.size(); ++i) {
    model_difference = std::max(model_difference, std::abs(cls_vectors[i] - mean_vectors[i]));
  }
  ASSERT_GT(model_difference, 0.05f) << "the two poolings must give different vectors";

  auto db = OpenDatabase();
  ASSERT_NE(db, nullptr);
  EXPECT_THAT(db->GetCollection("docs"),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("reembed")));

  std::vector<std::pair<int64_t, int64_t>> progress;
  ASSERT_OK(db->ReembedCollection("docs", {.model = model_},
                                  {.batch_size = 16, .progress = [&](int64_t done, int64_t total) {
                                     progress.emplace_back(done, total);
                                   }}));
  // Once before the first batch, then after each of the ceil(40 / 16) = 3 batches.
  const std::vector<std::pair<int64_t, int64_t>> expected_progress = {
      {0, 40}, {16, 40}, {32, 40}, {40, 40}};
  EXPECT_EQ(progress, expected_progress);

  ASSERT_OK_AND_ASSIGN(auto collection, db->GetCollection("docs"));
  EXPECT_EQ(collection->Count(), 40);
  EXPECT_EQ(collection->spec().dimension, kModelDimension);
  EXPECT_LT(MaxStoredDifference(*collection, cls_vectors, kModelDimension), 1e-5f)
      << "the stored vectors are the new model's";
  ExpectTextsFindTheirDocuments(*collection, texts);
  const CollectionStats stats = collection->Stats();
  EXPECT_EQ(stats.index_vectors - stats.index_tombstones, 40);
  EXPECT_EQ(stats.changes_since_snapshot, 0) << "a snapshot of the new index was saved";

  // Documents keep their texts, and new ones are embedded with the new model.
  ASSERT_OK_AND_ASSIGN(auto got, collection->Get(std::vector<std::string>{"doc7"}));
  ASSERT_TRUE(got[0].has_value());
  EXPECT_EQ(got[0]->text, texts[7]);
  ASSERT_OK(collection->Upsert(std::vector<Document>{{.id = "late", .text = "a late arrival"}}));
  ASSERT_OK_AND_ASSIGN(got, collection->Get(std::vector<std::string>{"late"}));
  ASSERT_TRUE(got[0].has_value());
  const std::vector<float> late = Embed(model_, {"a late arrival"});
  for (int j = 0; j < kModelDimension; ++j) EXPECT_NEAR(got[0]->vector[j], late[j], 1e-5);

  // It survives a close and reopen: the catalog now records the new model's fingerprint.
  collection.reset();
  db.reset();
  db = OpenDatabase();
  ASSERT_OK_AND_ASSIGN(collection, db->GetCollection("docs"));
  EXPECT_EQ(collection->Count(), 41);
  EXPECT_LT(MaxStoredDifference(*collection, cls_vectors, kModelDimension), 1e-5f);
  ExpectTextsFindTheirDocuments(*collection, texts);
  collection.reset();
  db.reset();

  // Back to mean pooling: refused, and the message quotes the fingerprint the catalog recorded,
  // which is the CLS model's.
  std::filesystem::copy(kModelDir + "/1_Pooling/config.json", model_ + "/1_Pooling/config.json",
                        std::filesystem::copy_options::overwrite_existing);
  db = OpenDatabase();
  EXPECT_THAT(db->GetCollection("docs"),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr(absl::StrCat("of fingerprint ", cls_fingerprint))));
}

TEST_F(ReembedTest, ChangesTheDimensionAndKeepsEarlierHandlesWorking) {
  const std::vector<std::string> texts = Texts(30);
  auto db = OpenDatabase();
  ASSERT_OK_AND_ASSIGN(auto collection, db->CreateCollection(TextSpec(IndexKind::kHnsw)));
  ASSERT_OK(collection->Upsert(TextDocuments(texts)));
  ASSERT_EQ(collection->spec().dimension, kModelDimension);

  ASSERT_OK(db->ReembedCollection("docs", {.model = model_, .truncate_dim = 16}));
  const std::vector<float> truncated = Embed(model_, texts, /*truncate_dim=*/16);
  // The handle obtained before the reembed sees the new spec and searches with the new model.
  const CollectionSpec spec = collection->spec();
  EXPECT_EQ(spec.dimension, 16);
  ASSERT_TRUE(spec.encoder.has_value());
  EXPECT_EQ(spec.encoder->truncate_dim, 16);
  EXPECT_EQ(db->ListCollections()[0].dimension, 16);
  EXPECT_LT(MaxStoredDifference(*collection, truncated, 16), 1e-5f);
  ExpectTextsFindTheirDocuments(*collection, texts);
  // Vectors of the old dimension are refused now; vectors of the new one are searched.
  EXPECT_THAT(collection->Search({.vector = std::vector<float>(kModelDimension, 0.1f)}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("dimension is 16")));
  ASSERT_OK_AND_ASSIGN(SearchResponse response,
                       collection->Search({.vector = std::vector<float>(truncated.begin() + 5 * 16,
                                                                        truncated.begin() + 6 * 16),
                                           .k = 1}));
  ASSERT_EQ(response.hits.size(), 1u);
  EXPECT_EQ(response.hits[0].id, "doc5");
  EXPECT_THAT(collection->Upsert(std::vector<Document>{
                  {.id = "old", .vector = std::vector<float>(kModelDimension, 0.1f)}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_OK(collection->Upsert(std::vector<Document>{{.id = "doc0", .text = texts[0]}}));
  ASSERT_OK(collection->Delete(std::vector<std::string>{"doc1"}));
  EXPECT_EQ(collection->Count(), 29);

  // Reopened, with and without the snapshot the reembed saved: the index holds 16-dimensional
  // vectors either way.
  collection.reset();
  db.reset();
  for (bool drop_snapshots : {false, true}) {
    if (drop_snapshots) std::filesystem::remove_all(db_path_ + "/indexes");
    db = OpenDatabase();
    ASSERT_OK_AND_ASSIGN(collection, db->GetCollection("docs"));
    EXPECT_EQ(collection->spec().dimension, 16);
    EXPECT_EQ(collection->Count(), 29);
    for (int i : {0, 2, 17, 29}) {
      ASSERT_OK_AND_ASSIGN(SearchResponse hit, collection->Search({.text = texts[i], .k = 1}));
      ASSERT_EQ(hit.hits.size(), 1u);
      EXPECT_EQ(hit.hits[0].id, absl::StrCat("doc", i));
    }
    collection.reset();
    db.reset();
  }
}

TEST_F(ReembedTest, GivesAnEncoderToACollectionOfVectorsWithTexts) {
  auto db = OpenDatabase();
  CollectionSpec spec{.name = "plain", .dimension = 3, .metric = Metric::kL2};
  ASSERT_OK_AND_ASSIGN(auto collection, db->CreateCollection(spec));
  const std::vector<std::string> texts = Texts(5);
  std::vector<Document> documents = TextDocuments(texts);
  for (Document& document : documents) document.vector = {1.0f, 2.0f, 3.0f};
  ASSERT_OK(collection->Upsert(documents));
  EXPECT_THAT(collection->Search({.text = texts[0]}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no encoder")));

  ASSERT_OK(db->ReembedCollection("plain", {.model = model_}));
  EXPECT_EQ(collection->spec().dimension, kModelDimension);
  EXPECT_EQ(collection->spec().metric, Metric::kL2) << "only the encoder and dimension change";
  ASSERT_OK_AND_ASSIGN(SearchResponse response, collection->Search({.text = texts[3], .k = 1}));
  ASSERT_EQ(response.hits.size(), 1u);
  EXPECT_EQ(response.hits[0].id, "doc3");
  EXPECT_NEAR(response.hits[0].distance, 0.0f, 1e-5);
}

TEST_F(ReembedTest, DocumentsWithoutTextRefuseItAndChangeNothing) {
  const std::vector<std::string> texts = Texts(6);
  auto db = OpenDatabase();
  ASSERT_OK_AND_ASSIGN(auto collection, db->CreateCollection(TextSpec()));
  ASSERT_OK(collection->Upsert(TextDocuments(texts)));
  std::vector<float> own(kModelDimension, 0.0f);
  own[3] = 1.0f;
  ASSERT_OK(collection->Upsert(std::vector<Document>{{.id = "vector-only", .vector = own}}));
  ASSERT_OK(db->Checkpoint());
  const std::string snapshot_dir = db_path_ + "/indexes";
  std::vector<std::pair<std::string, uintmax_t>> snapshots_before;
  for (const auto& entry : std::filesystem::directory_iterator(snapshot_dir)) {
    snapshots_before.emplace_back(entry.path().string(), entry.file_size());
  }
  ASSERT_FALSE(snapshots_before.empty());
  const std::vector<float> before = Embed(model_, texts);

  bool progressed = false;
  EXPECT_THAT(db->ReembedCollection("docs", {.model = model_, .truncate_dim = 8},
                                    {.progress = [&](int64_t, int64_t) { progressed = true; }}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("\"vector-only\"")));
  EXPECT_FALSE(progressed);

  // Nothing changed: spec, vectors, count, the snapshot on disk, and nothing is left to replay.
  EXPECT_EQ(collection->spec().dimension, kModelDimension);
  EXPECT_EQ(collection->spec().encoder->truncate_dim, 0);
  EXPECT_EQ(collection->Count(), 7);
  EXPECT_LT(MaxStoredDifference(*collection, before, kModelDimension), 1e-5f);
  EXPECT_EQ(collection->Stats().changes_since_snapshot, 0);
  std::vector<std::pair<std::string, uintmax_t>> snapshots_after;
  for (const auto& entry : std::filesystem::directory_iterator(snapshot_dir)) {
    snapshots_after.emplace_back(entry.path().string(), entry.file_size());
  }
  EXPECT_EQ(snapshots_after, snapshots_before);
  ExpectTextsFindTheirDocuments(*collection, texts);

  // Nor in the store: no vectors written aside, no collection id taken.
  collection.reset();
  db.reset();
  const StoreContents store = ReadStore(db_path_);
  EXPECT_EQ(store.vectors, 7);
  EXPECT_EQ(store.staged_reembeds, 0);
  EXPECT_EQ(store.next_collection_id, "2");

  // Once the document has a text, the reembed goes through.
  db = OpenDatabase();
  ASSERT_OK_AND_ASSIGN(collection, db->GetCollection("docs"));
  ASSERT_OK(collection->Upsert(
      std::vector<Document>{{.id = "vector-only", .text = "now with words", .vector = own}}));
  ASSERT_OK(db->ReembedCollection("docs", {.model = model_, .truncate_dim = 8}));
  EXPECT_EQ(collection->spec().dimension, 8);
}

// A crash after the swap may leave the snapshot of the old index behind (this test puts it back by
// hand). Even when it covers the last change before the reembed exactly, it must not be loaded for
// the new vectors, nor the change log before the swap replayed onto them.
TEST_F(ReembedTest, TheOldSnapshotIsNeverLoadedForTheNewVectors) {
  const std::vector<std::string> texts = Texts(25);
  const std::string new_model = dir_.path() + "/cls-model";
  std::filesystem::copy(kModelDir, new_model, std::filesystem::copy_options::recursive);
  PoolWithCls(new_model);
  const std::vector<float> new_vectors = Embed(new_model, texts);
  const std::string snapshot_dir = db_path_ + "/indexes";
  const std::string saved = dir_.path() + "/old-snapshots";
  for (bool with_changes_after_it : {false, true}) {
    SCOPED_TRACE(with_changes_after_it ? "changes after the old snapshot" : "old snapshot current");
    std::filesystem::remove_all(db_path_);
    std::filesystem::remove_all(saved);
    {
      auto db = OpenDatabase();
      ASSERT_OK_AND_ASSIGN(auto collection, db->CreateCollection(TextSpec(IndexKind::kHnsw)));
      ASSERT_OK(collection->Upsert(TextDocuments(texts)));
      ASSERT_OK(db->Checkpoint());
      if (with_changes_after_it) {
        ASSERT_OK(collection->Upsert(std::vector<Document>{{.id = "doc3", .text = texts[3]}}));
      }
      std::filesystem::copy(snapshot_dir, saved, std::filesystem::copy_options::recursive);
      ASSERT_OK(db->ReembedCollection("docs", {.model = new_model}));
    }
    std::filesystem::remove_all(snapshot_dir);
    std::filesystem::copy(saved, snapshot_dir, std::filesystem::copy_options::recursive);
    auto db = OpenDatabase();
    ASSERT_OK_AND_ASSIGN(auto collection, db->GetCollection("docs"));
    EXPECT_EQ(collection->Count(), 25);
    EXPECT_LT(MaxStoredDifference(*collection, new_vectors, kModelDimension), 1e-5f);
    // The index holds the new vectors: each document's is found at distance 0.
    for (int i = 0; i < 25; ++i) {
      const std::vector<float> vector(new_vectors.begin() + i * kModelDimension,
                                      new_vectors.begin() + (i + 1) * kModelDimension);
      ASSERT_OK_AND_ASSIGN(SearchResponse response,
                           collection->Search({.vector = vector, .k = 1, .ef_search = 100}));
      ASSERT_EQ(response.hits.size(), 1u);
      EXPECT_EQ(response.hits[0].id, absl::StrCat("doc", i));
      EXPECT_NEAR(response.hits[0].score, 1.0f, 1e-4);
    }
    const CollectionStats stats = collection->Stats();
    EXPECT_EQ(stats.index_vectors - stats.index_tombstones, 25);
  }
}

TEST_F(ReembedTest, BadRequestsAreRefused) {
  CreateCollection(Texts(3));
  if (HasFatalFailure()) return;
  {
    auto db = OpenDatabase();
    EXPECT_THAT(db->ReembedCollection("nope", {.model = model_}),
                StatusIs(absl::StatusCode::kNotFound, HasSubstr("nope")));
    EXPECT_THAT(db->ReembedCollection("docs", {.model = dir_.path() + "/no-such-model"}),
                StatusIs(absl::StatusCode::kNotFound));
    EXPECT_THAT(db->ReembedCollection("docs", {.model = ""}),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("encoder.model")));
    EXPECT_THAT(db->ReembedCollection("docs", {.model = model_, .truncate_dim = 1000}),
                StatusIs(absl::StatusCode::kInvalidArgument));
    EXPECT_THAT(db->ReembedCollection("docs", {.model = model_}, {.batch_size = 0}),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("batch_size")));
    ASSERT_OK_AND_ASSIGN(auto collection, db->GetCollection("docs"));
    EXPECT_EQ(collection->spec().dimension, kModelDimension);
    ASSERT_OK(db->DropCollection("docs"));
    EXPECT_THAT(db->ReembedCollection("docs", {.model = model_}),
                StatusIs(absl::StatusCode::kNotFound));
  }
  CreateCollection(Texts(3));
  if (HasFatalFailure()) return;
  auto read_only = OpenDatabase({.read_only = true});
  EXPECT_THAT(read_only->ReembedCollection("docs", {.model = model_}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("read-only")));
}

TEST_F(ReembedTest, TheOldVectorsGoAndDropDeletesTheNewOnes) {
  CreateCollection(Texts(20));
  if (HasFatalFailure()) return;
  auto db = OpenDatabase();
  ASSERT_OK(db->ReembedCollection("docs", {.model = model_, .truncate_dim = 8}));
  db.reset();
  StoreContents store = ReadStore(db_path_);
  EXPECT_EQ(store.vectors, 20) << "the old vectors are deleted by the swap";
  EXPECT_EQ(store.staged_reembeds, 0);

  db = OpenDatabase();
  ASSERT_OK(db->DropCollection("docs"));
  db.reset();
  store = ReadStore(db_path_);
  EXPECT_EQ(store.vectors, 0) << "the vectors the reembed wrote are the collection's";
}

// Searches and Gets from several threads while a reembed runs: every one succeeds with a full
// result computed entirely in the old model's space or entirely in the new one's. The two models
// give vectors of the same dimension, so a search mixing them would not fail: it would return
// scores of neither model, which is what is checked. An upsert waiting meanwhile is embedded with
// the model in force when it is applied.
TEST_F(ReembedTest, SearchesDuringAReembedSeeOneModelEntirely) {
  constexpr int kDocuments = 160;
  constexpr int kSearchers = 3;
  const std::vector<std::string> texts = Texts(kDocuments);
  const std::vector<float> old_vectors = Embed(model_, texts);
  const std::string new_model = dir_.path() + "/cls-model";
  std::filesystem::copy(kModelDir, new_model, std::filesystem::copy_options::recursive);
  PoolWithCls(new_model);
  const std::vector<float> new_vectors = Embed(new_model, texts);

  auto db = OpenDatabase();
  // Flat: FAISS's HNSW inserts on OpenMP threads, whose synchronization ThreadSanitizer cannot see;
  // the index kind plays no part in what is tested here.
  ASSERT_OK_AND_ASSIGN(auto collection, db->CreateCollection(TextSpec(IndexKind::kFlat)));
  // An attribute that is not declared: filtering on it reads every candidate document, so that
  // such searches hold the read lock long. A swap then waits for them, and the searches arriving
  // meanwhile, their texts already embedded, queue behind it: the moment a mix would happen.
  std::vector<Document> documents = TextDocuments(texts);
  for (Document& document : documents) document.attributes = {{"part", Value(int64_t{1})}};
  ASSERT_OK(collection->Upsert(documents));

  // Cosine of document i's text embedded by `vectors`' model with each document j of that model.
  const auto cosine = [](const std::vector<float>& vectors, int i, int j) {
    float dot = 0;
    for (int c = 0; c < kModelDimension; ++c) {
      dot += vectors[i * kModelDimension + c] * vectors[j * kModelDimension + c];
    }
    return dot;
  };
  // 0: every hit scored as the old model scores it; 1: the new; -1: neither.
  const auto space_of = [&](const SearchResponse& response, int query) {
    for (int model = 0; model < 2; ++model) {
      const std::vector<float>& vectors = model == 0 ? old_vectors : new_vectors;
      bool all = true;
      for (const SearchHit& hit : response.hits) {
        const int j = std::stoi(hit.id.substr(3));
        all &= std::abs(hit.score - cosine(vectors, query, j)) < 1e-4f;
      }
      if (all) return model;
    }
    return -1;
  };

  std::atomic<bool> reembedding{false}, reembedded{false}, done{false};
  std::atomic<int> searches_during{0}, failures{0}, seen_old{0}, seen_new{0}, new_after_end{0};
  std::vector<std::thread> searchers;
  for (int t = 0; t < kSearchers; ++t) {
    searchers.emplace_back([&, t] {
      for (int n = 0; !done.load(); ++n) {
        const int query = (t * 53 + n * 17) % kDocuments;
        const bool during = reembedding.load();
        const bool after = reembedded.load();
        const bool slow = t == 0;
        auto response =
            collection->Search({.text = texts[query],
                                .k = kDocuments,
                                .ef_search = 400,
                                .filter = slow ? Filter::IsNotNull("part") : Filter::All(),
                                .include_text = slow,
                                .include_vector = slow});
        if (!response.ok() || response->hits.size() != static_cast<size_t>(kDocuments) ||
            response->hits[0].id != absl::StrCat("doc", query)) {
          ADD_FAILURE() << "search for doc" << query << ": "
                        << (response.ok()
                                ? absl::StrCat(response->hits.size(), " hits, first ",
                                               response->hits.empty() ? std::string("none")
                                                                      : response->hits[0].id)
                                : response.status().ToString());
          ++failures;
          continue;
        }
        const int model = space_of(*response, query);
        if (model < 0) {
          ADD_FAILURE() << "a search for doc" << query << " mixed the two models' scores";
          ++failures;
        }
        (model == 0 ? seen_old : seen_new)++;
        if (during) ++searches_during;
        if (after) {
          if (model == 0) {
            ADD_FAILURE() << "a search begun after the reembed returned used the old model";
            ++failures;
          }
          ++new_after_end;
        }
        // A Get is consistent too: its vector is one model's.
        auto got = collection->Get(std::vector<std::string>{absl::StrCat("doc", query)});
        if (!got.ok() || !(*got)[0].has_value()) {
          ADD_FAILURE() << "Get doc" << query << " failed";
          ++failures;
          continue;
        }
        const std::vector<float>& vector = (*got)[0]->vector;
        bool is_old = true, is_new = true;
        for (int c = 0; c < kModelDimension; ++c) {
          is_old &= std::abs(vector[c] - old_vectors[query * kModelDimension + c]) < 1e-5f;
          is_new &= std::abs(vector[c] - new_vectors[query * kModelDimension + c]) < 1e-5f;
        }
        if (!is_old && !is_new) {
          ADD_FAILURE() << "doc" << query << "'s stored vector is neither model's";
          ++failures;
        }
      }
    });
  }
  // Let the searchers warm up on the old model, then reembed in small batches. A writer starts
  // once the reembed holds the write lock: its text is embedded with the old model, and its
  // upsert waits for the swap.
  while (seen_old.load() < 20 && failures.load() == 0) std::this_thread::yield();
  // Each swap is a chance for a search to straddle it, so the collection goes back and forth
  // between the models, ending on the new one.
  constexpr int kReembeds = 5;
  std::atomic<int> batches{0};
  std::atomic<bool> upserted{false};
  std::thread writer;
  absl::Status status;
  reembedding = true;
  for (int r = 0; r < kReembeds && status.ok(); ++r) {
    status = db->ReembedCollection(
        "docs", {.model = r % 2 == 0 ? new_model : model_},
        {.batch_size = 8, .progress = [&](int64_t, int64_t) {
           if (batches++ == 0) {
             writer = std::thread([&] {
               EXPECT_OK(collection->Upsert(std::vector<Document>{
                   {.id = "doc0", .text = texts[0], .attributes = documents[0].attributes}}));
               upserted = true;
             });
           }
           // Give the searchers time inside the reembed.
           std::this_thread::sleep_for(std::chrono::milliseconds(1));
         }});
  }
  reembedded = true;
  reembedding = false;
  writer.join();
  // Searches begun after the reembed see the new model only.
  while (new_after_end.load() < 20 && failures.load() == 0) std::this_thread::yield();
  done = true;
  for (std::thread& searcher : searchers) searcher.join();

  ASSERT_OK(status);
  EXPECT_TRUE(upserted.load());
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(batches.load(), kReembeds * (kDocuments / 8 + 1));
  EXPECT_GT(searches_during.load(), 0) << "no search ran during the reembed";
  std::cout << "searches: " << seen_old.load() << " with the old model, " << seen_new.load()
            << " with the new, " << searches_during.load() << " started during the reembed\n";
  EXPECT_LT(MaxStoredDifference(*collection, new_vectors, kModelDimension), 1e-5f)
      << "every stored vector, the waiting upsert's included, is the new model's";
  EXPECT_EQ(collection->Count(), kDocuments);
}

}  // namespace
}  // namespace ember
