// The C API (include/vibevoice/vibevoice.h) over the C++ API: handles wrap vv::Engine / vv::Stream,
// exceptions become status codes + a thread-local message.
#include "vibevoice/vibevoice.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include "core/version.h"
#include "vibevoice/vibevoice.hpp"

struct vv_engine {
  vv::Engine engine;
  std::vector<vv::VoiceDescription> voices;
};

struct vv_stream {
  vv::Stream stream;
};

namespace {

thread_local std::string g_last_error;

vv_status record(vv_status status, const std::string& message) {
  g_last_error = message;
  return status;
}

// Runs `body`, translating exceptions into a status and the thread's last error.
template <typename F>
vv_status guarded(F&& body) {
  try {
    body();
    return VV_OK;
  } catch (const vv::Error& e) {
    return record(static_cast<vv_status>(static_cast<int>(e.kind())), e.what());
  } catch (const std::bad_alloc&) {
    return record(VV_ERROR_RUNTIME, "out of memory");
  } catch (const std::exception& e) {
    return record(VV_ERROR_RUNTIME, std::string("internal error: ") + e.what());
  } catch (...) {
    return record(VV_ERROR_RUNTIME, "internal error: unknown exception");
  }
}

// Copies a caller's params struct over the defaults, honouring struct_size.
template <typename T>
T versioned(const T* given, T defaults, const char* what) {
  if (!given) vv::fail(vv::ErrorKind::kUsage, std::string(what) + " is NULL");
  if (given->struct_size < sizeof(size_t) || given->struct_size > sizeof(T)) {
    vv::fail(vv::ErrorKind::kUsage,
             std::string(what) + ".struct_size is " + std::to_string(given->struct_size) + " (expected " +
                 std::to_string(sizeof(T)) + "); start from the *_default_params() function");
  }
  std::memcpy(static_cast<void*>(&defaults), given, given->struct_size);
  defaults.struct_size = sizeof(T);
  return defaults;
}

void require(const void* p, const char* what) {
  if (!p) vv::fail(vv::ErrorKind::kUsage, std::string(what) + " is NULL");
}

vv::SynthesisOptions to_options(const vv_synthesis_params& p, bool streaming) {
  vv::SynthesisOptions o;
  o.voice = p.voice ? p.voice : "";
  if (p.steps != 0) o.steps = p.steps;
  if (!std::isnan(p.cfg_scale)) o.cfg_scale = p.cfg_scale;
  o.seed = p.seed;
  switch (p.solver) {
    case VV_SOLVER_DEFAULT:
      o.solver = vv::SolverChoice::kModelDefault;
      break;
    case VV_SOLVER_ODE:
      o.solver = vv::SolverChoice::kOde;
      break;
    case VV_SOLVER_SDE:
      o.solver = vv::SolverChoice::kSde;
      break;
    default:
      vv::fail(vv::ErrorKind::kUsage, "solver must be VV_SOLVER_DEFAULT, VV_SOLVER_ODE or VV_SOLVER_SDE");
  }
  o.chunk_frames = p.chunk_frames;
  o.max_frames = p.max_frames;
  o.ignore_eos = p.ignore_eos != 0;
  o.decode_thread = p.decode_thread != 0;
  if (p.noise || p.noise_ndim) {
    require(p.noise, "noise");
    require(p.noise_shape, "noise_shape");
    vv::NoiseArray noise;
    size_t n = 1;
    for (size_t i = 0; i < p.noise_ndim; ++i) {
      if (p.noise_shape[i] < 0) vv::fail(vv::ErrorKind::kInput, "noise_shape has a negative dimension");
      noise.shape.push_back(p.noise_shape[i]);
      n *= static_cast<size_t>(p.noise_shape[i]);
    }
    noise.values.assign(p.noise, p.noise + n);
    o.noise = std::move(noise);
  }
  if (p.should_abort) {
    o.should_abort = [cb = p.should_abort, ud = p.user_data] { return cb(ud) != 0; };
  }
  if (streaming && !p.on_audio) vv::fail(vv::ErrorKind::kUsage, "a stream needs params.on_audio");
  return o;
}

vv_audio_chunk to_c(const vv::AudioChunk& c) {
  return {c.samples.data(), c.samples.size(), c.sample_rate, c.first_frame,
          c.frame_count,    c.text_begin,     c.text_end};
}

template <typename T>
T* copy_array(const std::vector<T>& v) {
  T* p = static_cast<T*>(std::malloc(std::max<size_t>(1, v.size()) * sizeof(T)));
  if (!p) throw std::bad_alloc();
  if (!v.empty()) std::memcpy(p, v.data(), v.size() * sizeof(T));
  return p;
}

}  // namespace

