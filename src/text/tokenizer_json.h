// Reads an HF `tokenizer.json` and checks that its pipeline is one we implement exactly
// (NFC -> added tokens -> Qwen2 regex split + ByteLevel -> BPE, ByteLevel decoder). Anything else is
// refused with vv::Error(kModel, "<path>: <field>: <problem>") rather than silently tokenized differently.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "text/added_tokens.h"
#include "text/bpe.h"

namespace vv {

struct TokenizerSpec {
  bool nfc = false;  // normalizer: NFC (true) or none
  std::vector<std::pair<std::string, int32_t>> vocab;
  std::vector<BpeModel::Merge> merges;
  bool ignore_merges = false;
  std::vector<AddedToken> added_tokens;
};

TokenizerSpec read_tokenizer_json(const std::filesystem::path& path);

}  // namespace vv
