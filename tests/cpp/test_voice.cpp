// Voice preset loading from a small fake model directory (geometry: hidden 8, 2 KV heads of dim 4,
// 2 text layers, 3 TTS layers): values land in the right slots, fp16 files are widened, and every
// missing / corrupt / mis-shaped / mistyped file is refused with kModel naming the file.
#include <gtest/gtest.h>

#include <random>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/npy.h"
#include "model/voice.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr int kHidden = 8, kKvHeads = 2, kHeadDim = 4, kTextLayers = 2, kTtsLayers = 3;

// Distinct value for every (file, element): file_id * 8 + index / 4 (exact in fp16 for our sizes).
float value_of(int file_id, size_t index) {
  return static_cast<float>(file_id) * 8.0f + static_cast<float>(index) / 4.0f;
}

// Writes a float16 .npy by hand (our writer only emits f32/i64); values must be exactly representable.
void write_f16(const fs::path& path, const std::vector<float>& values, const std::vector<int64_t>& shape) {
  std::string shape_text = "(";
  for (size_t i = 0; i < shape.size(); ++i) shape_text += std::to_string(shape[i]) + ", ";
  std::string header = "{'descr': '<f2', 'fortran_order': False, 'shape': " + shape_text + "), }";
  while ((10 + header.size() + 1) % 64 != 0) header.push_back(' ');
  header.push_back('\n');
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const char len[2] = {static_cast<char>(header.size() & 0xFF), static_cast<char>(header.size() >> 8)};
  out.write(len, 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  for (float v : values) {
    // float -> half for values that are exact in half: normal range only (tests use 0 and >= 2^-2).
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    uint16_t h = 0;
    if (v != 0.0f) {
      const uint32_t sign = (bits >> 16) & 0x8000u;
      const int exp = static_cast<int>((bits >> 23) & 0xFF) - 127 + 15;
      h = static_cast<uint16_t>(sign | static_cast<uint32_t>(exp << 10) | ((bits >> 13) & 0x3FFu));
    }
    out.write(reinterpret_cast<const char*>(&h), 2);
  }
}

class VoiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vv_test_voice_" + std::to_string(std::random_device{}()) + "_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "voices");
    for (const char* f : {"text_lm.onnx", "tts_lm.onnx", "connector.onnx", "diffusion_head.onnx",
                          "acoustic_decoder.onnx", "tokenizer.json"})
      std::ofstream(dir_ / f) << "x";
    json graphs;
    for (const char* g : {"text_lm", "tts_lm", "connector", "diffusion_head", "acoustic_decoder"})
      graphs[g] = {{"file", std::string(g) + ".onnx"}, {"precision", "fp32"}};
    json m = {
        {"format_version", 1},
        {"exporter", "test"},
        {"model_name", "tiny"},
        {"hidden_size", kHidden},
        {"num_attention_heads", 4},
        {"num_key_value_heads", kKvHeads},
        {"head_dim", kHeadDim},
        {"text_layers", kTextLayers},
        {"tts_layers", kTtsLayers},
        {"vocab_size", 151936},
        {"latent_dim", 4},
        {"rope_theta", 1e6},
        {"rms_norm_eps", 1e-6},
        {"max_positions", 64},
        {"text_window", 5},
        {"speech_window", 6},
        {"speech_scaling_factor", 0.2333984375},
        {"speech_bias_factor", -0.0703125},
        {"sample_rate", 24000},
        {"hop_length", 3200},
        {"negative_token_id", 151655},
        {"eos_token_id", 151643},
        {"defaults", {{"steps", 5}, {"cfg_scale", 1.5}, {"solver", "ode"}}},
        {"scheduler",
         {{"num_train_timesteps", 1000}, {"beta_schedule", "cosine"}, {"prediction_type", "v_prediction"}}},
        {"graphs", graphs},
        {"decoder_states", json::array({{{"name", "state_00"}, {"shape", {1, 4, 6}}}})},
        {"tokenizer", "tokenizer.json"},
        {"voices", "voices/manifest.json"}};
    std::ofstream(dir_ / "vibevoice.json") << m.dump();
    json voices = {{"format_version", 1},
                   {"voices",
                    {{{"name", "v32"}, {"dir", "v32"}, {"lm_len", 3}, {"tts_len", 5}, {"dtype", "fp32"}},
                     {{"name", "v16"}, {"dir", "v16"}, {"lm_len", 2}, {"tts_len", 4}, {"dtype", "fp16"}}}}};
    std::ofstream(dir_ / "voices" / "manifest.json") << voices.dump();
    manifest_ = vv::ModelManifest::load(dir_);
    voices_ = vv::load_voice_list(manifest_.voices_manifest_path);
    write_voice("v32", 3, 5, false);
    write_voice("v16", 2, 4, true);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Files get ids in a fixed order so the test can recompute every expected value.
  void write_voice(const std::string& name, int64_t lm_len, int64_t tts_len, bool fp16) {
    const fs::path d = dir_ / "voices" / name;
    fs::create_directories(d);
    int id = 0;
    auto put = [&](const std::string& file, std::vector<int64_t> shape) {
      int64_t n = 1;
      for (int64_t s : shape) n *= s;
      std::vector<float> v(static_cast<size_t>(n));
      for (size_t i = 0; i < v.size(); ++i) v[i] = value_of(id, i);
      ++id;
      if (fp16) {
        write_f16(d / file, v, shape);
      } else {
        vv::write_npy(d / file, std::span<const float>(v), std::span<const int64_t>(shape));
      }
    };
    for (int l = 0; l < kTextLayers; ++l) {
      put("lm.k." + std::to_string(l) + ".npy", {kKvHeads, lm_len, kHeadDim});
      put("lm.v." + std::to_string(l) + ".npy", {kKvHeads, lm_len, kHeadDim});
    }
    for (int l = 0; l < kTtsLayers; ++l) {
      put("tts.k." + std::to_string(l) + ".npy", {kKvHeads, tts_len, kHeadDim});
      put("tts.v." + std::to_string(l) + ".npy", {kKvHeads, tts_len, kHeadDim});
    }
    for (int l = 0; l < kTtsLayers; ++l) {
      put("neg_tts.k." + std::to_string(l) + ".npy", {kKvHeads, 1, kHeadDim});
      put("neg_tts.v." + std::to_string(l) + ".npy", {kKvHeads, 1, kHeadDim});
    }
    put("neg_tts.last_hidden.npy", {kHidden});
    put("tts.last_hidden.npy", {kHidden});
  }

  void check_values(const vv::VoicePreset& p, int64_t lm_len, int64_t tts_len) {
    int id = 0;
    auto check = [&](const std::vector<float>& got, int64_t n) {
      ASSERT_EQ(got.size(), static_cast<size_t>(n)) << "file id " << id;
      for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], value_of(id, i)) << "file id " << id;
      ++id;
    };
    ASSERT_EQ(p.lm_k.size(), static_cast<size_t>(kTextLayers));
    ASSERT_EQ(p.tts_k.size(), static_cast<size_t>(kTtsLayers));
    ASSERT_EQ(p.neg_v.size(), static_cast<size_t>(kTtsLayers));
    for (int l = 0; l < kTextLayers; ++l) {
      check(p.lm_k[static_cast<size_t>(l)], kKvHeads * lm_len * kHeadDim);
      check(p.lm_v[static_cast<size_t>(l)], kKvHeads * lm_len * kHeadDim);
    }
    for (int l = 0; l < kTtsLayers; ++l) {
      check(p.tts_k[static_cast<size_t>(l)], kKvHeads * tts_len * kHeadDim);
      check(p.tts_v[static_cast<size_t>(l)], kKvHeads * tts_len * kHeadDim);
    }
    for (int l = 0; l < kTtsLayers; ++l) {
      check(p.neg_k[static_cast<size_t>(l)], kKvHeads * kHeadDim);
      check(p.neg_v[static_cast<size_t>(l)], kKvHeads * kHeadDim);
    }
    check(p.neg_last_hidden, kHidden);
    check(p.tts_last_hidden, kHidden);
  }

  void expect_refused(const vv::VoiceInfo& v, const std::string& needle) {
    try {
      vv::VoicePreset::load(manifest_, v);
      ADD_FAILURE() << "accepted";
    } catch (const vv::Error& e) {
      EXPECT_EQ(e.kind(), vv::ErrorKind::kModel) << e.what();
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what() << "\nwanted: " << needle;
    }
  }

  fs::path dir_;
  vv::ModelManifest manifest_;
  std::vector<vv::VoiceInfo> voices_;
};

}  // namespace

