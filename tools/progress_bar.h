// A progress report for long imports: documents done, rate (docs/s), chunks stored when the import
// cuts documents into chunks, and, when the input's size is known, a bar and the time left
// estimated from the bytes read.
//
// On a terminal the line is redrawn in place at most 10 times a second; elsewhere (a log file, a
// pipe) a plain line is written every 5 seconds, so logs stay readable. Nothing is written after
// Finish().
//
// Thread-safety: not thread-safe; one thread drives a ProgressBar.
#ifndef EMBER_TOOLS_PROGRESS_BAR_H_
#define EMBER_TOOLS_PROGRESS_BAR_H_

#include <chrono>
#include <cstdint>
#include <cstdio>

namespace ember::cli {

class ProgressBar {
 public:
  // Reports to `out` (not owned; usually stderr). `total_bytes`: the input's size, or 0 when
  // unknown (standard input), which leaves out the bar and the time left. `interactive`: whether
  // `out` is a terminal.
  ProgressBar(std::FILE* out, int64_t total_bytes, bool interactive);

  // Passed as `chunks` when the import does not chunk: no chunk count is shown.
  static constexpr int64_t kNoChunks = -1;

  // Records progress and redraws when the last drawing is old enough. Cheap enough to call per
  // line. `chunks`: documents stored for the `documents` done, or kNoChunks.
  void Update(int64_t documents, int64_t bytes_read, int64_t chunks = kNoChunks);

  // Clears the in-place line on a terminal. Further Update() calls draw nothing.
  void Finish();

 private:
  using Clock = std::chrono::steady_clock;

  void Draw(int64_t documents, int64_t bytes_read, int64_t chunks, Clock::time_point now);

  std::FILE* out_;
  int64_t total_bytes_;
  bool interactive_;
  bool finished_ = false;
  // Whether a line is on screen that Finish() must clear.
  bool drawn_ = false;
  Clock::time_point start_;
  Clock::time_point last_draw_;
};

}  // namespace ember::cli

#endif  // EMBER_TOOLS_PROGRESS_BAR_H_
