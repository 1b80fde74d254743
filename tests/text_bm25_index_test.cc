// Tests for text/bm25_index.h: BM25 scores checked by hand on a three-document corpus, the error
// contract, explanations, and exactness of block-max WAND against a brute-force scorer on many
// random corpora (adds and removes interleaved, filters, k beyond the number of matches, corpora
// large enough for many blocks per term and for the index's compactions), plus Remove restoring
// exactly the statistics of an index that never saw the document, and concurrent searches.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "status_matchers.h"
#include "text/bm25_index.h"
#include "text/term_frequencies.h"

namespace ember::text {
namespace {

using ::ember::testing::IsOk;
using ::ember::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TermFrequencies Bag(std::vector<std::pair<std::string, uint32_t>> terms) {
  TermFrequencies tf;
  tf.terms = std::move(terms);
  std::sort(tf.terms.begin(), tf.terms.end());
  for (const auto& [term, count] : tf.terms) tf.length += count;
  return tf;
}

std::vector<std::string> Q(std::initializer_list<const char*> terms) {
  return std::vector<std::string>(terms.begin(), terms.end());
}

// d1 = a a b, d2 = b c, d3 = c c c: N = 3, avgdl = 8/3, df(a) = 1, df(b) = df(c) = 2.
class ThreeDocuments : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(index_.Add(1, Bag({{"a", 2}, {"b", 1}})), IsOk());
    ASSERT_THAT(index_.Add(2, Bag({{"b", 1}, {"c", 1}})), IsOk());
    ASSERT_THAT(index_.Add(3, Bag({{"c", 3}})), IsOk());
  }
  Bm25Index index_;
};

TEST_F(ThreeDocuments, ScoresMatchHandComputation) {
  // idf(a) = ln(1 + 2.5 / 1.5) = ln(8/3) = 0.980829; for d1 (dl 3), the length norm is
  // 0.9 * (0.6 + 0.4 * 3 / (8/3)) = 0.945, and tf / (tf + norm) = 2 / 2.945 = 0.679117,
  // so score = 0.980829 * 0.679117 = 0.666098.
  ASSERT_OK_AND_ASSIGN(auto hits, index_.Search(Q({"a"}), 10));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].label, 1u);
  EXPECT_NEAR(hits[0].score, 0.666098, 1e-6);

  // idf(b) = idf(c) = ln(1 + 1.5 / 2.5) = ln(1.6) = 0.470004.
  // d2 (dl 2): norm = 0.9 * (0.6 + 0.4 * 2 / (8/3)) = 0.81; 2 * 0.470004 * 1 / 1.81 = 0.519341.
  // d3 (dl 3): 0.470004 * 3 / 3.945 = 0.357417.  d1 (dl 3): 0.470004 * 1 / 1.945 = 0.241647.
  ASSERT_OK_AND_ASSIGN(hits, index_.Search(Q({"b", "c"}), 10));
  ASSERT_EQ(hits.size(), 3u);
  EXPECT_EQ(hits[0].label, 2u);
  EXPECT_NEAR(hits[0].score, 0.519341, 1e-6);
  EXPECT_EQ(hits[1].label, 3u);
  EXPECT_NEAR(hits[1].score, 0.357417, 1e-6);
  EXPECT_EQ(hits[2].label, 1u);
  EXPECT_NEAR(hits[2].score, 0.241647, 1e-6);

  // A k far beyond the corpus returns every match (and reserves nothing absurd).
  ASSERT_OK_AND_ASSIGN(hits, index_.Search(Q({"b", "c"}), std::numeric_limits<int>::max()));
  EXPECT_EQ(hits.size(), 3u);

  // k cuts the list; unknown terms add nothing.
  ASSERT_OK_AND_ASSIGN(hits, index_.Search(Q({"b", "zzz", "c"}), 2));
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].label, 2u);
  EXPECT_EQ(hits[1].label, 3u);
}

