// A test fixture that runs the built `ember` program in a temporary folder: the command-line tests
// (tests/tools_*_test.cc) check its output, exit codes and what ends up in the database, read back
// through the command itself.
#ifndef EMBER_TESTS_TOOLS_CLI_RUNNER_H_
#define EMBER_TESTS_TOOLS_CLI_RUNNER_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"

namespace ember::testing {

inline constexpr char kEmberBinary[] = EMBER_BINARY_DIR "/tools/ember";

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

inline void WriteFile(const std::filesystem::path& path, const std::string& contents) {
  std::ofstream(path, std::ios::binary) << contents;
}

// Single-quotes `arg` for /bin/sh.
inline std::string ShellQuote(const std::string& arg) {
  std::string quoted = "'";
  for (char c : arg) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

// Parses JSON lines; fails the test on a line that is not JSON.
inline std::vector<nlohmann::json> JsonLines(const std::string& text) {
  std::vector<nlohmann::json> lines;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    nlohmann::json parsed = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(parsed.is_discarded()) << "not JSON: " << line;
    lines.push_back(std::move(parsed));
  }
  return lines;
}

// The keys of a JSON object, sorted.
inline std::vector<std::string> Keys(const nlohmann::json& object) {
  std::vector<std::string> keys;
  for (const auto& [key, unused] : object.items()) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  return keys;
}

// Each test gets a fresh folder `dir_` (removed afterwards) and a database path `db_` in it.
class CliRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(kEmberBinary))
        << kEmberBinary << " is missing: build the ember_cli target before the tests";
    char pattern[] = "/tmp/ember_cli_test_XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    db_ = (dir_ / "db").string();
  }

  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Runs `ember args...` with `input` on standard input and environment_ added to the
  // environment.
  RunResult Ember(const std::vector<std::string>& args, const std::string& input = "") {
    const std::filesystem::path in = dir_ / "stdin", out = dir_ / "stdout", err = dir_ / "stderr";
    WriteFile(in, input);
    std::string command;
    for (const auto& [name, value] : environment_) {
      absl::StrAppend(&command, name, "=", ShellQuote(value), " ");
    }
    absl::StrAppend(&command, ShellQuote(kEmberBinary));
    for (const std::string& arg : args) absl::StrAppend(&command, " ", ShellQuote(arg));
    absl::StrAppend(&command, " <", ShellQuote(in.string()), " >", ShellQuote(out.string()), " 2>",
                    ShellQuote(err.string()));
    const int status = std::system(command.c_str());
    RunResult result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result.out = ReadFile(out);
    result.err = ReadFile(err);
    return result;
  }

  // Writes `lines` to a file in the test folder and returns its path.
  std::string WriteJsonLines(const std::string& name, const std::vector<std::string>& lines) {
    const std::string path = (dir_ / name).string();
    WriteFile(path, absl::StrCat(absl::StrJoin(lines, "\n"), "\n"));
    return path;
  }

  // Document count as `ember DB stats COLL --json` reports it; -1 when it reports nothing.
  int64_t StoredCount(const std::string& collection) {
    const RunResult stats = Ember({db_, "stats", collection, "--json"});
    EXPECT_EQ(stats.exit_code, 0) << stats.err;
    const std::vector<nlohmann::json> lines = JsonLines(stats.out);
    if (lines.size() != 1) return -1;
    return lines[0].value("documents", int64_t{-1});
  }

  std::filesystem::path dir_;
  std::string db_;
  // Variables set for every run of the program, e.g. {"EMBER_MODELS_DIR", "/tmp/models"}.
  std::vector<std::pair<std::string, std::string>> environment_;
};

}  // namespace ember::testing

#endif  // EMBER_TESTS_TOOLS_CLI_RUNNER_H_
