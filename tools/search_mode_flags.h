// The flags that choose which index answers a search and how a hybrid search fuses its two sides
// (--mode, --fusion, --rank-constant, --vector-weight, --fusion-depth), shared by `search` and
// `eval`, and the hints the command adds when a collection lacks the index a mode needs.
//
// Thread-safety: pure functions; safe to call from any thread.
#ifndef EMBER_TOOLS_SEARCH_MODE_FLAGS_H_
#define EMBER_TOOLS_SEARCH_MODE_FLAGS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "ember/options.h"
#include "ember/search.h"
#include "tools/cli_args.h"

namespace ember::cli {

// The specs of those flags, for a verb's flag table to list (a constexpr table cannot splice in
// another): {"mode"}, {"fusion"}, {"rank-constant", kNumber}, {"vector-weight", kNumber},
// {"fusion-depth", kInteger}.
inline constexpr FlagSpec kModeFlag{"mode"};
inline constexpr FlagSpec kFusionFlag{"fusion"};
inline constexpr FlagSpec kRankConstantFlag{"rank-constant", FlagKind::kNumber};
inline constexpr FlagSpec kVectorWeightFlag{"vector-weight", FlagKind::kNumber};
inline constexpr FlagSpec kFusionDepthFlag{"fusion-depth", FlagKind::kInteger};

// Reads --mode and the fusion flags into request.mode and request.fusion (what is not given keeps
// its default). UsageError naming the accepted values for an unknown mode or fusion method, and
// for a flag the search would silently ignore: a fusion flag with --mode text or vector,
// --rank-constant unless the fusion (given, or FusionOptions' default) is rrf, --vector-weight
// unless it is weighted. Numeric
// ranges are the library's to check (Collection::Search names the field).
absl::Status ApplySearchModeFlags(const ParsedArgs& args, SearchRequest& request);

// UsageError when a fusion flag was given but the search runs in `resolved` mode, not hybrid (as
// with --mode auto on a collection without a full-text index): the flag would do nothing.
absl::Status CheckFusionFlagsApply(const ParsedArgs& args, SearchMode resolved);

// `status` carrying a hint on what to do instead when it is the FailedPrecondition of a search in
// `mode` that the collection of `spec` cannot serve: text or hybrid without a full-text index,
// vector or hybrid on a text-only collection. Any other status is returned unchanged.
absl::Status WithSearchModeHint(absl::Status status, const CollectionSpec& spec, SearchMode mode);

}  // namespace ember::cli

#endif  // EMBER_TOOLS_SEARCH_MODE_FLAGS_H_
