/* C API stream test against the tiny model (env VV_TEST_MODEL_DIR): callback and pull modes give exactly
 * the audio of vv_synthesize on the whole text (also with decode_thread), underrun/end events reach C,
 * cancel from another thread, a params struct from an older header, errors. Exit 0 / 1 / 77 (skipped). */
#include <pthread.h>
#include <unistd.h>

#include "capi_test.h"

enum { kFrames = 30 };

typedef struct events {
  float* samples;
  size_t count, capacity;
  int64_t next_frame;
  int in_order, underruns, ends, chunks;
  int64_t underrun_frame, end_frame;
  vv_stop_reason end_reason;
} events;

static void add_chunk(events* e, const vv_audio_chunk* c) {
  if (c->first_frame != e->next_frame || c->sample_count != (size_t)c->frame_count * 3200) e->in_order = 0;
  e->next_frame = c->first_frame + c->frame_count;
  if (e->count + c->sample_count > e->capacity) {
    e->capacity = 2 * (e->count + c->sample_count);
    e->samples = (float*)realloc(e->samples, e->capacity * sizeof(float));
  }
  if (!e->samples) return;
  memcpy(e->samples + e->count, c->samples, c->sample_count * sizeof(float));
  e->count += c->sample_count;
  e->chunks++;
}

static void add_event(events* e, const vv_stream_event* ev) {
  if (ev->kind == VV_EVENT_AUDIO) {
    add_chunk(e, &ev->chunk);
  } else if (ev->kind == VV_EVENT_UNDERRUN) {
    e->underrun_frame = ev->frame;
    if (ev->frame != e->next_frame) e->in_order = 0;        /* everything generated was delivered first */
    __atomic_add_fetch(&e->underruns, 1, __ATOMIC_RELEASE); /* polled by the main thread */
  } else {
    e->ends++;
    e->end_frame = ev->frame;
    e->end_reason = ev->stop_reason;
  }
}

static void on_audio(const vv_audio_chunk* chunk, void* user_data) {
  add_chunk((events*)user_data, chunk);
}
static void on_event(const vv_stream_event* ev, void* user_data) {
  add_event((events*)user_data, ev);
}

static vv_synthesis_params stream_params(void) {
  vv_synthesis_params p = test_params();
  p.max_frames = kFrames;
  p.chunk_frames = 2;
  return p;
}

static void push_in_pieces(vv_stream* s, const char* text, size_t piece) {
  size_t len = strlen(text);
  for (size_t i = 0; i < len; i += piece) {
    size_t n = len - i < piece ? len - i : piece;
    CHECK_STATUS(vv_stream_push_text(s, text + i, n), VV_OK);
  }
}

static void check_same_audio(const events* e, const vv_audio* whole) {
  CHECK(e->in_order);
  CHECK(e->next_frame == kFrames);
  CHECK(e->count == whole->sample_count);
  CHECK(e->count == whole->sample_count && same_floats(e->samples, whole->samples, e->count));
}

/* Callback mode (on_audio, optionally decode_thread; or an old header's struct): same audio as the whole. */
static void test_callback_stream(const vv_engine* engine, const vv_audio* whole, int decode_thread, int old) {
  events e = {NULL, 0, 0, 0, 1, 0, 0, 0, 0, 0, VV_STOP_EOS};
  vv_synthesis_params p = stream_params();
  p.decode_thread = decode_thread;
  p.on_audio = on_audio;
  p.user_data = &e;
  old_params_buffer buf;
  vv_stream* s = NULL;
  CHECK_STATUS(vv_stream_create(engine, old ? old_params(&buf, &p) : &p, &s), VV_OK);
  if (!s) return;
  push_in_pieces(s, kText, 7);
  CHECK_STATUS(vv_stream_push_text(s, "\xff", 1), VV_ERROR_INPUT); /* rejected; the stream goes on */
  CHECK_STATUS(vv_stream_finish(s), VV_OK);
  vv_stream_event ev;
  CHECK_STATUS(vv_stream_next(s, &ev), VV_ERROR_USAGE); /* events go to the callback */
  vv_stop_reason reason = VV_STOP_EOS;
  CHECK_STATUS(vv_stream_wait(s, &reason), VV_OK);
  CHECK(reason == VV_STOP_MAX_FRAMES);
  check_same_audio(&e, whole);
  CHECK_STATUS(vv_stream_push_text(s, "late", 4), VV_ERROR_USAGE);
  vv_stream_free(s);
  free(e.samples);
}

