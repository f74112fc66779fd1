/* C API test against the tiny model (env VV_TEST_MODEL_DIR): engine loading and its errors, version macros,
 * whole-utterance synthesis, parameter errors, injected noise checks, and a params struct from an older
 * header. Exit 0 = pass, 1 = failure, 77 = skipped (model not available locally; a failure under CI=true).
 * Streams: test_capi_stream.c. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "capi_test.h"

/* The CMake project version (tests/CMakeLists.txt) and the header's macros must not drift apart. */
_Static_assert(VV_VERSION_MAJOR == VV_CMAKE_VERSION_MAJOR, "VV_VERSION_MAJOR differs from CMake's");
_Static_assert(VV_VERSION_MINOR == VV_CMAKE_VERSION_MINOR, "VV_VERSION_MINOR differs from CMake's");
_Static_assert(VV_VERSION_PATCH == VV_CMAKE_VERSION_PATCH, "VV_VERSION_PATCH differs from CMake's");

typedef struct collected {
  size_t samples;
  int64_t next_frame;
  int chunks;
  int in_order;
  int ends;
  int64_t end_frame;
  vv_stop_reason end_reason;
} collected;

static void on_audio(const vv_audio_chunk* chunk, void* user_data) {
  collected* c = (collected*)user_data;
  if (chunk->first_frame != c->next_frame) c->in_order = 0;
  c->next_frame = chunk->first_frame + chunk->frame_count;
  c->samples += chunk->sample_count;
  c->chunks++;
}

static void on_event(const vv_stream_event* ev, void* user_data) {
  collected* c = (collected*)user_data;
  if (ev->kind == VV_EVENT_AUDIO) {
    on_audio(&ev->chunk, user_data);
    if (ev->frame != ev->chunk.first_frame + ev->chunk.frame_count) c->in_order = 0;
  } else if (ev->kind == VV_EVENT_END) {
    c->ends++;
    c->end_frame = ev->frame;
    c->end_reason = ev->stop_reason;
  } else {
    c->in_order = 0; /* no underrun: the text is complete */
  }
}

static int abort_after_three(void* user_data) {
  const collected* c = (const collected*)user_data;
  return c->chunks >= 3;
}

static void test_version(void) {
  char numbers[32];
  snprintf(numbers, sizeof numbers, "%d.%d.%d", VV_VERSION_MAJOR, VV_VERSION_MINOR, VV_VERSION_PATCH);
  CHECK(strcmp(VV_VERSION, numbers) == 0);
  CHECK(strcmp(vv_version(), VV_VERSION) == 0);
  CHECK(strcmp(VV_VERSION, VV_CMAKE_VERSION) == 0);
}

static void test_engine_errors(const char* model) {
  vv_engine* engine = NULL;
  vv_engine_params ep = vv_engine_default_params();
  CHECK_STATUS(vv_engine_load(NULL, &engine), VV_ERROR_USAGE);
  CHECK_STATUS(vv_engine_load(&ep, NULL), VV_ERROR_USAGE);
  CHECK_STATUS(vv_engine_load(&ep, &engine), VV_ERROR_USAGE); /* no model_dir */
  CHECK_MESSAGE("model_dir");
  ep.model_dir = "/nonexistent/model";
  CHECK_STATUS(vv_engine_load(&ep, &engine), VV_ERROR_MODEL);
  CHECK(engine == NULL);
  CHECK(strlen(vv_last_error()) > 0);
  ep.model_dir = model;
  ep.provider = "tpu";
  CHECK_STATUS(vv_engine_load(&ep, &engine), VV_ERROR_USAGE);
  CHECK_MESSAGE("tpu");
  ep.provider = "cpu";
  ep.threads = -1;
  CHECK_STATUS(vv_engine_load(&ep, &engine), VV_ERROR_USAGE);
  ep.threads = 1;
  ep.struct_size = 1000;
  CHECK_STATUS(vv_engine_load(&ep, &engine), VV_ERROR_USAGE);
  CHECK_MESSAGE("struct_size");
  ep.struct_size = 0;
  CHECK_STATUS(vv_engine_load(&ep, &engine), VV_ERROR_USAGE);
  ep.struct_size = sizeof ep;
  /* VV_ERROR_RUNTIME: an execution provider this ONNX Runtime build lacks (the project's build is
   * CPU-only). A CUDA-enabled build loads instead: never a silent fallback to the CPU, so either way. */
  ep.provider = "cuda";
  vv_status st = vv_engine_load(&ep, &engine);
  if (st == VV_OK) {
    printf("note: this ONNX Runtime has CUDA; VV_ERROR_RUNTIME for an unavailable provider not exercised\n");
    vv_engine_free(engine);
    engine = NULL;
  } else {
    CHECK(st == VV_ERROR_RUNTIME);
    CHECK_MESSAGE("CPUExecutionProvider");
    CHECK(engine == NULL);
  }
}

