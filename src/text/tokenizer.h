// Qwen2.5 byte-level BPE tokenizer, loaded from a Hugging Face tokenizer.json and producing exactly the ids
// of `tokenizers` `encode(text, add_special_tokens=False)` (checked by a parity corpus in
// tests/data/tokenizer).
//
// Pipeline: added tokens matched verbatim in the raw text -> NFC of the text between them -> Qwen2 regex
// pre-tokenizer -> GPT-2 byte alphabet -> BPE merges by rank. A Tokenizer is immutable after load(); all
// methods are const and safe to call from several threads at once (the word cache is internally locked).
// Copies are cheap and share the loaded tables.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace vv {

struct Token {
  int32_t id;
  size_t begin;  // [begin, end): bytes of the input that produced the token (HF offset semantics: a token
  size_t end;    // made of part of a character's bytes spans that whole character)
};

class Tokenizer {
 public:
  // Throws vv::Error(kModel, "<path>: ...") for a missing/malformed file or an unsupported configuration.
  static Tokenizer load(const std::filesystem::path& tokenizer_json);

  // == HF encode(text, add_special_tokens=False).ids. Throws vv::Error(kInput) on invalid UTF-8.
  std::vector<int32_t> encode(std::string_view utf8) const;
  // Same ids, with the byte span of each token in `utf8`.
  std::vector<Token> encode_with_offsets(std::string_view utf8) const;

  // For streaming text input: the tokens of the longest prefix of `utf8` whose tokenization can no longer
  // change whatever text is appended (it stops before the last pre-token, before a tail that could still
  // grow into an added token such as "<|endof", before an incomplete UTF-8 sequence at the end, and before
  // characters that NFC could still combine with what follows). encode(prefix) == tokens and
  // encode(prefix) + encode(rest) == encode(prefix + rest) for any rest.
  struct StablePrefix {
    std::vector<Token> tokens;
    size_t consumed;  // byte length of the stable prefix
  };
  StablePrefix encode_stable_prefix(std::string_view utf8) const;

  // Ids -> UTF-8 text like HF decode(ids, skip_special_tokens=False): bytes that do not form valid UTF-8
  // become U+FFFD. Throws vv::Error(kInput) for an id that is not in the vocabulary (HF drops it silently).
  std::string decode(std::span<const int32_t> ids) const;

  // Id of a token written as in tokenizer.json (e.g. "Ġthe", "<|endoftext|>").
  std::optional<int32_t> token_to_id(std::string_view token) const;
  // Number of ids the tokenizer knows (BPE vocabulary plus added tokens), == HF get_vocab_size(True).
  size_t vocab_size() const;

 private:
  struct Impl;
  explicit Tokenizer(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

}  // namespace vv
