// `vibevoice synth`: text -> speech. Audio is written as it is generated: a WAV file whose header is kept
// valid after every chunk (-o), or raw s16le PCM on stdout for piping to a player (--raw -). Text comes
// from --text, --text-file or stdin; stdin is fed to the engine incrementally as it arrives, so the tool
// can speak the output of another program while it is still being written.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>

#include "audio/wav.h"
#include "cli/commands.h"
#include "core/error.h"
#include "model/npy.h"
#include "vibevoice/vibevoice.hpp"

namespace vv::cli {

namespace {

struct SynthArgs {
  std::string model, voice, text, text_file, out, raw, solver, provider = "cpu", noise, dump_latents;
  bool have_text = false;
  std::optional<int> steps;
  std::optional<float> cfg;
  uint64_t seed = 0;
  int threads = 0, chunk = 1;
  std::optional<double> max_seconds;
  bool ignore_eos = false, quiet = false, decode_thread = false;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorKind::kInput, "cannot read text file " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class Progress {
 public:
  Progress(bool enabled, int sample_rate) : enabled_(enabled), tty_(isatty(2)), sample_rate_(sample_rate) {}
  void update(int64_t frames, int64_t samples, bool final_line) {
    if (!enabled_ || (!tty_ && !final_line)) return;
    const double secs = static_cast<double>(samples) / sample_rate_;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::fprintf(stderr, "%sframes %lld  audio %.2f s  elapsed %.2f s  RTF %.3f%s", tty_ ? "\r" : "",
                 static_cast<long long>(frames), secs, elapsed, secs > 0 ? elapsed / secs : 0.0,
                 final_line ? "\n" : "");
    std::fflush(stderr);
  }

 private:
  bool enabled_, tty_;
  int sample_rate_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

int run_synth(const SynthArgs& a) {
  if (a.out.empty() == a.raw.empty()) fail(ErrorKind::kUsage, "give exactly one of -o FILE.wav or --raw -");
  if (!a.raw.empty() && a.raw != "-") fail(ErrorKind::kUsage, "--raw only supports '-' (stdout)");
  if (a.have_text + !a.text_file.empty() > 1)
    fail(ErrorKind::kUsage, "give at most one of --text and --text-file");
  if (a.max_seconds && !(*a.max_seconds > 0)) fail(ErrorKind::kUsage, "--max-seconds must be > 0");

  const Engine engine = Engine::load({a.model, a.threads, a.provider});
  SynthesisOptions opts;
  opts.voice = a.voice;
  opts.steps = a.steps;
  opts.cfg_scale = a.cfg;
  opts.seed = a.seed;
  if (a.solver == "ode") opts.solver = SolverChoice::kOde;
  if (a.solver == "sde") opts.solver = SolverChoice::kSde;
  opts.chunk_frames = a.chunk;
  opts.ignore_eos = a.ignore_eos;
  opts.decode_thread = a.decode_thread;
  if (a.max_seconds) {
    opts.max_frames =
        static_cast<int64_t>(std::ceil(*a.max_seconds * engine.sample_rate() / engine.samples_per_frame()));
  }
  if (!a.noise.empty()) {
    const NpyArray noise = read_npy(a.noise);
    opts.noise = NoiseArray{noise.to_f32(), noise.shape};
  }

  std::unique_ptr<WavWriter> wav;
  if (!a.out.empty()) wav = std::make_unique<WavWriter>(a.out, engine.sample_rate());
  Progress progress(!a.quiet, engine.sample_rate());
  int64_t samples = 0;
  auto on_event = [&](const StreamEvent& ev) {
    if (ev.kind != StreamEvent::kAudio) return;
    if (wav) {
      wav->write(ev.chunk.samples);
    } else {
      write_pcm16(stdout, ev.chunk.samples);
      std::fflush(stdout);
    }
    samples += static_cast<int64_t>(ev.chunk.samples.size());
    progress.update(ev.frame, samples, false);
  };

  Stream stream = engine.stream(opts, on_event);
  if (a.have_text) {
    stream.push_text(a.text);
  } else if (!a.text_file.empty()) {
    stream.push_text(read_file(a.text_file));
  } else {
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(0, buf, sizeof buf);
      if (n == 0) break;
      if (n < 0) fail(ErrorKind::kInput, "cannot read text from stdin");
      stream.push_text(std::string_view(buf, static_cast<size_t>(n)));
    }
  }
  stream.finish();
  const Audio audio = stream.wait();
  if (wav) wav->close();
  progress.update(audio.frames, samples, true);
  if (!a.dump_latents.empty()) {
    const int64_t shape[] = {audio.frames, engine.latent_dim()};
    write_npy(a.dump_latents, std::span<const float>(audio.latents), shape);
  }
  if (!a.quiet) std::fprintf(stderr, "stopped: %s\n", to_string(audio.stop_reason));
  return 0;
}

}  // namespace

void add_synth_command(CLI::App& app, Runner& run) {
  auto args = std::make_shared<SynthArgs>();
  auto* sub = app.add_subcommand("synth", "synthesize speech from text");
  sub->add_option("--model", args->model, "model directory (vibevoice.json)")->required();
  sub->add_option("--voice", args->voice, "voice name (see `vibevoice voices`)")->required();
  sub->add_option("--text", args->text, "text to speak (default: --text-file or stdin)");
  sub->add_option("--text-file", args->text_file, "read the text from this file");
  sub->add_option("-o,--output", args->out, "write a 16-bit WAV file (valid even if interrupted)");
  sub->add_option("--raw", args->raw, "'-': write s16le PCM to stdout as it is generated");
  sub->add_option("--steps", args->steps, "diffusion steps 1..50 (default: model's)");
  sub->add_option("--cfg", args->cfg, "classifier-free guidance scale >= 0 (default: model's)");
  sub->add_option("--seed", args->seed, "random seed (same seed -> same audio)");
  sub->add_option("--solver", args->solver, "ode | sde (default: model's)")
      ->check(CLI::IsMember({"ode", "sde"}));
  sub->add_option("--threads", args->threads, "intra-op threads (0 = all cores)")->check(CLI::Range(0, 1024));
  sub->add_option("--provider", args->provider, "cpu | cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  sub->add_option("--chunk", args->chunk, "latent frames per decoder call / audio chunk")
      ->check(CLI::Range(1, 4096));
  sub->add_option("--noise", args->noise, "inject diffusion noise from a .npy ([F,64] or [F,steps,64])");
  sub->add_option("--dump-latents", args->dump_latents, "write the latents as .npy [frames, latent_dim]");
  sub->add_option("--max-seconds", args->max_seconds, "stop after this much audio");
  sub->add_flag(
      "--decode-thread", args->decode_thread,
      "decode audio on an own thread, overlapping generation (same audio; try with --threads 1 on 2 cores)");
  sub->add_flag("--ignore-eos", args->ignore_eos, "benchmark mode: ignore the end-of-speech classifier");
  sub->add_flag("-q,--quiet", args->quiet, "no progress on stderr");
  sub->callback([&run, args, sub] {
    args->have_text = sub->count("--text") > 0;
    run = [args] { return run_synth(*args); };
  });
}

}  // namespace vv::cli
