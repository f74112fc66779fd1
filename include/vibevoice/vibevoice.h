/* vibevoice-onnx C API: streaming text-to-speech with VibeVoice-Realtime-0.5B on ONNX Runtime.
 *
 * Conventions
 * - Opaque handles (vv_engine, vv_stream); each create/load function has a matching free function.
 * - Parameter structs start with `struct_size` (set by the default-params functions; lets the library
 *   accept structs from older headers). Always start from the defaults, then change fields.
 * - Functions return a vv_status; on failure vv_last_error() returns a message for the calling thread
 *   (valid until the next failing call on that thread). Status values equal the `vibevoice` CLI exit codes.
 * - Text is UTF-8 with an explicit byte length.
 *
 * Threading: a vv_engine may be used by several threads at once (vv_synthesize and streams run
 * independently). A vv_stream must not be used by several threads at once. Audio callbacks of a stream run
 * on the stream's worker thread; those of vv_synthesize on the calling thread (with decode_thread: on the
 * decoding thread, in order, one at a time).
 */
#ifndef VIBEVOICE_H
#define VIBEVOICE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum vv_status {
  VV_OK = 0,
  VV_ERROR_USAGE = 2,  /* bad argument / option value */
  VV_ERROR_MODEL = 3,  /* model directory, graph, manifest or voice problem (incl. unknown voice) */
  VV_ERROR_INPUT = 4,  /* bad text (invalid UTF-8, empty, too long) or bad injected noise */
  VV_ERROR_RUNTIME = 5 /* ONNX Runtime failure, unavailable execution provider, internal error */
} vv_status;

typedef enum vv_stop_reason {
  VV_STOP_EOS = 0,        /* end-of-speech classifier fired */
  VV_STOP_MAX_FRAMES = 1, /* max_frames reached */
  VV_STOP_MAX_LENGTH = 2, /* model position limit reached */
  VV_STOP_CANCELLED = 3   /* vv_stream_cancel() or the abort callback */
} vv_stop_reason;

typedef enum vv_solver { VV_SOLVER_DEFAULT = 0, VV_SOLVER_ODE = 1, VV_SOLVER_SDE = 2 } vv_solver;

typedef struct vv_engine vv_engine;
typedef struct vv_stream vv_stream;

/* Message of the last failure on this thread ("" if none). */
const char* vv_last_error(void);
const char* vv_version(void);

/* ---- engine ---------------------------------------------------------------------------------------- */
typedef struct vv_engine_params {
  size_t struct_size;
  const char* model_dir; /* required */
  int threads;           /* intra-op threads per graph, 0 = ONNX Runtime default */
  const char* provider;  /* "cpu" (default) or "cuda"; unavailable -> VV_ERROR_RUNTIME, never a fallback */
} vv_engine_params;

vv_engine_params vv_engine_default_params(void);
vv_status vv_engine_load(const vv_engine_params* params, vv_engine** out_engine);
void vv_engine_free(vv_engine* engine); /* NULL is allowed */
int vv_engine_sample_rate(const vv_engine* engine);

typedef struct vv_voice_info {
  const char* name; /* strings owned by the engine, valid until vv_engine_free */
  const char* language;
  const char* gender;
  int lm_len;
  int tts_len;
} vv_voice_info;

size_t vv_engine_voice_count(const vv_engine* engine);
vv_status vv_engine_voice(const vv_engine* engine, size_t index, vv_voice_info* out_info);

/* ---- synthesis ------------------------------------------------------------------------------------- */
typedef struct vv_audio_chunk {
  const float* samples; /* valid only during the callback */
  size_t sample_count;  /* hop_length * frame_count */
  int sample_rate;
  int64_t first_frame; /* frames [first_frame, first_frame + frame_count) */
  int64_t frame_count;
  size_t text_begin; /* alignment: byte span [text_begin, text_end) of the input text */
  size_t text_end;
} vv_audio_chunk;

typedef void (*vv_audio_callback)(const vv_audio_chunk* chunk, void* user_data);
/* Polled between frames; non-zero stops generation (stop reason VV_STOP_CANCELLED). */
typedef int (*vv_abort_callback)(void* user_data);

typedef struct vv_synthesis_params {
  size_t struct_size;
  const char* voice; /* required: a name from vv_engine_voice() */
  int steps;         /* diffusion steps 1..50; 0 = model default */
  float cfg_scale;   /* guidance >= 0; NaN (the default) = model default; 1 disables guidance */
  uint64_t seed;     /* same seed -> same audio on every platform */
  vv_solver solver;
  int chunk_frames;   /* K frames per decoder call / chunk, default 1 */
  int64_t max_frames; /* 0 = until EOS / length limit */
  int ignore_eos;     /* non-zero: benchmark mode, ignore the EOS classifier */
  /* Optional injected noise (parity tests): float32 [F, Z] or [F, steps, Z], C order. */
  const float* noise;
  const int64_t* noise_shape;
  size_t noise_ndim;
  vv_audio_callback on_audio; /* optional: every chunk as soon as it is decoded */
  vv_abort_callback should_abort;
  void* user_data; /* passed to both callbacks */
  /* Non-zero: decode audio on an own thread, overlapping generation (same audio; on_audio is then called
   * from that thread). */
  int decode_thread;
} vv_synthesis_params;

vv_synthesis_params vv_synthesis_default_params(void);

typedef struct vv_audio {
  float* samples;
  size_t sample_count;
  int sample_rate;
  float* latents; /* frames * latent_dim raw diffusion outputs */
  int64_t frames;
  int latent_dim;
  vv_stop_reason stop_reason;
} vv_audio;

/* Whole utterance in the calling thread. The result is owned by the caller: vv_audio_free(). */
vv_status vv_synthesize(const vv_engine* engine, const char* text, size_t text_len,
                        const vv_synthesis_params* params, vv_audio** out_audio);
void vv_audio_free(vv_audio* audio); /* NULL is allowed */

/* ---- streaming ------------------------------------------------------------------------------------- */
/* Incremental text: audio chunks go to params->on_audio (required) on the stream's worker thread. The
 * audio is identical to vv_synthesize on the whole text for any split of the text. When text arrives
 * slower than speech, generation waits at a text-window boundary. */
vv_status vv_stream_create(const vv_engine* engine, const vv_synthesis_params* params,
                           vv_stream** out_stream);
vv_status vv_stream_push_text(vv_stream* stream, const char* text, size_t text_len);
vv_status vv_stream_finish(vv_stream* stream); /* end of text; returns immediately */
/* Blocks until generation is over; stop reason in *out_reason (may be NULL). */
vv_status vv_stream_wait(vv_stream* stream, vv_stop_reason* out_reason);
vv_status vv_stream_cancel(vv_stream* stream);
void vv_stream_free(vv_stream* stream); /* cancels if still running; NULL is allowed */

#ifdef __cplusplus
}
#endif

#endif /* VIBEVOICE_H */
