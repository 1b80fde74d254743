// Helpers shared by the benchmark programs: reading .fvecs files, timing, memory and disk use, and
// the one-JSON-line-per-measurement output every benchmark prints.
#ifndef EMBER_BENCH_BENCH_COMMON_H_
#define EMBER_BENCH_BENCH_COMMON_H_

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"

namespace ember::bench {

// "1,2,4" -> {1, 2, 4}; InvalidArgument for anything but a non-empty list of positive integers.
inline absl::StatusOr<std::vector<int>> ParseIntList(const std::string& text) {
  std::vector<int> values;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int value;
    if (!absl::SimpleAtoi(part, &value) || value <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("not a positive integer: '", part, "'"));
    }
    values.push_back(value);
  }
  if (values.empty()) return absl::InvalidArgumentError("empty list");
  return values;
}

// Where a command-line flag's value goes: a string, a non-negative count, a boolean ("1"/"true" or
// "0"/"false"), or a comma-separated list of positive integers.
using FlagTarget = std::variant<std::string*, int*, int64_t*, bool*, std::vector<int>*>;

struct BenchFlag {
  const char* name;  // without the leading "--"
  FlagTarget target;
};

// Parses `--name value` pairs into the targets of `flags`. InvalidArgument naming the flag for an
// unknown flag, a missing value, or a value of the wrong form.
inline absl::Status ParseBenchFlags(int argc, char** argv, std::span<const BenchFlag> flags) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const BenchFlag* flag = nullptr;
    for (const BenchFlag& candidate : flags) {
      if (arg == absl::StrCat("--", candidate.name)) flag = &candidate;
    }
    if (flag == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown flag ", arg));
    if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat(arg, " needs a value"));
    const std::string value = argv[++i];
    const absl::Status bad =
        absl::InvalidArgumentError(absl::StrCat(arg, ": bad value '", value, "'"));
    if (auto* text = std::get_if<std::string*>(&flag->target)) {
      **text = value;
    } else if (auto* count = std::get_if<int*>(&flag->target)) {
      if (!absl::SimpleAtoi(value, *count) || **count < 0) return bad;
    } else if (auto* count64 = std::get_if<int64_t*>(&flag->target)) {
      if (!absl::SimpleAtoi(value, *count64) || **count64 < 0) return bad;
    } else if (auto* on = std::get_if<bool*>(&flag->target)) {
      if (!absl::SimpleAtob(value, *on)) return bad;
    } else if (auto* list = std::get_if<std::vector<int>*>(&flag->target)) {
      absl::StatusOr<std::vector<int>> parsed = ParseIntList(value);
      if (!parsed.ok()) return bad;
      **list = *std::move(parsed);
    }
  }
  return absl::OkStatus();
}

// Reads up to `limit` vectors (0: all) of an .fvecs file; *dim is set from the file, and when
// already set every vector must have it.
inline absl::StatusOr<std::vector<float>> ReadFvecs(const std::string& path, int64_t limit,
                                                    int* dim) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat(path, ": missing; run scripts/fetch-ann-data.sh (or bench/ann_bench.sh)"));
  }
  std::vector<float> vectors;
  int32_t d = 0;
  for (int64_t n = 0; (limit == 0 || n < limit) && in.read(reinterpret_cast<char*>(&d), 4); ++n) {
    if (d <= 0 || (*dim != 0 && d != *dim)) {
      return absl::DataLossError(absl::StrCat(path, ": bad dimension ", d, " at vector ", n));
    }
    *dim = d;
    const size_t at = vectors.size();
    vectors.resize(at + d);
    if (!in.read(reinterpret_cast<char*>(vectors.data() + at), 4 * static_cast<int64_t>(d))) {
      return absl::DataLossError(absl::StrCat(path, ": truncated at vector ", n));
    }
  }
  return vectors;
}

inline double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// Resident memory of this process, in MiB.
inline double ResidentMiB() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::strtod(line.c_str() + 6, nullptr) / 1024.0;
  }
  return 0;
}

// Size of a file, or of every file under a folder, in MiB.
inline double DiskMiB(const std::string& path) {
  uintmax_t bytes = 0;
  if (std::filesystem::is_regular_file(path)) return std::filesystem::file_size(path) / 1048576.0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(path)) {
    if (entry.is_regular_file()) bytes += entry.file_size();
  }
  return bytes / 1048576.0;
}

// One measurement as a line "JSON {...}" on stdout, for scripts to collect.
inline void Report(const nlohmann::json& line) { std::cout << "JSON " << line.dump() << std::endl; }

}  // namespace ember::bench

#endif  // EMBER_BENCH_BENCH_COMMON_H_