TEST_F(ThreeDocuments, ParametersChangeScores) {
  // b = 0: no length normalization; k1 = 1.2: d3 = 0.470004 * 3 / 4.2 = 0.335717.
  ASSERT_OK_AND_ASSIGN(auto hits, index_.Search(Q({"c"}), 10, nullptr, {.k1 = 1.2, .b = 0}));
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].label, 3u);
  EXPECT_NEAR(hits[0].score, 0.335717, 1e-6);
  // k1 = 0: every matching term scores its idf.
  ASSERT_OK_AND_ASSIGN(hits, index_.Search(Q({"c"}), 10, nullptr, {.k1 = 0, .b = 0.4}));
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_NEAR(hits[0].score, 0.470004, 1e-6);
  EXPECT_NEAR(hits[1].score, 0.470004, 1e-6);
  EXPECT_EQ(hits[0].label, 2u);  // tie: smaller label first
}

TEST_F(ThreeDocuments, RepeatedQueryTermsCountPerOccurrence) {
  ASSERT_OK_AND_ASSIGN(auto once, index_.Search(Q({"a"}), 10));
  ASSERT_OK_AND_ASSIGN(auto twice, index_.Search(Q({"a", "b", "a"}), 10));
  ASSERT_EQ(twice.size(), 2u);
  EXPECT_EQ(twice[0].label, 1u);
  EXPECT_NEAR(twice[0].score, 2 * once[0].score + 0.241647, 1e-6);
}

