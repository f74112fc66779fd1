// vibevoice.json and voices/manifest.json loading: a complete manifest loads with every value, and every
// missing / mistyped / out-of-range / inconsistent field is refused with kModel naming the file and field.
#include <gtest/gtest.h>

#include <random>

#include <fstream>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "model/manifest.h"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// The example manifest of docs/model-format.md with a 2-entry decoder state list.
json example_manifest() {
  return json::parse(R"J({
    "format_version": 1,
    "exporter": "vibevoice-onnx 0.1.0",
    "model_name": "VibeVoice-Realtime-0.5B",
    "source": {"checkpoint": "/x", "random": true},
    "hidden_size": 896, "num_attention_heads": 14, "num_key_value_heads": 2, "head_dim": 64,
    "text_layers": 4, "tts_layers": 20, "vocab_size": 151936, "latent_dim": 64,
    "rope_theta": 1000000.0, "rms_norm_eps": 1e-6, "max_positions": 8192,
    "text_window": 5, "speech_window": 6,
    "speech_scaling_factor": 0.2333984375, "speech_bias_factor": -0.0703125,
    "sample_rate": 24000, "hop_length": 3200,
    "negative_token_id": 151655, "eos_token_id": 151643,
    "defaults": {"steps": 5, "cfg_scale": 1.5, "solver": "ode"},
    "scheduler": {"num_train_timesteps": 1000, "beta_schedule": "cosine", "prediction_type": "v_prediction"},
    "graphs": {
      "text_lm":          {"file": "text_lm.onnx",          "precision": "fp32"},
      "tts_lm":           {"file": "tts_lm.onnx",           "precision": "fp16"},
      "connector":        {"file": "connector.onnx",        "precision": "int4"},
      "diffusion_head":   {"file": "diffusion_head.onnx",   "precision": "int8"},
      "acoustic_decoder": {"file": "acoustic_decoder.onnx", "precision": "fp32"}
    },
    "decoder_states": [
      {"name": "state_00", "shape": [1, 64, 6], "owner": "upsample_layers.0 (stem conv)"},
      {"name": "state_01", "shape": [1, 2048, 1]}
    ],
    "tokenizer": "tokenizer.json",
    "voices": "voices/manifest.json"
})J");
}

class ManifestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vv_test_manifest_" + std::to_string(std::random_device{}()) + "_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "voices");
    for (const char* f : {"text_lm.onnx", "tts_lm.onnx", "connector.onnx", "diffusion_head.onnx",
                          "acoustic_decoder.onnx", "tokenizer.json", "voices/manifest.json"})
      std::ofstream(dir_ / f) << "x";
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const json& j, const std::string& name = "vibevoice.json") {
    std::ofstream(dir_ / name) << j.dump(2);
  }

  // Loads a manifest with `edit` applied and expects a kModel error containing every needle.
  void expect_refused(const std::function<void(json&)>& edit, std::initializer_list<std::string> needles) {
    json j = example_manifest();
    edit(j);
    write(j);
    try {
      vv::ModelManifest::load(dir_);
      ADD_FAILURE() << "accepted: " << j.dump();
    } catch (const vv::Error& e) {
      EXPECT_EQ(e.kind(), vv::ErrorKind::kModel) << e.what();
      EXPECT_NE(std::string(e.what()).find("vibevoice.json"), std::string::npos) << e.what();
      for (const std::string& n : needles)
        EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
    }
  }

  fs::path dir_;
};

}  // namespace

