// Out-of-tree consumer of the C++ API (static library), built with find_package(vibevoice).
// Usage: synth_cpp MODEL_DIR VOICE [TEXT]  -> prints "samples=N sample_rate=R"; exit 0 when audio was made.
#include <cstdio>
#include <exception>
#include <vibevoice/vibevoice.hpp>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL_DIR VOICE [TEXT]\n", argv[0]);
    return 2;
  }
  try {
    vv::Engine engine = vv::Engine::load({.model_dir = argv[1]});
    vv::SynthesisOptions options;
    options.voice = argv[2];
    options.seed = 1;
    options.max_frames = 8;
    vv::Audio audio = engine.synthesize(argc > 3 ? argv[3] : "Hello from C++.", options);
    std::printf("samples=%zu sample_rate=%d\n", audio.samples.size(), audio.sample_rate);
    return audio.samples.empty() ? 1 : 0;
  } catch (const vv::Error& e) {
    std::fprintf(stderr, "vv::Error (%d): %s\n", static_cast<int>(e.kind()), e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
  }
  return 1;
}
