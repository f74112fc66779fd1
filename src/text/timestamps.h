// Word and sentence timestamps from the generation's alignment. Each audio chunk says which text windows
// its frames were generated for (AudioChunk::text_begin/text_end, bytes of the input text); a window's
// text is given the time of the frames generated while it was the current window, spread over its bytes in
// proportion, and the frames after the text (until EOS) go to the last word before them. This is when the
// model *consumed* the text, not a forced alignment of the audio: the realtime model speaks a window's text
// during that window's frames or a little later, so times can lead the speech by up to a window or two
// (about 1 s). Pauses between script turns (chunks with frame_count 0) take time but no text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vibevoice/vibevoice.hpp"

namespace vv {

struct TimedSpan {
  size_t begin = 0, end = 0;  // bytes of the text
  double start_s = 0, end_s = 0;
};

class TimestampBuilder {
 public:
  explicit TimestampBuilder(int sample_rate) : sample_rate_(sample_rate) {}
  void add(const AudioChunk& chunk);  // every chunk, in order

  // Whitespace-separated words (in text order, each once) and sentences (ended by . ! ? …, a line break or
  // the end of a part), with non-decreasing times that cover the audio. `parts`: the byte spans of the text
  // that were spoken (a script's turns without their labels); empty = all of it.
  using Parts = std::vector<std::pair<size_t, size_t>>;
  std::vector<TimedSpan> words(std::string_view text, const Parts& parts = {}) const;
  std::vector<TimedSpan> sentences(std::string_view text, const Parts& parts = {}) const;

 private:
  struct Window {
    size_t begin, end;  // the text span (empty for the frames after a segment's text)
    double start_s, end_s;
  };
  double time_at(size_t pos, bool is_end) const;
  int sample_rate_;
  size_t samples_ = 0;
  std::vector<Window> text_;   // windows with text, in text order
  std::vector<Window> tails_;  // the frames after each segment's text
};

// Subtitle files: one cue per sentence. SRT ("1\n00:00:01,250 --> 00:00:02,000\ntext\n\n"), WebVTT, and
// JSON {"words": [{"text", "start", "end"}], "sentences": [...]} (seconds).
std::string to_srt(std::string_view text, const std::vector<TimedSpan>& sentences);
std::string to_vtt(std::string_view text, const std::vector<TimedSpan>& sentences);
std::string to_json(std::string_view text, const std::vector<TimedSpan>& words,
                    const std::vector<TimedSpan>& sentences);

}  // namespace vv
