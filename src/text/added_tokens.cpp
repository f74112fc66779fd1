#include "text/added_tokens.h"

#include <algorithm>

namespace vv {

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens) : tokens_(std::move(tokens)) {
  for (uint32_t i = 0; i < tokens_.size(); ++i) {
    const std::string& c = tokens_[i].content;
    by_first_byte_[static_cast<uint8_t>(c[0])].push_back(i);
    index_of_id_.emplace(tokens_[i].id, i);
    max_length_ = std::max(max_length_, c.size());
  }
  for (auto& bucket : by_first_byte_)
    std::stable_sort(bucket.begin(), bucket.end(), [&](uint32_t a, uint32_t b) {
      return tokens_[a].content.size() > tokens_[b].content.size();
    });
}

void AddedTokenMatcher::find_all(std::string_view text, std::vector<Match>& out) const {
  out.clear();
  if (tokens_.empty()) return;
  size_t pos = 0;
  while (pos < text.size()) {
    const auto& bucket = by_first_byte_[static_cast<uint8_t>(text[pos])];
    const AddedToken* hit = nullptr;
    for (uint32_t i : bucket) {
      if (text.substr(pos).starts_with(tokens_[i].content)) {
        hit = &tokens_[i];
        break;
      }
    }
    if (hit) {
      out.push_back({pos, pos + hit->content.size(), hit->id});
      pos += hit->content.size();
    } else {
      ++pos;
    }
  }
}

size_t AddedTokenMatcher::partial_start(std::string_view text) const {
  const size_t from = text.size() >= max_length_ ? text.size() - max_length_ + 1 : 0;
  for (size_t k = from; k < text.size(); ++k) {
    const std::string_view tail = text.substr(k);
    for (uint32_t i : by_first_byte_[static_cast<uint8_t>(text[k])]) {
      const std::string& c = tokens_[i].content;
      if (c.size() > tail.size() && std::string_view(c).starts_with(tail)) return k;
    }
  }
  return text.size();
}

std::optional<int32_t> AddedTokenMatcher::id_of(std::string_view content) const {
  for (const AddedToken& t : tokens_)
    if (t.content == content) return t.id;
  return std::nullopt;
}

const AddedToken* AddedTokenMatcher::token_of(int32_t id) const {
  const auto it = index_of_id_.find(id);
  return it == index_of_id_.end() ? nullptr : &tokens_[it->second];
}

}  // namespace vv