static void test_voices(const vv_engine* engine) {
  CHECK(vv_engine_sample_rate(engine) == 24000);
  CHECK(vv_engine_sample_rate(NULL) == 0);
  CHECK(vv_engine_samples_per_frame(engine) == 3200);
  CHECK(vv_engine_samples_per_frame(NULL) == 0);
  CHECK(vv_engine_voice_count(engine) >= 1);
  CHECK(vv_engine_voice_count(NULL) == 0);
  vv_voice_info info;
  CHECK_STATUS(vv_engine_voice(engine, 0, &info), VV_OK);
  CHECK(strcmp(info.name, "synthetic") == 0);
  CHECK(info.tts_len > 0 && info.lm_len > 0);
  CHECK_STATUS(vv_engine_voice(engine, 99, &info), VV_ERROR_USAGE);
  CHECK_MESSAGE("out of range");
  CHECK_STATUS(vv_engine_voice(engine, 0, NULL), VV_ERROR_USAGE);
}

/* Chunk and event callbacks of vv_synthesize; the same seed without callbacks gives the same audio. */
static void test_synthesize(const vv_engine* engine) {
  collected c1 = {0, 0, 0, 1, 0, 0, VV_STOP_EOS};
  collected e1 = {0, 0, 0, 1, 0, 0, VV_STOP_EOS};
  vv_synthesis_params p = test_params();
  p.chunk_frames = 3;
  p.on_audio = on_audio;
  p.user_data = &c1;
  vv_audio* a = NULL;
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &p, &a), VV_OK);
  p.on_audio = NULL;
  p.on_event = on_event;
  p.user_data = &e1;
  vv_audio* a2 = NULL;
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &p, &a2), VV_OK);
  vv_audio* b = NULL;
  vv_synthesis_params p2 = test_params();
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &p2, &b), VV_OK);
  if (a && a2 && b) {
    CHECK(a->frames == 10);
    CHECK(a->sample_count == 10 * 3200);
    CHECK(a->sample_rate == 24000);
    CHECK(a->latent_dim == 64);
    CHECK(a->stop_reason == VV_STOP_MAX_FRAMES);
    CHECK(c1.samples == a->sample_count);
    CHECK(c1.chunks == 4); /* 3 + 3 + 3 + 1 */
    CHECK(c1.in_order);
    CHECK(e1.chunks == 4 && e1.in_order && e1.samples == a->sample_count);
    CHECK(e1.ends == 1 && e1.end_frame == 10 && e1.end_reason == VV_STOP_MAX_FRAMES);
    CHECK(a2->sample_count == a->sample_count && same_floats(a->samples, a2->samples, a->sample_count));
    /* chunk_frames 1 vs 3: the same audio, bit for bit (the decoder is chunk-invariant) */
    CHECK(b->sample_count == a->sample_count);
    CHECK(same_floats(a->latents, b->latents, (size_t)a->frames * 64));
    CHECK(same_floats(a->samples, b->samples, a->sample_count));
  }
  vv_audio_free(a);
  vv_audio_free(a2);
  vv_audio_free(b);

  /* decode_thread: the same audio, bit for bit */
  vv_synthesis_params pd = test_params();
  pd.decode_thread = 1;
  vv_audio* d = NULL;
  vv_audio* ref = NULL;
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &pd, &d), VV_OK);
  pd.decode_thread = 0;
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &pd, &ref), VV_OK);
  if (d && ref) {
    CHECK(d->sample_count == ref->sample_count && d->frames == ref->frames);
    CHECK(same_floats(d->samples, ref->samples, ref->sample_count));
    CHECK(same_floats(d->latents, ref->latents, (size_t)ref->frames * 64));
  }
  vv_audio_free(d);
  vv_audio_free(ref);

  /* abort callback */
  collected c3 = {0, 0, 0, 1, 0, 0, VV_STOP_EOS};
  vv_synthesis_params pa = test_params();
  pa.max_frames = 40;
  pa.chunk_frames = 1; /* one chunk per frame (the default is adaptive) */
  pa.on_audio = on_audio;
  pa.should_abort = abort_after_three;
  pa.user_data = &c3;
  vv_audio* ab = NULL;
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &pa, &ab), VV_OK);
  if (ab) {
    CHECK(ab->stop_reason == VV_STOP_CANCELLED);
    CHECK(ab->frames == 3); /* polled before every frame: 3 chunks of 1 frame, then stop */
  }
  vv_audio_free(ab);
}

