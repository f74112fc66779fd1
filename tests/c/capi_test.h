/* Shared by the C API tests (tests/c/test_*.c): checks, the tiny model (env VV_TEST_MODEL_DIR; a missing
 * model skips with exit code 77, or fails under CI=true), common parameters and comparisons. */
#ifndef VV_CAPI_TEST_H
#define VV_CAPI_TEST_H

#include <stddef.h>
#include <stdint.h>
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
              (int)(expected), st_ == VV_OK ? "" : vv_last_error());                                    \
      ++failures;                                                                                       \
    }                                                                                                   \
  } while (0)

/* The last error message contains `part` (after a failing call). */
#define CHECK_MESSAGE(part)                                                                           \
  do {                                                                                                \
    if (!strstr(vv_last_error(), (part))) {                                                           \
      fprintf(stderr, "%s:%d: last error \"%s\" lacks \"%s\"\n", __FILE__, __LINE__, vv_last_error(), \
              (part));                                                                                \
      ++failures;                                                                                     \
    }                                                                                                 \
  } while (0)

static const char* const kText = "Hello from the C API. This sentence is long enough for a few text windows.";

/* The tiny model's directory, or NULL with *exit_code set (77 = skip, 1 = failure under CI). */
static inline const char* test_model_dir(int* exit_code) {
  const char* model = getenv("VV_TEST_MODEL_DIR");
  const char* ci = getenv("CI");
  if (model && *model) return model;
  if (ci && strcmp(ci, "true") == 0) {
    fprintf(stderr, "VV_TEST_MODEL_DIR is not set (scripts/make_test_model.sh)\n");
    *exit_code = 1;
  } else {
    printf("SKIP: set VV_TEST_MODEL_DIR to the tiny model\n");
    *exit_code = 77;
  }
  return NULL;
}

static inline vv_engine* load_test_engine(const char* model) {
  vv_engine_params ep = vv_engine_default_params();
  ep.model_dir = model;
  ep.threads = 1;
  vv_engine* engine = NULL;
  CHECK_STATUS(vv_engine_load(&ep, &engine), VV_OK);
  return engine;
}

/* Seeded, fixed length (ignores the random model's EOS). */
static inline vv_synthesis_params test_params(void) {
  vv_synthesis_params p = vv_synthesis_default_params();
  p.voice = "synthetic";
  p.seed = 3;
  p.max_frames = 10;
  p.ignore_eos = 1;
  return p;
}

/* vv_synthesis_params as declared by the header before noise_len and on_event were appended. */
typedef struct old_synthesis_params {
  size_t struct_size;
  const char* voice;
  int steps;
  float cfg_scale;
  uint64_t seed;
  vv_solver solver;
  int chunk_frames;
  int64_t max_frames;
  int ignore_eos;
  const float* noise;
  const int64_t* noise_shape;
  size_t noise_ndim;
  vv_audio_callback on_audio;
  vv_abort_callback should_abort;
  void* user_data;
  int decode_thread;
} old_synthesis_params;
_Static_assert(sizeof(old_synthesis_params) == offsetof(vv_synthesis_params, noise_len),
               "the old layout is a prefix of the current one");

/* Storage for an old caller's struct followed by garbage (0xA5) where the newer fields would be: the
 * library must read only struct_size bytes. */
typedef union old_params_buffer {
  old_synthesis_params p;
  unsigned char bytes[sizeof(vv_synthesis_params) + 32];
} old_params_buffer;

static inline const vv_synthesis_params* old_params(old_params_buffer* buf,
                                                    const vv_synthesis_params* current) {
  memset(buf->bytes, 0xA5, sizeof buf->bytes);
  memcpy(&buf->p, current, sizeof buf->p);
  buf->p.struct_size = sizeof buf->p;
  return (const vv_synthesis_params*)(const void*)buf;
}

/* Bit-exact equality of n floats. */
static inline int same_floats(const float* a, const float* b, size_t n) {
  return n == 0 || (a && b && memcmp(a, b, n * sizeof(float)) == 0);
}

static inline int finish_test(const char* name) {
  if (failures) {
    fprintf(stderr, "%s: %d check(s) failed\n", name, failures);
    return 1;
  }
  printf("%s passed\n", name);
  return 0;
}

#endif /* VV_CAPI_TEST_H */
