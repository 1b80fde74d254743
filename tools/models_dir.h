// Where the `ember` command finds models named by a bare name ("default"): the models folder.
//
// The folder is $EMBER_MODELS_DIR when that is set and not empty; otherwise models/ of the
// repository the running program was built in (the program is <repo>/build*/tools/ember), when
// that folder exists. The command opens databases with DatabaseOptions::models_dir set to it, so
// that `--model default` means the same model to `ember embed`, `ember DB create` and every later
// open of the collection.
//
// Thread-safety: stateless functions; they read the environment and the file system.
#ifndef EMBER_TOOLS_MODELS_DIR_H_
#define EMBER_TOOLS_MODELS_DIR_H_

#include <string>

#include "absl/status/statusor.h"

namespace ember::cli {

// The name that stands for the default model: the folder `default` in the models folder.
inline constexpr char kDefaultModelName[] = "default";

// The models folder as described at the top, or an empty string when there is none (no
// EMBER_MODELS_DIR, and the program does not sit in a repository with a models/ folder).
std::string FindModelsDir();

// ResolveModelFolder (include/ember/options.h), the way collections resolve model names, with a
// hint on what to do when the model is not found.
absl::StatusOr<std::string> ResolveModelName(const std::string& name,
                                             const std::string& models_dir);

}  // namespace ember::cli

#endif  // EMBER_TOOLS_MODELS_DIR_H_
