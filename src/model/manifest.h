// The model directory manifest (vibevoice.json, docs/model-format.md) and the voice list
// (voices/manifest.json). Every model constant the engine uses comes from here; loading validates every
// field (presence, JSON type, range, consistency, referenced files) so the rest of the engine can trust it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vv {

// The manifest format this build reads, and the exporter release line that writes it.
inline constexpr int kModelFormatVersion = 1;
inline constexpr const char* kModelFormatExporter = "vibevoice-onnx 0.1.x";

struct GraphInfo {
  std::string file;       // relative to the model directory
  std::string precision;  // "fp32" | "fp16" | "int8" | "int4" (weights; the interface is always fp32)
};

struct DecoderStateInfo {
  std::string name;            // e.g. "state_00"; the graph inputs are state_in_NN / outputs state_out_NN
  std::vector<int64_t> shape;  // all dimensions > 0
  std::string owner;           // informational ("upsample_layers.0 (stem conv)"); may be empty
};

struct SchedulerConfig {
  int num_train_timesteps = 1000;
  std::string beta_schedule = "cosine";  // "cosine" is an alias of diffusers' "squaredcos_cap_v2"
  std::string prediction_type = "v_prediction";
};

// The optional text-normalization grammars (tn/, written by `vibevoice-onnx normalization`).
struct TextNormalizationInfo {
  std::string language, package, version;                    // e.g. "en", "nemo_text_processing", "1.2.0"
  std::filesystem::path tagger, verbalizer, post_processor;  // absolute
  int max_permutations = 729;
};

struct ModelManifest {
  std::filesystem::path dir;  // the model directory as given to load()
  int format_version = 0;
  std::string exporter, model_name;
  int hidden_size = 0, num_attention_heads = 0, num_key_value_heads = 0, head_dim = 0, text_layers = 0,
      tts_layers = 0, vocab_size = 0, latent_dim = 0;
  double rope_theta = 0, rms_norm_eps = 0;
  int max_positions = 0, text_window = 0, speech_window = 0;
  float speech_scaling_factor = 0, speech_bias_factor = 0;
  int sample_rate = 0, hop_length = 0;
  int64_t negative_token_id = 0, eos_token_id = 0;
  int default_steps = 0;
  float default_cfg_scale = 0;
  std::string default_solver;  // "ode" | "sde"
  SchedulerConfig scheduler;
  std::map<std::string, GraphInfo> graphs;  // text_lm, tts_lm, connector, diffusion_head, acoustic_decoder
  std::vector<DecoderStateInfo> decoder_states;
  // The acoustic decoder gives bit-identical audio for any chunking of the frames (exporters since the
  // stem became a MatMul); only then may chunk sizes depend on timing (the adaptive schedule).
  bool decoder_chunk_invariant = false;
  std::filesystem::path tokenizer_path, voices_manifest_path;  // absolute
  std::optional<TextNormalizationInfo> text_normalization;

  // Absolute path of a graph file; throws kModel for a key the manifest does not have.
  std::filesystem::path graph_path(const std::string& key) const;

  // Reads and validates MODEL_DIR/vibevoice.json. Every problem throws Error(kModel, ...) naming the file
  // and the field; a different format_version says which exporter version writes this build's format.
  static ModelManifest load(const std::filesystem::path& model_dir);
};

struct VoiceInfo {
  std::string name, dir, language, gender, dtype;  // dir relative to the voices folder; dtype "fp32"|"fp16"
  int lm_len = 0, tts_len = 0;
};

// Reads and validates voices/manifest.json (kModel naming the file, the voice and the field).
std::vector<VoiceInfo> load_voice_list(const std::filesystem::path& voices_manifest_json);

}  // namespace vv