extern "C" {

const char* vv_last_error(void) {
  return g_last_error.c_str();
}
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
    const vv_engine_params p = versioned(params, vv_engine_default_params(), "vv_engine_params");
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

vv_synthesis_params vv_synthesis_default_params(void) {
  vv_synthesis_params p{};
  p.struct_size = sizeof p;
  p.cfg_scale = NAN;
  p.solver = VV_SOLVER_DEFAULT;
  p.chunk_frames = 1;
  return p;
}

vv_status vv_synthesize(const vv_engine* engine, const char* text, size_t text_len,
                        const vv_synthesis_params* params, vv_audio** out_audio) {
  return guarded([&] {
    require(out_audio, "out_audio");
    *out_audio = nullptr;
    require(engine, "engine");
    if (!text && text_len) vv::fail(vv::ErrorKind::kUsage, "text is NULL");
    const vv_synthesis_params p = versioned(params, vv_synthesis_default_params(), "vv_synthesis_params");
    const vv::SynthesisOptions o = to_options(p, false);
    std::function<void(const vv::AudioChunk&)> on_chunk;
    if (p.on_audio) {
      on_chunk = [&](const vv::AudioChunk& c) {
        const vv_audio_chunk chunk = to_c(c);
        p.on_audio(&chunk, p.user_data);
      };
    }
    const vv::Audio audio =
        engine->engine.synthesize(std::string_view(text ? text : "", text_len), o, on_chunk);
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
    out->stop_reason = static_cast<vv_stop_reason>(static_cast<int>(audio.stop_reason));
    *out_audio = out;
  });
}

void vv_audio_free(vv_audio* audio) {
  if (!audio) return;
  std::free(audio->samples);
  std::free(audio->latents);
  std::free(audio);
}

vv_status vv_stream_create(const vv_engine* engine, const vv_synthesis_params* params,
                           vv_stream** out_stream) {
  return guarded([&] {
    require(out_stream, "out_stream");
    *out_stream = nullptr;
    require(engine, "engine");
    const vv_synthesis_params p = versioned(params, vv_synthesis_default_params(), "vv_synthesis_params");
    const vv::SynthesisOptions o = to_options(p, true);
    auto on_event = [cb = p.on_audio, ud = p.user_data](const vv::StreamEvent& ev) {
      if (ev.kind != vv::StreamEvent::kAudio) return;
      const vv_audio_chunk chunk = to_c(ev.chunk);
      cb(&chunk, ud);
    };
    *out_stream = new vv_stream{engine->engine.stream(o, on_event)};
  });
}

vv_status vv_stream_push_text(vv_stream* stream, const char* text, size_t text_len) {
  return guarded([&] {
    require(stream, "stream");
    if (!text && text_len) vv::fail(vv::ErrorKind::kUsage, "text is NULL");
    stream->stream.push_text(std::string_view(text ? text : "", text_len));
  });
}

vv_status vv_stream_finish(vv_stream* stream) {
  return guarded([&] {
    require(stream, "stream");
    stream->stream.finish();
  });
}

vv_status vv_stream_wait(vv_stream* stream, vv_stop_reason* out_reason) {
  return guarded([&] {
    require(stream, "stream");
    const vv::Audio audio = stream->stream.wait();
    if (out_reason) *out_reason = static_cast<vv_stop_reason>(static_cast<int>(audio.stop_reason));
  });
}

vv_status vv_stream_cancel(vv_stream* stream) {
  return guarded([&] {
    require(stream, "stream");
    stream->stream.cancel();
  });
}

void vv_stream_free(vv_stream* stream) {
  delete stream;
}

}  // extern "C"
