#include "tools/models_dir.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "ember/options.h"
#include "tools/output.h"

namespace ember::cli {

std::string FindModelsDir() {
  if (const char* models = std::getenv("EMBER_MODELS_DIR"); models != nullptr && *models != '\0') {
    return models;
  }
  std::error_code error;
  const std::filesystem::path program = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return "";
  // <repo>/build*/tools/ember: the repository is three levels up from the program.
  const std::filesystem::path candidate =
      program.parent_path().parent_path().parent_path() / "models";
  if (!std::filesystem::is_directory(candidate, error)) return "";
  return candidate.string();
}

absl::StatusOr<std::string> ResolveModelName(const std::string& name,
                                             const std::string& models_dir) {
  absl::StatusOr<std::string> folder = ResolveModelFolder(name, models_dir);
  if (folder.ok() || !absl::IsNotFound(folder.status())) return folder;
  if (name.find('/') != std::string::npos) return folder;  // the hub's message says to pull it
  return WithHint(folder.status(),
                  name == kDefaultModelName
                      ? "run scripts/fetch-default-model.sh, or set EMBER_MODELS_DIR to the folder "
                        "holding default/"
                      : "give the model's folder, a hub id ORG/NAME, or set EMBER_MODELS_DIR to "
                        "the folder holding it");
}

}  // namespace ember::cli
