// `vibevoice synth`: text -> speech. Audio is written as it is generated, to a WAV file (-o, published
// atomically; see audio_output.h for the promise about existing files) or as raw s16le PCM on stdout for
// piping to a player (--raw -). Text comes from --text, --text-file or stdin; stdin is fed to the engine
// incrementally as it arrives, so the tool can speak the output of another program while it is written.
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cli/audio_output.h"
#include "cli/commands.h"
#include "cli/interrupt.h"
#include "cli/progress.h"
#include "cli/timestamps_file.h"
#include "core/error.h"
#include "model/npy.h"
#include "vibevoice/vibevoice.hpp"

namespace vv::cli {

namespace {

constexpr double kMaxSecondsLimit = 1e9;

constexpr const char* kPolicy =
    "Output: nothing is created or truncated until the model, voice, options and text are validated. The WAV "
    "is written to a temporary file beside the target and renamed over it when synthesis ends. On SIGINT/"
    "SIGTERM, or an error after audio started, the target holds a valid WAV of the audio produced so far.\n"
    "Exit codes: 0 ok, 2 usage, 3 model/voice, 4 input text/noise, 5 runtime/I-O, 130 SIGINT, 143 SIGTERM.";

struct SynthArgs {
  std::string model, voice, text, text_file, out, raw, solver, provider = "cpu", noise, dump_latents, seed,
                                                               timestamps;
  bool have_text = false;
  std::optional<int> steps;
  std::optional<float> cfg;
  int threads = 0, chunk = 0;
  std::optional<double> max_seconds;
  bool ignore_eos = false, quiet = false, decode_thread = false, script = false, normalize = false;
  double pause = 0.3;
};

uint64_t parse_seed(const std::string& s) {
  uint64_t v = 0;
  const char* end = s.data() + s.size();
  const auto [ptr, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc() || ptr != end) {
    fail(ErrorKind::kUsage, "--seed must be a whole number in 0..18446744073709551615, got '" + s + "'");
  }
  return v;
}

std::string read_text_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    fail(ErrorKind::kInput, "--text-file '" + path + "' is a directory");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) fail(ErrorKind::kInput, "cannot read text file '" + path + "': " + std::strerror(errno));
  std::string text;
  char buf[65536];
  size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) fail(ErrorKind::kInput, "cannot read text file '" + path + "': " + std::strerror(errno));
  return text;
}

// Reads stdin as it arrives, handing each piece to `sink`. Returns false when interrupted by a signal.
bool read_stdin(const std::function<void(std::string_view)>& sink) {
  char buf[4096];
  for (;;) {
    if (InterruptGuard::signal_number()) return false;
    pollfd p{0, POLLIN, 0};
    const int ready = ::poll(&p, 1, 100);  // wake up regularly to notice a signal
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0)
      fail(ErrorKind::kInput, std::string("cannot read text from stdin: ") + std::strerror(errno));
    if (ready == 0) continue;
    const ssize_t n = ::read(0, buf, sizeof buf);
    if (n == 0) return true;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(ErrorKind::kInput, std::string("cannot read text from stdin: ") + std::strerror(errno));
    sink(std::string_view(buf, static_cast<size_t>(n)));
  }
}

// All of stdin (a script is read whole before it is spoken); empty when interrupted.
std::string read_stdin_all() {
  std::string text;
  if (!read_stdin([&](std::string_view piece) { text += piece; })) return {};
  return text;
}

// Text from stdin, spoken as it arrives (a Stream); on a read error or a signal the stream is cancelled.
Audio synthesize_stdin(const Engine& engine, const SynthesisOptions& opts,
                       const std::function<void(const AudioChunk&)>& on_audio, std::string& text) {
  Stream stream = engine.stream(opts, [&](const StreamEvent& ev) {  // validates the voice and the options
    if (ev.kind == StreamEvent::kAudio) on_audio(ev.chunk);
  });
  try {
    if (read_stdin([&](std::string_view piece) {
          stream.push_text(piece);
          text += piece;
        })) {
      stream.finish();
    } else {
      stream.cancel();
    }
    return stream.wait();
  } catch (...) {
    stream.cancel();
    try {
      (void)stream.wait();
    } catch (...) {
      // the first error is the one to report
    }
    throw;
  }
}

