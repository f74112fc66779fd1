// Out-of-tree consumer of the C API from C++ (libvibevoice.so), built with find_package(vibevoice).
// Usage: synth_capi MODEL_DIR VOICE [TEXT]  -> streams the text in two pieces, prints "samples=N".
#include <vibevoice/vibevoice.h>
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s MODEL_DIR VOICE [TEXT]\n", argv[0]);
    return 2;
  }
  const char* text = argc > 3 ? argv[3] : "Hello from the shared library.";
  vv_engine_params engine_params = vv_engine_default_params();
  engine_params.model_dir = argv[1];
  vv_engine* engine = nullptr;
  if (vv_engine_load(&engine_params, &engine) != VV_OK) {
    std::fprintf(stderr, "vv_engine_load: %s\n", vv_last_error());
    return 1;
  }
  vv_synthesis_params params = vv_synthesis_default_params();
  params.voice = argv[2];
  params.seed = 1;
  params.max_frames = 8;
  vv_stream* stream = nullptr;
  size_t samples = 0;
  const size_t half = std::strlen(text) / 2;
  bool ok = vv_stream_create(engine, &params, &stream) == VV_OK &&
            vv_stream_push_text(stream, text, half) == VV_OK &&
            vv_stream_push_text(stream, text + half, std::strlen(text) - half) == VV_OK &&
            vv_stream_finish(stream) == VV_OK;
  vv_stream_event event{};
  while (ok && (ok = vv_stream_next(stream, &event) == VV_OK) && event.kind != VV_EVENT_END) {
    samples += event.chunk.sample_count;
  }
  if (!ok) {
    std::fprintf(stderr, "stream: %s\n", vv_last_error());
  }
  std::printf("samples=%zu\n", samples);
  vv_stream_free(stream);
  vv_engine_free(engine);
  return ok && samples > 0 ? 0 : 1;
}