/* Pull mode end to end: an underrun while text is missing, then the rest; same audio as the whole. */
static void test_pull_stream(const vv_engine* engine, const vv_audio* whole) {
  events e = {NULL, 0, 0, 0, 1, 0, 0, 0, 0, 0, VV_STOP_EOS};
  vv_synthesis_params p = stream_params();
  vv_stream* s = NULL;
  CHECK_STATUS(vv_stream_create(engine, &p, &s), VV_OK);
  if (!s) return;
  CHECK_STATUS(vv_stream_push_text(s, kText, 20), VV_OK);
  vv_stream_event ev;
  CHECK_STATUS(vv_stream_next(s, NULL), VV_ERROR_USAGE);
  do {
    CHECK_STATUS(vv_stream_next(s, &ev), VV_OK);
    add_event(&e, &ev);
  } while (ev.kind == VV_EVENT_AUDIO && !failures);
  CHECK(ev.kind == VV_EVENT_UNDERRUN);
  CHECK_STATUS(vv_stream_push_text(s, kText + 20, strlen(kText) - 20), VV_OK);
  CHECK_STATUS(vv_stream_finish(s), VV_OK);
  do {
    CHECK_STATUS(vv_stream_next(s, &ev), VV_OK);
    add_event(&e, &ev);
  } while (ev.kind != VV_EVENT_END && !failures);
  CHECK(e.underruns >= 1 && e.ends == 1);
  CHECK(e.end_frame == kFrames && e.end_reason == VV_STOP_MAX_FRAMES);
  check_same_audio(&e, whole);
  CHECK_STATUS(vv_stream_next(s, &ev), VV_OK); /* stays at the end */
  CHECK(ev.kind == VV_EVENT_END && ev.stop_reason == VV_STOP_MAX_FRAMES);
  vv_stop_reason reason = VV_STOP_EOS;
  CHECK_STATUS(vv_stream_wait(s, &reason), VV_OK);
  CHECK(reason == VV_STOP_MAX_FRAMES);
  vv_stream_free(s);
  free(e.samples);
}

/* The event callback (with on_audio too: each chunk goes to both) receives the underrun and the end. */
static void test_event_callback(const vv_engine* engine, const vv_audio* whole) {
  events e = {NULL, 0, 0, 0, 1, 0, 0, 0, 0, 0, VV_STOP_EOS};
  events a = {NULL, 0, 0, 0, 1, 0, 0, 0, 0, 0, VV_STOP_EOS};
  vv_synthesis_params p = stream_params();
  p.on_event = on_event;
  p.user_data = &e;
  vv_stream* s = NULL;
  CHECK_STATUS(vv_stream_create(engine, &p, &s), VV_OK);
  if (!s) return;
  CHECK_STATUS(vv_stream_push_text(s, kText, 20), VV_OK);
  /* the worker reports the underrun (read atomically: the worker may still be running) */
  for (int i = 0; i < 2000 && !__atomic_load_n(&e.underruns, __ATOMIC_ACQUIRE); ++i) usleep(5000);
  CHECK(__atomic_load_n(&e.underruns, __ATOMIC_ACQUIRE) == 1);
  CHECK_STATUS(vv_stream_push_text(s, kText + 20, strlen(kText) - 20), VV_OK);
  CHECK_STATUS(vv_stream_finish(s), VV_OK);
  CHECK_STATUS(vv_stream_wait(s, NULL), VV_OK);
  CHECK(e.ends == 1 && e.end_frame == kFrames && e.end_reason == VV_STOP_MAX_FRAMES);
  check_same_audio(&e, whole);
  vv_stream_free(s);
  free(e.samples);
  e = a;
  p.on_audio = on_audio;
  p.user_data = &e;
  s = NULL;
  CHECK_STATUS(vv_stream_create(engine, &p, &s), VV_OK);
  if (!s) return;
  CHECK_STATUS(vv_stream_push_text(s, kText, strlen(kText)), VV_OK);
  CHECK_STATUS(vv_stream_finish(s), VV_OK);
  CHECK_STATUS(vv_stream_wait(s, NULL), VV_OK);
  CHECK(e.chunks == 2 * (kFrames / 2)); /* every chunk twice */
  vv_stream_free(s);
  free(e.samples);
}

