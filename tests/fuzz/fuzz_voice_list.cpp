// Fuzz target: the voice list parser (load_voice_list) on arbitrary voices/manifest.json text.
#include <cstdint>

#include "core/error.h"
#include "fuzz_util.h"
#include "model/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = vv::fuzz::scratch_dir() / "manifest.json";
  vv::fuzz::write_file(path, data, size);
  try {
    for (const vv::VoiceInfo& v : vv::load_voice_list(path))
      if (v.name.empty() || v.dir.empty() || v.lm_len < 1 || v.tts_len < 1)
        vv::fuzz::mismatch("voice list accepted an invalid entry");
  } catch (const vv::Error&) {
  }
  return 0;
}
