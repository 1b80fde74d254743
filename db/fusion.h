// Fusing ranked lists (a vector search's and a BM25 search's) into one ranking: reciprocal-rank
// fusion, or a weighted sum of min-max normalized scores.
#ifndef EMBER_DB_FUSION_H_
#define EMBER_DB_FUSION_H_

#include <span>
#include <vector>

#include "db/records.h"

namespace ember::db {

// One list's hit: a document and its score in that list (higher is better), best first.
struct RankedHit {
  Label label = 0;
  double score = 0;
};

// A fused hit, with where it stood in each input list, for `explain`.
struct FusedHit {
  Label label = 0;
  double score = 0;
  /// Per input list: the hit's 1-based rank, or 0 when the list does not hold it.
  std::vector<int> ranks;
  /// Per input list: the hit's score there (0 when absent).
  std::vector<double> scores;
};

// Reciprocal-rank fusion (Cormack et al. 2009): score = sum over lists of 1 / (rank_constant +
// rank). The best `limit` hits, by fused score, ties broken by label. rank_constant >= 0 (60 in
// the paper).
std::vector<FusedHit> FuseReciprocalRank(std::span<const std::vector<RankedHit>> lists,
                                         double rank_constant, int limit);

// Each list's scores are scaled to [0, 1] by its own minimum and maximum (all 1 when they are
// equal), and score = sum of weights[i] * scaled score in list i (0 where absent). `weights` has
// one weight per list. The best `limit` hits, ties broken by label.
std::vector<FusedHit> FuseWeighted(std::span<const std::vector<RankedHit>> lists,
                                   std::span<const double> weights, int limit);

}  // namespace ember::db

#endif  // EMBER_DB_FUSION_H_
