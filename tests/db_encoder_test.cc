// Collections with an encoder: texts embedded on Upsert and Search with the collection's models,
// the models' fingerprints checked on every open.
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "embed/encoder.h"
#include "ember/ember.h"
#include "fixture_model.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "status_matchers.h"
#include "temp_dir.h"

namespace ember {
namespace {

using ::ember::testing::IsOk;
using ::ember::testing::StatusIs;
using ::testing::HasSubstr;

const std::string& kModelDir = ::ember::testing::kFixtureModel;

class EncoderCollectionTest : public ::ember::testing::FixtureModelTest {
 protected:
  CollectionSpec TextSpec() const {
    CollectionSpec spec{.name = "docs", .metric = Metric::kCosine};
    spec.index.kind = IndexKind::kFlat;
    spec.encoder = EncoderSpec{.model = model_};
    return spec;
  }

  // The vectors the fixture model gives `texts` as documents, loaded independently of the database.
  std::vector<float> DirectEmbedding(const std::vector<std::string>& texts,
                                     embed::EmbedRole role) const {
    auto encoder = embed::LoadEncoder(kModelDir);
    EXPECT_THAT(encoder, IsOk());
    auto vectors = (*encoder)->Embed(texts, role);
    EXPECT_THAT(vectors, IsOk());
    return *vectors;
  }
};

const std::vector<std::string> kTexts = {
    "The cat sat on the mat.", "Stock markets fell sharply on Monday.",
    "A recipe for sourdough bread with a long cold proof.", "Ember stores vectors in RocksDB."};

std::vector<Document> TextDocuments() {
  std::vector<Document> documents;
  for (size_t i = 0; i < kTexts.size(); ++i) {
    documents.push_back({.id = "doc" + std::to_string(i), .text = kTexts[i]});
  }
  return documents;
}

TEST_F(EncoderCollectionTest, UpsertEmbedsTextsAndSearchEmbedsTheQuery) {
  auto db = OpenDatabase();
  ASSERT_OK_AND_ASSIGN(auto collection, db->CreateCollection(TextSpec()));
  const int dimension = collection->spec().dimension;
  EXPECT_GT(dimension, 0) << "the dimension comes from the model";
  ASSERT_THAT(collection->Upsert(TextDocuments()), IsOk());

  // The stored vectors are the model's own embeddings of the texts.
  const std::vector<float> expected = DirectEmbedding(kTexts, embed::EmbedRole::kDocument);
  ASSERT_EQ(expected.size(), kTexts.size() * dimension);
  ASSERT_OK_AND_ASSIGN(auto got,
                       collection->Get(std::vector<std::string>{"doc0", "doc1", "doc2", "doc3"}));
  for (size_t i = 0; i < kTexts.size(); ++i) {
    ASSERT_TRUE(got[i].has_value());
    ASSERT_EQ(got[i]->vector.size(), static_cast<size_t>(dimension));
    for (int j = 0; j < dimension; ++j) {
      EXPECT_NEAR(got[i]->vector[j], expected[i * dimension + j], 1e-5) << "doc" << i;
    }
  }

  // A text query is embedded with the query model; a query equal to a document's text finds it.
  for (size_t i = 0; i < kTexts.size(); ++i) {
    ASSERT_OK_AND_ASSIGN(SearchResponse response, collection->Search({.text = kTexts[i], .k = 2}));
    ASSERT_EQ(response.hits.size(), 2u);
    EXPECT_EQ(response.hits[0].id, "doc" + std::to_string(i));
    EXPECT_NEAR(response.hits[0].score, 1.0f, 1e-4);
  }

  // After reopening, the models are loaded again and text search goes on working.
  collection.reset();
  db.reset();
  db = OpenDatabase();
  ASSERT_OK_AND_ASSIGN(collection, db->GetCollection("docs"));
  ASSERT_OK_AND_ASSIGN(SearchResponse response, collection->Search({.text = kTexts[2], .k = 1}));
  ASSERT_EQ(response.hits.size(), 1u);
  EXPECT_EQ(response.hits[0].id, "doc2");
}

TEST_F(EncoderCollectionTest, DocumentsWithVectorsKeepThemAndOthersNeedText) {
  auto db = OpenDatabase();
  ASSERT_OK_AND_ASSIGN(auto collection, db->CreateCollection(TextSpec()));
  const int dimension = collection->spec().dimension;
  std::vector<float> own(dimension, 0.0f);
  own[0] = 1.0f;
  ASSERT_THAT(collection->Upsert(
                  std::vector<Document>{{.id = "given", .text = "some text", .vector = own}}),
              IsOk());
  ASSERT_OK_AND_ASSIGN(auto got, collection->Get(std::vector<std::string>{"given"}));
  ASSERT_TRUE(got[0].has_value());
  EXPECT_EQ(got[0]->vector, own) << "a document's own vector is stored as given";

  // Neither vector nor text: rejected, naming the document, and nothing of the batch is written.
  const auto status =
      collection->Upsert(std::vector<Document>{{.id = "fine", .text = "a text"}, {.id = "empty"}});
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("\"empty\"")));
  EXPECT_THAT(status, StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("neither")));
  EXPECT_EQ(collection->Count(), 1);
}

