// C API: whole-utterance synthesis (vv_synthesize) and the vv_audio result it allocates.
#include <algorithm>
#include <cstdlib>
#include <new>

#include "capi/capi_internal.h"

namespace {

template <typename T>
T* copy_array(const std::vector<T>& v) {
  T* p = static_cast<T*>(std::malloc(std::max<size_t>(1, v.size()) * sizeof(T)));
  if (!p) throw std::bad_alloc();
  if (!v.empty()) std::memcpy(p, v.data(), v.size() * sizeof(T));
  return p;
}

vv_audio* to_c(const vv::Audio& audio) {
  auto* out = static_cast<vv_audio*>(std::calloc(1, sizeof(vv_audio)));
  if (!out) throw std::bad_alloc();
  try {
    out->samples = copy_array(audio.samples);
    out->latents = copy_array(audio.latents);
  } catch (...) {
    vv_audio_free(out);
    throw;
  }
  out->sample_count = audio.samples.size();
  out->sample_rate = audio.sample_rate;
  out->frames = audio.frames;
  out->latent_dim =
      audio.frames ? static_cast<int>(audio.latents.size() / static_cast<size_t>(audio.frames)) : 0;
  out->stop_reason = vv::capi::to_c(audio.stop_reason);
  return out;
}

}  // namespace

extern "C" {

vv_status vv_synthesize(const vv_engine* engine, const char* text, size_t text_len,
                        const vv_synthesis_params* params, vv_audio** out_audio) {
  return vv::capi::guarded([&] {
    vv::capi::require(out_audio, "out_audio");
    *out_audio = nullptr;
    vv::capi::require(engine, "engine");
    const std::string_view t = vv::capi::text_view(text, text_len);
    const vv_synthesis_params p =
        vv::capi::versioned(params, vv_synthesis_default_params(), "vv_synthesis_params");
    const vv::SynthesisOptions o = vv::capi::to_options(p);
    std::function<void(const vv::AudioChunk&)> on_chunk;
    if (p.on_audio || p.on_event) {
      on_chunk = [&p](const vv::AudioChunk& c) { vv::capi::deliver(p, vv::capi::audio_event(c)); };
    }
    const vv::Audio audio = engine->engine.synthesize(t, o, on_chunk);
    *out_audio = to_c(audio);
    vv::capi::deliver(p, vv::capi::end_event(audio.frames, audio.stop_reason));
  });
}

void vv_audio_free(vv_audio* audio) {
  if (!audio) return;
  std::free(audio->samples);
  std::free(audio->latents);
  std::free(audio);
}

}  // extern "C"
