/* Out-of-tree consumer of an installed vibevoice-onnx, built with pkg-config (tests/python/test_install.py).
 * Usage: synth MODEL_DIR VOICE [TEXT]  -> prints "samples=N sample_rate=R"; exit 0 when audio was made. */
#include <stdio.h>
#include <string.h>
#include <vibevoice/vibevoice.h>

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s MODEL_DIR VOICE [TEXT]\n", argv[0]);
    return 2;
  }
  const char* text = argc > 3 ? argv[3] : "Hello from C.";
  if (strcmp(vv_version(), VV_VERSION) != 0) {
    fprintf(stderr, "header %s, library %s\n", VV_VERSION, vv_version());
    return 1;
  }
  vv_engine_params engine_params = vv_engine_default_params();
  engine_params.model_dir = argv[1];
  vv_engine* engine = NULL;
  if (vv_engine_load(&engine_params, &engine) != VV_OK) {
    fprintf(stderr, "vv_engine_load: %s\n", vv_last_error());
    return 1;
  }
  vv_synthesis_params params = vv_synthesis_default_params();
  params.voice = argv[2];
  params.seed = 1;
  params.max_frames = 8;
  vv_audio* audio = NULL;
  if (vv_synthesize(engine, text, strlen(text), &params, &audio) != VV_OK) {
    fprintf(stderr, "vv_synthesize: %s\n", vv_last_error());
    vv_engine_free(engine);
    return 1;
  }
  printf("samples=%zu sample_rate=%d\n", audio->sample_count, audio->sample_rate);
  int ok = audio->sample_count > 0 && audio->sample_rate == vv_engine_sample_rate(engine);
  vv_audio_free(audio);
  vv_engine_free(engine);
  return ok ? 0 : 1;
}
