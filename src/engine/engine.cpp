#include <cmath>
#include <thread>

#include "engine/engine_impl.h"
#include "generate/incremental_text.h"

namespace vv {

const char* to_string(StopReason reason) {
  switch (reason) {
    case StopReason::kEos:
      return "eos";
    case StopReason::kMaxFrames:
      return "max_frames";
    case StopReason::kMaxLength:
      return "max_length";
    case StopReason::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

std::shared_ptr<const VoicePreset> Engine::Impl::voice(const std::string& name) const {
  std::lock_guard lock(voice_mutex_);
  if (auto it = voice_cache_.find(name); it != voice_cache_.end()) return it->second;
  for (const VoiceInfo& info : voice_list) {
    if (info.name == name) {
      auto preset = std::make_shared<const VoicePreset>(VoicePreset::load(manifest, info));
      voice_cache_.emplace(name, preset);
      return preset;
    }
  }
  std::string names;
  for (const VoiceInfo& info : voice_list) names += (names.empty() ? "" : ", ") + info.name;
  fail(ErrorKind::kModel, (name.empty() ? std::string("no voice given") : "unknown voice '" + name + "'") +
                              "; available voices: " + (names.empty() ? "(none)" : names));
}

const TextNormalizer::Impl& Engine::Impl::text_normalizer() const {
  std::lock_guard lock(normalizer_mutex_);
  if (!normalizer_) normalizer_ = load_text_normalizer(manifest);
  return *normalizer_;
}

NormalizedText Engine::normalize(std::string_view text) const {
  return normalize_with(impl_->text_normalizer(), text);
}

ResolvedSynthesis Engine::Impl::resolve(const SynthesisOptions& o) const {
  ResolvedSynthesis r;
  r.seed = o.seed;
  r.injected_noise = o.noise.has_value();
  r.max_segment_tokens = o.max_segment_tokens;
  GenerationSettings& s = r.settings;
  s.steps = o.steps.value_or(manifest.default_steps);
  if (s.steps < 1 || s.steps > 50)
    fail(ErrorKind::kUsage, "steps must be in 1..50, got " + std::to_string(s.steps));
  s.cfg_scale = o.cfg_scale.value_or(manifest.default_cfg_scale);
  if (!std::isfinite(s.cfg_scale) || s.cfg_scale < 0) {
    fail(ErrorKind::kUsage, "cfg_scale must be a finite number >= 0, got " + std::to_string(s.cfg_scale));
  }
  switch (o.solver) {
    case SolverChoice::kOde:
      s.solver = Solver::kOde;
      break;
    case SolverChoice::kSde:
      s.solver = Solver::kSde;
      break;
    case SolverChoice::kModelDefault:
      s.solver = manifest.default_solver == "sde" ? Solver::kSde : Solver::kOde;
      break;
  }
  if (o.chunk_frames < 0) {
    fail(ErrorKind::kUsage,
         "chunk_frames must be >= 1, or 0 for the adaptive schedule, got " + std::to_string(o.chunk_frames));
  }
  // Adaptive chunks need a decoder whose audio does not depend on the chunking (older exports: K = 1).
  s.chunk_frames = o.chunk_frames == 0 && !manifest.decoder_chunk_invariant ? 1 : o.chunk_frames;
  if (o.max_frames < 0)
    fail(ErrorKind::kUsage, "max_frames must be >= 0, got " + std::to_string(o.max_frames));
  if (o.max_segment_tokens < 0) {
    fail(ErrorKind::kUsage, "max_segment_tokens must be >= 0 (0 = from the position budget), got " +
                                std::to_string(o.max_segment_tokens));
  }
  s.max_frames = o.max_frames;
  s.ignore_eos = o.ignore_eos;
  s.background_decode = o.decode_thread;
  r.voice = voice(o.voice);
  if (o.noise) {
    r.noise = std::make_unique<InjectedNoise>(o.noise->values, o.noise->shape, manifest.latent_dim, s.steps,
                                              s.solver == Solver::kSde && s.steps > 1);
  } else {
    r.noise = std::make_unique<SeededNoise>(o.seed);
  }
  return r;
}

void Engine::Impl::check_length(const VoicePreset& v, size_t text_tokens) const {
  if (static_cast<int64_t>(v.info.tts_len) + static_cast<int64_t>(text_tokens) > manifest.max_positions) {
    fail(ErrorKind::kInput, "text too long: " + std::to_string(text_tokens) +
                                " tokens + the voice prompt's " + std::to_string(v.info.tts_len) +
                                " positions exceed the model limit of " +
                                std::to_string(manifest.max_positions));
  }
}

Engine::Engine(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;
Engine::~Engine() = default;

Engine Engine::load(const EngineOptions& options) {
  if (options.threads < 0)
    fail(ErrorKind::kUsage, "threads must be >= 0, got " + std::to_string(options.threads));
  // More intra-op threads than the machine has only oversubscribes it (999 threads on 2 cores ran ~10x
  // slower than real time): refuse rather than silently degrade.
  const unsigned hardware = std::thread::hardware_concurrency();
  if (hardware > 0 && static_cast<unsigned>(options.threads) > hardware) {
    fail(ErrorKind::kUsage, "threads = " + std::to_string(options.threads) + " exceeds the " +
                                std::to_string(hardware) +
                                " hardware threads of this machine (0 = all cores)");
  }
  check_provider(options.provider);
  auto impl = std::make_shared<Impl>();
  impl->manifest = ModelManifest::load(options.model_dir);
  impl->tokenizer = std::make_unique<Tokenizer>(Tokenizer::load(impl->manifest.tokenizer_path));
  impl->voice_list = load_voice_list(impl->manifest.voices_manifest_path);
  impl->graphs =
      std::make_unique<ModelGraphs>(impl->manifest, RuntimeOptions{options.threads, options.provider});
  return Engine(std::move(impl));
}

std::vector<VoiceDescription> Engine::voices() const {
  std::vector<VoiceDescription> out;
  for (const VoiceInfo& v : impl_->voice_list)
    out.push_back({v.name, v.language, v.gender, v.lm_len, v.tts_len});
  return out;
}

int Engine::sample_rate() const {
  return impl_->manifest.sample_rate;
}
int Engine::samples_per_frame() const {
  return impl_->manifest.hop_length;
}
int Engine::latent_dim() const {
  return impl_->manifest.latent_dim;
}

}  // namespace vv