TEST_F(VoiceTest, LoadsFloat32Voice) {
  const vv::VoicePreset p = vv::VoicePreset::load(manifest_, voices_[0]);
  EXPECT_EQ(p.info.name, "v32");
  check_values(p, 3, 5);
}

TEST_F(VoiceTest, LoadsFloat16VoiceAsFloat32) {
  const vv::VoicePreset p = vv::VoicePreset::load(manifest_, voices_[1]);
  EXPECT_EQ(p.info.dtype, "fp16");
  check_values(p, 2, 4);
}

TEST_F(VoiceTest, InformationalLastHiddenIsOptional) {
  fs::remove(dir_ / "voices" / "v32" / "tts.last_hidden.npy");
  const vv::VoicePreset p = vv::VoicePreset::load(manifest_, voices_[0]);
  EXPECT_TRUE(p.tts_last_hidden.empty());
  EXPECT_EQ(p.neg_last_hidden.size(), static_cast<size_t>(kHidden));
}

TEST_F(VoiceTest, RefusesMissingFileOrFolder) {
  fs::remove(dir_ / "voices" / "v32" / "tts.v.2.npy");
  expect_refused(voices_[0], "tts.v.2.npy");
  vv::VoiceInfo gone = voices_[0];
  gone.dir = "nope";
  expect_refused(gone, "nope");
}

