#include "tools/models_dir.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "embed/model_hub.h"
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
  std::error_code error;
  if (std::filesystem::is_directory(name, error)) return name;
  if (name.find('/') != std::string::npos) {
    // A file (a GloVe .txt model), or a hub id that `ember model pull` put in the cache.
    return embed::ResolveModel(name);
  }
  if (models_dir.empty()) {
    return WithHint(absl::NotFoundError(absl::StrCat("model \"", name,
                                                     "\": not a folder, and there is no models "
                                                     "folder to look it up in")),
                    name == kDefaultModelName
                        ? "run scripts/fetch-default-model.sh, or set EMBER_MODELS_DIR to the "
                          "folder holding default/"
                        : "give the model's folder, or set EMBER_MODELS_DIR to the folder "
                          "holding it");
  }
  const std::filesystem::path folder = std::filesystem::path(models_dir) / name;
  if (!std::filesystem::is_directory(folder, error)) {
    return WithHint(
        absl::NotFoundError(absl::StrCat("model \"", name, "\": no folder ", folder.string())),
        name == kDefaultModelName ? "run scripts/fetch-default-model.sh"
                                  : "give the model's folder, or a hub id ORG/NAME");
  }
  return folder.string();
}

}  // namespace ember::cli
