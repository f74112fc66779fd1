// vibevoice-onnx C++ API: streaming text-to-speech with VibeVoice-Realtime-0.5B on ONNX Runtime.
//
//   vv::Engine engine = vv::Engine::load({.model_dir = "model"});
//   vv::SynthesisOptions opts;  opts.voice = "en-Emma_woman";
//   vv::Audio audio = engine.synthesize("Hello world.", opts);          // whole utterance
//
//   vv::Stream s = engine.stream(opts);                                // incremental text (e.g. LLM tokens)
//   s.push_text("Hel"); s.push_text("lo wor"); s.push_text("ld."); s.finish();
//   while (auto ev = s.pull(); ev.kind != vv::StreamEvent::kEnd) { ... ev.chunk.samples ... }
//
// Errors are thrown as vv::Error with a kind (kUsage 2, kModel 3, kInput 4, kRuntime 5 — the CLI exit
// codes) and a message naming the offending file, option or input.
//
// Threading: an Engine is immutable after load() and may be shared by several threads; synthesize() and
// stream() may be called concurrently (each utterance has its own state). A Stream has two sides that may
// run on two threads: the producer (push_text/finish) and the consumer (pull/wait), e.g. an LLM thread
// feeding text while another thread plays the audio; each side must be used from one thread at a time.
// cancel() may be called from any thread at any time. Stream callbacks run on the
// stream's internal worker thread (audio events: on the decoding thread with SynthesisOptions::decode_thread;
// events still arrive in order, one at a time).
//
// No ONNX Runtime types appear in this header.
//
// ABI: this C++ API is not ABI-stable. It is in the static library only (libvibevoice.a, CMake target
// vibevoice::vibevoice_static), built with the same tool chain and headers as the program; the shared library
// libvibevoice.so exports the C API of vibevoice.h and nothing else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vibevoice/error.hpp"  // vv::Error, vv::ErrorKind

