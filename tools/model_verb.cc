// `ember model pull ORG/NAME[@REVISION]`: downloads a model's encoder files from the Hugging Face
// hub into the Hugging Face cache (shared with huggingface_hub and sentence-transformers), after
// which `ember embed ORG/NAME` and collections load it offline. `ember model path MODEL` prints the
// folder a model name resolves to, without the network.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "embed/model_hub.h"
#include "ember/status.h"
#include "nlohmann/json.hpp"
#include "tools/cli_args.h"
#include "tools/output.h"
#include "tools/verbs.h"

namespace ember::cli {
namespace {

using json = nlohmann::ordered_json;

// Files smaller than this arrive before a progress line would be worth drawing.
constexpr int64_t kProgressMinBytes = int64_t{4} << 20;

// "484 B", "226.1 KiB", "86.7 MiB", "1.2 GiB".
std::string HumanBytes(int64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = -1;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  return absl::StrFormat("%.1f %s", value, kUnits[unit]);
}

// Reports the download of large files on stderr: on a terminal one line redrawn in place at most
// ten times a second; elsewhere (a log) a plain line every five seconds.
class DownloadReporter {
 public:
  DownloadReporter() : interactive_(::isatty(STDERR_FILENO) == 1) {}

  void Update(const embed::DownloadProgress& progress) {
    if (progress.bytes_total >= 0 && progress.bytes_total < kProgressMinBytes) return;
    const auto now = std::chrono::steady_clock::now();
    const bool done = progress.bytes_done == progress.bytes_total;
    if (!done && now - last_draw_ < (interactive_ ? std::chrono::milliseconds(100)
                                                  : std::chrono::milliseconds(5000))) {
      return;
    }
    if (!interactive_ && done) return;  // the summary lists it
    last_draw_ = now;
    std::string line =
        absl::StrCat(std::string(progress.path), "  ", HumanBytes(progress.bytes_done));
    if (progress.bytes_total > 0) {
      absl::StrAppend(&line, " / ", HumanBytes(progress.bytes_total),
                      absl::StrFormat("  %3d%%", static_cast<int>(100 * progress.bytes_done /
                                                                  progress.bytes_total)));
    }
    if (interactive_) {
      std::fprintf(stderr, "\r\033[K%s", line.c_str());
      drawn_ = true;
    } else {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::fflush(stderr);
  }

  // Clears the in-place line on a terminal.
  void Finish() {
    if (drawn_) std::fprintf(stderr, "\r\033[K");
    drawn_ = false;
  }

 private:
  bool interactive_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_draw_{};
};

absl::Status RunPull(const Invocation& invocation, const std::string& model) {
  absl::StatusOr<embed::HubModelId> id = embed::ParseHubModelId(model);
  if (!id.ok()) return UsageError(id.status().message());
  DownloadReporter reporter;
  embed::PullOptions options;
  options.progress = [&reporter](const embed::DownloadProgress& progress) {
    reporter.Update(progress);
  };
  absl::StatusOr<embed::PullResult> pulled = embed::PullModel(*id, options);
  reporter.Finish();
  if (absl::IsUnavailable(pulled.status())) {
    return WithHint(pulled.status(),
                    "check the network and HF_ENDPOINT, then run the same command again: a "
                    "download resumes where it stopped");
  }
  EMBER_RETURN_IF_ERROR(pulled.status());

  int64_t downloaded_bytes = 0;
  int downloaded_files = 0;
  for (const embed::PulledFile& file : pulled->files) {
    if (!file.downloaded) continue;
    downloaded_bytes += file.size;
    ++downloaded_files;
  }
  if (invocation.format == Format::kJson) {
    json files = json::array();
    for (const embed::PulledFile& file : pulled->files) {
      files.push_back({{"path", file.path}, {"size", file.size}, {"downloaded", file.downloaded}});
    }
    const json result = {{"model", pulled->id.repo()},
                         {"revision", pulled->id.revision},
                         {"commit", pulled->commit},
                         {"snapshot", pulled->snapshot_dir},
                         {"downloaded_bytes", downloaded_bytes},
                         {"files", files}};
    std::fprintf(stdout, "%s\n", DumpJson(result).c_str());
    return absl::OkStatus();
  }
  for (const embed::PulledFile& file : pulled->files) {
    std::fprintf(stdout, "%-10s  %10s  %s\n", file.downloaded ? "downloaded" : "cached",
                 HumanBytes(file.size).c_str(), file.path.c_str());
  }
  std::fprintf(stdout, "%s at commit %s: %d of %zu files downloaded (%s)\n",
               pulled->id.ToString().c_str(), pulled->commit.c_str(), downloaded_files,
               pulled->files.size(), HumanBytes(downloaded_bytes).c_str());
  std::fprintf(stdout, "%s\n", pulled->snapshot_dir.c_str());
  return absl::OkStatus();
}

absl::Status RunPath(const Invocation& invocation, const std::string& model) {
  EMBER_ASSIGN_OR_RETURN(const std::string path, embed::ResolveModel(model));
  PrintResult(stdout, invocation.format, path, json{{"model", model}, {"path", path}});
  return absl::OkStatus();
}

absl::Status RunModel(const Invocation& invocation) {
  const std::vector<std::string>& positionals = invocation.args.positionals();
  const std::string& command = positionals[0];
  if (command == "pull") return RunPull(invocation, positionals[1]);
  if (command == "path") return RunPath(invocation, positionals[1]);
  return UsageError(absl::StrCat("unknown model command \"", command, "\" (pull or path)"));
}

}  // namespace

Verb ModelVerb() {
  return Verb{
      .name = "model",
      .positionals = "COMMAND MODEL",
      .flag_synopsis = "",
      .summary = "download a model from the Hugging Face hub (pull), or locate it (path)",
      .details =
          "  pull ORG/NAME[@REVISION]   download the files an encoder needs (safetensors weights,\n"
          "                             tokenizer, configs) into the Hugging Face cache and print\n"
          "                             them and the snapshot folder; files already there are not\n"
          "                             downloaded again, an interrupted download resumes\n"
          "  path MODEL                 print the folder MODEL (a folder, or ORG/NAME[@REVISION])\n"
          "                             loads from, without the network\n"
          "After a pull, `ember embed ORG/NAME` and collections load the model offline.\n"
          "Environment: HF_ENDPOINT (default https://huggingface.co), HF_TOKEN (private and gated\n"
          "models), HF_HUB_CACHE or HF_HOME (default ~/.cache/huggingface; shared with\n"
          "huggingface_hub and sentence-transformers).\n",
      .flags = {},
      .run = RunModel,
      .takes_database = false,
  };
}

}  // namespace ember::cli
