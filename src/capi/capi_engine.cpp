// C API: library version, engine loading and the voice list.
#include "capi/capi_internal.h"
#include "core/version.h"

using vv::capi::guarded;
using vv::capi::require;

extern "C" {

const char* vv_version(void) {
  return vv::version_string();
}

vv_engine_params vv_engine_default_params(void) {
  vv_engine_params p{};
  p.struct_size = sizeof p;
  p.provider = "cpu";
  return p;
}

vv_status vv_engine_load(const vv_engine_params* params, vv_engine** out_engine) {
  return guarded([&] {
    require(out_engine, "out_engine");
    *out_engine = nullptr;
    const vv_engine_params p = vv::capi::versioned(params, vv_engine_default_params(), "vv_engine_params");
    require(p.model_dir, "model_dir");
    vv::EngineOptions o;
    o.model_dir = p.model_dir;
    o.threads = p.threads;
    o.provider = p.provider ? p.provider : "cpu";
    vv::Engine engine = vv::Engine::load(o);
    auto voices = engine.voices();
    *out_engine = new vv_engine{std::move(engine), std::move(voices)};
  });
}

void vv_engine_free(vv_engine* engine) {
  delete engine;
}

int vv_engine_sample_rate(const vv_engine* engine) {
  return engine ? engine->engine.sample_rate() : 0;
}

int vv_engine_samples_per_frame(const vv_engine* engine) {
  return engine ? engine->engine.samples_per_frame() : 0;
}

size_t vv_engine_voice_count(const vv_engine* engine) {
  return engine ? engine->voices.size() : 0;
}

vv_status vv_engine_voice(const vv_engine* engine, size_t index, vv_voice_info* out_info) {
  return guarded([&] {
    require(engine, "engine");
    require(out_info, "out_info");
    if (index >= engine->voices.size()) {
      vv::fail(vv::ErrorKind::kUsage, "voice index " + std::to_string(index) + " out of range (" +
                                          std::to_string(engine->voices.size()) + " voices)");
    }
    const auto& v = engine->voices[index];
    *out_info = {v.name.c_str(), v.language.c_str(), v.gender.c_str(), v.lm_len, v.tts_len};
  });
}

}  // extern "C"
