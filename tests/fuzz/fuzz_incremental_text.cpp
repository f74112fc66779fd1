// Fuzz target: IncrementalText (src/generate/incremental_text.h) with the real tokenizer. The input is
//   byte 0: number of cuts n (mod 8); bytes 1..n: the lengths of the first n pieces; the rest: the text.
// Feeding the pieces one by one then finish() must give exactly the tokens (ids and raw byte spans) of
// prepare_and_tokenize() on the whole text, and fail (kInput) exactly when the whole text fails.
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "fuzz_util.h"
#include "generate/incremental_text.h"

namespace {

bool same(const std::vector<vv::Token>& a, const std::vector<vv::Token>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].id != b[i].id || a[i].begin != b[i].begin || a[i].end != b[i].end) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t cuts = std::min<size_t>(data[0] % 8, size - 1);
  std::vector<size_t> lengths(data + 1, data + 1 + cuts);
  const std::string_view text(reinterpret_cast<const char*>(data + 1 + cuts), size - 1 - cuts);
  const vv::Tokenizer& tok = vv::fuzz::real_tokenizer();

  std::optional<std::vector<vv::Token>> batch;
  try {
    size_t end = 0;
    batch = vv::prepare_and_tokenize(tok, text, &end);
  } catch (const vv::Error& e) {
    if (e.kind() != vv::ErrorKind::kInput) vv::fuzz::mismatch("prepare_and_tokenize: non-input error");
  }

  vv::IncrementalText inc(tok);
  std::vector<vv::Token> tokens;
  try {
    size_t pos = 0;
    for (size_t len : lengths) {
      len = std::min(len, text.size() - pos);
      const auto got = inc.push(text.substr(pos, len));
      tokens.insert(tokens.end(), got.begin(), got.end());
      pos += len;
    }
    const auto got = inc.push(text.substr(pos));
    tokens.insert(tokens.end(), got.begin(), got.end());
    const auto rest = inc.finish();
    tokens.insert(tokens.end(), rest.begin(), rest.end());
  } catch (const vv::Error& e) {
    if (e.kind() != vv::ErrorKind::kInput) vv::fuzz::mismatch("IncrementalText: non-input error");
    if (batch) vv::fuzz::mismatch("IncrementalText failed where the whole text succeeds");
    return 0;
  }
  if (!batch) vv::fuzz::mismatch("IncrementalText succeeded where the whole text fails");
  if (!same(tokens, *batch)) vv::fuzz::mismatch("IncrementalText tokens != prepare_and_tokenize tokens");
  return 0;
}
