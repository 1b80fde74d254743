// PlanSearch: which strategy a filtered search gets, and with how much effort.
#include "db/filter_planner.h"
#include "gtest/gtest.h"

namespace ember::db {
namespace {

IndexSpec Hnsw(int ef_search) {
  IndexSpec spec;
  spec.kind = IndexKind::kHnsw;
  spec.hnsw.ef_search = ef_search;
  return spec;
}

TEST(FilterPlannerTest, UnfilteredSearchesTraverseWithTheCollectionsEffort) {
  const PlannedSearch plan =
      PlanSearch({.matching = 1000000, .total = 1000000, .dimension = 100, .index = Hnsw(64)});
  EXPECT_EQ(plan.strategy, SearchStrategy::kIndex);
  EXPECT_EQ(plan.ef_search, 64);
  EXPECT_EQ(plan.max_scored, 0) << "an unfiltered traversal never gives up";
}

TEST(FilterPlannerTest, FewMatchesAreScoredExactly) {
  // matching * dimension at the budget: exact; one more match: a traversal.
  const int64_t at_budget = kExactScanBudget / 100;
  EXPECT_EQ(PlanSearch({.matching = at_budget,
                        .total = 1000000,
                        .filtered = true,
                        .dimension = 100,
                        .index = Hnsw(64)})
                .strategy,
            SearchStrategy::kExact);
  EXPECT_EQ(PlanSearch({.matching = at_budget + 1,
                        .total = 1000000,
                        .filtered = true,
                        .dimension = 100,
                        .index = Hnsw(64)})
                .strategy,
            SearchStrategy::kFilteredIndex);
  EXPECT_EQ(PlanSearch({.matching = 0, .total = 10, .filtered = true, .index = Hnsw(64)}).strategy,
            SearchStrategy::kEmpty);
  // A flat index always scans.
  IndexSpec flat;
  flat.kind = IndexKind::kFlat;
  EXPECT_EQ(
      PlanSearch(
          {.matching = 900000, .total = 1000000, .filtered = true, .dimension = 100, .index = flat})
          .strategy,
      SearchStrategy::kExact);
}

TEST(FilterPlannerTest, TraversalEffortGrowsAsTheFilterNarrows) {
  const PlannedSearch half = PlanSearch({.matching = 500000,
                                         .total = 1000000,
                                         .filtered = true,
                                         .dimension = 100,
                                         .index = Hnsw(64)});
  EXPECT_EQ(half.strategy, SearchStrategy::kFilteredIndex);
  EXPECT_EQ(half.ef_search, 128);
  EXPECT_EQ(half.max_scored, 500000 / kTraversalGiveUpRatio);
  const PlannedSearch tenth = PlanSearch({.matching = 100000,
                                          .total = 1000000,
                                          .filtered = true,
                                          .dimension = 100,
                                          .index = Hnsw(64)});
  EXPECT_EQ(tenth.ef_search, 640);
  // The query's own ef overrides the collection's, and is scaled the same way.
  const PlannedSearch requested = PlanSearch({.matching = 500000,
                                              .total = 1000000,
                                              .filtered = true,
                                              .dimension = 100,
                                              .index = Hnsw(64),
                                              .requested_ef_search = 200});
  EXPECT_EQ(requested.ef_search, 400);
}

TEST(FilterPlannerTest, IvfProbesMoreListsAsTheFilterNarrows) {
  IndexSpec ivf;
  ivf.kind = IndexKind::kIvf;
  ivf.ivf.nlist = 1024;
  ivf.ivf.nprobe = 32;
  const PlannedSearch quarter = PlanSearch(
      {.matching = 250000, .total = 1000000, .filtered = true, .dimension = 100, .index = ivf});
  EXPECT_EQ(quarter.strategy, SearchStrategy::kFilteredIndex);
  EXPECT_EQ(quarter.nprobe, 128);
  const PlannedSearch narrow = PlanSearch(
      {.matching = 50000, .total = 10000000, .filtered = true, .dimension = 100, .index = ivf});
  EXPECT_EQ(narrow.nprobe, 1024) << "never more lists than there are";
}

}  // namespace
}  // namespace ember::db