// --voice in --script mode: "Name=voice,Name=voice" (a plain voice name: every speaker's voice).
ScriptOptions script_options(const SynthArgs& a) {
  ScriptOptions o;
  o.pause_seconds = a.pause;
  if (a.voice.find('=') == std::string::npos) {
    o.default_voice = a.voice;
    return o;
  }
  size_t pos = 0;
  while (pos <= a.voice.size()) {
    const size_t comma = std::min(a.voice.find(',', pos), a.voice.size());
    const std::string item = a.voice.substr(pos, comma - pos);
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size()) {
      fail(ErrorKind::kUsage,
           "--voice with --script: expected \"Name=voice,Name=voice\", got '" + item + "'");
    }
    o.voices.emplace_back(item.substr(0, eq), item.substr(eq + 1));
    pos = comma + 1;
  }
  return o;
}

// Everything that can be checked without the model, before the model is loaded.
void check_args(const SynthArgs& a) {
  if (a.out.empty() == a.raw.empty()) fail(ErrorKind::kUsage, "give exactly one of -o FILE.wav or --raw -");
  if (!a.raw.empty() && a.raw != "-") fail(ErrorKind::kUsage, "--raw only supports '-' (stdout)");
  if (a.have_text + !a.text_file.empty() > 1)
    fail(ErrorKind::kUsage, "give at most one of --text and --text-file");
  if (a.max_seconds && !(*a.max_seconds > 0 && *a.max_seconds <= kMaxSecondsLimit))
    fail(ErrorKind::kUsage, "--max-seconds must be a number in (0, 1e9]");
  if (!a.dump_latents.empty()) AudioOutput::check_writable_target(a.dump_latents, "--dump-latents");
  if (!a.timestamps.empty()) check_timestamps_target(a.timestamps);
}

int run_synth(const SynthArgs& a) {
  check_args(a);
  const uint64_t seed = a.seed.empty() ? 0 : parse_seed(a.seed);
  if (!a.out.empty()) AudioOutput::check_writable_target(a.out, "-o");  // checked, not touched
  const std::string file_text = a.text_file.empty() ? std::string() : read_text_file(a.text_file);

  const Engine engine = Engine::load({a.model, a.threads, a.provider});
  std::optional<AudioOutput> output =
      a.out.empty() ? AudioOutput::raw_stdout() : AudioOutput::wav_file(a.out, engine.sample_rate());
  SynthesisOptions opts;
  opts.voice = a.voice;
  opts.steps = a.steps;
  opts.cfg_scale = a.cfg;
  opts.seed = seed;
  if (a.solver == "ode") opts.solver = SolverChoice::kOde;
  if (a.solver == "sde") opts.solver = SolverChoice::kSde;
  opts.chunk_frames = a.chunk;
  opts.ignore_eos = a.ignore_eos;
  opts.decode_thread = a.decode_thread;
  opts.normalize = a.normalize;
  if (a.max_seconds) {
    opts.max_frames =
        static_cast<int64_t>(std::ceil(*a.max_seconds * engine.sample_rate() / engine.samples_per_frame()));
  }
  if (!a.noise.empty()) {
    try {
      const NpyArray noise = read_npy(a.noise);
      opts.noise = NoiseArray{noise.to_f32(), noise.shape};
    } catch (const Error& e) {
      fail(ErrorKind::kInput, std::string("--noise: ") + e.what());
    }
  }
  opts.should_abort = [] { return InterruptGuard::signal_number() != 0; };

  Progress progress(!a.quiet, engine.sample_rate());
  TimestampBuilder timings(engine.sample_rate());
  auto on_audio = [&](const AudioChunk& c) {
    output->write(c.samples);
    progress.update(c.first_frame + c.frame_count, output->samples(), c.text_end, false);
    if (!a.timestamps.empty()) timings.add(c);
  };
  InterruptGuard interrupts;
  Audio audio;
  std::string text;  // what was spoken (for the timestamps)
  try {
    opts.keep_samples = false;  // written as they come: memory does not grow with the text
    if (a.script) {             // the whole script first (stdin too), then turn after turn
      text = a.have_text ? a.text : !a.text_file.empty() ? file_text : read_stdin_all();
      if (!InterruptGuard::signal_number())
        audio = engine.synthesize_script(text, script_options(a), opts, on_audio);
    } else if (a.have_text || !a.text_file.empty() || a.normalize) {
      // The whole text is known: synthesize() speaks texts of any length (in segments, text/segmenter.h).
      // Normalization works on whole lines: stdin is then read to its end first.
      text = a.have_text ? a.text : !a.text_file.empty() ? file_text : read_stdin_all();
      if (!InterruptGuard::signal_number()) {
        std::vector<size_t> ends;
        for (const auto& segment : engine.segments(text, opts)) ends.push_back(segment.second);
        progress.set_text(text.size(), std::move(ends));
        audio = engine.synthesize(text, opts, on_audio);
      }
    } else {
      audio = synthesize_stdin(engine, opts, on_audio, text);
    }
  } catch (...) {
    if (output->started()) {
      output->commit();
      std::fprintf(stderr, "vibevoice: %.2f s of audio produced before the error were written to %s\n",
                   static_cast<double>(output->samples()) / engine.sample_rate(),
                   a.out.empty() ? "stdout" : a.out.c_str());
    }
    throw;
  }
  output->commit();
  progress.update(audio.frames, output->samples(), text.size(), true);
  if (!a.timestamps.empty()) write_timestamps(a.timestamps, text, timings, a.script);
  if (!a.dump_latents.empty()) {
    const int64_t shape[] = {audio.frames, engine.latent_dim()};
    write_npy(a.dump_latents, std::span<const float>(audio.latents), shape);
  }
  if (const int sig = InterruptGuard::signal_number()) {
    std::fprintf(stderr, "vibevoice: interrupted by signal %d after %.2f s of audio (written)\n", sig,
                 static_cast<double>(output->samples()) / engine.sample_rate());
    return 128 + sig;
  }
  if (!a.quiet) std::fprintf(stderr, "stopped: %s\n", to_string(audio.stop_reason));
  return 0;
}

}  // namespace

