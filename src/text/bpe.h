// Byte-level BPE model: vocabulary, merge ranks and the merge algorithm of HF `tokenizers` (BPE::merge_all:
// always apply the lowest-rank pair, leftmost first), with a thread-safe cache of encoded words.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace vv {

class BpeWordCache;

class BpeModel {
 public:
  struct Merge {
    std::string left, right;  // tokens as written in tokenizer.json (byte-level alphabet)
  };

  // `vocab`: token text (byte-level alphabet) -> id. `source` names the file in error messages.
  // Throws vv::Error(kModel) on inconsistent data (a merge part or result missing from the vocabulary, a
  // byte without a token).
  BpeModel(std::vector<std::pair<std::string, int32_t>>&& vocab, const std::vector<Merge>& merges,
           bool ignore_merges, const std::string& source);
  ~BpeModel();
  BpeModel(BpeModel&&) noexcept;
  BpeModel& operator=(BpeModel&&) noexcept;

  // Appends the ids of one pre-token given as raw bytes.
  void encode_word(std::string_view bytes, std::vector<int32_t>& ids) const;

  // Raw bytes of token `id` (empty for ids that are not byte-level tokens or not in the vocabulary).
  std::string_view token_bytes(int32_t id) const {
    return id >= 0 && static_cast<size_t>(id) < bytes_of_id_.size() ? std::string_view(bytes_of_id_[id])
                                                                    : std::string_view();
  }
  // The token text as written in tokenizer.json, if `id` is in the vocabulary.
  std::optional<std::string_view> token_text(int32_t id) const;
  std::optional<int32_t> id_of_text(std::string_view token_text) const;
  bool has_id(int32_t id) const { return id >= 0 && static_cast<size_t>(id) < has_id_.size() && has_id_[id]; }
  size_t token_count() const { return token_count_; }

 private:
  struct PairEntry {
    uint64_t key;  // (left << 32) | right; kEmptyKey marks a free slot
    int32_t rank;
    int32_t merged;
  };
  static constexpr uint64_t kEmptyKey = ~uint64_t{0};

  const PairEntry* find_pair(int32_t left, int32_t right) const;
  void insert_pair(int32_t left, int32_t right, int32_t rank, int32_t merged);
  void merge_word(std::string_view bytes, std::vector<int32_t>& ids) const;

  std::vector<std::string> text_of_id_;   // token text per id ("" for gaps)
  std::vector<uint8_t> has_id_;           // 1 where the id exists
  std::vector<std::string> bytes_of_id_;  // raw bytes per id
  // Token text -> id, open addressing over ids (the text lives in text_of_id_): far cheaper to build and
  // probe than a node-based map for 150k tokens.
  struct TextSlot {
    uint32_t hash;
    int32_t id;  // -1: free
  };
  int32_t find_text(std::string_view text) const;
  std::vector<TextSlot> text_slots_;
  uint64_t text_mask_ = 0;
  size_t token_count_ = 0;
  std::unordered_map<std::string, int32_t> id_of_bytes_;  // used only when ignore_merges is set
  std::array<int32_t, 256> byte_id_{};
  std::vector<PairEntry> pairs_;  // open addressing, power-of-two size
  uint64_t pair_mask_ = 0;
  bool ignore_merges_ = false;
  std::unique_ptr<BpeWordCache> cache_;
};

}  // namespace vv
