// Fuzz target: loading a tokenizer.json (Tokenizer::load: streaming parse, pipeline checks, BPE tables)
// from arbitrary text; an accepted tokenizer must encode and decode a fixed text without crashing.
#include <cstdint>

#include "core/error.h"
#include "fuzz_util.h"
#include "text/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = vv::fuzz::scratch_dir() / "tokenizer.json";
  vv::fuzz::write_file(path, data, size);
  try {
    const vv::Tokenizer tok = vv::Tokenizer::load(path);
    const std::vector<int32_t> ids = tok.encode("Hello, world! <|endoftext|> 123 \xc3\xa9t\xc3\xa9");
    (void)tok.decode(ids);
  } catch (const vv::Error&) {
  }
  return 0;
}
