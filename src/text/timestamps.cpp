#include "text/timestamps.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "text/text_prep.h"
#include "text/utf8.h"

namespace vv {

namespace {

enum Kind { kText, kTail, kPause };

Kind kind_of(const AudioChunk& c) {
  if (c.frame_count == 0) return kPause;
  return c.text_begin == c.text_end ? kTail : kText;
}

bool is_space(std::string_view text, size_t pos, size_t* len) {
  size_t n = 0;
  const char32_t c = utf8::decode_at(text, pos, n);
  *len = n;
  return is_python_whitespace(c);
}

bool ends_sentence(std::string_view word) {
  size_t end = word.size();
  while (end > 0 && std::string_view("\"')]").find(word[end - 1]) != std::string_view::npos) --end;
  if (end == 0) return false;
  const char last = word[end - 1];
  return last == '.' || last == '!' || last == '?' || word.substr(0, end).ends_with("\u2026");
}

std::string clock(double s, char sep) {
  const auto ms = static_cast<long long>(std::llround(std::max(0.0, s) * 1000));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld%c%03lld", ms / 3600000, ms / 60000 % 60,
                ms / 1000 % 60, sep, ms % 1000);
  return buf;
}

std::string cue_text(std::string_view text, const TimedSpan& s) {
  std::string out;
  for (const char c : text.substr(s.begin, s.end - s.begin)) out += (c == '\n' || c == '\r') ? ' ' : c;
  return out;
}

}  // namespace

void TimestampBuilder::add(const AudioChunk& c) {
  const double t0 = static_cast<double>(samples_) / sample_rate_;
  samples_ += c.samples.size();
  const double t1 = static_cast<double>(samples_) / sample_rate_;
  const Kind k = kind_of(c);
  if (k == kPause) return;  // time passes (samples_), no text
  std::vector<Window>& list = k == kText ? text_ : tails_;
  if (!list.empty() && list.back().begin == c.text_begin && list.back().end == c.text_end &&
      list.back().end_s == t0) {
    list.back().end_s = t1;  // more frames of the same window
    return;
  }
  list.push_back({c.text_begin, c.text_end, t0, t1});
}

double TimestampBuilder::time_at(size_t pos, bool is_end) const {
  // The first text window ending after pos (a start) or at/after it (an end); spans grow monotonically.
  const auto it = std::lower_bound(text_.begin(), text_.end(), pos, [&](const Window& w, size_t p) {
    return is_end ? w.end < p : w.end <= p;
  });
  if (it == text_.end()) return text_.empty() ? 0.0 : text_.back().end_s;
  const bool inside = is_end ? it->begin < pos : it->begin <= pos;
  if (!inside) return is_end && it != text_.begin() ? std::prev(it)->end_s : it->start_s;  // pos in a gap
  const double f = static_cast<double>(pos - it->begin) / static_cast<double>(it->end - it->begin);
  return it->start_s + f * (it->end_s - it->start_s);
}

std::vector<TimedSpan> TimestampBuilder::words(std::string_view text, const Parts& parts) const {
  std::vector<TimedSpan> out;
  const Parts all = parts.empty() ? Parts{{0, text.size()}} : parts;
  for (const auto& [first, last] : all) {
    size_t pos = first, len = 0;
    while (pos < last) {
      while (pos < last && is_space(text, pos, &len)) pos += len;
      if (pos >= last) break;
      size_t end = pos;
      while (end < last && !is_space(text, end, &len)) end += len;
      out.push_back({pos, end, time_at(pos, false), time_at(end, true)});
      pos = end;
    }
  }
  // The frames after a segment's text (until its EOS) are the model still speaking its last words: they
  // go to the last word before them.
  for (const Window& tail : tails_) {
    const auto it = std::upper_bound(out.begin(), out.end(), tail.begin,
                                     [](size_t p, const TimedSpan& w) { return p < w.end; });
    if (it != out.begin()) std::prev(it)->end_s = std::max(std::prev(it)->end_s, tail.end_s);
  }
  for (size_t i = 0; i < out.size(); ++i) {  // non-decreasing
    if (i > 0) out[i].start_s = std::max(out[i].start_s, out[i - 1].end_s);
    out[i].end_s = std::max(out[i].end_s, out[i].start_s);
  }
  return out;
}

std::vector<TimedSpan> TimestampBuilder::sentences(std::string_view text, const Parts& parts) const {
  const std::vector<TimedSpan> w = words(text, parts);
  std::vector<TimedSpan> out;
  auto part_end = [&](size_t i) {  // a part ends between word i and word i + 1
    for (const auto& part : parts)
      if (w[i].end <= part.second && w[i + 1].begin >= part.second) return true;
    return false;
  };
  for (size_t i = 0; i < w.size(); ++i) {
    if (out.empty() || out.back().end != 0) out.push_back({w[i].begin, 0, w[i].start_s, 0});
    const bool line_break =
        i + 1 < w.size() &&
        (text.substr(w[i].end, w[i + 1].begin - w[i].end).find('\n') != std::string_view::npos ||
         part_end(i));
    if (ends_sentence(text.substr(w[i].begin, w[i].end - w[i].begin)) || line_break || i + 1 == w.size()) {
      out.back().end = w[i].end;
      out.back().end_s = w[i].end_s;
    }
  }
  return out;
}

std::string to_srt(std::string_view text, const std::vector<TimedSpan>& sentences) {
  std::string out;
  for (size_t i = 0; i < sentences.size(); ++i) {
    out += std::to_string(i + 1) + "\n" + clock(sentences[i].start_s, ',') + " --> " +
           clock(sentences[i].end_s, ',') + "\n" + cue_text(text, sentences[i]) + "\n\n";
  }
  return out;
}

std::string to_vtt(std::string_view text, const std::vector<TimedSpan>& sentences) {
  std::string out = "WEBVTT\n\n";
  for (const TimedSpan& s : sentences)
    out += clock(s.start_s, '.') + " --> " + clock(s.end_s, '.') + "\n" + cue_text(text, s) + "\n\n";
  return out;
}

std::string to_json(std::string_view text, const std::vector<TimedSpan>& words,
                    const std::vector<TimedSpan>& sentences) {
  auto list = [&](const std::vector<TimedSpan>& spans) {
    nlohmann::json a = nlohmann::json::array();
    for (const TimedSpan& s : spans)
      a.push_back({{"text", cue_text(text, s)}, {"start", s.start_s}, {"end", s.end_s}});
    return a;
  };
  return nlohmann::json{{"words", list(words)}, {"sentences", list(sentences)}}.dump(1) + "\n";
}

}  // namespace vv
