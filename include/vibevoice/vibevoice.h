/* vibevoice-onnx C API: streaming text-to-speech with VibeVoice-Realtime-0.5B on ONNX Runtime.
 *
 * Conventions
 * - Opaque handles (vv_engine, vv_stream); each create/load function has a matching free function.
 * - Parameter structs start with `struct_size` (set by the default-params functions). New fields are only
 *   ever appended, so the library accepts a struct from an older header: fields beyond its struct_size get
 *   their defaults. Always start from the defaults, then change fields.
 * - Functions return a vv_status; on failure vv_last_error() returns a message for the calling thread
 *   (valid until the next failing call on that thread). Status values equal the `vibevoice` CLI exit codes.
 * - Text is UTF-8 with an explicit byte length.
 *
 * Threading: a vv_engine may be used by several threads at once (vv_synthesize and streams run
 * independently). A vv_stream has two sides that may run on two threads: the producer (vv_stream_push_text,
 * vv_stream_finish) and the consumer (vv_stream_next, vv_stream_wait), e.g. an LLM thread feeding text while
 * another plays the audio; each side must be used by one thread at a time. vv_stream_cancel may be called
 * from any thread at any time before vv_stream_free (also from a callback, or while another thread is
 * blocked in vv_stream_wait / vv_stream_next). Callbacks of a stream run on the stream's worker
 * thread; those of vv_synthesize on the calling thread (audio with decode_thread: on the decoding thread).
 * Callbacks of one utterance are called in order, one at a time.
 *
 * ABI: this C API is the stable binary interface. libvibevoice.so (SONAME libvibevoice.so.VV_VERSION_MAJOR)
 * exports exactly the vv_* functions declared here and nothing else. The C++ API (vibevoice.hpp) is not
 * ABI-stable: it is only in the static library (libvibevoice.a; CMake vibevoice::vibevoice_static), to be
 * compiled against the same headers and tool chain.
 */
#ifndef VIBEVOICE_H
#define VIBEVOICE_H

#include <stddef.h>
#include <stdint.h>

/* Version of this header; vv_version() returns the library's (equal unless header and library differ).
 * Kept equal to the CMake project version (checked when the tests are built). */
#define VV_VERSION_MAJOR 0
#define VV_VERSION_MINOR 1
#define VV_VERSION_PATCH 0
#define VV_VERSION "0.1.0"

/* VV_API marks the exported functions. VV_BUILDING_LIBRARY is defined only while the library itself is
 * compiled (with -fvisibility=hidden): users of the shared or the static library see an empty VV_API. */
#if defined(VV_BUILDING_LIBRARY) && (defined(__GNUC__) || defined(__clang__))
#define VV_API __attribute__((visibility("default")))
#else
#define VV_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Equal to the C++ vv::ErrorKind values and to the `vibevoice` CLI exit codes. */
typedef enum vv_status {
  VV_OK = 0,
  VV_ERROR_USAGE = 2,  /* bad argument / option value (NULL pointer, steps out of range, wrong struct_size,
                        * unknown provider name, misuse of a stream) */
  VV_ERROR_MODEL = 3,  /* model directory, graph, manifest or voice problem, incl. an unknown voice name
                        * (the message lists the available voices) */
  VV_ERROR_INPUT = 4,  /* bad text (invalid UTF-8, NUL, empty) or bad injected noise (shape, length) */
  VV_ERROR_RUNTIME = 5 /* ONNX Runtime failure, execution provider not in this ONNX Runtime build (e.g.
                        * "cuda" in a CPU-only build), out of memory, internal error */
} vv_status;

/* Equal to the C++ vv::StopReason values. */
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
VV_API const char* vv_last_error(void);
/* Version of the library, "major.minor.patch" (VV_VERSION of the header it was built with). */
VV_API const char* vv_version(void);