void add_synth_command(CLI::App& app, Runner& run) {
  auto args = std::make_shared<SynthArgs>();
  auto* sub = app.add_subcommand("synth", "synthesize speech from text");
  sub->footer(kPolicy);
  sub->add_option("--model", args->model, "model directory (vibevoice.json)")->required();
  sub->add_option(
         "--voice", args->voice,
         "voice name (see `vibevoice voices`); with --script \"Name=voice,Name=voice\" or one voice for all")
      ->required();
  sub->add_option("--text", args->text, "text to speak (default: --text-file or stdin)");
  sub->add_option("--text-file", args->text_file, "read the text from this file");
  sub->add_option("-o,--output", args->out, "write a 16-bit WAV file (published atomically, see below)");
  sub->add_option("--raw", args->raw, "'-': write s16le PCM to stdout as it is generated");
  sub->add_option("--steps", args->steps, "diffusion steps 1..50 (default: model's)");
  sub->add_option("--cfg", args->cfg, "classifier-free guidance scale >= 0 (default: model's)");
  sub->add_option("--seed", args->seed, "random seed 0..2^64-1 (same seed -> same audio; default 0)");
  sub->add_option("--solver", args->solver, "ode | sde (default: model's)")
      ->check(CLI::IsMember({"ode", "sde"}));
  sub->add_option("--threads", args->threads,
                  "intra-op threads, at most the hardware threads (0 = all cores)")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--provider", args->provider, "cpu | cuda")->check(CLI::IsMember({"cpu", "cuda"}));
  sub->add_option("--chunk", args->chunk,
                  "latent frames per decoder call / audio chunk (0 = adaptive: 1 first, then growing)")
      ->check(CLI::Range(0, 4096));
  sub->add_option("--noise", args->noise, "inject diffusion noise from a .npy ([F,64] or [F,steps,64])");
  sub->add_option("--dump-latents", args->dump_latents, "write the latents as .npy [frames, latent_dim]");
  sub->add_option("--max-seconds", args->max_seconds, "stop after this much audio (at most 1e9)");
  sub->add_flag(
      "--decode-thread", args->decode_thread,
      "decode audio on an own thread, overlapping generation (same audio; try with --threads 1 on 2 cores)");
  sub->add_flag("--ignore-eos", args->ignore_eos, "benchmark mode: ignore the end-of-speech classifier");
  sub->add_option("--timestamps", args->timestamps,
                  "also write word/sentence timings: FILE.srt, FILE.vtt or FILE.json (from the alignment)");
  sub->add_flag(
      "--normalize", args->normalize,
      "read numbers, money, dates, times, measures, ... as words (English; the model's grammars, see "
      "`vibevoice normalize`)");
  sub->add_flag("--script", args->script,
                "the text is a script of \"Name: text\" lines, each turn spoken with its speaker's voice");
  sub->add_option("--pause", args->pause, "--script: seconds of silence between turns (default 0.3)")
      ->check(CLI::Range(0.0, 10.0));
  sub->add_flag("-q,--quiet", args->quiet, "no progress on stderr");
  sub->callback([&run, args, sub] {
    args->have_text = sub->count("--text") > 0;
    run = [args] { return run_synth(*args); };
  });
}

}  // namespace vv::cli
