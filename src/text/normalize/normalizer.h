// English text normalization (numbers, money, dates, times, measures, ...) with weighted FST grammars
// compiled at export time (docs/TEXT_NORMALIZATION.md): tag the line with the tagger grammar, parse the
// tagged tokens, try their field orders until the verbalizer accepts one, then the post-processing grammar —
// the pipeline of nemo_text_processing's Normalizer.normalize(text, punct_post_process=False), line by line,
// with an alignment from every output byte to the input bytes it reads.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "text/normalize/fst_rewrite.h"

namespace vv::tn {

struct GrammarFiles {
  std::string tagger, verbalizer, post_processor;  // paths; post_processor may be empty
  size_t max_permutations = 729;
};

struct Normalized {
  std::string text;
  // source[i]: the byte span of the input that byte i of `text` reads (a whole token: "$5.50" for every
  // byte of "five dollars fifty cents"); non-decreasing in both ends.
  std::vector<std::pair<size_t, size_t>> source;
};

class Normalizer {
 public:
  // kModel naming the file when a grammar cannot be read.
  explicit Normalizer(const GrammarFiles& files);

  // One line (no '\n'): nemo's normalize(). A line the grammars cannot handle comes back as it is (stripped).
  Normalized normalize_line(std::string_view line) const;
  // Any text: every line on its own, the line breaks kept.
  Normalized normalize(std::string_view text) const;

 private:
  std::string verbalize(const std::string& tagged, const std::vector<size_t>& tag_consumed,
                        std::vector<std::pair<size_t, size_t>>& spans) const;
  Grammar tagger_, verbalizer_;
  std::unique_ptr<Grammar> post_;
  size_t max_permutations_;
};

}  // namespace vv::tn