/* Cancel from another thread, while the worker is inside the 3rd audio callback: the stream ends with
 * VV_STOP_CANCELLED within a frame or two. */
typedef struct canceller {
  vv_stream* stream;
  pthread_mutex_t mutex;
  pthread_cond_t cv;
  int chunks, asked, done;
  vv_status status;
} canceller;

static void* cancel_thread(void* arg) {
  canceller* c = (canceller*)arg;
  pthread_mutex_lock(&c->mutex);
  while (!c->asked) pthread_cond_wait(&c->cv, &c->mutex);
  pthread_mutex_unlock(&c->mutex);
  c->status = vv_stream_cancel(c->stream);
  pthread_mutex_lock(&c->mutex);
  c->done = 1;
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mutex);
  return NULL;
}

static void cancel_on_third_chunk(const vv_audio_chunk* chunk, void* user_data) {
  (void)chunk;
  canceller* c = (canceller*)user_data;
  pthread_mutex_lock(&c->mutex);
  if (++c->chunks == 3) {
    c->asked = 1;
    pthread_cond_broadcast(&c->cv);
    while (!c->done) pthread_cond_wait(&c->cv, &c->mutex);
  }
  pthread_mutex_unlock(&c->mutex);
}

static void test_cancel(const vv_engine* engine) {
  canceller c = {NULL, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, VV_ERROR_RUNTIME};
  vv_synthesis_params p = test_params();
  p.max_frames = 0; /* would run to the length limit */
  p.on_audio = cancel_on_third_chunk;
  p.user_data = &c;
  CHECK_STATUS(vv_stream_create(engine, &p, &c.stream), VV_OK);
  if (!c.stream) return;
  pthread_t t;
  CHECK(pthread_create(&t, NULL, cancel_thread, &c) == 0);
  CHECK_STATUS(vv_stream_push_text(c.stream, kText, strlen(kText)), VV_OK);
  { /* generation runs while the text is pushed: the cancel may already have happened */
    const vv_status st = vv_stream_finish(c.stream);
    CHECK(st == VV_OK || st == VV_ERROR_USAGE);
  }
  vv_stop_reason reason = VV_STOP_EOS;
  CHECK_STATUS(vv_stream_wait(c.stream, &reason), VV_OK);
  pthread_join(t, NULL);
  CHECK(c.status == VV_OK);
  CHECK(reason == VV_STOP_CANCELLED);
  CHECK(c.chunks >= 3 && c.chunks <= 5);
  CHECK_STATUS(vv_stream_push_text(c.stream, "more", 4), VV_ERROR_USAGE);
  vv_stream_free(c.stream);
}

static void* cancel_later(void* arg) {
  usleep(50000);
  vv_stream_cancel((vv_stream*)arg);
  return NULL;
}

