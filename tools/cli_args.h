// The `ember` command's flag parser: one small, strict parser shared by every verb.
//
// A verb declares the flags it accepts; anything else is a usage error (exit code 2), as is a flag
// missing its value or a number that does not parse. Flags take the forms `--name value`,
// `--name=value` and, for single-letter flags, `-k value`. `--` ends the flags: later arguments are
// positional even when they start with '-'.
//
// Thread-safety: plain values and pure functions; safe to use from any thread.
#ifndef EMBER_TOOLS_CLI_ARGS_H_
#define EMBER_TOOLS_CLI_ARGS_H_

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ember::cli {

// Returns a status that marks a mistake in the command line: the program prints it with the verb's
// usage line and exits with code 2 (not 1, which means the operation itself failed).
absl::Status UsageError(absl::string_view message);

// True when `status` came from UsageError().
bool IsUsageError(const absl::Status& status);

enum class FlagKind {
  /// Present or absent; takes no value.
  kSwitch,
  /// Takes one value, any string.
  kString,
  /// Takes one value, a decimal integer that fits in an int (checked while parsing). Ranges are the
  /// library's to check, so its message names the option ("hnsw.m must be in [2, 256], got 0").
  kInteger,
  /// Takes one value, a finite decimal number such as "0.5" or "60" (checked while parsing). As for
  /// kInteger, ranges are the library's to check.
  kNumber,
  /// Takes one value and may be given any number of times; GetAll returns the values in order.
  kRepeated,
};

struct FlagSpec {
  /// Long name without dashes, e.g. "ef-search"; written `--ef-search`.
  absl::string_view name;
  FlagKind kind = FlagKind::kString;
  /// Optional one-letter alias written with one dash, e.g. 'k' for `-k`. '\0': none.
  char short_name = '\0';
};

// The arguments of one verb after parsing: positional arguments in order and the flags given.
class ParsedArgs {
 public:
  const std::vector<std::string>& positionals() const { return positionals_; }

  // True when the flag was given (with or without a value).
  bool Has(absl::string_view name) const;

  // The flag's value, or nullopt when it was not given.
  std::optional<std::string> GetString(absl::string_view name) const;

  // The integer value of a kInteger flag, or nullopt when it was not given. The value was checked
  // while parsing, so this cannot fail.
  std::optional<int> GetInteger(absl::string_view name) const;

  // The value of a kNumber flag, or nullopt when it was not given. Checked while parsing, so this
  // cannot fail.
  std::optional<double> GetNumber(absl::string_view name) const;

  // Every value of a kRepeated flag in command-line order; empty when it was not given.
  std::vector<std::string> GetAll(absl::string_view name) const;

 private:
  friend absl::StatusOr<ParsedArgs> ParseArgs(std::span<const std::string> args,
                                              std::span<const FlagSpec> specs);
  std::vector<std::string> positionals_;
  // Each flag's values in order: one for a kString or kInteger flag, none for a switch.
  std::map<std::string, std::vector<std::string>, std::less<>> values_;
};

// Parses `args` (the words after the verb) against `specs`. UsageError for an unknown flag, a flag
// other than kRepeated given twice, a flag missing its value, a value on a switch, a kInteger value
// that is not a decimal integer in int range, or a kNumber value that is not a finite number.
absl::StatusOr<ParsedArgs> ParseArgs(std::span<const std::string> args,
                                     std::span<const FlagSpec> specs);

}  // namespace ember::cli

#endif  // EMBER_TOOLS_CLI_ARGS_H_
