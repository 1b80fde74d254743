// The verbs of the `ember` command (create, import, search, ...): what each accepts and what it
// runs. main.cc parses the global flags and the verb's flags, then calls Verb::run with an
// Invocation.
//
// Thread-safety: the verb tables are immutable; a verb runs on the thread that calls it.
#ifndef EMBER_TOOLS_VERBS_H_
#define EMBER_TOOLS_VERBS_H_

#include <memory>
#include <span>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ember/collection.h"
#include "ember/database.h"
#include "ember/options.h"
#include "tools/cli_args.h"
#include "tools/output.h"

namespace ember::cli {

// One run of a verb: the database folder (empty for a verb that takes none), the global flags and
// the verb's own arguments.
struct Invocation {
  std::string database_path;
  Format format = Format::kHuman;
  /// --read-only: open the database without writing.
  bool read_only = false;
  ParsedArgs args;
};

struct Verb {
  const char* name;
  /// Positional arguments: "COLL" required, "[COLL]" optional, "ID..." one or more.
  const char* positionals;
  /// Flags, as shown in the usage line.
  const char* flag_synopsis;
  /// One line for the verb list of `ember --help`.
  const char* summary;
  /// The flags explained, for `ember help VERB`; may be empty.
  const char* details;
  std::span<const FlagSpec> flags;
  /// Runs the verb. A UsageError (bad flag value) exits with 2, any other error with 1.
  absl::Status (*run)(const Invocation& invocation);
  /// Whether the verb is written `ember DB VERB` (true) or `ember VERB` with no database (embed).
  bool takes_database = true;
};

// create, reembed, drop, collections, stats.
std::span<const Verb> CollectionVerbs();
// import, search, get, delete.
std::span<const Verb> DocumentVerbs();

// The verbs without a database: embed, model.
std::span<const Verb> StandaloneVerbs();

// eval.
std::span<const Verb> EvalVerbs();

// Opens invocation.database_path with `options` (read_only taken from the invocation; models_dir,
// when empty, from FindModelsDir() of models_dir.h). Errors are Database::Open's, carrying a hint
// on what to do next.
absl::StatusOr<std::unique_ptr<Database>> OpenDatabase(const Invocation& invocation,
                                                       DatabaseOptions options);

// Database::GetCollection, with a hint on NotFound.
absl::StatusOr<std::shared_ptr<Collection>> OpenCollection(const Invocation& invocation,
                                                           const Database& database,
                                                           const std::string& name);

}  // namespace ember::cli

#endif  // EMBER_TOOLS_VERBS_H_
