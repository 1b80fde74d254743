#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "eval/metrics.h"
#include "status_matchers.h"

namespace ember::eval {
namespace {

using ::ember::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Inside a TEST body, a bare `Run` names ::testing::Test::Run, hence `eval::Run` below.
constexpr double kTolerance = 1e-9;
constexpr Metric kNdcg10{MetricKind::kNdcg, 10};
constexpr Metric kRecall100{MetricKind::kRecall, 100};
constexpr Metric kMrr10{MetricKind::kMrr, 10};

// Four judged queries:
//   q1: d1 grade 2, d2 grade 1, d3 grade 1, d9 grade 0 (judged not relevant); R = 3.
//   q2: d7 grade 3, d8 grade 1; R = 2.
//   q3: only d1 grade 0; R = 0, so it is ignored.
//   q4: d5 grade 1; absent from the run, so it scores 0.
Qrels ExampleQrels() {
  return {
      {"q1", {{"d1", 2}, {"d2", 1}, {"d3", 1}, {"d9", 0}}},
      {"q2", {{"d7", 3}, {"d8", 1}}},
      {"q3", {{"d1", 0}}},
      {"q4", {{"d5", 1}}},
  };
}

// q1 ranks d1 2nd and d2 4th (d9, judged 0, 3rd). q2 repeats d8, so d7 is 2nd after deduplication,
// not 3rd. qx has no judgements and is ignored.
Run ExampleRun() {
  return {
      {"q1", {"d4", "d1", "d9", "d2", "d5"}},
      {"q2", {"d8", "d8", "d7"}},
      {"q3", {"d1"}},
      {"qx", {"d1"}},
  };
}

TEST(EvalMetricsTest, HandComputedGradedRanking) {
  const Qrels qrels = ExampleQrels();
  const eval::Run run = ExampleRun();
  ASSERT_OK_AND_ASSIGN(const Evaluation evaluation,
                       Evaluate(qrels, run, {kNdcg10, kRecall100, kMrr10}));
  // q1: DCG@10  = 2/log2(3) + 1/log2(5)            = 1.2618595071 + 0.4306765581 = 1.6925360652
  //     IDCG@10 = 2/log2(2) + 1/log2(3) + 1/log2(4) = 2 + 0.6309297536 + 0.5       = 3.1309297536
  //     nDCG@10 = 1.6925360652 / 3.1309297536 = 0.5405857679450102
  //     Recall@100 = 2 of 3 relevant = 0.6666666667; MRR@10 = 1/2 (d1 at rank 2).
  // q2: deduplicated ranking d8, d7.
  //     DCG@10  = 1/log2(2) + 3/log2(3) = 1 + 1.8927892607 = 2.8927892607
  //     IDCG@10 = 3/log2(2) + 1/log2(3) = 3 + 0.6309297536 = 3.6309297536
  //     nDCG@10 = 2.8927892607 / 3.6309297536 = 0.7967075809905066
  //     Recall@100 = 2/2 = 1; MRR@10 = 1 (d8 at rank 1).
  // q4: not in the run: 0, 0, 0.
  // Means over q1, q2, q4: nDCG@10 = (0.5405857679 + 0.7967075810 + 0) / 3 = 0.44576444964517226,
  //     Recall@100 = (2/3 + 1 + 0) / 3 = 5/9, MRR@10 = (0.5 + 1 + 0) / 3 = 0.5.
  ASSERT_EQ(evaluation.per_query.size(), 3);
  EXPECT_EQ(evaluation.per_query[0].query_id, "q1");
  EXPECT_NEAR(evaluation.per_query[0].values[0], 0.5405857679450102, kTolerance);
  EXPECT_NEAR(evaluation.per_query[0].values[1], 2.0 / 3.0, kTolerance);
  EXPECT_NEAR(evaluation.per_query[0].values[2], 0.5, kTolerance);
  EXPECT_EQ(evaluation.per_query[1].query_id, "q2");
  EXPECT_NEAR(evaluation.per_query[1].values[0], 0.7967075809905066, kTolerance);
  EXPECT_NEAR(evaluation.per_query[1].values[1], 1.0, kTolerance);
  EXPECT_NEAR(evaluation.per_query[1].values[2], 1.0, kTolerance);
  EXPECT_EQ(evaluation.per_query[2].query_id, "q4");
  EXPECT_THAT(evaluation.per_query[2].values, ElementsAre(0.0, 0.0, 0.0));
  EXPECT_NEAR(evaluation.mean[0], 0.44576444964517226, kTolerance);
  EXPECT_NEAR(evaluation.mean[1], 5.0 / 9.0, kTolerance);
  EXPECT_NEAR(evaluation.mean[2], 0.5, kTolerance);
  EXPECT_EQ(evaluation.queries_missing_from_run, 1);
  EXPECT_THAT(evaluation.metrics, ElementsAre(kNdcg10, kRecall100, kMrr10));
}

TEST(EvalMetricsTest, SmallCutoffs) {
  const QueryQrels q1 = ExampleQrels()["q1"];
  const std::vector<std::string> ranking = ExampleRun()["q1"];
  // Top 2 = d4, d1. nDCG@2 = (2/log2(3)) / (2 + 1/log2(3)) = 1.2618595071 / 2.6309297536.
  EXPECT_NEAR(NdcgAt(q1, ranking, 2), 0.4796249331362629, kTolerance);
  // Recall@2 = 1 of 3; recall@4 = 2 of 3 (d1, d2).
  EXPECT_NEAR(RecallAt(q1, ranking, 2), 1.0 / 3.0, kTolerance);
  EXPECT_NEAR(RecallAt(q1, ranking, 4), 2.0 / 3.0, kTolerance);
  // The first relevant document is at rank 2: outside a cutoff of 1.
  EXPECT_EQ(ReciprocalRankAt(q1, ranking, 1), 0.0);
  EXPECT_EQ(ReciprocalRankAt(q1, ranking, 2), 0.5);
  // nDCG@1: rank 1 is d4 (not relevant) -> 0.
  EXPECT_EQ(NdcgAt(q1, ranking, 1), 0.0);
  EXPECT_EQ(MetricValue({MetricKind::kRecall, 2}, q1, ranking), RecallAt(q1, ranking, 2));
}

TEST(EvalMetricsTest, PerfectRankingScoresOne) {
  const QueryQrels qrels = {{"a", 3}, {"b", 2}, {"c", 1}};
  const std::vector<std::string> ranking = {"a", "b", "c", "x"};
  EXPECT_NEAR(NdcgAt(qrels, ranking, 10), 1.0, kTolerance);
  EXPECT_NEAR(NdcgAt(qrels, ranking, 2), 1.0, kTolerance);
  EXPECT_EQ(RecallAt(qrels, ranking, 3), 1.0);
  EXPECT_EQ(ReciprocalRankAt(qrels, ranking, 10), 1.0);
  // Swapping the two best: DCG@10 = 2 + 3/log2(3) + 1/2 = 2 + 1.8927892607 + 0.5 = 4.3927892607
  // against the ideal 3 + 2/log2(3) + 1/2 = 3 + 1.2618595071 + 0.5 = 4.7618595071: 0.9224945117.
  const std::vector<std::string> swapped = {"b", "a", "c"};
  const double expected = (2 + 3 / std::log2(3.0) + 0.5) / (3 + 2 / std::log2(3.0) + 0.5);
  EXPECT_NEAR(NdcgAt(qrels, swapped, 10), expected, kTolerance);
  EXPECT_NEAR(expected, 0.9224945116765986, kTolerance);
}

TEST(EvalMetricsTest, RecallIsNotCappedAtK) {
  // Three relevant documents, all retrieved at the top: recall@2 is 2/3, not 1 (pytrec_eval).
  const QueryQrels qrels = {{"a", 1}, {"b", 1}, {"c", 1}};
  EXPECT_NEAR(RecallAt(qrels, {"a", "b", "c"}, 2), 2.0 / 3.0, kTolerance);
}

TEST(EvalMetricsTest, DuplicatesCountOnce) {
  const QueryQrels qrels = {{"a", 1}, {"b", 1}};
  // "a" three times: it counts once and takes one rank, so recall@2 sees a, b.
  const std::vector<std::string> ranking = {"a", "a", "a", "b"};
  EXPECT_EQ(RecallAt(qrels, ranking, 2), 1.0);
  EXPECT_NEAR(NdcgAt(qrels, ranking, 10), 1.0, kTolerance);
  // Without deduplication, nDCG would exceed 1.
  EXPECT_LE(NdcgAt({{"a", 1}}, {"a", "a"}, 10), 1.0);
  EXPECT_EQ(RecallAt({{"a", 1}}, {"a", "a"}, 10), 1.0);
}

TEST(EvalMetricsTest, EmptyRunScoresZero) {
  ASSERT_OK_AND_ASSIGN(const Evaluation evaluation,
                       Evaluate(ExampleQrels(), eval::Run(), {kNdcg10, kRecall100, kMrr10}));
  EXPECT_EQ(evaluation.per_query.size(), 3);  // q1, q2, q4; not q3
  EXPECT_EQ(evaluation.queries_missing_from_run, 3);
  EXPECT_THAT(evaluation.mean, ElementsAre(0.0, 0.0, 0.0));
}

TEST(EvalMetricsTest, EmptyRankingScoresZero) {
  const QueryQrels qrels = {{"a", 1}};
  EXPECT_EQ(NdcgAt(qrels, {}, 10), 0.0);
  EXPECT_EQ(RecallAt(qrels, {}, 10), 0.0);
  EXPECT_EQ(ReciprocalRankAt(qrels, {}, 10), 0.0);
}

TEST(EvalMetricsTest, QueriesWithoutRelevantDocumentsAreIgnored) {
  const Qrels qrels = {{"only-negative", {{"a", 0}, {"b", -1}}}, {"empty", {}}};
  const eval::Run run = {{"only-negative", {"a", "b"}}};
  ASSERT_OK_AND_ASSIGN(const Evaluation evaluation, Evaluate(qrels, run, {kNdcg10}));
  EXPECT_TRUE(evaluation.per_query.empty());
  EXPECT_THAT(evaluation.mean, ElementsAre(0.0));
  EXPECT_EQ(evaluation.queries_missing_from_run, 0);
  // The per-query functions say 0 rather than dividing by zero.
  EXPECT_EQ(NdcgAt(qrels.at("only-negative"), {"a"}, 10), 0.0);
  EXPECT_EQ(RecallAt(qrels.at("only-negative"), {"a"}, 10), 0.0);
}

TEST(EvalMetricsTest, NegativeGradesAreNotRelevant) {
  // A grade of -1 neither adds gain nor counts towards R.
  const QueryQrels qrels = {{"bad", -1}, {"good", 1}};
  EXPECT_EQ(ReciprocalRankAt(qrels, {"bad", "good"}, 10), 0.5);
  EXPECT_EQ(RecallAt(qrels, {"good"}, 10), 1.0);
  EXPECT_NEAR(NdcgAt(qrels, {"bad", "good"}, 10), 1 / std::log2(3.0), kTolerance);
}

TEST(EvalMetricsTest, EmptyQrelsAndMetrics) {
  ASSERT_OK_AND_ASSIGN(const Evaluation none, Evaluate(Qrels(), ExampleRun(), {kNdcg10}));
  EXPECT_TRUE(none.per_query.empty());
  EXPECT_THAT(none.mean, ElementsAre(0.0));
  ASSERT_OK_AND_ASSIGN(const Evaluation no_metrics, Evaluate(ExampleQrels(), ExampleRun(), {}));
  EXPECT_TRUE(no_metrics.mean.empty());
  EXPECT_EQ(no_metrics.per_query.size(), 3);
}

TEST(EvalMetricsTest, RejectsCutoffBelowOne) {
  EXPECT_THAT(Evaluate(ExampleQrels(), ExampleRun(), {kNdcg10, {MetricKind::kRecall, 0}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Recall@0")));
  EXPECT_EQ(NdcgAt({{"a", 1}}, {"a"}, 0), 0.0);
  EXPECT_EQ(RecallAt({{"a", 1}}, {"a"}, -3), 0.0);
}

TEST(EvalMetricsTest, MetricNames) {
  EXPECT_EQ(MetricName(kNdcg10), "nDCG@10");
  EXPECT_EQ(MetricName(kRecall100), "Recall@100");
  EXPECT_EQ(MetricName(kMrr10), "MRR@10");
  for (const Metric metric : {kNdcg10, kRecall100, kMrr10}) {
    EXPECT_THAT(ParseMetric(MetricName(metric)), ::ember::testing::IsOkAndHolds(metric));
  }
  EXPECT_THAT(ParseMetric("ndcg@10"), ::ember::testing::IsOkAndHolds(kNdcg10));
  EXPECT_THAT(ParseMetric("RECALL@2"),
              ::ember::testing::IsOkAndHolds(Metric{MetricKind::kRecall, 2}));
  EXPECT_THAT(ParseMetric("r@10"), ::ember::testing::IsOkAndHolds(Metric{MetricKind::kRecall, 10}));
  EXPECT_THAT(ParseMetric("mrr@1"), ::ember::testing::IsOkAndHolds(Metric{MetricKind::kMrr, 1}));
  for (const char* bad : {"ndcg", "ndcg@", "ndcg@0", "ndcg@-1", "ndcg@+5", "ndcg@ 5", "ndcg@1x",
                          "map@10", "@10", "ndcg@99999999999"}) {
    EXPECT_THAT(ParseMetric(bad), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(bad)))
        << bad;
  }
}

}  // namespace
}  // namespace ember::eval
