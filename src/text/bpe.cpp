#include "text/bpe.h"

#include <bit>
#include <queue>

#include "core/error.h"
#include "text/bpe_word_cache.h"
#include "text/byte_level.h"

namespace vv {
namespace {

uint64_t pair_key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

uint64_t mix(uint64_t k) {  // splitmix64 finalizer: ids are small and dense, so spread them out
  k ^= k >> 30;
  k *= 0xbf58476d1ce4e5b9ULL;
  k ^= k >> 27;
  k *= 0x94d049bb133111ebULL;
  return k ^ (k >> 31);
}

}  // namespace

BpeModel::BpeModel(std::vector<std::pair<std::string, int32_t>>&& vocab, const std::vector<Merge>& merges,
                   bool ignore_merges, const std::string& source)
    : ignore_merges_(ignore_merges), cache_(std::make_unique<BpeWordCache>()) {
  int32_t max_id = -1;
  for (const auto& [text, id] : vocab) {
    if (id < 0) fail(ErrorKind::kModel, source + ": model.vocab: negative id for token '" + text + "'");
    max_id = std::max(max_id, id);
  }
  text_of_id_.resize(static_cast<size_t>(max_id) + 1);
  bytes_of_id_.resize(text_of_id_.size());
  has_id_.assign(text_of_id_.size(), 0);
  std::string bytes;
  for (auto& [text, id] : vocab) {
    if (has_id_[id])
      fail(ErrorKind::kModel, source + ": model.vocab: id " + std::to_string(id) + " is used twice");
    has_id_[id] = 1;
    text_of_id_[id] = std::move(text);
  }
  token_count_ = vocab.size();
  const size_t text_slots = std::bit_ceil(std::max<size_t>(16, token_count_ * 2));
  text_slots_.assign(text_slots, TextSlot{0, -1});
  text_mask_ = text_slots - 1;
  for (size_t id = 0; id < text_of_id_.size(); ++id) {
    if (!has_id_[id]) continue;
    const std::string& text = text_of_id_[id];
    const size_t h = std::hash<std::string_view>{}(text);
    uint64_t slot = h & text_mask_;
    while (text_slots_[slot].id >= 0) {
      if (text_of_id_[text_slots_[slot].id] == text)
        fail(ErrorKind::kModel, source + ": model.vocab: token '" + text + "' is listed twice");
      slot = (slot + 1) & text_mask_;
    }
    text_slots_[slot] = TextSlot{static_cast<uint32_t>(h), static_cast<int32_t>(id)};
    if (byte_level::token_to_bytes(text, bytes)) {
      bytes_of_id_[id] = bytes;
      if (ignore_merges_) id_of_bytes_.emplace(bytes, static_cast<int32_t>(id));
    }
  }
  for (int b = 0; b < 256; ++b) {
    const std::string text = byte_level::bytes_to_token(std::string(1, static_cast<char>(b)));
    const int32_t id = find_text(text);
    if (id < 0)
      fail(ErrorKind::kModel, source + ": model.vocab: no token for byte " + std::to_string(b) + " ('" +
                                  text + "'); byte-level BPE needs all 256");
    byte_id_[static_cast<size_t>(b)] = id;
  }

  const size_t slots = std::bit_ceil(std::max<size_t>(16, merges.size() * 2 + 1));
  pairs_.assign(slots, PairEntry{kEmptyKey, 0, 0});
  pair_mask_ = slots - 1;
  auto id_or_fail = [&](std::string_view text, size_t rank) {
    const int32_t id = find_text(text);
    if (id < 0)
      fail(ErrorKind::kModel, source + ": model.merges[" + std::to_string(rank) + "]: token '" +
                                  std::string(text) + "' is not in model.vocab");
    return id;
  };
  std::string joined;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const Merge& m = merges[rank];
    const int32_t left = id_or_fail(m.left, rank);
    const int32_t right = id_or_fail(m.right, rank);
    joined.assign(m.left).append(m.right);
    const int32_t merged = id_or_fail(joined, rank);
    // HF collects the merges into a hash map, so a pair listed twice keeps its last rank.
    insert_pair(left, right, static_cast<int32_t>(rank), merged);
  }
}

BpeModel::~BpeModel() = default;
BpeModel::BpeModel(BpeModel&&) noexcept = default;
BpeModel& BpeModel::operator=(BpeModel&&) noexcept = default;