TEST_F(ManifestTest, LoadsEveryField) {
  write(example_manifest());
  const vv::ModelManifest m = vv::ModelManifest::load(dir_);
  EXPECT_EQ(m.dir, dir_);
  EXPECT_EQ(m.format_version, 1);
  EXPECT_EQ(m.exporter, "vibevoice-onnx 0.1.0");
  EXPECT_EQ(m.model_name, "VibeVoice-Realtime-0.5B");
  EXPECT_EQ(m.hidden_size, 896);
  EXPECT_EQ(m.num_attention_heads, 14);
  EXPECT_EQ(m.num_key_value_heads, 2);
  EXPECT_EQ(m.head_dim, 64);
  EXPECT_EQ(m.text_layers, 4);
  EXPECT_EQ(m.tts_layers, 20);
  EXPECT_EQ(m.vocab_size, 151936);
  EXPECT_EQ(m.latent_dim, 64);
  EXPECT_EQ(m.rope_theta, 1000000.0);
  EXPECT_EQ(m.rms_norm_eps, 1e-6);
  EXPECT_EQ(m.max_positions, 8192);
  EXPECT_EQ(m.text_window, 5);
  EXPECT_EQ(m.speech_window, 6);
  EXPECT_EQ(m.speech_scaling_factor, 0.2333984375f);
  EXPECT_EQ(m.speech_bias_factor, -0.0703125f);
  EXPECT_EQ(m.sample_rate, 24000);
  EXPECT_EQ(m.hop_length, 3200);
  EXPECT_EQ(m.negative_token_id, 151655);
  EXPECT_EQ(m.eos_token_id, 151643);
  EXPECT_EQ(m.default_steps, 5);
  EXPECT_EQ(m.default_cfg_scale, 1.5f);
  EXPECT_EQ(m.default_solver, "ode");
  EXPECT_EQ(m.scheduler.num_train_timesteps, 1000);
  EXPECT_EQ(m.scheduler.beta_schedule, "cosine");
  EXPECT_EQ(m.scheduler.prediction_type, "v_prediction");
  ASSERT_EQ(m.graphs.size(), 5u);
  EXPECT_EQ(m.graphs.at("tts_lm").file, "tts_lm.onnx");
  EXPECT_EQ(m.graphs.at("tts_lm").precision, "fp16");
  EXPECT_EQ(m.graphs.at("diffusion_head").precision, "int8");
  EXPECT_EQ(m.graphs.at("connector").precision, "int4");
  EXPECT_EQ(m.graph_path("connector"), fs::absolute(dir_ / "connector.onnx"));
  EXPECT_TRUE(m.graph_path("connector").is_absolute());
  EXPECT_THROW(m.graph_path("nope"), vv::Error);
  ASSERT_EQ(m.decoder_states.size(), 2u);
  EXPECT_EQ(m.decoder_states[0].name, "state_00");
  EXPECT_EQ(m.decoder_states[0].shape, (std::vector<int64_t>{1, 64, 6}));
  EXPECT_EQ(m.decoder_states[0].owner, "upsample_layers.0 (stem conv)");
  EXPECT_EQ(m.decoder_states[1].owner, "");
  EXPECT_EQ(m.tokenizer_path, fs::absolute(dir_ / "tokenizer.json"));
  EXPECT_EQ(m.voices_manifest_path, fs::absolute(dir_ / "voices" / "manifest.json"));
}

TEST_F(ManifestTest, DecoderChunkInvarianceIsOptional) {
  json j = example_manifest();
  write(j);
  EXPECT_FALSE(vv::ModelManifest::load(dir_).decoder_chunk_invariant);  // older exports: absent
  j["decoder_chunk_invariant"] = true;
  write(j);
  EXPECT_TRUE(vv::ModelManifest::load(dir_).decoder_chunk_invariant);
}

TEST_F(ManifestTest, IntegerValuedFloatsAreAccepted) {
  json j = example_manifest();
  j["rope_theta"] = 1000000;
  j["defaults"]["cfg_scale"] = 2;
  j["scheduler"]["beta_schedule"] = "squaredcos_cap_v2";
  write(j);
  const vv::ModelManifest m = vv::ModelManifest::load(dir_);
  EXPECT_EQ(m.rope_theta, 1e6);
  EXPECT_EQ(m.default_cfg_scale, 2.0f);
}

TEST_F(ManifestTest, RefusesOtherFormatVersionsHelpfully) {
  expect_refused([](json& j) { j["format_version"] = 2; },
                 {"format_version 2", "this build reads format_version 1", "vibevoice-onnx 0.1.x"});
  expect_refused([](json& j) { j["format_version"] = "1"; }, {"'format_version'", "integer"});
  expect_refused([](json& j) { j.erase("format_version"); }, {"'format_version'", "missing"});
}