/* Pull mode, blocked in vv_stream_next while generation waits for text: another thread's cancel ends it. */
static void test_cancel_while_waiting(const vv_engine* engine) {
  vv_synthesis_params p = stream_params();
  vv_stream* s = NULL;
  CHECK_STATUS(vv_stream_create(engine, &p, &s), VV_OK);
  if (!s) return;
  CHECK_STATUS(vv_stream_push_text(s, "Hello", 5), VV_OK);
  vv_stream_event ev;
  do {
    CHECK_STATUS(vv_stream_next(s, &ev), VV_OK);
  } while (ev.kind == VV_EVENT_AUDIO && !failures);
  CHECK(ev.kind == VV_EVENT_UNDERRUN);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, cancel_later, s) == 0);
  CHECK_STATUS(vv_stream_next(s, &ev), VV_OK);
  pthread_join(t, NULL);
  CHECK(ev.kind == VV_EVENT_END && ev.stop_reason == VV_STOP_CANCELLED);
  vv_stream_free(s);
}

static void test_errors(const vv_engine* engine) {
  vv_stream* s = NULL;
  vv_synthesis_params p = stream_params();
  CHECK_STATUS(vv_stream_create(engine, NULL, &s), VV_ERROR_USAGE);
  CHECK_STATUS(vv_stream_create(NULL, &p, &s), VV_ERROR_USAGE);
  p.voice = "nobody";
  CHECK_STATUS(vv_stream_create(engine, &p, &s), VV_ERROR_MODEL);
  CHECK(s == NULL);
  /* too little injected noise: the error comes out of vv_stream_next after the audio before it */
  static float noise[4 * 64];
  const int64_t shape[2] = {4, 64};
  p = stream_params();
  p.noise = noise;
  p.noise_shape = shape;
  p.noise_ndim = 2;
  p.noise_len = 4 * 64;
  CHECK_STATUS(vv_stream_create(engine, &p, &s), VV_OK);
  if (!s) return;
  CHECK_STATUS(vv_stream_push_text(s, kText, strlen(kText)), VV_OK);
  CHECK_STATUS(vv_stream_finish(s), VV_OK);
  vv_stream_event ev;
  int64_t frames = 0;
  vv_status st;
  while ((st = vv_stream_next(s, &ev)) == VV_OK && ev.kind != VV_EVENT_END) frames = ev.frame;
  CHECK(st == VV_ERROR_INPUT);
  CHECK_MESSAGE("frames");
  CHECK(frames == 4);
  CHECK_STATUS(vv_stream_wait(s, NULL), VV_ERROR_INPUT);
  vv_stream_free(s);
  s = NULL;
  p = stream_params();
  CHECK_STATUS(vv_stream_create(engine, &p, &s), VV_OK);
  if (!s) return;
  CHECK_STATUS(vv_stream_push_text(s, NULL, 3), VV_ERROR_USAGE);
  CHECK_STATUS(vv_stream_push_text(s, " \n ", 3), VV_OK);
  CHECK_STATUS(vv_stream_finish(s), VV_ERROR_INPUT); /* empty text: the stream ends */
  vv_stop_reason reason = VV_STOP_EOS;
  CHECK_STATUS(vv_stream_wait(s, &reason), VV_OK);
  CHECK(reason == VV_STOP_CANCELLED);
  vv_stream_free(s);
  CHECK_STATUS(vv_stream_next(NULL, &ev), VV_ERROR_USAGE);
  CHECK_STATUS(vv_stream_cancel(NULL), VV_ERROR_USAGE);
  vv_stream_free(NULL);
}

int main(void) {
  int skip = 0;
  const char* model = test_model_dir(&skip);
  if (!model) return skip;
  vv_engine* engine = load_test_engine(model);
  if (!engine) return 1;
  vv_synthesis_params p = stream_params();
  vv_audio* whole = NULL;
  CHECK_STATUS(vv_synthesize(engine, kText, strlen(kText), &p, &whole), VV_OK);
  if (whole) {
    CHECK(whole->frames == kFrames);
    test_callback_stream(engine, whole, 0, 0);
    test_callback_stream(engine, whole, 1, 0);
    test_callback_stream(engine, whole, 0, 1);
    test_pull_stream(engine, whole);
    test_event_callback(engine, whole);
  }
  test_cancel(engine);
  test_cancel_while_waiting(engine);
  test_errors(engine);
  vv_audio_free(whole);
  vv_engine_free(engine);
  return finish_test("C API stream test");
}