TEST_F(EncoderCollectionTest, ChangedModelIsRefusedWithBothFingerprints) {
  std::string created_fingerprint;
  {
    auto db = OpenDatabase();
    ASSERT_OK_AND_ASSIGN(auto collection, db->CreateCollection(TextSpec()));
    ASSERT_THAT(collection->Upsert(TextDocuments()), IsOk());
    auto encoder = embed::LoadEncoder(model_);
    ASSERT_THAT(encoder, IsOk());
    created_fingerprint = (*encoder)->fingerprint();
  }
  // The folder now holds another model: the same weights pooled differently.
  ::ember::testing::PoolWithCls(model_);
  auto changed = embed::LoadEncoder(model_);
  ASSERT_THAT(changed, IsOk());
  const std::string new_fingerprint = (*changed)->fingerprint();
  ASSERT_NE(new_fingerprint, created_fingerprint);

  auto db = OpenDatabase();
  ASSERT_NE(db, nullptr) << "the database itself opens; only the collection is refused";
  const auto collection = db->GetCollection("docs");
  EXPECT_THAT(collection,
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(created_fingerprint)));
  EXPECT_THAT(collection,
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr(new_fingerprint)));
  EXPECT_THAT(collection, StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("reembed")));
  EXPECT_EQ(db->ListCollections().size(), 1u);
}

TEST_F(EncoderCollectionTest, BadEncoderSpecsAreRejected) {
  auto db = OpenDatabase();
  CollectionSpec spec = TextSpec();
  spec.dimension = 7;
  EXPECT_THAT(db->CreateCollection(spec),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("dimension")));
  spec = TextSpec();
  spec.encoder->model = dir_.path() + "/no-such-model";
  EXPECT_THAT(db->CreateCollection(spec), StatusIs(absl::StatusCode::kNotFound));
  spec = TextSpec();
  spec.encoder->model = "";
  EXPECT_THAT(db->CreateCollection(spec), StatusIs(absl::StatusCode::kInvalidArgument));
  spec = TextSpec();
  spec.encoder->truncate_dim = 100000;
  EXPECT_THAT(db->CreateCollection(spec), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_TRUE(db->ListCollections().empty()) << "no rejected spec left a collection behind";
}

TEST_F(EncoderCollectionTest, TextSearchWithoutAnEncoderIsAnError) {
  auto db = OpenDatabase();
  ASSERT_OK_AND_ASSIGN(auto collection, db->CreateCollection({.name = "vectors", .dimension = 3}));
  EXPECT_THAT(collection->Search({.text = "hello"}),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("no encoder")));
}

}  // namespace
}  // namespace ember