namespace vv {

struct EngineOptions {
  std::string model_dir;  // directory with vibevoice.json (docs/model-format.md)
  // Intra-op threads; 0 = ONNX Runtime's default (the physical cores). All graphs of all engines that ask
  // for the same count as the first engine of the process share one thread pool; another count gets
  // per-graph pools that do not spin (slower on busy machines: keep one count per process). More than
  // std::thread::hardware_concurrency() is a kUsage error.
  int threads = 0;
  std::string provider = "cpu";  // "cpu" | "cuda"; an unavailable provider is an error, never a fallback
};

struct VoiceDescription {
  std::string name, language, gender;
  int lm_len = 0, tts_len = 0;  // prompt lengths (text LM / TTS LM positions)
};

enum class SolverChoice { kModelDefault, kOde, kSde };

enum class StopReason {
  kEos,        // the model's end-of-speech classifier fired
  kMaxFrames,  // SynthesisOptions::max_frames reached
  kMaxLength,  // the TTS LM position limit (max_positions) reached
  kCancelled,  // cancel() / abort callback
};
const char* to_string(StopReason reason);

// Injected diffusion noise (tests/parity): [F, Z] = the initial x of each frame f, or [F, N, Z] where
// [f, 0] is the initial x and [f, k] (k = 1..N-1) the SDE noise of solver step k-1. Needed for as many
// frames as are generated (kInput otherwise).
struct NoiseArray {
  std::vector<float> values;
  std::vector<int64_t> shape;
};

struct SynthesisOptions {
  std::string voice;               // a name from Engine::voices() (required)
  std::optional<int> steps;        // diffusion steps 1..50; default from the model manifest
  std::optional<float> cfg_scale;  // classifier-free guidance >= 0; default from the manifest; 1 = off
  uint64_t seed = 0;               // same seed -> same audio on every platform
  SolverChoice solver = SolverChoice::kModelDefault;
  // Latent frames per decoder call / audio chunk (hop_length samples each). 0 (default) = adaptive: the
  // first chunk is one frame (earliest first audio), later ones grow, within a speech window, while the
  // audio already out keeps a real-time listener fed (or at once when even one-frame chunks are slower
  // than real time), which makes decoding cheaper per frame; same audio, bit for bit, as any fixed K
  // (docs/PERFORMANCE.md). K >= 1: fixed chunks of K frames. Model directories exported before the
  // decoder became chunk-invariant get K = 1 for 0.
  int chunk_frames = 0;
  int64_t max_frames = 0;           // stop after this many frames; 0 = until EOS or the length limit
  std::optional<NoiseArray> noise;  // replaces the seeded RNG
  bool ignore_eos = false;          // benchmark mode: keep generating until max_frames / length limit
  // Run the acoustic decoder on its own thread, overlapping the generation of the next frames. Same
  // audio, bit for bit; on_chunk is then called from that thread (in order, never concurrently). Pays off
  // only when a core is free for it: on 2 cores the default (inline, adaptive chunks) is faster
  // (docs/PERFORMANCE.md).
  bool decode_thread = false;
  std::function<bool()> should_abort;  // polled between frames; true stops with kCancelled
  // Long texts (synthesize() and Stream alike): a text whose tokens do not fit one utterance's position
  // budget is spoken as consecutive segments of at most this many text tokens (and at least half of it),
  // cut at sentence, else clause, else word boundaries (text/segmenter.h); each segment starts from the
  // voice prompt like a new utterance, segment i > 0 with the seed segment_seed(seed, i). 0 = from the
  // budget: (max_positions - voice prompt) / 4 tokens (room for ~3 speech frames per text token). Frames,
  // chunks and alignment spans run on across segments. A Stream decides a segment's end as soon as its text
  // exceeds the budget, so its audio equals synthesize() of the whole text for any split.
  int max_segment_tokens = 0;
  // synthesize() with on_chunk: false = the chunks are only handed to on_chunk, not also collected in
  // Audio::samples, so memory does not grow with the text (long texts written as they come).
  bool keep_samples = true;
  // English text normalization before synthesis: numbers, money, dates, times, measures, phone numbers,
  // URLs and common abbreviations are read as words ("$5.50" -> "five dollars fifty cents"), line by line,
  // by the model directory's grammars (TextNormalizer). Off by default, as the official pipeline feeds the
  // raw text. Alignment spans still refer to the original text. kUsage when the model directory has no
  // grammars, and for a Stream (its text arrives in pieces: normalize it first, see TextNormalizer).
  bool normalize = false;
};

// The seed of segment `index` of a long text (segment 0 uses `seed` itself); turn i of a script uses
// segment_seed(seed, i) as its seed.
uint64_t segment_seed(uint64_t seed, size_t index);

// Multi-voice scripts (Engine::synthesize_script): lines "Name: text", a line without a label continuing the
// turn before; each turn is spoken with its speaker's voice, with a pause between turns.
struct ScriptOptions {
  std::vector<std::pair<std::string, std::string>> voices;  // speaker label -> voice name
  std::string default_voice;   // for a speaker not in `voices`; empty: such a speaker is an error (kUsage)
  double pause_seconds = 0.3;  // silence between turns, 0..10
};

// A piece of decoded audio, delivered as soon as its frames are decoded.
struct AudioChunk {
  std::vector<float> samples;  // hop_length * frame_count mono float samples (not clipped)
  int sample_rate = 0;
  int64_t first_frame = 0;  // frame index range [first_frame, first_frame + frame_count)
  int64_t frame_count = 0;
  // Alignment: byte span [text_begin, text_end) of the input text (as passed in, before preparation)
  // covered by the text windows whose speech frames are in this chunk. Frames generated after the text
  // is exhausted have an empty span at the end of the text.
  size_t text_begin = 0, text_end = 0;
};

struct Audio {
  std::vector<float> samples;
  int sample_rate = 0;
  std::vector<float> latents;  // frames * latent_dim raw diffusion outputs, frame after frame
  int64_t frames = 0;
  StopReason stop_reason = StopReason::kEos;
};

struct StreamEvent {
  enum Kind {
    kAudio,     // `chunk` holds new audio
    kUnderrun,  // generation caught up with the text: it waits at a text-window boundary for push_text
                // or finish(); `frame` is the number of frames generated so far
    kEnd,       // generation is over (`stop_reason`); no further events
  } kind = kEnd;
  AudioChunk chunk;
  int64_t frame = 0;
  StopReason stop_reason = StopReason::kEos;
};

class Engine;

// The result of text normalization: the spoken form and, for each of its bytes, the byte span [first,
// second) of the original text it reads (the whole written token: every byte of "five dollars fifty cents"
// reads "$5.50"); both ends are non-decreasing.
struct NormalizedText {
  std::string text;
  std::vector<std::pair<size_t, size_t>> source;
};

// English text normalization with the weighted FST grammars a model directory may carry (tn/, added by
// `vibevoice-onnx normalization`; docs/TEXT_NORMALIZATION.md): nemo_text_processing's English grammars
// applied with OpenFst — tag, reorder the tagged fields until the verbalizer accepts them, verbalize,
// post-process — each line of the text on its own. Thread-safe; cheap to copy (shared grammars).
class TextNormalizer {
 public:
  // kUsage when the model directory has no grammars (the message says how to add them); kModel for a
  // grammar file that cannot be read.
  static TextNormalizer load(const std::string& model_dir);
  // kInput for invalid UTF-8 or a NUL character.
  NormalizedText normalize(std::string_view text) const;
  // The grammars' source, e.g. "nemo_text_processing 1.2.0 (en)".
  const std::string& source() const;

  struct Impl;

