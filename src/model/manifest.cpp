#include "model/manifest.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace vv {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr const char* kGraphKeys[] = {"text_lm", "tts_lm", "connector", "diffusion_head", "acoustic_decoder"};

std::string describe(const json& value) {
  std::string s = value.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

// A JSON object plus where it came from, so every error names the file and the full field path
// ("graphs.tts_lm.precision", "decoder_states[3].shape").
class Fields {
 public:
  Fields(const json& object, std::string file, std::string prefix)
      : j_(object), file_(std::move(file)), prefix_(std::move(prefix)) {}

  [[noreturn]] void bad(const std::string& key, const std::string& problem) const {
    fail(ErrorKind::kModel, file_ + ": field '" + prefix_ + key + "' " + problem);
  }

  bool has(const std::string& key) const { return j_.contains(key); }

  const json& at(const std::string& key) const {
    if (!j_.contains(key)) bad(key, "is missing");
    return j_.at(key);
  }

  int64_t get_i64(const std::string& key, int64_t lo, int64_t hi) const {
    const json& v = at(key);
    if (!v.is_number_integer()) bad(key, "must be an integer (got " + describe(v) + ")");
    if (v.is_number_unsigned() &&
        v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      bad(key, "is out of range (got " + describe(v) + ")");
    const int64_t x = v.get<int64_t>();
    if (x < lo || x > hi) {
      const bool unbounded = hi >= std::numeric_limits<int32_t>::max();
      bad(key, (unbounded ? "must be >= " + std::to_string(lo) + " and fit in 32 bits"
                          : "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]") +
                   " (got " + std::to_string(x) + ")");
    }
    return x;
  }

  int get_int(const std::string& key, int64_t lo, int64_t hi = std::numeric_limits<int32_t>::max()) const {
    return static_cast<int>(get_i64(key, lo, hi));
  }

  // A JSON number (integer or float), finite, with lo < x (exclusive) or lo <= x.
  double get_number(const std::string& key) const {
    const json& v = at(key);
    if (!v.is_number()) bad(key, "must be a number (got " + describe(v) + ")");
    const double x = v.get<double>();
    if (!std::isfinite(x)) bad(key, "must be finite");
    return x;
  }

  double get_positive(const std::string& key) const {
    const double x = get_number(key);
    if (!(x > 0)) bad(key, "must be > 0 (got " + describe(at(key)) + ")");
    return x;
  }

  std::string get_string(const std::string& key, bool allow_empty = false) const {
    const json& v = at(key);
    if (!v.is_string()) bad(key, "must be a string (got " + describe(v) + ")");
    std::string s = v.get<std::string>();
    if (!allow_empty && s.empty()) bad(key, "must not be empty");
    return s;
  }

  std::string get_optional_string(const std::string& key, const std::string& fallback) const {
    return has(key) ? get_string(key, true) : fallback;
  }

  std::string get_choice(const std::string& key, std::initializer_list<const char*> choices) const {
    std::string s = get_string(key, true);
    std::string list;
    for (const char* c : choices) {
      if (s == c) return s;
      list += std::string(list.empty() ? "" : ", ") + c;
    }
    bad(key, "must be one of " + list + " (got \"" + s + "\")");
  }

  Fields object(const std::string& key) const {
    const json& v = at(key);
    if (!v.is_object()) bad(key, "must be an object (got " + describe(v) + ")");
    return Fields(v, file_, prefix_ + key + ".");
  }

  const json& array(const std::string& key) const {
    const json& v = at(key);
    if (!v.is_array()) bad(key, "must be an array (got " + describe(v) + ")");
    return v;
  }

  // A file name relative to `base` that must stay inside it and exist as a regular file.
  fs::path get_file(const std::string& key, const fs::path& base) const {
    const std::string name = get_string(key);
    const fs::path rel(name);
    if (rel.is_absolute() || rel.has_root_path()) bad(key, "must be a relative path (got \"" + name + "\")");
    for (const auto& part : rel)
      if (part == "..") bad(key, "must not leave the directory (got \"" + name + "\")");
    const fs::path full = base / rel;
    std::error_code ec;
    if (!fs::is_regular_file(full, ec))
      bad(key, "names \"" + name + "\" but " + full.string() + " does not exist");
    return fs::absolute(full, ec);
  }

  const std::string& file() const { return file_; }
  const std::string& prefix() const { return prefix_; }
  const json& raw() const { return j_; }

 private:
  const json& j_;
  std::string file_;
  std::string prefix_;
};

json read_json(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail(ErrorKind::kModel, path.string() + ": file not found");
  std::ifstream in(path);
  if (!in) fail(ErrorKind::kModel, path.string() + ": cannot open file");
  try {
    json j = json::parse(in);
    if (!j.is_object()) fail(ErrorKind::kModel, path.string() + ": top level must be a JSON object");
    return j;
  } catch (const json::exception& e) {
    fail(ErrorKind::kModel, path.string() + ": invalid JSON: " + e.what());
  }
}

void check_format_version(const Fields& f, const std::string& what) {
  const json& v = f.at("format_version");
  if (!v.is_number_integer()) f.bad("format_version", "must be an integer (got " + describe(v) + ")");
  const int64_t version = v.get<int64_t>();
  if (version != kModelFormatVersion) {
    std::ostringstream msg;
    msg << f.file() << ": " << what << " has format_version " << version
        << "; this build reads format_version " << kModelFormatVersion << "; re-export it with "
        << kModelFormatExporter;
    fail(ErrorKind::kModel, msg.str());
  }
}

// A path component the voice list may use as a folder name: relative, one level, no tricks.
bool is_plain_dir_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\\') == std::string::npos && name.find('\0') == std::string::npos;
}

}  // namespace

