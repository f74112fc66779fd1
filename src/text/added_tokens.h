// Added tokens (e.g. "<|endoftext|>"): found verbatim in the raw text before normalization and
// pre-tokenization, leftmost match first and the longest one at that position (HF AddedVocabulary with
// aho-corasick LeftmostLongest). Special and non-special added tokens are matched alike.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace vv {

struct AddedToken {
  std::string content;
  int32_t id;
  bool special;
};

class AddedTokenMatcher {
 public:
  struct Match {
    size_t begin, end;
    int32_t id;
  };

  AddedTokenMatcher() = default;
  explicit AddedTokenMatcher(std::vector<AddedToken> tokens);  // contents must be non-empty

  // All matches in `text`, in order, non-overlapping (appended to `out`, cleared first).
  void find_all(std::string_view text, std::vector<Match>& out) const;

  // The smallest k such that text[k..] is a non-empty proper prefix of some added token, i.e. where a
  // token could still start if more text arrived; text.size() if there is none.
  size_t partial_start(std::string_view text) const;

  std::optional<int32_t> id_of(std::string_view content) const;
  const AddedToken* token_of(int32_t id) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  std::vector<AddedToken> tokens_;
  std::array<std::vector<uint32_t>, 256> by_first_byte_;  // token indices, longest first
  std::unordered_map<int32_t, uint32_t> index_of_id_;
  size_t max_length_ = 0;
};

}  // namespace vv
