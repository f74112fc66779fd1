#include "text/bpe_word_cache.h"

#include <mutex>

namespace vv {

bool BpeWordCache::lookup(std::string_view word, std::vector<int32_t>& ids) const {
  const HashedWord key{word, Hash{}(word)};
  Shard& s = shard_of(key.hash);
  std::shared_lock lock(s.mutex);
  const auto it = s.words.find(key);
  if (it == s.words.end()) return false;
  ids.insert(ids.end(), it->second.begin(), it->second.end());
  return true;
}

void BpeWordCache::store(std::string_view word, std::span<const int32_t> ids) {
  if (word.size() > kMaxWordBytes) return;
  Shard& s = shard_of(Hash{}(word));
  std::unique_lock lock(s.mutex);
  if (s.words.size() >= kMaxWordsPerShard) s.words.clear();
  s.words.try_emplace(std::string(word), ids.begin(), ids.end());
}

}  // namespace vv