fs::path ModelManifest::graph_path(const std::string& key) const {
  auto it = graphs.find(key);
  if (it == graphs.end())
    fail(ErrorKind::kModel, (dir / "vibevoice.json").string() + ": no graph named '" + key + "'");
  return fs::absolute(dir / it->second.file);
}

ModelManifest ModelManifest::load(const fs::path& model_dir) {
  std::error_code ec;
  if (!fs::is_directory(model_dir, ec))
    fail(ErrorKind::kModel, model_dir.string() + ": model directory not found");
  const fs::path file = model_dir / "vibevoice.json";
  const json root = read_json(file);
  const Fields f(root, file.string(), "");
  ModelManifest m;
  m.dir = model_dir;

  check_format_version(f, "this model directory");
  m.format_version = kModelFormatVersion;
  m.exporter = f.get_string("exporter", true);
  m.model_name = f.get_string("model_name", true);

  constexpr int64_t kBig = std::numeric_limits<int32_t>::max();
  m.hidden_size = f.get_int("hidden_size", 1);
  m.num_attention_heads = f.get_int("num_attention_heads", 1);
  m.num_key_value_heads = f.get_int("num_key_value_heads", 1);
  if (m.num_attention_heads % m.num_key_value_heads != 0)
    f.bad("num_key_value_heads", "must divide num_attention_heads (" + std::to_string(m.num_attention_heads) +
                                     " heads, " + std::to_string(m.num_key_value_heads) + " KV heads)");
  m.head_dim = f.get_int("head_dim", 1);
  m.text_layers = f.get_int("text_layers", 1);
  m.tts_layers = f.get_int("tts_layers", 1);
  m.vocab_size = f.get_int("vocab_size", 1);
  m.latent_dim = f.get_int("latent_dim", 1);
  m.rope_theta = f.get_positive("rope_theta");
  m.rms_norm_eps = f.get_positive("rms_norm_eps");
  m.max_positions = f.get_int("max_positions", 1);
  m.text_window = f.get_int("text_window", 1);
  m.speech_window = f.get_int("speech_window", 1);
  const double scaling = f.get_number("speech_scaling_factor");
  if (scaling == 0 || std::abs(scaling) > std::numeric_limits<float>::max())
    f.bad("speech_scaling_factor", "must be a non-zero float (the decoder divides by it)");
  m.speech_scaling_factor = static_cast<float>(scaling);
  const double bias = f.get_number("speech_bias_factor");
  if (std::abs(bias) > std::numeric_limits<float>::max())
    f.bad("speech_bias_factor", "is out of float range");
  m.speech_bias_factor = static_cast<float>(bias);
  m.sample_rate = f.get_int("sample_rate", 1, 1'000'000);
  m.hop_length = f.get_int("hop_length", 1, kBig);
  // The negative prompt token is gathered from the embedding table, so it must be a valid row.
  m.negative_token_id = f.get_i64("negative_token_id", 0, m.vocab_size - 1);
  m.eos_token_id = f.get_i64("eos_token_id", 0, std::numeric_limits<int64_t>::max());

  const Fields defaults = f.object("defaults");
  m.default_steps = defaults.get_int("steps", 1, 50);
  const double cfg = defaults.get_number("cfg_scale");
  if (std::abs(cfg) > 1e6) defaults.bad("cfg_scale", "is implausibly large");
  m.default_cfg_scale = static_cast<float>(cfg);
  m.default_solver = defaults.get_choice("solver", {"ode", "sde"});

  const Fields sched = f.object("scheduler");
  m.scheduler.num_train_timesteps = sched.get_int("num_train_timesteps", 2, 1'000'000);
  m.scheduler.beta_schedule = sched.get_choice("beta_schedule", {"cosine", "squaredcos_cap_v2"});
  m.scheduler.prediction_type = sched.get_choice("prediction_type", {"v_prediction"});
  if (m.default_steps > m.scheduler.num_train_timesteps)
    defaults.bad("steps", "exceeds scheduler.num_train_timesteps");

  const Fields graphs = f.object("graphs");
  for (const char* key : kGraphKeys)
    if (!graphs.has(key))
      graphs.bad(key,
                 "is missing (required graphs: text_lm, tts_lm, connector, "
                 "diffusion_head, acoustic_decoder)");
  for (const auto& [key, value] : graphs.raw().items()) {
    const Fields g = graphs.object(key);
    GraphInfo info;
    g.get_file("file", model_dir);  // validates: relative, inside the directory, exists
    info.file = g.get_string("file");
    info.precision = g.get_choice("precision", {"fp32", "fp16", "int8", "int4"});
    m.graphs.emplace(key, std::move(info));
  }

  const json& states = f.array("decoder_states");
  if (states.empty()) f.bad("decoder_states", "must not be empty");
  std::set<std::string> state_names;
  for (size_t i = 0; i < states.size(); ++i) {
    const std::string where = "decoder_states[" + std::to_string(i) + "]";
    if (!states[i].is_object()) f.bad(where, "must be an object (got " + describe(states[i]) + ")");
    const Fields s(states[i], f.file(), where + ".");
    DecoderStateInfo info;
    info.name = s.get_string("name");
    if (!state_names.insert(info.name).second) s.bad("name", "duplicates \"" + info.name + "\"");
    const json& shape = s.array("shape");
    if (shape.empty()) s.bad("shape", "must not be empty");
    for (const json& d : shape) {
      if (!d.is_number_integer() || d.get<int64_t>() <= 0 || d.get<int64_t>() > kBig)
        s.bad("shape", "must hold positive integers (got " + describe(shape) + ")");
      info.shape.push_back(d.get<int64_t>());
    }
    info.owner = s.get_optional_string("owner", "");
    m.decoder_states.push_back(std::move(info));
  }

  if (f.has("decoder_chunk_invariant")) {
    const json& v = f.at("decoder_chunk_invariant");
    if (!v.is_boolean()) f.bad("decoder_chunk_invariant", "must be true or false (got " + describe(v) + ")");
    m.decoder_chunk_invariant = v.get<bool>();
  }

  m.tokenizer_path = f.get_file("tokenizer", model_dir);
  m.voices_manifest_path = f.get_file("voices", model_dir);
  if (f.has("text_normalization")) {
    const Fields t = f.object("text_normalization");
    const Fields source = t.object("source"), grammars = t.object("grammars");
    auto grammar = [&](const char* name) { return grammars.object(name).get_file("file", model_dir); };
    m.text_normalization = TextNormalizationInfo{t.get_string("language"),
                                                 source.get_string("package"),
                                                 source.get_string("version"),
                                                 grammar("tagger"),
                                                 grammar("verbalizer"),
                                                 grammar("post_processor"),
                                                 t.get_int("max_permutations", 1, 1000000)};
  }
  return m;
}