static void test_synthesis_errors(const vv_engine* engine) {
  vv_audio* bad = NULL;
  vv_synthesis_params pe = test_params();
  pe.voice = "nobody"; /* unknown voice: a model/voice error (CLI exit 3), listing the voices */
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &pe, &bad), VV_ERROR_MODEL);
  CHECK_MESSAGE("nobody");
  CHECK_MESSAGE("synthetic");
  pe.voice = NULL;
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &pe, &bad), VV_ERROR_MODEL);
  pe = test_params();
  pe.steps = 51;
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &pe, &bad), VV_ERROR_USAGE);
  pe = test_params();
  pe.cfg_scale = -1.0f;
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &pe, &bad), VV_ERROR_USAGE);
  pe = test_params();
  pe.solver = (vv_solver)7;
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &pe, &bad), VV_ERROR_USAGE);
  CHECK_MESSAGE("solver");
  pe = test_params();
  pe.chunk_frames = -1;
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &pe, &bad), VV_ERROR_USAGE);
  pe = test_params();
  CHECK_STATUS(vv_synthesize(engine, "   ", 3, &pe, &bad), VV_ERROR_INPUT);
  CHECK_STATUS(vv_synthesize(engine, "a\xc3(", 3, &pe, &bad), VV_ERROR_INPUT);
  CHECK_STATUS(vv_synthesize(engine, NULL, 3, &pe, &bad), VV_ERROR_USAGE);
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), NULL, &bad), VV_ERROR_USAGE);
  CHECK_STATUS(vv_synthesize(NULL, kText, strlen(kText), &pe, &bad), VV_ERROR_USAGE);
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &pe, NULL), VV_ERROR_USAGE);
  pe.struct_size = sizeof pe + 8;
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &pe, &bad), VV_ERROR_USAGE);
  CHECK_MESSAGE("struct_size");
  CHECK(bad == NULL);
}

enum { kNoiseFrames = 4, kLatentDim = 64, kNoiseLen = kNoiseFrames * kLatentDim };

static void fill_noise(float* noise, float scale) {
  for (int i = 0; i < kNoiseLen; ++i) noise[i] = scale * (float)((i * 37) % 101 - 50) / 50.0f;
}

static vv_synthesis_params noise_params(const float* noise, const int64_t* shape) {
  vv_synthesis_params p = test_params();
  p.max_frames = kNoiseFrames;
  p.noise = noise;
  p.noise_shape = shape;
  p.noise_ndim = 2;
  p.noise_len = kNoiseLen;
  return p;
}