TEST_F(ManifestTest, RefusesBadFields) {
  using E = std::function<void(json&)>;
  const std::vector<std::pair<E, std::vector<std::string>>> cases = {
      {[](json& j) { j.erase("hidden_size"); }, {"'hidden_size'", "missing"}},
      {[](json& j) { j["hidden_size"] = 0; }, {"'hidden_size'", "got 0"}},
      {[](json& j) { j["hidden_size"] = 896.0; }, {"'hidden_size'", "integer"}},
      {[](json& j) { j["hidden_size"] = "896"; }, {"'hidden_size'", "integer"}},
      {[](json& j) { j["num_attention_heads"] = -1; }, {"'num_attention_heads'"}},
      {[](json& j) { j["num_key_value_heads"] = 3; }, {"'num_key_value_heads'", "divide"}},
      {[](json& j) { j["head_dim"] = 0; }, {"'head_dim'"}},
      {[](json& j) { j["text_layers"] = 0; }, {"'text_layers'"}},
      {[](json& j) { j["tts_layers"] = 1e30; }, {"'tts_layers'"}},
      {[](json& j) { j["vocab_size"] = 4294967296LL; }, {"'vocab_size'"}},
      {[](json& j) { j["latent_dim"] = nullptr; }, {"'latent_dim'"}},
      {[](json& j) { j["rope_theta"] = "big"; }, {"'rope_theta'", "number"}},
      {[](json& j) { j["rope_theta"] = -1.0; }, {"'rope_theta'", "> 0"}},
      {[](json& j) { j["rms_norm_eps"] = 0.0; }, {"'rms_norm_eps'"}},
      {[](json& j) { j["max_positions"] = 0; }, {"'max_positions'"}},
      {[](json& j) { j["text_window"] = 0; }, {"'text_window'"}},
      {[](json& j) { j["speech_window"] = true; }, {"'speech_window'"}},
      {[](json& j) { j["decoder_chunk_invariant"] = 1; }, {"'decoder_chunk_invariant'", "true or false"}},
      {[](json& j) { j["speech_scaling_factor"] = 0.0; }, {"'speech_scaling_factor'", "non-zero"}},
      {[](json& j) { j["speech_bias_factor"] = 1e300; }, {"'speech_bias_factor'"}},
      {[](json& j) { j["sample_rate"] = 0; }, {"'sample_rate'"}},
      {[](json& j) { j["hop_length"] = -3200; }, {"'hop_length'"}},
      {[](json& j) { j["negative_token_id"] = 151936; }, {"'negative_token_id'", "151935"}},
      {[](json& j) { j["eos_token_id"] = -1; }, {"'eos_token_id'"}},
      {[](json& j) { j.erase("defaults"); }, {"'defaults'", "missing"}},
      {[](json& j) { j["defaults"]["steps"] = 0; }, {"'defaults.steps'", "[1, 50]"}},
      {[](json& j) { j["defaults"]["steps"] = 51; }, {"'defaults.steps'"}},
      {[](json& j) { j["defaults"]["cfg_scale"] = "1.5"; }, {"'defaults.cfg_scale'"}},
      {[](json& j) { j["defaults"]["solver"] = "euler"; }, {"'defaults.solver'", "ode, sde", "euler"}},
      {[](json& j) { j["scheduler"] = 3; }, {"'scheduler'", "object"}},
      {[](json& j) { j["scheduler"]["num_train_timesteps"] = 1; }, {"'scheduler.num_train_timesteps'"}},
      {[](json& j) { j["scheduler"]["beta_schedule"] = "linear"; }, {"'scheduler.beta_schedule'", "linear"}},
      {[](json& j) { j["scheduler"]["prediction_type"] = "epsilon"; }, {"'scheduler.prediction_type'"}},
      {[](json& j) { j["graphs"].erase("connector"); }, {"'graphs.connector'", "missing"}},
      {[](json& j) { j["graphs"]["tts_lm"]["precision"] = "int3"; },
       {"'graphs.tts_lm.precision'", "int3", "int4"}},
      {[](json& j) { j["graphs"]["tts_lm"]["file"] = "gone.onnx"; }, {"'graphs.tts_lm.file'", "gone.onnx"}},
      {[](json& j) { j["graphs"]["tts_lm"]["file"] = "/etc/passwd"; }, {"'graphs.tts_lm.file'", "relative"}},
      {[](json& j) { j["graphs"]["tts_lm"]["file"] = "../x.onnx"; }, {"'graphs.tts_lm.file'", "leave"}},
      {[](json& j) { j["graphs"]["tts_lm"]["file"] = ""; }, {"'graphs.tts_lm.file'", "empty"}},
      {[](json& j) { j["graphs"]["tts_lm"] = "tts_lm.onnx"; }, {"'graphs.tts_lm'", "object"}},
      {[](json& j) { j["decoder_states"] = json::array(); }, {"'decoder_states'", "empty"}},
      {[](json& j) { j["decoder_states"] = json::object(); }, {"'decoder_states'", "array"}},
      {[](json& j) {
         j["decoder_states"][1]["shape"] = {1, 0, 6};
       },
       {"'decoder_states[1].shape'", "positive"}},
      {[](json& j) { j["decoder_states"][1]["shape"] = json::array(); },
       {"'decoder_states[1].shape'", "empty"}},
      {[](json& j) {
         j["decoder_states"][0]["shape"] = {1, 64.5, 6};
       },
       {"'decoder_states[0].shape'"}},
      {[](json& j) { j["decoder_states"][1]["name"] = "state_00"; },
       {"'decoder_states[1].name'", "duplicates"}},
      {[](json& j) { j["decoder_states"][1].erase("name"); }, {"'decoder_states[1].name'", "missing"}},
      {[](json& j) { j["decoder_states"][0] = 5; }, {"'decoder_states[0]'", "object"}},
      {[](json& j) { j["tokenizer"] = "missing.json"; }, {"'tokenizer'", "missing.json"}},
      {[](json& j) { j.erase("voices"); }, {"'voices'", "missing"}},
      {[](json& j) { j["exporter"] = 1; }, {"'exporter'", "string"}},
  };
  for (const auto& [edit, needles] : cases) {
    SCOPED_TRACE(needles.front());
    json j = example_manifest();
    edit(j);
    write(j);
    try {
      vv::ModelManifest::load(dir_);
      ADD_FAILURE() << "accepted: " << needles.front();
    } catch (const vv::Error& e) {
      EXPECT_EQ(e.kind(), vv::ErrorKind::kModel) << e.what();
      EXPECT_NE(std::string(e.what()).find("vibevoice.json"), std::string::npos) << e.what();
      for (const std::string& n : needles)
        EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
    }
  }
}

