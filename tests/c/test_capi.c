/* C API test against the tiny model (env VV_TEST_MODEL_DIR). Exit 0 = pass, 1 = failure, 77 = skipped
 * (model not available locally; under CI=true a missing model is a failure). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vibevoice/vibevoice.h"

static int failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

#define CHECK_STATUS(call, expected)                                                                    \
  do {                                                                                                  \
    vv_status st_ = (call);                                                                             \
    if (st_ != (expected)) {                                                                            \
      fprintf(stderr, "%s:%d: %s returned %d, expected %d (%s)\n", __FILE__, __LINE__, #call, (int)st_, \
              (int)(expected), vv_last_error());                                                        \
      ++failures;                                                                                       \
    }                                                                                                   \
  } while (0)

typedef struct collected {
  size_t samples;
  int64_t next_frame;
  int chunks;
  int in_order;
} collected;

static void on_audio(const vv_audio_chunk* chunk, void* user_data) {
  collected* c = (collected*)user_data;
  if (chunk->first_frame != c->next_frame) c->in_order = 0;
  c->next_frame = chunk->first_frame + chunk->frame_count;
  c->samples += chunk->sample_count;
  c->chunks++;
}

static int abort_after_three(void* user_data) {
  collected* c = (collected*)user_data;
  return c->chunks >= 3;
}

static const char* kText = "Hello from the C API. This sentence is long enough for a few text windows.";

static vv_synthesis_params params(void) {
  vv_synthesis_params p = vv_synthesis_default_params();
  p.voice = "synthetic";
  p.seed = 3;
  p.max_frames = 10;
  p.ignore_eos = 1;
  return p;
}

int main(void) {
  const char* model = getenv("VV_TEST_MODEL_DIR");
  const char* ci = getenv("CI");
  if (!model || !*model) {
    if (ci && strcmp(ci, "true") == 0) {
      fprintf(stderr, "VV_TEST_MODEL_DIR is not set (scripts/make_test_model.sh)\n");
      return 1;
    }
    printf("SKIP: set VV_TEST_MODEL_DIR to the tiny model\n");
    return 77;
  }

  /* engine errors */
  vv_engine* engine = NULL;
  vv_engine_params ep = vv_engine_default_params();
  CHECK_STATUS(vv_engine_load(NULL, &engine), VV_ERROR_USAGE);
  ep.model_dir = "/nonexistent/model";
  CHECK_STATUS(vv_engine_load(&ep, &engine), VV_ERROR_MODEL);
  CHECK(engine == NULL);
  CHECK(strlen(vv_last_error()) > 0);
  ep.model_dir = model;
  ep.provider = "tpu";
  CHECK_STATUS(vv_engine_load(&ep, &engine), VV_ERROR_USAGE);
  ep.provider = "cpu";
  ep.struct_size = 1000;
  CHECK_STATUS(vv_engine_load(&ep, &engine), VV_ERROR_USAGE);
  ep.struct_size = sizeof ep;
  ep.threads = 1;
  CHECK_STATUS(vv_engine_load(&ep, &engine), VV_OK);
  if (!engine) return 1;

  /* voices */
  CHECK(vv_engine_sample_rate(engine) == 24000);
  CHECK(vv_engine_voice_count(engine) >= 1);
  vv_voice_info info;
  CHECK_STATUS(vv_engine_voice(engine, 0, &info), VV_OK);
  CHECK(strcmp(info.name, "synthetic") == 0);
  CHECK(info.tts_len > 0 && info.lm_len > 0);
  CHECK_STATUS(vv_engine_voice(engine, 99, &info), VV_ERROR_USAGE);

  /* whole-utterance synthesis, with the chunk callback */
  collected c1 = {0, 0, 0, 1};
  vv_synthesis_params p = params();
  p.chunk_frames = 3;
  p.on_audio = on_audio;
  p.user_data = &c1;
  vv_audio* a = NULL;
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &p, &a), VV_OK);
  if (a) {
    CHECK(a->frames == 10);
    CHECK(a->sample_count == 10 * 3200);
    CHECK(a->latent_dim == 64);
    CHECK(a->stop_reason == VV_STOP_MAX_FRAMES);
    CHECK(c1.samples == a->sample_count);
    CHECK(c1.chunks == 4); /* 3 + 3 + 3 + 1 */
    CHECK(c1.in_order);
  }

  /* same seed, no callback: same audio */
  vv_audio* b = NULL;
  vv_synthesis_params p2 = params();
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &p2, &b), VV_OK);
  if (a && b) {
    CHECK(b->sample_count == a->sample_count);
    CHECK(memcmp(a->latents, b->latents, (size_t)a->frames * 64 * sizeof(float)) == 0);
    float max_diff = 0;
    for (size_t i = 0; i < a->sample_count; ++i) {
      float d = fabsf(a->samples[i] - b->samples[i]);
      if (d > max_diff) max_diff = d;
    }
    CHECK(max_diff < 1e-5f);
  }

  /* streaming: pushed in pieces, same latents as the whole text */
  collected c2 = {0, 0, 0, 1};
  vv_synthesis_params ps = params();
  ps.on_audio = on_audio;
  ps.user_data = &c2;
  vv_stream* s = NULL;
  CHECK_STATUS(vv_stream_create(engine, &ps, &s), VV_OK);
  if (s) {
    size_t len = strlen(kText);
    for (size_t i = 0; i < len; i += 7) {
      size_t n = len - i < 7 ? len - i : 7;
      CHECK_STATUS(vv_stream_push_text(s, kText + i, n), VV_OK);
    }
    CHECK_STATUS(vv_stream_push_text(s, "\xff", 1), VV_ERROR_INPUT);
    CHECK_STATUS(vv_stream_finish(s), VV_OK);
    vv_stop_reason reason = VV_STOP_EOS;
    CHECK_STATUS(vv_stream_wait(s, &reason), VV_OK);
    CHECK(reason == VV_STOP_MAX_FRAMES);
    CHECK(c2.samples == 10 * 3200);
    CHECK(c2.in_order);
    CHECK_STATUS(vv_stream_push_text(s, "late", 4), VV_ERROR_USAGE);
    vv_stream_free(s);
  }

  /* abort callback */
  collected c3 = {0, 0, 0, 1};
  vv_synthesis_params pa = params();
  pa.max_frames = 40;
  pa.on_audio = on_audio;
  pa.should_abort = abort_after_three;
  pa.user_data = &c3;
  vv_audio* ab = NULL;
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &pa, &ab), VV_OK);
  if (ab) {
    CHECK(ab->stop_reason == VV_STOP_CANCELLED);
    CHECK(ab->frames < 40);
  }

  /* error paths */
  vv_audio* bad = NULL;
  vv_synthesis_params pe = params();
  pe.voice = "nobody";
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &pe, &bad), VV_ERROR_MODEL);
  CHECK(strstr(vv_last_error(), "synthetic") != NULL);
  pe = params();
  pe.steps = 51;
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &pe, &bad), VV_ERROR_USAGE);
  pe = params();
  pe.cfg_scale = -1.0f;
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &pe, &bad), VV_ERROR_USAGE);
  pe = params();
  CHECK_STATUS(vv_synthesize(engine, "   ", 3, &pe, &bad), VV_ERROR_INPUT);
  CHECK_STATUS(vv_synthesize(engine, "a\xc3(", 3, &pe, &bad), VV_ERROR_INPUT);
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), NULL, &bad), VV_ERROR_USAGE);
  CHECK_STATUS(vv_synthesize(NULL, kText, strlen(kText), &pe, &bad), VV_ERROR_USAGE);
  CHECK(bad == NULL);
  vv_stream* s2 = NULL;
  CHECK_STATUS(vv_stream_create(engine, &pe, &s2), VV_ERROR_USAGE); /* stream needs on_audio */
  {
    float noise[4 * 64];
    int64_t shape[2] = {4, 64};
    for (int i = 0; i < 4 * 64; ++i) noise[i] = 0.1f;
    pe = params();
    pe.noise = noise;
    pe.noise_shape = shape;
    pe.noise_ndim = 2;
    CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &pe, &bad), VV_ERROR_INPUT); /* 10 frames > 4 */
    pe.max_frames = 4;
    CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &pe, &bad), VV_OK);
    vv_audio_free(bad);
  }

  vv_audio_free(a);
  vv_audio_free(b);
  vv_audio_free(ab);
  vv_audio_free(NULL);
  vv_engine_free(engine);
  vv_engine_free(NULL);
  vv_stream_free(NULL);
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("C API test passed\n");
  return 0;
}
