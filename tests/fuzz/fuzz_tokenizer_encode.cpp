// Fuzz target: the real Qwen2.5 tokenizer on arbitrary bytes. Invalid UTF-8 must be a vv::Error of kind
// kInput; valid text must give the same ids with and without offsets, offsets inside the input and in
// order, ids that decode, and a stable prefix that is a prefix of the full encoding.
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const vv::Tokenizer& tok = vv::fuzz::real_tokenizer();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<int32_t> ids;
  try {
    ids = tok.encode(text);
  } catch (const vv::Error& e) {
    if (e.kind() != vv::ErrorKind::kInput) vv::fuzz::mismatch("encode threw a non-input error");
    return 0;
  }
  const std::vector<vv::Token> with = tok.encode_with_offsets(text);
  if (with.size() != ids.size()) vv::fuzz::mismatch("encode_with_offsets: token count");
  size_t last_begin = 0;
  for (size_t i = 0; i < with.size(); ++i) {
    if (with[i].id != ids[i]) vv::fuzz::mismatch("encode_with_offsets: ids");
    if (with[i].begin > with[i].end || with[i].end > size || with[i].begin < last_begin)
      vv::fuzz::mismatch("encode_with_offsets: offsets");
    last_begin = with[i].begin;
  }
  (void)tok.decode(ids);
  const vv::Tokenizer::StablePrefix stable = tok.encode_stable_prefix(text);
  if (stable.consumed > size || stable.tokens.size() > ids.size()) vv::fuzz::mismatch("stable prefix size");
  for (size_t i = 0; i < stable.tokens.size(); ++i)
    if (stable.tokens[i].id != ids[i]) vv::fuzz::mismatch("stable prefix is not a prefix of encode()");
  return 0;
}