TEST_F(ManifestTest, RefusesMissingOrBrokenFiles) {
  try {
    vv::ModelManifest::load(dir_ / "nowhere");
    FAIL();
  } catch (const vv::Error& e) {
    EXPECT_EQ(e.kind(), vv::ErrorKind::kModel);
    EXPECT_NE(std::string(e.what()).find("nowhere"), std::string::npos);
  }
  for (const std::string& text :
       {std::string(""), std::string("{\"format_version\": 1,"), std::string("[1]")}) {
    std::ofstream(dir_ / "vibevoice.json") << text;
    try {
      vv::ModelManifest::load(dir_);
      FAIL() << text;
    } catch (const vv::Error& e) {
      EXPECT_EQ(e.kind(), vv::ErrorKind::kModel);
      EXPECT_NE(std::string(e.what()).find("vibevoice.json"), std::string::npos) << e.what();
    }
  }
  fs::remove(dir_ / "vibevoice.json");
  EXPECT_THROW(vv::ModelManifest::load(dir_), vv::Error);
}

TEST_F(ManifestTest, LoadsVoiceList) {
  write(json::parse(R"J({"format_version": 1, "voices": [
    {"name": "en-Emma_woman", "dir": "en-Emma_woman", "language": "en", "gender": "woman",
     "lm_len": 74, "tts_len": 251, "dtype": "fp32"},
    {"name": "synthetic", "dir": "synthetic", "lm_len": 3, "tts_len": 9, "dtype": "fp16"},
    {"name": "plain", "dir": "plain", "language": "", "gender": "", "lm_len": 1, "tts_len": 1}]})J"),
        "voices/manifest.json");
  const auto voices = vv::load_voice_list(dir_ / "voices" / "manifest.json");
  ASSERT_EQ(voices.size(), 3u);
  EXPECT_EQ(voices[0].name, "en-Emma_woman");
  EXPECT_EQ(voices[0].dir, "en-Emma_woman");
  EXPECT_EQ(voices[0].language, "en");
  EXPECT_EQ(voices[0].gender, "woman");
  EXPECT_EQ(voices[0].lm_len, 74);
  EXPECT_EQ(voices[0].tts_len, 251);
  EXPECT_EQ(voices[0].dtype, "fp32");
  EXPECT_EQ(voices[1].dtype, "fp16");
  EXPECT_EQ(voices[1].language, "");
  EXPECT_EQ(voices[2].dtype, "fp32");  // default when absent
}

