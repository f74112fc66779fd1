#include "generate/text_windows.h"

#include <algorithm>

namespace vv {

void TextWindowQueue::append(std::span<const Token> tokens) {
  if (tokens.empty()) return;
  {
    std::lock_guard lock(mutex_);
    tokens_.insert(tokens_.end(), tokens.begin(), tokens.end());
  }
  cv_.notify_all();
}

void TextWindowQueue::finish(size_t text_end) {
  {
    std::lock_guard lock(mutex_);
    finished_ = true;
    text_end_ = text_end;
  }
  cv_.notify_all();
}

void TextWindowQueue::cancel() {
  {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
  }
  cv_.notify_all();
}

bool TextWindowQueue::window_ready() const {
  std::lock_guard lock(mutex_);
  return ready_locked();
}

size_t TextWindowQueue::token_count() const {
  std::lock_guard lock(mutex_);
  return tokens_.size();
}

std::optional<TextWindow> TextWindowQueue::next_window() {
  std::unique_lock lock(mutex_);
  cv_.wait(lock, [this] { return ready_locked(); });
  if (cancelled_) return std::nullopt;
  const size_t n = std::min(window_, tokens_.size() - next_);
  TextWindow w;
  if (n == 0) {
    w.text_begin = w.text_end = text_end_;
    return w;
  }
  w.text_begin = tokens_[next_].begin;
  w.text_end = tokens_[next_].end;
  for (size_t i = next_; i < next_ + n; ++i) {
    w.ids.push_back(tokens_[i].id);
    w.text_begin = std::min(w.text_begin, tokens_[i].begin);
    w.text_end = std::max(w.text_end, tokens_[i].end);
  }
  next_ += n;
  return w;
}

}  // namespace vv
