#include "tools/progress_bar.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ember::cli {
namespace {

constexpr std::chrono::milliseconds kTerminalInterval(100);
constexpr std::chrono::seconds kLogInterval(5);
constexpr int kBarWidth = 24;

// "42s", "3m07s", "1h05m".
std::string FormatDuration(double seconds) {
  const int64_t s = std::llround(seconds);
  if (s < 60) return absl::StrCat(s, "s");
  if (s < 3600) return absl::StrFormat("%dm%02ds", s / 60, s % 60);
  return absl::StrFormat("%dh%02dm", s / 3600, s / 60 % 60);
}

}  // namespace

ProgressBar::ProgressBar(std::FILE* out, int64_t total_bytes, bool interactive)
    : out_(out),
      total_bytes_(total_bytes),
      interactive_(interactive),
      start_(Clock::now()),
      last_draw_(start_) {}

void ProgressBar::Update(int64_t documents, int64_t bytes_read, int64_t chunks) {
  if (finished_) return;
  const Clock::time_point now = Clock::now();
  if (now - last_draw_ < (interactive_ ? Clock::duration(kTerminalInterval) : kLogInterval)) return;
  last_draw_ = now;
  Draw(documents, bytes_read, chunks, now);
}

void ProgressBar::Draw(int64_t documents, int64_t bytes_read, int64_t chunks,
                       Clock::time_point now) {
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0 ? static_cast<double>(documents) / elapsed : 0;
  std::string line;
  if (total_bytes_ > 0) {
    const double fraction =
        std::clamp(static_cast<double>(bytes_read) / static_cast<double>(total_bytes_), 0.0, 1.0);
    const int filled = static_cast<int>(fraction * kBarWidth);
    absl::StrAppend(&line, "[", std::string(filled, '#'), std::string(kBarWidth - filled, '.'),
                    "] ", absl::StrFormat("%3.0f%% ", fraction * 100));
  }
  absl::StrAppend(&line, documents, " docs");
  if (chunks != kNoChunks) absl::StrAppend(&line, " (", chunks, " chunks)");
  absl::StrAppend(&line, ", ", absl::StrFormat("%.0f", rate), " docs/s, ", FormatDuration(elapsed),
                  " elapsed");
  if (total_bytes_ > 0 && bytes_read > 0) {
    const double left =
        elapsed * static_cast<double>(total_bytes_ - bytes_read) / static_cast<double>(bytes_read);
    absl::StrAppend(&line, ", ETA ", FormatDuration(std::max(left, 0.0)));
  }
  if (interactive_) {
    // \r returns to the line's start and \x1b[K erases what a longer previous line left.
    std::fprintf(out_, "\r%s\x1b[K", line.c_str());
    drawn_ = true;
  } else {
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
}

void ProgressBar::Finish() {
  if (finished_) return;
  finished_ = true;
  if (drawn_) {
    std::fprintf(out_, "\r\x1b[K");
    std::fflush(out_);
  }
}

}  // namespace ember::cli
