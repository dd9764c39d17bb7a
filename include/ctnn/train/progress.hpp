// ctnn/train/progress.hpp: what a training run prints while it runs. On a terminal (isatty) a
// live progress bar is redrawn in place (at most ~10 times a second) during an epoch and replaced
// by the epoch's summary line; when the stream is not a terminal (a pipe, a log file) only the
// summary lines are printed, one per epoch.
// Layer: train (includes nothing from ctnn).
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>

#include <unistd.h>

namespace ctnn::train {

enum class Display {
  automatic,  ///< bar when the stream is a terminal, lines otherwise
  bar,        ///< always the live bar (and the lines)
  lines,      ///< one line per epoch only
  none,       ///< silent
};

class Progress {
 public:
  explicit Progress(std::FILE* out = stdout, Display d = Display::automatic) : out_(out) {
    if (d == Display::automatic) d = out && ::isatty(::fileno(out)) ? Display::bar : Display::lines;
    if (!out) d = Display::none;
    bar_ = d == Display::bar;
    lines_ = d != Display::none;
  }
  bool shows_bar() const noexcept { return bar_; }

  void begin_epoch(std::size_t epoch, std::size_t epochs, std::size_t steps) noexcept {
    epoch_ = epoch;
    epochs_ = epochs;
    steps_ = steps;
    start_ = last_ = std::chrono::steady_clock::now();
    drawn_ = false;
  }
  /// After `done` of the epoch's steps, with the running mean loss.
  void update(std::size_t done, double loss) noexcept {
    if (!bar_) return;
    const auto now = std::chrono::steady_clock::now();
    if (drawn_ && done < steps_ && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    drawn_ = true;
    constexpr int width = 30;
    const int filled = steps_ ? static_cast<int>(width * done / steps_) : width;
    char bar[width + 1];
    for (int i = 0; i < width; ++i) bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    const double s = std::chrono::duration<double>(now - start_).count();
    std::fprintf(out_, "\r\033[Kepoch %zu/%zu [%s] %zu/%zu  loss %.4f  %.1f s", epoch_, epochs_, bar, done, steps_,
                 loss, s);
    std::fflush(out_);
  }
  /// The epoch's summary (one line, no newline needed).
  void end_epoch(const std::string& line) noexcept {
    if (!lines_) return;
    std::fprintf(out_, "%s%s\n", bar_ && drawn_ ? "\r\033[K" : "", line.c_str());
    std::fflush(out_);
  }
  /// A message outside the epoch lines (e.g. why training stopped).
  void message(const std::string& line) noexcept {
    if (!lines_) return;
    std::fprintf(out_, "%s\n", line.c_str());
    std::fflush(out_);
  }

 private:
  std::FILE* out_;
  bool bar_ = false, lines_ = true, drawn_ = false;
  std::size_t epoch_ = 0, epochs_ = 0, steps_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace ctnn::train