/* Injected noise: the length must match the shape, the shape must not overflow; the noise is used. */
static void test_noise(const vv_engine* engine, vv_audio** out_reference) {
  static float noise[kNoiseLen], other[kNoiseLen];
  fill_noise(noise, 1.0f);
  fill_noise(other, -0.5f);
  const int64_t shape[2] = {kNoiseFrames, kLatentDim};
  vv_audio* bad = NULL;
  vv_synthesis_params p = noise_params(noise, shape);
  p.max_frames = 10; /* more frames than the noise has */
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &p, &bad), VV_ERROR_INPUT);
  CHECK_MESSAGE("frames");
  p = noise_params(noise, shape);
  p.noise_len = kNoiseLen - 1;
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &p, &bad), VV_ERROR_INPUT);
  CHECK_MESSAGE("noise_len is 255");
  CHECK_MESSAGE("256");
  p.noise_len = 0; /* forgotten: not trusted */
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &p, &bad), VV_ERROR_INPUT);
  CHECK_MESSAGE("noise_len");
  const int64_t huge[3] = {INT64_MAX, INT64_MAX, 4};
  p = noise_params(noise, huge);
  p.noise_ndim = 3;
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &p, &bad), VV_ERROR_INPUT);
  CHECK_MESSAGE("overflows");
  const int64_t negative[2] = {-4, -64};
  p = noise_params(noise, negative);
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &p, &bad), VV_ERROR_INPUT);
  CHECK_MESSAGE("negative");
  const int64_t wrong_dim[2] = {8, 32};
  p = noise_params(noise, wrong_dim);
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &p, &bad), VV_ERROR_INPUT);
  CHECK_MESSAGE("[8, 32]");
  p = noise_params(NULL, shape);
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &p, &bad), VV_ERROR_USAGE);
  CHECK_MESSAGE("noise is NULL");
  p = noise_params(noise, NULL);
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &p, &bad), VV_ERROR_USAGE);
  CHECK_MESSAGE("noise_shape is NULL");
  p = noise_params(noise, shape);
  p.noise_ndim = 0;
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &p, &bad), VV_ERROR_USAGE);
  CHECK_MESSAGE("noise_ndim");
  CHECK(bad == NULL);

  vv_audio* a = NULL;
  vv_audio* b = NULL;
  p = noise_params(noise, shape);
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &p, &a), VV_OK);
  p.noise = other;
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &p, &b), VV_OK);
  if (a && b) {
    CHECK(a->frames == kNoiseFrames && b->frames == kNoiseFrames);
    CHECK(!same_floats(a->latents, b->latents, (size_t)kNoiseLen)); /* the noise is what was injected */
  }
  vv_audio_free(b);
  *out_reference = a;
}

/* A struct from the header before noise_len/on_event: the defaults apply to them (noise_len: trust
 * noise_shape, as that header promised; on_event: none), the garbage after the struct is never read. */
static void test_old_struct(const vv_engine* engine, const vv_audio* reference) {
  static float noise[kNoiseLen];
  fill_noise(noise, 1.0f);
  const int64_t shape[2] = {kNoiseFrames, kLatentDim};
  collected c = {0, 0, 0, 1, 0, 0, VV_STOP_EOS};
  vv_synthesis_params current = noise_params(noise, shape);
  current.on_audio = on_audio;
  current.user_data = &c;
  old_params_buffer old;
  const vv_synthesis_params* p = old_params(&old, &current);
  vv_audio* a = NULL;
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), p, &a), VV_OK);
  if (a && reference) {
    CHECK(a->frames == reference->frames);
    CHECK(same_floats(a->latents, reference->latents, (size_t)kNoiseLen));
    CHECK(a->sample_count == reference->sample_count &&
          same_floats(a->samples, reference->samples, reference->sample_count));
    CHECK(c.samples == a->sample_count && c.in_order);
  }
  vv_audio_free(a);
  a = NULL;
  /* the old struct's own fields still count: a mismatching shape is still refused */
  const int64_t wrong[2] = {kNoiseFrames, 32};
  old.p.noise_shape = wrong;
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), p, &a), VV_ERROR_INPUT);
  CHECK(a == NULL);
}

int main(void) {
  int skip = 0;
  const char* model = test_model_dir(&skip);
  test_version();
  if (!model) return failures ? 1 : skip;
  test_engine_errors(model);
  vv_engine* engine = load_test_engine(model);
  if (!engine) return 1;
  test_voices(engine);
  test_synthesize(engine);
  test_synthesis_errors(engine);
  vv_audio* reference = NULL;
  test_noise(engine, &reference);
  test_old_struct(engine, reference);
  vv_audio_free(reference);
  vv_audio_free(NULL);
  vv_engine_free(engine);
  vv_engine_free(NULL);
  return finish_test("C API test");
}