 private:
  explicit TextNormalizer(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

// Incremental synthesis. Policy (exact): a text window (text_window tokens) is consumed only once its
// tokens can no longer change whatever text follows, so the audio is identical to synthesize() on the
// whole text, for any split of the text into push_text() calls (even inside a UTF-8 sequence). The speech
// frames of the current window are generated while more text arrives; when text arrives slower than
// speech, generation waits at the next window boundary and reports a kUnderrun event. Leading whitespace is
// dropped as it arrives, typographic quotes are normalised per code point, and finish() applies the
// model's strip + trailing newline rule to the whole text and flushes. A text longer than one utterance's
// budget is spoken in the segments synthesize() makes of it (SynthesisOptions::max_segment_tokens): the
// text of the open segment is held back from the first possible cut on until its end is decided (when the
// segment's text exceeds the budget, or at finish()).
//
// Memory: every sample is handed out once — to the event callback, to pull(), or to wait() — and never
// kept elsewhere (only the latents, latent_dim floats per frame, are kept for wait()). Without a callback,
// at most kMaxPendingEvents events wait to be pulled (each of at most chunk_frames frames, or with the
// adaptive schedule speech_window = 6): when the consumer is slower than the generation, the generation
// waits for it (backpressure).
class Stream {
 public:
  static constexpr int kMaxPendingEvents = 16;

  Stream(Stream&&) noexcept;
  Stream& operator=(Stream&&) noexcept;
  ~Stream();  // cancels and joins the worker

  // Appends UTF-8 text (any split, any length). Throws kInput for invalid UTF-8 or a NUL character, and
  // kUsage after finish()/cancel().
  void push_text(std::string_view text);
  // Marks the end of the text. Throws kInput if the whole text is empty after preparation.
  void finish();
  // Stops generation as soon as possible (the current model call completes); the stream ends with
  // kCancelled. Callable from any thread at any time, also while another thread is inside push_text(),
  // finish(), pull() or wait(); a push_text()/finish() that starts after it throws kUsage.
  void cancel();
  // Next event, blocking until one is available. Only when no event callback was given. After kEnd, keeps
  // returning kEnd. Rethrows an error raised by the generation (e.g. kRuntime, kInput for injected noise).
  StreamEvent pull();
  // Blocks until generation is over and returns the result: frames, latents, stop_reason, and in `samples`
  // the audio not handed out yet — without a callback, the chunks not pulled (all of them when pull() was
  // never called; wait() drains the events, pull() then returns kEnd); with a callback, none (the callback
  // received every chunk). Later calls return no samples. Rethrows an error raised by the generation or
  // thrown by the event callback (also on the kEnd event).
  Audio wait();

 private:
  friend class Engine;
  struct Impl;
  explicit Stream(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class Engine {
 public:
  // Loads the model directory. kModel for a missing/invalid manifest, graph or voice list; kUsage for an
  // unknown provider name or a thread count out of range; kRuntime for a provider this ONNX Runtime build
  // lacks (e.g. "cuda" in a CPU-only build) or a failure of ONNX Runtime.
  static Engine load(const EngineOptions& options);
  Engine(Engine&&) noexcept;
  Engine& operator=(Engine&&) noexcept;
  ~Engine();

  std::vector<VoiceDescription> voices() const;
  int sample_rate() const;
  int samples_per_frame() const;  // hop_length: samples decoded from one latent frame
  int latent_dim() const;

  // Whole utterance, generated in the calling thread. `on_chunk` (optional) receives every chunk as soon
  // as it is decoded (on the calling thread, or on the decoding thread with decode_thread). Validation
  // errors: kModel for an unknown or missing voice (the message lists the available ones) or a voice file
  // that cannot be loaded; kUsage for option values (steps outside 1..50, cfg_scale < 0 or not finite,
  // chunk_frames < 1, max_frames < 0); kInput for the text (invalid UTF-8, empty after preparation, longer
  // than the model's position limit) and for injected noise of the wrong shape or with too few frames.
  Audio synthesize(std::string_view text, const SynthesisOptions& options,
                   const std::function<void(const AudioChunk&)>& on_chunk = {}) const;

  // The text as synthesize() with SynthesisOptions::normalize speaks it (TextNormalizer of the model
  // directory, loaded on first use). kUsage when the model directory has no grammars.
  NormalizedText normalize(std::string_view text) const;

  // How synthesize() cuts `text` into segments (byte spans; one for a text that fits): for progress reports
  // and previews. Same validation as synthesize().
  std::vector<std::pair<size_t, size_t>> segments(std::string_view text,
                                                  const SynthesisOptions& options) const;

  // A script (ScriptOptions): turn after turn, each as synthesize() speaks it (any length) with its voice and
  // seed segment_seed(options.seed, turn), frames and alignment spans running on across turns (spans are
  // bytes of the script). A pause is a chunk of silence with frame_count 0. kUsage for a speaker without a
  // voice, a pause out of range or injected noise; kInput for a text that is not a script.
  Audio synthesize_script(std::string_view script, const ScriptOptions& script_options,
                          const SynthesisOptions& options,
                          const std::function<void(const AudioChunk&)>& on_chunk = {}) const;

  // Starts a stream (options validated now). With `on_event`, events are delivered to it on the worker
  // thread and pull() must not be used; without it, use pull() and/or wait(). An exception thrown by
  // `on_event` ends the stream and is rethrown by wait(). The Stream keeps the loaded model alive.
  Stream stream(const SynthesisOptions& options, std::function<void(const StreamEvent&)> on_event = {}) const;

  struct Impl;

 private:
  explicit Engine(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

}  // namespace vv