TEST_F(VoiceTest, RefusesLengthMismatchWithVoiceList) {
  vv::VoiceInfo v = voices_[0];
  v.lm_len = 4;  // files hold 3
  expect_refused(v, "lm.k.0.npy: shape [2, 3, 4], expected [2, 4, 4]");
}

TEST_F(VoiceTest, RefusesShapeMismatchWithManifest) {
  const std::vector<float> wrong(static_cast<size_t>(kHidden + 1), 1.0f);
  const std::vector<int64_t> shape = {kHidden + 1};
  vv::write_npy(dir_ / "voices" / "v32" / "neg_tts.last_hidden.npy", std::span<const float>(wrong),
                std::span<const int64_t>(shape));
  expect_refused(voices_[0], "neg_tts.last_hidden.npy: shape [9], expected [8]");
  const std::vector<float> k(2 * 2 * 4, 1.0f);
  const std::vector<int64_t> kshape = {2, 2, 4};
  vv::write_npy(dir_ / "voices" / "v32" / "neg_tts.k.1.npy", std::span<const float>(k),
                std::span<const int64_t>(kshape));
  expect_refused(voices_[0], "neg_tts.k.1.npy");
}

TEST_F(VoiceTest, RefusesDtypeMismatch) {
  vv::VoiceInfo v = voices_[1];
  v.dtype = "fp32";  // files are fp16
  expect_refused(v, "declared fp32");
  v.dtype = "bf16";
  expect_refused(v, "dtype must be fp32 or fp16");
}

TEST_F(VoiceTest, RefusesCorruptFileAsModelError) {
  std::ofstream(dir_ / "voices" / "v32" / "lm.v.1.npy") << "garbage";
  expect_refused(voices_[0], "lm.v.1.npy: not a .npy file");
}

TEST_F(VoiceTest, RefusesNonFiniteValues) {
  std::vector<float> v(static_cast<size_t>(kHidden), 0.0f);
  v[3] = std::numeric_limits<float>::quiet_NaN();
  const std::vector<int64_t> shape = {kHidden};
  vv::write_npy(dir_ / "voices" / "v32" / "neg_tts.last_hidden.npy", std::span<const float>(v),
                std::span<const int64_t>(shape));
  expect_refused(voices_[0], "NaN");
}

TEST_F(VoiceTest, RefusesPromptLongerThanContext) {
  vv::VoiceInfo v = voices_[0];
  v.tts_len = manifest_.max_positions;
  expect_refused(v, "max_positions");
}