TEST_F(ManifestTest, RefusesBadVoiceLists) {
  const json good = json::parse(R"J({"format_version": 1, "voices": [
    {"name": "a", "dir": "a", "language": "en", "gender": "man", "lm_len": 2, "tts_len": 5, "dtype": "fp32"},
    {"name": "b", "dir": "b", "lm_len": 2, "tts_len": 5}]})J");
  using E = std::function<void(json&)>;
  const std::vector<std::pair<E, std::vector<std::string>>> cases = {
      {[](json& j) { j["format_version"] = 7; }, {"format_version 7", "vibevoice-onnx 0.1.x"}},
      {[](json& j) { j.erase("voices"); }, {"'voices'", "missing"}},
      {[](json& j) { j["voices"] = "a"; }, {"'voices'", "array"}},
      {[](json& j) { j["voices"][1]["name"] = "a"; }, {"'voices[1].name'", "duplicates"}},
      {[](json& j) { j["voices"][0]["name"] = ""; }, {"'voices[0].name'", "empty"}},
      {[](json& j) { j["voices"][0]["dir"] = "../../etc"; }, {"'voices[0].dir'", "folder name"}},
      {[](json& j) { j["voices"][0]["dir"] = ".."; }, {"'voices[0].dir'"}},
      {[](json& j) { j["voices"][0]["lm_len"] = 0; }, {"'voices[0].lm_len'"}},
      {[](json& j) { j["voices"][1]["tts_len"] = "5"; }, {"'voices[1].tts_len'"}},
      {[](json& j) { j["voices"][1].erase("tts_len"); }, {"'voices[1].tts_len'", "missing"}},
      {[](json& j) { j["voices"][0]["dtype"] = "bf16"; }, {"'voices[0].dtype'", "bf16"}},
      {[](json& j) { j["voices"][0]["language"] = 3; }, {"'voices[0].language'"}},
      {[](json& j) { j["voices"][0] = "a"; }, {"'voices[0]'", "object"}},
  };
  for (const auto& [edit, needles] : cases) {
    SCOPED_TRACE(needles.front());
    json j = good;
    edit(j);
    write(j, "voices/manifest.json");
    try {
      vv::load_voice_list(dir_ / "voices" / "manifest.json");
      ADD_FAILURE() << "accepted";
    } catch (const vv::Error& e) {
      EXPECT_EQ(e.kind(), vv::ErrorKind::kModel) << e.what();
      EXPECT_NE(std::string(e.what()).find("manifest.json"), std::string::npos) << e.what();
      for (const std::string& n : needles)
        EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(vv::load_voice_list(dir_ / "voices" / "absent.json"), vv::Error);
}
