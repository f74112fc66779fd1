// SIGINT/SIGTERM handling for long-running commands: while an InterruptGuard lives, the first signal only
// sets a flag (generation polls it between frames and stops; blocking reads return early with EINTR), so the
// command can publish the audio produced so far and exit 128 + signal. The handler resets itself: a second
// signal terminates the process at once. SIGPIPE is ignored, so writing to a closed pipe is a clean error.
#pragma once

namespace vv::cli {

class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();  // restores the previous handlers
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  static int signal_number();  // 0 while no signal arrived
};

}  // namespace vv::cli
