#include "model/voice.h"

#include <cmath>
#include <string>

#include "core/error.h"
#include "model/npy.h"

namespace vv {
namespace {

namespace fs = std::filesystem;

// Reads one float tensor and checks it has exactly `shape` and the dtype the voice list declares. Reader
// errors (kInput) become kModel: inside a model directory a bad file is a model problem.
std::vector<float> load_tensor(const fs::path& path, const std::vector<int64_t>& shape, const VoiceInfo& v) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec))
    fail(ErrorKind::kModel, path.string() + ": missing file of voice \"" + v.name + "\"");
  NpyArray array;
  try {
    array = read_npy(path);
  } catch (const Error& e) {
    fail(ErrorKind::kModel, std::string(e.what()) + " (voice \"" + v.name + "\")");
  }
  const DType want = v.dtype == "fp16" ? DType::kF16 : DType::kF32;
  if (array.dtype != want)
    fail(ErrorKind::kModel, path.string() + ": dtype " + dtype_descr(array.dtype) + " but voice \"" + v.name +
                                "\" is declared " + v.dtype + " (" + dtype_descr(want) + ")");
  if (array.shape != shape)
    fail(ErrorKind::kModel, path.string() + ": shape " + shape_to_string(array.shape) + ", expected " +
                                shape_to_string(shape) + " for voice \"" + v.name + "\"");
  std::vector<float> values = array.to_f32();
  for (float x : values)
    if (!std::isfinite(x)) fail(ErrorKind::kModel, path.string() + ": contains NaN or infinity");
  return values;
}

void load_layers(const fs::path& dir, const std::string& prefix, int layers,
                 const std::vector<int64_t>& shape, const VoiceInfo& v, std::vector<std::vector<float>>& k,
                 std::vector<std::vector<float>>& val) {
  k.clear();
  val.clear();
  for (int l = 0; l < layers; ++l) {
    k.push_back(load_tensor(dir / (prefix + ".k." + std::to_string(l) + ".npy"), shape, v));
    val.push_back(load_tensor(dir / (prefix + ".v." + std::to_string(l) + ".npy"), shape, v));
  }
}

}  // namespace

VoicePreset VoicePreset::load(const ModelManifest& m, const VoiceInfo& v) {
  const fs::path dir = m.voices_manifest_path.parent_path() / v.dir;
  const std::string where = m.voices_manifest_path.string() + ": voice \"" + v.name + "\"";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) fail(ErrorKind::kModel, where + ": folder " + dir.string() + " not found");
  if (v.lm_len < 1 || v.tts_len < 1) fail(ErrorKind::kModel, where + ": lm_len and tts_len must be >= 1");
  // Generation needs room for at least one more token after the prompt (architecture.md 3.10).
  if (v.tts_len >= m.max_positions || v.lm_len >= m.max_positions)
    fail(ErrorKind::kModel, where + ": prompt length (lm_len " + std::to_string(v.lm_len) + ", tts_len " +
                                std::to_string(v.tts_len) + ") leaves no room below max_positions " +
                                std::to_string(m.max_positions));
  if (v.dtype != "fp32" && v.dtype != "fp16")
    fail(ErrorKind::kModel, where + ": dtype must be fp32 or fp16 (got \"" + v.dtype + "\")");

  const int64_t kvh = m.num_key_value_heads, d = m.head_dim;
  VoicePreset p;
  p.info = v;
  load_layers(dir, "lm", m.text_layers, {kvh, v.lm_len, d}, v, p.lm_k, p.lm_v);
  load_layers(dir, "tts", m.tts_layers, {kvh, v.tts_len, d}, v, p.tts_k, p.tts_v);
  load_layers(dir, "neg_tts", m.tts_layers, {kvh, 1, d}, v, p.neg_k, p.neg_v);
  p.neg_last_hidden = load_tensor(dir / "neg_tts.last_hidden.npy", {m.hidden_size}, v);
  const fs::path tts_last = dir / "tts.last_hidden.npy";
  if (fs::exists(tts_last, ec)) p.tts_last_hidden = load_tensor(tts_last, {m.hidden_size}, v);
  return p;
}

}  // namespace vv