/* ---- engine ---------------------------------------------------------------------------------------- */
typedef struct vv_engine_params {
  size_t struct_size;
  const char* model_dir; /* required */
  int threads;           /* intra-op threads per graph, 0 = ONNX Runtime default */
  const char* provider;  /* "cpu" (default) or "cuda"; unavailable -> VV_ERROR_RUNTIME, never a fallback */
} vv_engine_params;

VV_API vv_engine_params vv_engine_default_params(void);
VV_API vv_status vv_engine_load(const vv_engine_params* params, vv_engine** out_engine);
VV_API void vv_engine_free(vv_engine* engine); /* NULL is allowed */
VV_API int vv_engine_sample_rate(const vv_engine* engine);
/* Samples decoded from one latent frame (hop length; 3200 at 24 kHz = 7.5 frames/s); 0 for NULL. */
VV_API int vv_engine_samples_per_frame(const vv_engine* engine);

typedef struct vv_voice_info {
  const char* name; /* strings owned by the engine, valid until vv_engine_free */
  const char* language;
  const char* gender;
  int lm_len;
  int tts_len;
} vv_voice_info;

VV_API size_t vv_engine_voice_count(const vv_engine* engine);
VV_API vv_status vv_engine_voice(const vv_engine* engine, size_t index, vv_voice_info* out_info);

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

/* Equal to the C++ vv::StreamEvent::Kind values. */
typedef enum vv_event_kind {
  VV_EVENT_AUDIO = 0,    /* `chunk` holds new audio */
  VV_EVENT_UNDERRUN = 1, /* generation caught up with the text: it waits at a text-window boundary for
                          * vv_stream_push_text or vv_stream_finish (all audio so far was delivered) */
  VV_EVENT_END = 2       /* generation is over (`stop_reason`); no further events */
} vv_event_kind;

typedef struct vv_stream_event {
  vv_event_kind kind;
  int64_t frame;              /* frames generated so far (AUDIO: first_frame + frame_count of the chunk) */
  vv_stop_reason stop_reason; /* END only (VV_STOP_EOS otherwise) */
  vv_audio_chunk chunk;       /* AUDIO only (all zero otherwise); samples valid as documented where the
                               * event is handed out */
} vv_stream_event;

typedef void (*vv_event_callback)(const vv_stream_event* event, void* user_data);

typedef struct vv_synthesis_params {
  size_t struct_size;
  const char* voice; /* required: a name from vv_engine_voice() */
  int steps;         /* diffusion steps 1..50; 0 = model default */
  float cfg_scale;   /* guidance >= 0; NaN (the default) = model default; 1 disables guidance */
  uint64_t seed;     /* same seed -> same audio on every platform */
  vv_solver solver;
  int chunk_frames;   /* K frames per decoder call / chunk; 0 (default) = adaptive (vibevoice.hpp) */
  int64_t max_frames; /* 0 = until EOS / length limit */
  int ignore_eos;     /* non-zero: benchmark mode, ignore the EOS classifier */
  /* Optional injected noise (parity tests): float32 [F, Z] or [F, steps, Z], C order; copied by the call
   * that takes the params. Needed for every generated frame (VV_ERROR_INPUT otherwise). */
  const float* noise;
  const int64_t* noise_shape;
  size_t noise_ndim;
  vv_audio_callback on_audio; /* optional: every chunk as soon as it is decoded */
  vv_abort_callback should_abort;
  void* user_data; /* passed to every callback */
  /* Non-zero: decode audio on an own thread, overlapping generation (same audio, bit for bit; audio
   * callbacks are then called from that thread). */
  int decode_thread;
  /* ---- appended after the first layout (a struct_size without them: the defaults below) ---- */
  /* Number of floats at `noise`: must equal the product of noise_shape (VV_ERROR_INPUT otherwise, also if
   * that product overflows). Default 0. A struct from a header without this field: the library trusts
   * noise_shape, as it did then. */
  size_t noise_len;
  /* Optional: every event of the utterance (AUDIO, UNDERRUN, END), in order; the chunk's samples are valid
   * only during the call. Default NULL. With on_audio too, each chunk goes to both. vv_synthesize sends
   * AUDIO events and a final END (no UNDERRUN: the text is complete). */
  vv_event_callback on_event;
  /* Non-zero: English text normalization before synthesis (vv::SynthesisOptions::normalize: numbers, money,
   * dates, ... read as words by the model directory's grammars; spans stay in the original text).
   * VV_ERROR_USAGE when the model has no grammars, and for vv_stream_create. Default 0. */
  int normalize;
} vv_synthesis_params;

