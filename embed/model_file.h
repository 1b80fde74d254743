// Reading the files of a model folder (JSON configs, vocabularies, vector tables) with errors that
// name the file. Stateless functions; safe to call from any thread.
#ifndef EMBER_EMBED_MODEL_FILE_H_
#define EMBER_EMBED_MODEL_FILE_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ember::embed {

// `directory` + "/" + `name`.
std::string JoinPath(std::string_view directory, std::string_view name);

// True when `path` names a regular file (or a symbolic link to one).
bool IsRegularFile(const std::string& path);

// The whole content of the file at `path`.
// NotFound: no such file. InvalidArgument: it is a directory. Internal: it cannot be read.
absl::StatusOr<std::string> ReadModelFile(const std::string& path);

// The file at `path` parsed as JSON.
// NotFound: no such file. InvalidArgument: not valid JSON (the message names the file and the byte
// offset of the error).
absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path);

}  // namespace ember::embed

#endif  // EMBER_EMBED_MODEL_FILE_H_
