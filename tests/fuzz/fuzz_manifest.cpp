// Fuzz target: the model manifest parser (ModelManifest::load) on arbitrary vibevoice.json text. The
// scratch model directory holds the files the tiny model's manifest names (empty), so that valid inputs
// get through the file checks to the end.
#include <cstdint>

#include "core/error.h"
#include "fuzz_util.h"
#include "model/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::filesystem::path dir = [] {
    const auto d = vv::fuzz::scratch_dir() / "model";
    std::filesystem::create_directories(d / "voices");
    for (const char* f : {"text_lm.onnx", "tts_lm.onnx", "connector.onnx", "diffusion_head.onnx",
                          "acoustic_decoder.onnx", "tokenizer.json", "voices/manifest.json"})
      vv::fuzz::write_file(d / f, nullptr, 0);
    return d;
  }();
  vv::fuzz::write_file(dir / "vibevoice.json", data, size);
  try {
    const vv::ModelManifest m = vv::ModelManifest::load(dir);
    if (m.graphs.size() < 5 || m.decoder_states.empty()) vv::fuzz::mismatch("manifest accepted incomplete");
  } catch (const vv::Error&) {
  }
  return 0;
}
