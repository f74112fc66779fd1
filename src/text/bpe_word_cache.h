// Thread-safe cache of BPE results per pre-token (most words repeat), sharded to keep lock contention low
// when one Tokenizer is shared by many threads. Bounded: a full shard is simply cleared.
#pragma once

#include <array>
#include <cstdint>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace vv {

class BpeWordCache {
 public:
  static constexpr size_t kMaxWordBytes = 128;  // longer words are rare and not worth caching

  // Appends the cached ids of `word` to `ids` and returns true on a hit.
  bool lookup(std::string_view word, std::vector<int32_t>& ids) const;
  void store(std::string_view word, std::span<const int32_t> ids);

 private:
  // A word with its hash computed once, used both to pick the shard and to probe the shard's map.
  struct HashedWord {
    std::string_view text;
    size_t hash;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    size_t operator()(const HashedWord& w) const noexcept { return w.hash; }
  };
  struct Equal {
    using is_transparent = void;
    bool operator()(std::string_view a, std::string_view b) const noexcept { return a == b; }
    bool operator()(const HashedWord& a, std::string_view b) const noexcept { return a.text == b; }
    bool operator()(std::string_view a, const HashedWord& b) const noexcept { return a == b.text; }
  };
  struct Shard {
    mutable std::shared_mutex mutex;
    std::unordered_map<std::string, std::vector<int32_t>, Hash, Equal> words;
  };
  static constexpr size_t kShards = 32;
  static constexpr size_t kMaxWordsPerShard = 4096;

  // High bits pick the shard; the map uses the low bits for its buckets.
  Shard& shard_of(size_t hash) const { return shards_[(hash >> 40) % kShards]; }

  mutable std::array<Shard, kShards> shards_;
};

}  // namespace vv
