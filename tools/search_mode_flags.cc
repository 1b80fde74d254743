#include "tools/search_mode_flags.h"

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "ember/status.h"
#include "tools/output.h"

namespace ember::cli {
namespace {

// The flags that tune fusion, in the order their mistakes are reported.
constexpr const char* kFusionFlagNames[] = {"fusion", "rank-constant", "vector-weight",
                                            "fusion-depth"};

}  // namespace

absl::Status ApplySearchModeFlags(const ParsedArgs& args, SearchRequest& request) {
  if (std::optional<std::string> name = args.GetString("mode")) {
    auto mode = ParseSearchMode(*name);
    if (!mode.ok()) return UsageError(absl::StrCat("--mode: ", mode.status().message()));
    request.mode = *mode;
  }
  // kAuto may still turn out hybrid; CheckFusionFlagsApply judges it once the collection is known.
  if (request.mode == SearchMode::kText || request.mode == SearchMode::kVector) {
    EMBER_RETURN_IF_ERROR(CheckFusionFlagsApply(args, request.mode));
  }
  FusionOptions& fusion = request.fusion;
  if (std::optional<std::string> name = args.GetString("fusion")) {
    auto method = ParseFusionMethod(*name);
    if (!method.ok()) return UsageError(absl::StrCat("--fusion: ", method.status().message()));
    fusion.method = *method;
  }
  const bool weighted = fusion.method == FusionMethod::kWeighted;
  if (std::optional<double> constant = args.GetNumber("rank-constant")) {
    if (weighted) {
      return UsageError("--rank-constant applies to reciprocal-rank fusion only (--fusion rrf)");
    }
    fusion.rank_constant = *constant;
  }
  if (std::optional<double> weight = args.GetNumber("vector-weight")) {
    if (!weighted) return UsageError("--vector-weight applies to --fusion weighted only");
    fusion.vector_weight = *weight;
  }
  fusion.depth = args.GetInteger("fusion-depth").value_or(fusion.depth);
  return absl::OkStatus();
}

absl::Status CheckFusionFlagsApply(const ParsedArgs& args, SearchMode resolved) {
  if (resolved == SearchMode::kHybrid) return absl::OkStatus();
  for (const char* flag : kFusionFlagNames) {
    if (args.Has(flag)) {
      return UsageError(absl::StrCat("--", flag,
                                     " applies to hybrid search only, and this one runs", " in ",
                                     SearchModeName(resolved), " mode"));
    }
  }
  return absl::OkStatus();
}

absl::Status WithSearchModeHint(absl::Status status, const CollectionSpec& spec, SearchMode mode) {
  if (status.code() != absl::StatusCode::kFailedPrecondition) return status;
  const SearchMode resolved = ResolveSearchMode(mode, spec, /*has_text=*/true);
  const bool text_side = resolved == SearchMode::kText || resolved == SearchMode::kHybrid;
  const bool vector_side = resolved == SearchMode::kVector || resolved == SearchMode::kHybrid;
  if (vector_side && spec.dimension == 0) {
    return WithHint(std::move(status),
                    "a text-only collection (created with --full-text and neither --model nor "
                    "--dim) is searched by words: --mode text, or leave --mode out");
  }
  if (text_side && !spec.full_text.enabled) {
    return WithHint(std::move(status),
                    "only a collection created with --full-text has a full-text index; search this "
                    "one with --mode vector, or leave --mode out");
  }
  return status;
}

}  // namespace ember::cli
