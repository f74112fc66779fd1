// `vibevoice` command line: text + voice -> speech with the ONNX Runtime engine.
// Exit codes: 0 ok, 2 usage, 3 model/voice error, 4 input error, 5 runtime error.
#include <cstdio>
#include <exception>
#include <string>

#include "cli/commands.h"
#include "core/error.h"
#include "core/version.h"

int main(int argc, char** argv) {
  CLI::App app{"vibevoice: streaming text-to-speech for VibeVoice-Realtime-0.5B on ONNX Runtime"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("vibevoice ") + vv::version_string());
  vv::cli::Runner run;
  vv::cli::add_tokenize_command(app, run);
  vv::cli::add_normalize_command(app, run);
  vv::cli::add_synth_command(app, run);
  vv::cli::add_voices_command(app, run);
#ifdef VV_WITH_SERVER
  vv::cli::add_serve_command(app, run);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : static_cast<int>(vv::ErrorKind::kUsage);
  }
  try {
    return run ? run() : 0;
  } catch (const vv::Error& e) {
    std::fprintf(stderr, "vibevoice: error: %s\n", e.what());
    return static_cast<int>(e.kind());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vibevoice: internal error: %s\n", e.what());
    return static_cast<int>(vv::ErrorKind::kRuntime);
  }
}