VV_API vv_synthesis_params vv_synthesis_default_params(void);

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
VV_API vv_status vv_synthesize(const vv_engine* engine, const char* text, size_t text_len,
                               const vv_synthesis_params* params, vv_audio** out_audio);
VV_API void vv_audio_free(vv_audio* audio); /* NULL is allowed */

/* ---- streaming ------------------------------------------------------------------------------------- */
/* Incremental text (e.g. LLM tokens): push text in pieces, generation runs on the stream's worker thread.
 * The audio is identical, bit for bit, to vv_synthesize on the whole text for any split of the text (even
 * inside a UTF-8 sequence). When text arrives slower than speech, generation waits at a text-window
 * boundary and reports an UNDERRUN event.
 *
 * Two ways to receive the events, chosen at vv_stream_create:
 * - callback: params->on_audio and/or params->on_event set; they are called on the worker thread.
 * - pull: neither set; call vv_stream_next() until it returns an END event (like a start/next loop).
 *
 * Memory: a stream holds the model state of one utterance and the latents generated so far (latent_dim
 * floats per frame); each sample is handed out once and not kept. In pull mode at most 16 events
 * (vv::Stream::kMaxPendingEvents, each of at most chunk_frames, adaptive: 6, frames) wait to be pulled: a
 * consumer slower than the generation makes the generation wait. The stream also keeps the last event
 * returned by vv_stream_next until the next call. vv_stream_wait returns no audio (collect it from the
 * events). */
VV_API vv_status vv_stream_create(const vv_engine* engine, const vv_synthesis_params* params,
                                  vv_stream** out_stream);
/* Any length (long texts are spoken in segments). VV_ERROR_INPUT for invalid UTF-8 or a NUL; VV_ERROR_USAGE
 * after finish/cancel. */
VV_API vv_status vv_stream_push_text(vv_stream* stream, const char* text, size_t text_len);
/* End of text; returns immediately. VV_ERROR_INPUT (and the stream ends) if the whole text is empty. */
VV_API vv_status vv_stream_finish(vv_stream* stream);
/* Pull mode: blocks until the next event and stores it in *out_event. An AUDIO event's samples are owned
 * by the stream and valid until the next vv_stream_next or vv_stream_free. After END, returns END again.
 * An error raised by the generation (e.g. VV_ERROR_RUNTIME, VV_ERROR_INPUT for too little injected
 * noise) is returned once the events before it are pulled. VV_ERROR_USAGE on a callback stream. */
VV_API vv_status vv_stream_next(vv_stream* stream, vv_stream_event* out_event);
/* Blocks until generation is over; stop reason in *out_reason (may be NULL). In pull mode the events not
 * yet pulled are discarded. Returns an error raised by the generation. */
VV_API vv_status vv_stream_wait(vv_stream* stream, vv_stop_reason* out_reason);
/* Stops generation as soon as possible (the running model call completes, then at most the frames
 * already generated are delivered); the stream ends with VV_STOP_CANCELLED. Any thread (see Threading). */
VV_API vv_status vv_stream_cancel(vv_stream* stream);
VV_API void vv_stream_free(vv_stream* stream); /* cancels if still running; NULL is allowed */

#ifdef __cplusplus
}
#endif

#endif /* VIBEVOICE_H */