TEST_F(ThreeDocuments, ExplainGivesEachTermsContribution) {
  ASSERT_OK_AND_ASSIGN(auto explanation, index_.Explain(Q({"a", "b", "zzz", "a"}), 1));
  EXPECT_EQ(explanation.label, 1u);
  EXPECT_EQ(explanation.document_length, 3u);
  EXPECT_EQ(explanation.documents, 3u);
  EXPECT_NEAR(explanation.average_document_length, 8.0 / 3, 1e-12);
  ASSERT_EQ(explanation.terms.size(), 3u);
  EXPECT_EQ(explanation.terms[0].term, "a");
  EXPECT_EQ(explanation.terms[0].query_count, 2u);
  EXPECT_EQ(explanation.terms[0].term_frequency, 2u);
  EXPECT_EQ(explanation.terms[0].document_frequency, 1u);
  EXPECT_NEAR(explanation.terms[0].idf, 0.980829, 1e-6);
  EXPECT_NEAR(explanation.terms[0].score, 2 * 0.666098, 1e-6);
  EXPECT_EQ(explanation.terms[1].term, "b");
  EXPECT_NEAR(explanation.terms[1].score, 0.241647, 1e-6);
  EXPECT_EQ(explanation.terms[2].term, "zzz");
  EXPECT_EQ(explanation.terms[2].document_frequency, 0u);
  EXPECT_EQ(explanation.terms[2].score, 0);
  ASSERT_OK_AND_ASSIGN(auto hits, index_.Search(Q({"a", "b", "zzz", "a"}), 1));
  EXPECT_EQ(explanation.score, hits[0].score);  // bit for bit

  // A document that does not contain a term explains a zero for it.
  ASSERT_OK_AND_ASSIGN(explanation, index_.Explain(Q({"a"}), 3));
  EXPECT_EQ(explanation.terms[0].term_frequency, 0u);
  EXPECT_EQ(explanation.score, 0);
  EXPECT_THAT(index_.Explain(Q({"a"}), 99), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(ThreeDocuments, StatsAndDocumentFrequency) {
  const Bm25IndexStats stats = index_.Stats();
  EXPECT_EQ(stats.documents, 3u);
  EXPECT_EQ(stats.terms, 3u);
  EXPECT_EQ(stats.postings, 5u);
  EXPECT_EQ(stats.total_length, 8u);
  EXPECT_NEAR(stats.average_document_length, 8.0 / 3, 1e-12);
  EXPECT_GT(stats.memory_bytes, 0u);
  EXPECT_EQ(index_.DocumentFrequency("b"), 2u);
  EXPECT_EQ(index_.DocumentFrequency("nope"), 0u);
}

TEST_F(ThreeDocuments, ErrorsLeaveTheIndexUnchanged) {
  EXPECT_THAT(index_.Add(1, Bag({{"x", 1}})),
              StatusIs(absl::StatusCode::kAlreadyExists, HasSubstr("1")));
  TermFrequencies bad = Bag({{"x", 1}});
  bad.length = 5;
  EXPECT_THAT(index_.Add(9, bad), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(index_.Add(9, {.terms = {{"b", 1}, {"a", 1}}, .length = 2}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(index_.Remove(42), StatusIs(absl::StatusCode::kNotFound, HasSubstr("42")));
  EXPECT_THAT(index_.Search(Q({"a"}), 0), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(index_.Search(Q({"a"}), 5, nullptr, {.k1 = -1}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("k1")));
  EXPECT_THAT(index_.Search(Q({"a"}), 5, nullptr, {.b = 1.5}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("b")));
  EXPECT_THAT(index_.Search(Q({"a"}), 5, nullptr, {.k1 = NAN}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(index_.Stats().documents, 3u);
  EXPECT_EQ(index_.Stats().postings, 5u);
  EXPECT_FALSE(index_.Contains(9));
  ASSERT_OK_AND_ASSIGN(auto hits, index_.Search({}, 5));
  EXPECT_THAT(hits, IsEmpty());
}

TEST_F(ThreeDocuments, FilterRestrictsResults) {
  const FunctionLabelFilter odd([](uint64_t label) { return label % 2 == 1; });
  ASSERT_OK_AND_ASSIGN(auto hits, index_.Search(Q({"b", "c"}), 10, &odd));
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].label, 3u);
  EXPECT_EQ(hits[1].label, 1u);
  const FunctionLabelFilter none([](uint64_t) { return false; });
  ASSERT_OK_AND_ASSIGN(hits, index_.Search(Q({"b", "c"}), 10, &none));
  EXPECT_THAT(hits, IsEmpty());

  // Scoring candidates directly gives the same hits; unknown labels and repeats are ignored.
  const std::vector<uint64_t> candidates = {3, 1, 77, 3};
  ASSERT_OK_AND_ASSIGN(hits, index_.SearchCandidates(Q({"b", "c"}), candidates, 10));
  ASSERT_EQ(hits.size(), 2u);
  EXPECT_EQ(hits[0].label, 3u);
  EXPECT_NEAR(hits[0].score, 0.357417, 1e-6);
  EXPECT_EQ(hits[1].label, 1u);
  EXPECT_NEAR(hits[1].score, 0.241647, 1e-6);
  ASSERT_OK_AND_ASSIGN(hits, index_.SearchCandidates(Q({"a"}), candidates, 10));
  ASSERT_EQ(hits.size(), 1u);  // d3 does not contain "a": not a hit
  EXPECT_THAT(index_.SearchCandidates(Q({"a"}), candidates, 0),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(Bm25IndexTest, LuceneLengthEncodingRoundsLengthsDown) {
  // d1 has 161 tokens, which Lucene's one-byte norm stores as 152 (24 + 137 kept to its 4 leading
  // bits, 128); d2 has 1. avgdl = 81 stays exact. idf(x) = ln(1 + 1.5 / 1.5) = ln 2 = 0.693147.
  Bm25Index index;
  ASSERT_THAT(index.Add(1, Bag({{"pad", 160}, {"x", 1}})), IsOk());
  ASSERT_THAT(index.Add(2, Bag({{"y", 1}})), IsOk());
  // Exact: norm = 0.9 * (0.6 + 0.4 * 161 / 81) = 1.255556, score = 0.693147 / 2.255556.
  ASSERT_OK_AND_ASSIGN(auto hits, index.Search(Q({"x"}), 1));
  EXPECT_NEAR(hits[0].score, 0.307307, 1e-6);
  // Lucene: norm = 0.9 * (0.6 + 0.4 * 152 / 81) = 1.215556, score = 0.693147 / 2.215556.
  ASSERT_OK_AND_ASSIGN(hits, index.Search(Q({"x"}), 1, nullptr, {.lucene_length_encoding = true}));
  EXPECT_NEAR(hits[0].score, 0.312855, 1e-6);
  ASSERT_OK_AND_ASSIGN(auto explanation,
                       index.Explain(Q({"x"}), 1, {.lucene_length_encoding = true}));
  EXPECT_EQ(explanation.score, hits[0].score);
}

TEST(Bm25IndexTest, EmptyDocumentsCountInStatistics) {
  Bm25Index index;
  ASSERT_THAT(index.Add(1, Bag({{"a", 1}})), IsOk());
  ASSERT_THAT(index.Add(2, {}), IsOk());
  EXPECT_EQ(index.Stats().documents, 2u);
  EXPECT_NEAR(index.Stats().average_document_length, 0.5, 1e-12);
  ASSERT_OK_AND_ASSIGN(auto hits, index.Search(Q({"a"}), 10));
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].label, 1u);
  ASSERT_THAT(index.Remove(2), IsOk());
  ASSERT_THAT(index.Remove(1), IsOk());
  EXPECT_EQ(index.Stats().documents, 0u);
  EXPECT_EQ(index.Stats().terms, 0u);
  ASSERT_OK_AND_ASSIGN(hits, index.Search(Q({"a"}), 10));
  EXPECT_THAT(hits, IsEmpty());
  // A removed label may come back.
  ASSERT_THAT(index.Add(1, Bag({{"b", 2}})), IsOk());
  EXPECT_EQ(index.DocumentFrequency("a"), 0u);
  EXPECT_EQ(index.DocumentFrequency("b"), 1u);
}

// ---------------------------------------------------------------------------------------------
// Brute force: every document scored with the header's formula, written out independently.

struct Model {
  std::map<uint64_t, TermFrequencies> documents;
  // Statistics cached by Freeze (for large corpora); recomputed per search otherwise.
  bool frozen = false;
  uint64_t frozen_total = 0;
  std::map<std::string, uint64_t> frozen_df;

  void Freeze() {
    frozen = false;
    ComputeStatistics(&frozen_total, &frozen_df);
    frozen = true;
  }

  void ComputeStatistics(uint64_t* total, std::map<std::string, uint64_t>* df) const {
    *total = 0;
    df->clear();
    for (const auto& [label, bag] : documents) {
      *total += bag.length;
      for (const auto& [term, count] : bag.terms) ++(*df)[term];
    }
  }

  std::vector<Bm25Hit> Search(const std::vector<std::string>& query, int k,
                              const LabelFilter* filter, const Bm25Params& params) const {
    const double n = documents.size();
    uint64_t total = frozen_total;
    std::map<std::string, uint64_t> computed_df;
    if (!frozen) ComputeStatistics(&total, &computed_df);
    const std::map<std::string, uint64_t>& df = frozen ? frozen_df : computed_df;
    const double avgdl = n == 0 ? 0 : static_cast<double>(total) / n;
    // Lucene's stored length: exact below 24, else 24 + (length - 24) cut to 4 leading bits.
    auto lucene_length = [](uint32_t length) -> double {
      if (length < 24) return length;
      uint32_t rest = length - 24;
      uint32_t unit = 1;
      while ((rest >> 4) >= unit) unit <<= 1;  // rest < 16 * unit: keep multiples of unit
      return 24.0 + (rest / unit) * unit;
    };
    std::vector<std::pair<std::string, uint32_t>> distinct;  // first-occurrence order
    for (const std::string& term : query) {
      auto it = std::find_if(distinct.begin(), distinct.end(),
                             [&](const auto& e) { return e.first == term; });
      if (it == distinct.end()) {
        distinct.emplace_back(term, 1);
      } else {
        ++it->second;
      }
    }
    std::vector<Bm25Hit> hits;
    for (const auto& [label, bag] : documents) {
      if (filter != nullptr && !filter->Accepts(label)) continue;
      double score = 0;
      bool matched = false;
      for (const auto& [term, count] : distinct) {
        auto found =
            std::lower_bound(bag.terms.begin(), bag.terms.end(), std::make_pair(term, uint32_t{0}));
        double part = 0;
        if (found != bag.terms.end() && found->first == term) {
          matched = true;
          const double d = df.at(term);
          const double idf = std::log(1.0 + (n - d + 0.5) / (d + 0.5));
          const double tf = found->second;
          const double dl = params.lucene_length_encoding ? lucene_length(bag.length) : bag.length;
          part = (count * idf) * (tf / (tf + params.k1 * (1.0 - params.b + params.b * dl / avgdl)));
        }
        score += part;
      }
      if (matched) hits.push_back({label, score});
    }
    std::sort(hits.begin(), hits.end(), [](const Bm25Hit& a, const Bm25Hit& b) {
      return a.score != b.score ? a.score > b.score : a.label < b.label;
    });
    if (hits.size() > static_cast<size_t>(k)) hits.resize(k);
    return hits;
  }
};

// Zipf-like term draws, so a few terms have long lists (many blocks) and most have short ones.
class CorpusGenerator {
 public:
  CorpusGenerator(uint64_t seed, int vocabulary, int max_length)
      : rng_(seed), vocabulary_(vocabulary), max_length_(max_length) {
    std::vector<double> weights;
    for (int i = 0; i < vocabulary; ++i) weights.push_back(1.0 / (i + 1));
    term_dist_ = std::discrete_distribution<int>(weights.begin(), weights.end());
  }
  std::string Term() { return absl::StrCat("t", term_dist_(rng_)); }
  TermFrequencies Document() {
    std::vector<std::string> tokens;
    const int length = static_cast<int>(rng_() % (max_length_ + 1));
    for (int i = 0; i < length; ++i) tokens.push_back(Term());
    return CountTerms(tokens);
  }
  std::vector<std::string> Query() {
    std::vector<std::string> query;
    const int length = 1 + static_cast<int>(rng_() % 6);
    for (int i = 0; i < length; ++i) {
      query.push_back(rng_() % 10 == 0 ? absl::StrCat("unknown", rng_() % 3) : Term());
    }
    if (rng_() % 4 == 0) query.push_back(query[rng_() % query.size()]);  // a repeat
    return query;
  }
  std::mt19937_64& rng() { return rng_; }

 private:
  std::mt19937_64 rng_;
  int vocabulary_;
  int max_length_;
  std::discrete_distribution<int> term_dist_;
};

void ExpectSameHits(const std::vector<Bm25Hit>& actual, const std::vector<Bm25Hit>& expected,
                    const std::string& context) {
  ASSERT_EQ(actual.size(), expected.size()) << context;
  for (size_t i = 0; i < actual.size(); ++i) {
    ASSERT_EQ(actual[i].label, expected[i].label) << context << " rank " << i;
    ASSERT_NEAR(actual[i].score, expected[i].score, 1e-9) << context << " rank " << i;
  }
}

struct RandomCase {
  int documents;
  int vocabulary;
  int max_length;
};

TEST(Bm25IndexTest, MatchesBruteForceOnRandomCorporaWithAddsRemovesAndFilters) {
  const std::vector<RandomCase> cases = {
      {5, 4, 6},       {30, 10, 12},   {200, 30, 20},    {600, 50, 40},
      {1500, 200, 60}, {3000, 80, 30}, {3000, 2000, 80}, {800, 5, 10},
  };
  int queries_checked = 0;
  for (size_t c = 0; c < cases.size(); ++c) {
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      const RandomCase& rc = cases[c];
      CorpusGenerator gen(seed * 1000 + c, rc.vocabulary, rc.max_length);
      Bm25Index index;
      Model model;
      std::vector<uint64_t> live;
      std::vector<uint64_t> removed;
      uint64_t next_label = 1 + gen.rng()() % 1000;
      auto check = [&](const std::string& phase) {
        for (int q = 0; q < 20; ++q) {
          const std::vector<std::string> query = gen.Query();
          const int ks[] = {1, 3, 10, 100, 100000};
          const int k = ks[gen.rng()() % 5];
          Bm25Params params;
          if (gen.rng()() % 3 == 0) {
            params.k1 = (gen.rng()() % 300) / 100.0;
            params.b = (gen.rng()() % 101) / 100.0;
          }
          params.lucene_length_encoding = gen.rng()() % 4 == 0;
          const uint64_t modulus = 1 + gen.rng()() % 7;
          const FunctionLabelFilter filter(
              [modulus](uint64_t label) { return (label * 2654435761u) % modulus == 0; });
          const LabelFilter* use_filter = gen.rng()() % 2 == 0 ? &filter : nullptr;
          auto actual = index.Search(query, k, use_filter, params);
          ASSERT_THAT(actual, IsOk());
          const std::string context = "case " + std::to_string(c) + " seed " +
                                      std::to_string(seed) + " " + phase + " query " +
                                      std::to_string(q) + " k " + std::to_string(k) +
                                      (use_filter ? " filtered" : "");
          ExpectSameHits(*actual, model.Search(query, k, use_filter, params), context);
          ++queries_checked;
        }
      };
      // Phase 1: adds. Phase 2: removes and re-adds interleaved. Phase 3: remove most.
      for (int i = 0; i < rc.documents; ++i) {
        const uint64_t label = next_label;
        next_label += 1 + gen.rng()() % 5;
        TermFrequencies doc = gen.Document();
        ASSERT_THAT(index.Add(label, doc), IsOk());
        model.documents[label] = std::move(doc);
        live.push_back(label);
      }
      ASSERT_NO_FATAL_FAILURE(check("after adds"));
      for (int i = 0; i < rc.documents; ++i) {
        const uint64_t r = gen.rng()() % 3;
        if (r == 0 && !live.empty()) {
          const size_t at = gen.rng()() % live.size();
          const uint64_t label = live[at];
          ASSERT_THAT(index.Remove(label), IsOk());
          model.documents.erase(label);
          live.erase(live.begin() + at);
          removed.push_back(label);
        } else if (r == 1 && !removed.empty()) {
          const size_t at = gen.rng()() % removed.size();
          const uint64_t label = removed[at];  // a removed label comes back with new text
          TermFrequencies doc = gen.Document();
          ASSERT_THAT(index.Add(label, doc), IsOk());
          model.documents[label] = std::move(doc);
          removed.erase(removed.begin() + at);
          live.push_back(label);
        } else {
          const uint64_t label = next_label++;
          TermFrequencies doc = gen.Document();
          ASSERT_THAT(index.Add(label, doc), IsOk());
          model.documents[label] = std::move(doc);
          live.push_back(label);
        }
      }
      ASSERT_NO_FATAL_FAILURE(check("after churn"));
      std::shuffle(live.begin(), live.end(), gen.rng());
      while (live.size() > static_cast<size_t>(rc.documents / 10)) {
        ASSERT_THAT(index.Remove(live.back()), IsOk());
        model.documents.erase(live.back());
        live.pop_back();
      }
      ASSERT_NO_FATAL_FAILURE(check("after mass removal"));
      EXPECT_EQ(index.Stats().documents, model.documents.size());
    }
  }
  EXPECT_EQ(queries_checked, 8 * 3 * 3 * 20);
}

TEST(Bm25IndexTest, MatchesBruteForceOnALargeCorpusWithDeadDocuments) {
  // Enough documents for many search windows and many blocks per frequent term, with 30% removed
  // (dead postings left in lists, but not enough for the index-wide renumbering).
  CorpusGenerator gen(77, 5000, 40);
  Bm25Index index;
  Model model;
  for (uint64_t label = 0; label < 40000; ++label) {
    TermFrequencies doc = gen.Document();
    ASSERT_THAT(index.Add(label * 3 + 7, doc), IsOk());
    model.documents[label * 3 + 7] = std::move(doc);
  }
  for (uint64_t label = 0; label < 40000; ++label) {
    if (gen.rng()() % 10 < 3) {
      ASSERT_THAT(index.Remove(label * 3 + 7), IsOk());
      model.documents.erase(label * 3 + 7);
    }
  }
  model.Freeze();
  const FunctionLabelFilter sparse([](uint64_t label) { return label % 97 == 0; });
  const FunctionLabelFilter half([](uint64_t label) { return label % 2 == 0; });
  for (int q = 0; q < 120; ++q) {
    const std::vector<std::string> query = gen.Query();
    const int k = q % 3 == 0 ? 1 : (q % 3 == 1 ? 10 : 100);
    const LabelFilter* filter = q % 4 == 0 ? &sparse : (q % 4 == 1 ? &half : nullptr);
    ASSERT_OK_AND_ASSIGN(auto hits, index.Search(query, k, filter));
    const std::vector<Bm25Hit> expected = model.Search(query, k, filter, {});
    ASSERT_NO_FATAL_FAILURE(ExpectSameHits(hits, expected, "query " + std::to_string(q)));
    if (filter == &sparse) {
      // The same through direct scoring of the accepted labels (with removed, never-added and
      // repeated labels among them, which must be ignored).
      std::vector<uint64_t> candidates;
      for (uint64_t label = 0; label < 130000; label += 97) candidates.push_back(label);
      candidates.push_back(97 * 3);
      ASSERT_OK_AND_ASSIGN(auto direct, index.SearchCandidates(query, candidates, k));
      ASSERT_NO_FATAL_FAILURE(ExpectSameHits(direct, expected, "candidates " + std::to_string(q)));
    }
  }
}

TEST(Bm25IndexTest, FilteredSearchReturnsKWheneverKAcceptedDocumentsMatch) {
  // 2000 documents all containing "common"; the filter accepts 7 of them, spread out, all of
  // which score far below the unfiltered top: every one must still come back.
  Bm25Index index;
  std::set<uint64_t> accepted = {5, 400, 401, 999, 1500, 1998, 1999};
  for (uint64_t label = 0; label < 2000; ++label) {
    const bool low = accepted.contains(label);
    ASSERT_THAT(index.Add(label, Bag({{"common", low ? 1u : 5u}, {"pad", low ? 40u : 1u}})),
                IsOk());
  }
  const FunctionLabelFilter filter([&](uint64_t label) { return accepted.contains(label); });
  ASSERT_OK_AND_ASSIGN(auto hits, index.Search(Q({"common"}), 7, &filter));
  ASSERT_EQ(hits.size(), 7u);
  std::set<uint64_t> got;
  for (const Bm25Hit& hit : hits) got.insert(hit.label);
  EXPECT_EQ(got, accepted);
  ASSERT_OK_AND_ASSIGN(hits, index.Search(Q({"common"}), 100, &filter));
  EXPECT_EQ(hits.size(), 7u);
}

// Everything a query can observe: statistics, document frequencies and search results.
void ExpectIndexesEquivalent(const Bm25Index& a, const Bm25Index& b,
                             const std::vector<std::string>& vocabulary) {
  const Bm25IndexStats sa = a.Stats();
  const Bm25IndexStats sb = b.Stats();
  EXPECT_EQ(sa.documents, sb.documents);
  EXPECT_EQ(sa.terms, sb.terms);
  EXPECT_EQ(sa.postings, sb.postings);
  EXPECT_EQ(sa.total_length, sb.total_length);
  EXPECT_EQ(sa.average_document_length, sb.average_document_length);
  for (const std::string& term : vocabulary) {
    EXPECT_EQ(a.DocumentFrequency(term), b.DocumentFrequency(term)) << term;
    auto ha = a.Search({term}, 50);
    auto hb = b.Search({term}, 50);
    ASSERT_THAT(ha, IsOk());
    ASSERT_THAT(hb, IsOk());
    EXPECT_EQ(*ha, *hb) << term;  // identical labels and bit-identical scores
  }
  for (size_t i = 0; i + 2 < vocabulary.size(); i += 3) {
    const std::vector<std::string> query = {vocabulary[i], vocabulary[i + 1], vocabulary[i + 2]};
    EXPECT_EQ(*a.Search(query, 20), *b.Search(query, 20));
  }
}

TEST(Bm25IndexTest, RemoveRestoresExactlyTheStatisticsOfNeverAdding) {
  CorpusGenerator gen(99, 300, 50);
  std::vector<std::string> vocabulary;
  for (int i = 0; i < 300; ++i) vocabulary.push_back(absl::StrCat("t", i));
  vocabulary.push_back("zz_only_in_removed");
  Bm25Index never;    // sees only the kept documents
  Bm25Index churned;  // sees them interleaved with documents it later removes
  std::vector<uint64_t> to_remove;
  for (uint64_t label = 1; label <= 3000; ++label) {
    TermFrequencies doc = gen.Document();
    if (label % 3 == 0) {
      doc.terms.emplace_back("zz_only_in_removed", 2);  // sorts after every "t..." term
      doc.length += 2;
      ASSERT_THAT(churned.Add(label, doc), IsOk());
      to_remove.push_back(label);
    } else {
      ASSERT_THAT(never.Add(label, doc), IsOk());
      ASSERT_THAT(churned.Add(label, doc), IsOk());
    }
  }
  std::shuffle(to_remove.begin(), to_remove.end(), gen.rng());
  for (uint64_t label : to_remove) ASSERT_THAT(churned.Remove(label), IsOk());
  EXPECT_EQ(churned.DocumentFrequency("zz_only_in_removed"), 0u);
  ExpectIndexesEquivalent(churned, never, vocabulary);
}

TEST(Bm25IndexTest, ManyRemovalsCompactAndStayExact) {
  // Enough removals to trigger the index-wide renumbering (dead slots > live documents, >= 4096).
  CorpusGenerator gen(5, 500, 30);
  Bm25Index index;
  Model model;
  for (uint64_t label = 0; label < 12000; ++label) {
    TermFrequencies doc = gen.Document();
    ASSERT_THAT(index.Add(label, doc), IsOk());
    model.documents[label] = std::move(doc);
  }
  for (uint64_t label = 0; label < 12000; ++label) {
    if (label % 8 != 0) {
      ASSERT_THAT(index.Remove(label), IsOk());
      model.documents.erase(label);
    }
  }
  const uint64_t bytes_after = index.Stats().memory_bytes;
  for (uint64_t label = 20000; label < 21000; ++label) {
    TermFrequencies doc = gen.Document();
    ASSERT_THAT(index.Add(label, doc), IsOk());
    model.documents[label] = std::move(doc);
  }
  EXPECT_EQ(index.Stats().documents, model.documents.size());
  EXPECT_GT(bytes_after, 0u);
  for (int q = 0; q < 200; ++q) {
    const std::vector<std::string> query = gen.Query();
    ASSERT_OK_AND_ASSIGN(auto hits, index.Search(query, 10));
    ExpectSameHits(hits, model.Search(query, 10, nullptr, {}), "query " + std::to_string(q));
  }
}

TEST(Bm25IndexTest, ConcurrentSearchesAgreeWithSequentialOnes) {
  CorpusGenerator gen(3, 400, 60);
  Bm25Index index;
  for (uint64_t label = 0; label < 5000; ++label)
    ASSERT_THAT(index.Add(label, gen.Document()), IsOk());
  std::vector<std::vector<std::string>> queries;
  std::vector<std::vector<Bm25Hit>> expected;
  for (int q = 0; q < 50; ++q) {
    queries.push_back(gen.Query());
    expected.push_back(*index.Search(queries.back(), 10));
  }
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        for (size_t q = 0; q < queries.size(); ++q) {
          auto hits = index.Search(queries[(q + t) % queries.size()], 10);
          if (!hits.ok() || *hits != expected[(q + t) % queries.size()]) ++mismatches[t];
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_THAT(mismatches, ElementsAre(0, 0, 0, 0));
}

}  // namespace
}  // namespace ember::text