std::vector<VoiceInfo> load_voice_list(const fs::path& voices_manifest_json) {
  const json root = read_json(voices_manifest_json);
  const Fields f(root, voices_manifest_json.string(), "");
  check_format_version(f, "this voice list");
  const json& voices = f.array("voices");
  std::vector<VoiceInfo> out;
  std::set<std::string> names;
  for (size_t i = 0; i < voices.size(); ++i) {
    const std::string where = "voices[" + std::to_string(i) + "]";
    if (!voices[i].is_object()) f.bad(where, "must be an object (got " + describe(voices[i]) + ")");
    const Fields v(voices[i], f.file(), where + ".");
    VoiceInfo info;
    info.name = v.get_string("name");
    if (!names.insert(info.name).second) v.bad("name", "duplicates voice \"" + info.name + "\"");
    info.dir = v.get_string("dir");
    if (!is_plain_dir_name(info.dir)) v.bad("dir", "must be a single folder name (got \"" + info.dir + "\")");
    info.language = v.get_optional_string("language", "");
    info.gender = v.get_optional_string("gender", "");
    info.dtype = v.has("dtype") ? v.get_choice("dtype", {"fp32", "fp16"}) : "fp32";
    info.lm_len = v.get_int("lm_len", 1);
    info.tts_len = v.get_int("tts_len", 1);
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace vv
