#include "tools/cli_args.h"

#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ember::cli {
namespace {

// The payload that marks a status as a usage error; its presence is all that matters.
constexpr absl::string_view kUsageErrorPayload = "ember.cli/usage-error";

const FlagSpec* FindLong(std::span<const FlagSpec> specs, absl::string_view name) {
  for (const FlagSpec& spec : specs) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

const FlagSpec* FindShort(std::span<const FlagSpec> specs, char name) {
  for (const FlagSpec& spec : specs) {
    if (spec.short_name != '\0' && spec.short_name == name) return &spec;
  }
  return nullptr;
}

}  // namespace

absl::Status UsageError(absl::string_view message) {
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kUsageErrorPayload, absl::Cord());
  return status;
}

bool IsUsageError(const absl::Status& status) {
  return status.GetPayload(kUsageErrorPayload).has_value();
}

bool ParsedArgs::Has(absl::string_view name) const { return values_.contains(name); }

std::optional<std::string> ParsedArgs::GetString(absl::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end() || it->second.empty()) return std::nullopt;
  return it->second.back();
}

std::optional<int> ParsedArgs::GetInteger(absl::string_view name) const {
  auto it = values_.find(name);
  int value = 0;
  if (it == values_.end() || it->second.empty() || !absl::SimpleAtoi(it->second.back(), &value)) {
    return std::nullopt;
  }
  return value;
}

std::optional<double> ParsedArgs::GetNumber(absl::string_view name) const {
  auto it = values_.find(name);
  double value = 0;
  if (it == values_.end() || it->second.empty() || !absl::SimpleAtod(it->second.back(), &value)) {
    return std::nullopt;
  }
  return value;
}

std::vector<std::string> ParsedArgs::GetAll(absl::string_view name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return {};
  return it->second;
}

absl::StatusOr<ParsedArgs> ParseArgs(std::span<const std::string> args,
                                     std::span<const FlagSpec> specs) {
  ParsedArgs parsed;
  bool flags_ended = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    // A lone "-" is positional: it names standard input.
    if (flags_ended || arg.size() < 2 || arg[0] != '-') {
      parsed.positionals_.push_back(arg);
      continue;
    }
    if (arg == "--") {
      flags_ended = true;
      continue;
    }
    const FlagSpec* spec = nullptr;
    std::optional<std::string> inline_value;
    if (arg[1] == '-') {
      absl::string_view body = absl::string_view(arg).substr(2);
      if (size_t eq = body.find('='); eq != absl::string_view::npos) {
        inline_value = std::string(body.substr(eq + 1));
        body = body.substr(0, eq);
      }
      spec = FindLong(specs, body);
    } else if (arg.size() == 2) {
      spec = FindShort(specs, arg[1]);
    }
    if (spec == nullptr) return UsageError(absl::StrCat("unknown option ", arg));
    const std::string display = absl::StrCat("--", spec->name);
    if (spec->kind != FlagKind::kRepeated && parsed.values_.contains(spec->name)) {
      return UsageError(absl::StrCat(display, " given twice"));
    }
    std::string value;
    if (spec->kind == FlagKind::kSwitch) {
      if (inline_value) return UsageError(absl::StrCat(display, " takes no value"));
    } else if (inline_value) {
      value = *std::move(inline_value);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return UsageError(absl::StrCat(display, " needs a value"));
    }
    if (int number = 0; spec->kind == FlagKind::kInteger && !absl::SimpleAtoi(value, &number)) {
      return UsageError(absl::StrCat(display, " needs an integer, got \"", value, "\""));
    }
    // SimpleAtod accepts "nan" and "inf", which no option means.
    if (double number = 0; spec->kind == FlagKind::kNumber &&
                           !(absl::SimpleAtod(value, &number) && std::isfinite(number))) {
      return UsageError(absl::StrCat(display, " needs a number, got \"", value, "\""));
    }
    std::vector<std::string>& values = parsed.values_[std::string(spec->name)];
    if (spec->kind != FlagKind::kSwitch) values.push_back(std::move(value));
  }
  return parsed;
}

}  // namespace ember::cli