const BpeModel::PairEntry* BpeModel::find_pair(int32_t left, int32_t right) const {
  const uint64_t key = pair_key(left, right);
  for (uint64_t slot = mix(key) & pair_mask_;; slot = (slot + 1) & pair_mask_) {
    const PairEntry& e = pairs_[slot];
    if (e.key == key) return &e;
    if (e.key == kEmptyKey) return nullptr;
  }
}

void BpeModel::insert_pair(int32_t left, int32_t right, int32_t rank, int32_t merged) {
  const uint64_t key = pair_key(left, right);
  uint64_t slot = mix(key) & pair_mask_;
  while (pairs_[slot].key != kEmptyKey && pairs_[slot].key != key) slot = (slot + 1) & pair_mask_;
  pairs_[slot] = PairEntry{key, rank, merged};
}

std::optional<std::string_view> BpeModel::token_text(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= has_id_.size() || !has_id_[id]) return std::nullopt;
  return std::string_view(text_of_id_[id]);
}

int32_t BpeModel::find_text(std::string_view text) const {
  const size_t h = std::hash<std::string_view>{}(text);
  for (uint64_t slot = h & text_mask_;; slot = (slot + 1) & text_mask_) {
    const TextSlot& s = text_slots_[slot];
    if (s.id < 0) return -1;
    if (s.hash == static_cast<uint32_t>(h) && text_of_id_[s.id] == text) return s.id;
  }
}

std::optional<int32_t> BpeModel::id_of_text(std::string_view token_text) const {
  const int32_t id = find_text(token_text);
  if (id < 0) return std::nullopt;
  return id;
}

void BpeModel::encode_word(std::string_view bytes, std::vector<int32_t>& ids) const {
  if (bytes.empty()) return;
  if (bytes.size() == 1) {
    ids.push_back(byte_id_[static_cast<uint8_t>(bytes[0])]);
    return;
  }
  if (ignore_merges_) {
    const auto it = id_of_bytes_.find(std::string(bytes));
    if (it != id_of_bytes_.end()) {
      ids.push_back(it->second);
      return;
    }
  }
  if (cache_->lookup(bytes, ids)) return;
  const size_t first = ids.size();
  merge_word(bytes, ids);
  cache_->store(bytes, std::span<const int32_t>(ids).subspan(first));
}

// Mirrors tokenizers' Word::merge_all: a min-heap of candidate merges ordered by (rank, position); stale
// candidates (a side already merged away, or the pair now yields another token) are skipped.
void BpeModel::merge_word(std::string_view bytes, std::vector<int32_t>& ids) const {
  struct Symbol {
    int32_t id;
    int32_t prev;
    int32_t next;
    bool alive;
  };
  struct Candidate {
    int32_t rank;
    int32_t pos;
    int32_t merged;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  const auto n = static_cast<int32_t>(bytes.size());
  std::vector<Symbol> symbols(bytes.size());
  for (int32_t i = 0; i < n; ++i)
    symbols[i] = Symbol{byte_id_[static_cast<uint8_t>(bytes[i])], i - 1, i + 1 < n ? i + 1 : -1, true};

  std::vector<Candidate> storage;
  storage.reserve(bytes.size());
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue(std::greater<>{},
                                                                               std::move(storage));
  auto push_pair = [&](int32_t pos) {
    const int32_t next = symbols[pos].next;
    if (next < 0) return;
    if (const PairEntry* e = find_pair(symbols[pos].id, symbols[next].id))
      queue.push(Candidate{e->rank, pos, e->merged});
  };
  for (int32_t i = 0; i + 1 < n; ++i) push_pair(i);

  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    Symbol& left = symbols[top.pos];
    if (!left.alive || left.next < 0) continue;
    const int32_t right_pos = left.next;
    const PairEntry* current = find_pair(left.id, symbols[right_pos].id);
    if (!current || current->merged != top.merged) continue;
    left.id = top.merged;
    symbols[right_pos].alive = false;
    left.next = symbols[right_pos].next;
    if (left.next >= 0) symbols[left.next].prev = top.pos;
    if (left.prev >= 0) push_pair(left.prev);
    push_pair(top.pos);
  }
  for (int32_t i = 0; i >= 0; i = symbols[i].next) ids.push_back(symbols[i].id);
}

}  // namespace vv
