#include "db/fusion.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"

namespace ember::db {
namespace {

// Gathers every labelled hit of every list with its rank and score there; `contribution(list,
// rank, score)` adds to the fused score.
template <typename Contribution>
std::vector<FusedHit> Fuse(std::span<const std::vector<RankedHit>> lists, int limit,
                           Contribution contribution) {
  absl::flat_hash_map<Label, size_t> position;
  std::vector<FusedHit> fused;
  for (size_t list = 0; list < lists.size(); ++list) {
    for (size_t i = 0; i < lists[list].size(); ++i) {
      const RankedHit& hit = lists[list][i];
      auto [it, inserted] = position.try_emplace(hit.label, fused.size());
      if (inserted) {
        fused.push_back({.label = hit.label,
                         .ranks = std::vector<int>(lists.size(), 0),
                         .scores = std::vector<double>(lists.size(), 0.0)});
      }
      FusedHit& out = fused[it->second];
      if (out.ranks[list] != 0) continue;  // a label listed twice counts at its best rank
      out.ranks[list] = static_cast<int>(i) + 1;
      out.scores[list] = hit.score;
      out.score += contribution(list, static_cast<int>(i) + 1, hit.score);
    }
  }
  const auto better = [](const FusedHit& a, const FusedHit& b) {
    return a.score != b.score ? a.score > b.score : a.label < b.label;
  };
  const size_t keep = std::min(fused.size(), static_cast<size_t>(std::max(limit, 0)));
  std::partial_sort(fused.begin(), fused.begin() + keep, fused.end(), better);
  fused.resize(keep);
  return fused;
}

}  // namespace

std::vector<FusedHit> FuseReciprocalRank(std::span<const std::vector<RankedHit>> lists,
                                         double rank_constant, int limit) {
  return Fuse(lists, limit, [&](size_t, int rank, double) { return 1.0 / (rank_constant + rank); });
}

std::vector<FusedHit> FuseWeighted(std::span<const std::vector<RankedHit>> lists,
                                   std::span<const double> weights, int limit) {
  std::vector<double> low(lists.size()), high(lists.size());
  for (size_t list = 0; list < lists.size(); ++list) {
    if (lists[list].empty()) continue;
    const auto [min, max] = std::minmax_element(
        lists[list].begin(), lists[list].end(),
        [](const RankedHit& a, const RankedHit& b) { return a.score < b.score; });
    low[list] = min->score;
    high[list] = max->score;
  }
  return Fuse(lists, limit, [&](size_t list, int, double score) {
    const double range = high[list] - low[list];
    const double scaled = range > 0 ? (score - low[list]) / range : 1.0;
    return weights[list] * scaled;
  });
}

}  // namespace ember::db
