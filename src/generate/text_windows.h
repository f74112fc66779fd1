// The queue of final text tokens between whoever produces them (the whole text at once, or a Stream fed
// incrementally) and the generation loop, which takes them text_window tokens at a time. Thread-safe:
// the producer appends from one thread while the generator blocks in next_window() on another.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "text/tokenizer.h"

namespace vv {

struct TextWindow {
  std::vector<int32_t> ids;             // 0..text_window tokens; empty once the text is exhausted
  size_t text_begin = 0, text_end = 0;  // byte span of the raw input text these tokens came from
};

class TextWindowQueue {
 public:
  explicit TextWindowQueue(int window_size) : window_(static_cast<size_t>(window_size)) {}

  // Appends tokens that can no longer change; Token::begin/end are byte offsets in the raw input text.
  void append(std::span<const Token> tokens);
  // No more tokens will come; `text_end` is the end of the text (span of the empty windows after it).
  void finish(size_t text_end);
  // Wakes a blocked next_window(), which then returns nullopt.
  void cancel();

  // True when next_window() would return without waiting.
  bool window_ready() const;
  // The next window: text_window tokens, or fewer (possibly none) once finish() was called. Blocks until
  // enough tokens are appended or finish()/cancel() is called; nullopt after cancel().
  std::optional<TextWindow> next_window();
  size_t token_count() const;

 private:
  bool ready_locked() const { return cancelled_ || finished_ || tokens_.size() - next_ >= window_; }

  size_t window_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<Token> tokens_;
  size_t next_ = 0, text_end_ = 0;
  bool finished_ = false, cancelled_ = false;
};

}  // namespace vv
