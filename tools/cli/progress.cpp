#include "cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

namespace vv::cli {

Progress::Progress(bool enabled, int sample_rate)
    : enabled_(enabled), tty_(isatty(2)), sample_rate_(sample_rate) {}

void Progress::set_text(size_t bytes, std::vector<size_t> segment_ends) {
  text_bytes_ = bytes;
  segment_ends_ = std::move(segment_ends);
}

void Progress::update(int64_t frames, int64_t samples, size_t text_pos, bool final_line) {
  if (!enabled_ || (!tty_ && !final_line)) return;
  const double secs = static_cast<double>(samples) / sample_rate_;
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string text;
  if (text_bytes_ > 0 && !final_line) {
    const double share = std::min(1.0, static_cast<double>(text_pos) / static_cast<double>(text_bytes_));
    char buf[96];
    const auto segment = static_cast<size_t>(
        std::upper_bound(segment_ends_.begin(), segment_ends_.end(), text_pos) - segment_ends_.begin());
    std::snprintf(buf, sizeof buf, "  segment %zu/%zu  text %.0f%%",
                  std::min(segment + 1, segment_ends_.size()), segment_ends_.size(), 100 * share);
    text = buf;
    if (share > 0.02) {  // the rest of the text at the pace so far
      std::snprintf(buf, sizeof buf, "  ETA %.0f s", elapsed * (1 - share) / share);
      text += buf;
    }
  }
  std::fprintf(stderr, "%sframes %lld  audio %.2f s  elapsed %.2f s  RTF %.3f%s%s", tty_ ? "\r" : "",
               static_cast<long long>(frames), secs, elapsed, secs > 0 ? elapsed / secs : 0.0, text.c_str(),
               final_line ? "\n" : "\033[K");
  std::fflush(stderr);
}

}  // namespace vv::cli
