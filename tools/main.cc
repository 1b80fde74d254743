// The `ember` command: `ember DB VERB [ARGS]`, in the manner of sqlite3, and `ember VERB [ARGS]`
// for the verbs that need no database (embed, model). This file finds the verb,
// parses the global flags (--json, --read-only, --help) wherever they appear, checks the verb's
// arguments, runs it and turns its status into an exit code: 0 ok, 1 the operation failed, 2 the
// command line was wrong.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tools/cli_args.h"
#include "tools/output.h"
#include "tools/verbs.h"

namespace ember::cli {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

constexpr char kGlobalHelp[] =
    "global options (anywhere on the line):\n"
    "  --json        print JSON for scripts: one object per line\n"
    "  --read-only   open without writing; works while another process writes\n"
    "  --help, -h    help; `ember help VERB` explains a verb\n"
    "\n"
    "exit codes: 0 ok, 1 the operation failed, 2 the command line is wrong\n";

std::vector<const Verb*> AllVerbs() {
  std::vector<const Verb*> verbs;
  for (const Verb& verb : CollectionVerbs()) verbs.push_back(&verb);
  for (const Verb& verb : DocumentVerbs()) verbs.push_back(&verb);
  for (const Verb& verb : EvalVerbs()) verbs.push_back(&verb);
  for (const Verb& verb : StandaloneVerbs()) verbs.push_back(&verb);
  return verbs;
}

const Verb* FindVerb(absl::string_view name) {
  for (const Verb* verb : AllVerbs()) {
    if (name == verb->name) return verb;
  }
  return nullptr;
}

std::string UsageLine(const Verb& verb) {
  std::string line = absl::StrCat("usage: ember ", verb.takes_database ? "DB " : "", verb.name);
  for (const char* part : {verb.positionals, verb.flag_synopsis}) {
    if (*part != '\0') absl::StrAppend(&line, " ", part);
  }
  return line;
}

void PrintGeneralHelp(std::FILE* out) {
  std::fprintf(out,
               "usage: ember DB VERB [ARGS]\n\n"
               "Ember keeps collections of documents and their vectors in the folder DB.\n\n"
               "verbs:\n");
  for (const bool takes_database : {true, false}) {
    if (!takes_database) std::fprintf(out, "\nwithout a database: ember VERB [ARGS]\n");
    for (const Verb* verb : AllVerbs()) {
      if (verb->takes_database != takes_database) continue;
      const std::string call = absl::StrCat(verb->name, " ", verb->positionals);
      std::fprintf(out, "  %-22s %s\n", call.c_str(), verb->summary);
    }
  }
  std::fprintf(out, "\n%s", kGlobalHelp);
}

void PrintVerbHelp(const Verb& verb) {
  std::printf("%s\n\n%s\n", UsageLine(verb).c_str(), verb.summary);
  if (*verb.details != '\0') std::printf("\n%s", verb.details);
  std::printf("\n%s", kGlobalHelp);
}

int ReportUsageError(const absl::Status& status, const Verb* verb) {
  std::fprintf(stderr, "ember: %s\n", std::string(status.message()).c_str());
  if (verb != nullptr) {
    std::fprintf(stderr, "%s\n(`ember help %s` for details)\n", UsageLine(*verb).c_str(),
                 verb->name);
  } else {
    std::fprintf(stderr, "usage: ember DB VERB [ARGS]  (`ember --help` lists the verbs)\n");
  }
  return kExitUsage;
}

// Checks the positional arguments against the verb's pattern: "COLL" is required, "[COLL]"
// optional, "ID..." takes one or more.
absl::Status CheckPositionals(const Verb& verb, const std::vector<std::string>& given) {
  size_t next = 0;
  for (absl::string_view name : absl::StrSplit(verb.positionals, ' ', absl::SkipEmpty())) {
    const bool optional = absl::StartsWith(name, "[");
    const bool repeated = absl::EndsWith(name, "...");
    if (next >= given.size()) {
      if (optional) break;
      return UsageError(absl::StrCat("missing ", name));
    }
    next = repeated ? given.size() : next + 1;
  }
  if (next < given.size()) {
    return UsageError(absl::StrCat("unexpected argument \"", given[next], "\""));
  }
  return absl::OkStatus();
}

int Run(int argc, char** argv) {
  bool json = false;
  bool read_only = false;
  bool help = false;
  std::vector<std::string> words;
  bool flags_ended = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (flags_ended) {
      words.push_back(arg);
    } else if (arg == "--json") {
      json = true;
    } else if (arg == "--read-only") {
      read_only = true;
    } else if (arg == "--help" || arg == "-h") {
      help = true;
    } else {
      // "--" is kept: the verb's parser also needs to see where flags end.
      flags_ended = arg == "--";
      words.push_back(arg);
    }
  }

  if (!words.empty() && words[0] == "help") {
    if (words.size() == 1) {
      PrintGeneralHelp(stdout);
      return kExitOk;
    }
    const Verb* verb = FindVerb(words[1]);
    if (verb == nullptr) {
      return ReportUsageError(UsageError(absl::StrCat("unknown verb \"", words[1], "\"")), nullptr);
    }
    PrintVerbHelp(*verb);
    return kExitOk;
  }
  // `ember embed ...`: a standalone verb comes first, where other commands have the database.
  const Verb* standalone = words.empty() ? nullptr : FindVerb(words[0]);
  if (standalone != nullptr && standalone->takes_database) standalone = nullptr;
  if (standalone == nullptr && words.size() < 2) {
    if (help) {
      PrintGeneralHelp(stdout);
      return kExitOk;
    }
    if (words.empty()) {
      PrintGeneralHelp(stderr);
      return kExitUsage;
    }
    return ReportUsageError(UsageError("missing VERB"), nullptr);
  }
  const Verb* verb = standalone != nullptr ? standalone : FindVerb(words[1]);
  if (verb == nullptr || (standalone == nullptr && !verb->takes_database)) {
    return ReportUsageError(UsageError(absl::StrCat("unknown verb \"", words[1], "\"")), nullptr);
  }
  if (help) {
    PrintVerbHelp(*verb);
    return kExitOk;
  }

  const size_t first_argument = verb->takes_database ? 2 : 1;
  const std::vector<std::string> verb_words(words.begin() + first_argument, words.end());
  auto args = ParseArgs(verb_words, verb->flags);
  if (!args.ok()) return ReportUsageError(args.status(), verb);
  const Invocation invocation{.database_path = verb->takes_database ? words[0] : "",
                              .format = json ? Format::kJson : Format::kHuman,
                              .read_only = read_only,
                              .args = *std::move(args)};
  if (absl::Status status = CheckPositionals(*verb, invocation.args.positionals()); !status.ok()) {
    return ReportUsageError(status, verb);
  }

  absl::Status status = verb->run(invocation);
  if (status.ok()) return kExitOk;
  if (IsUsageError(status)) return ReportUsageError(status, verb);
  if (status.code() == absl::StatusCode::kFailedPrecondition && read_only) {
    status = WithHint(status, "this changes the database: run it without --read-only");
  }
  PrintError(stderr, status);
  return kExitFailed;
}

}  // namespace
}  // namespace ember::cli

int main(int argc, char** argv) {
  try {
    const int code = ember::cli::Run(argc, argv);
    // Output that could not be written (a full disk, a closed pipe) is a failure, not silence.
    if (std::fflush(stdout) != 0 && code == 0) return 1;
    return code;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ember: internal error: %s\n", e.what());
    return 1;
  }
}
