// vv::Tokenizer::load refuses missing, malformed and unsupported tokenizer.json files with vv::Error(kModel)
// and a message that names the file and the problem.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.h"
#include "text/byte_level.h"
#include "text/pretokenizer.h"
#include "text/tokenizer.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// A small but complete Qwen2-style tokenizer.json: the 256 byte tokens, two merges and one added token.
json tiny_tokenizer() {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b)
    vocab[vv::byte_level::bytes_to_token(std::string(1, static_cast<char>(b)))] = b;
  vocab["he"] = 256;
  vocab["hel"] = 257;
  return {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", json::array({{{"id", 258},
                                     {"content", "<|end|>"},
                                     {"single_word", false},
                                     {"lstrip", false},
                                     {"rstrip", false},
                                     {"normalized", false},
                                     {"special", true}}})},
      {"normalizer", {{"type", "NFC"}}},
      {"pre_tokenizer",
       {{"type", "Sequence"},
        {"pretokenizers", json::array({{{"type", "Split"},
                                        {"pattern", {{"Regex", std::string(vv::kQwen2PretokenizerPattern)}}},
                                        {"behavior", "Isolated"},
                                        {"invert", false}},
                                       {{"type", "ByteLevel"},
                                        {"add_prefix_space", false},
                                        {"trim_offsets", false},
                                        {"use_regex", false}}})}}},
      {"post_processor",
       {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}},
      {"decoder",
       {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}},
      {"model",
       {{"type", "BPE"},
        {"dropout", nullptr},
        {"unk_token", nullptr},
        {"continuing_subword_prefix", ""},
        {"end_of_word_suffix", ""},
        {"fuse_unk", false},
        {"byte_fallback", false},
        {"vocab", vocab},
        {"merges", json::array({"h e", json::array({"he", "l"})})}}},
  };
}

class TokenizerErrors : public ::testing::Test {
 protected:
  fs::path write(const std::string& content) {
    const fs::path path = fs::temp_directory_path() /
                          ("vv_tok_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
                           "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" +
                           std::to_string(counter_++) + ".json");
    std::ofstream(path, std::ios::binary) << content;
    files_.push_back(path);
    return path;
  }
  void TearDown() override {
    for (const auto& f : files_) fs::remove(f);
  }
  // Loads `content` and expects a kModel error whose message names the file and contains `problem`.
  void expect_refused(const std::string& content, const std::string& problem) {
    const fs::path path = write(content);
    try {
      vv::Tokenizer::load(path);
      ADD_FAILURE() << "no error; expected: " << problem;
    } catch (const vv::Error& e) {
      EXPECT_EQ(e.kind(), vv::ErrorKind::kModel) << e.what();
      const std::string what = e.what();
      EXPECT_NE(what.find(path.string()), std::string::npos) << "message does not name the file: " << what;
      EXPECT_NE(what.find(problem), std::string::npos) << "message lacks '" << problem << "': " << what;
    }
  }
  void expect_refused(const std::function<void(json&)>& edit, const std::string& problem) {
    json j = tiny_tokenizer();
    edit(j);
    expect_refused(j.dump(), problem);
  }

 private:
  std::vector<fs::path> files_;
  int counter_ = 0;
};

TEST_F(TokenizerErrors, TinyTokenizerLoadsAndMerges) {
  const auto tok = vv::Tokenizer::load(write(tiny_tokenizer().dump()));
  EXPECT_EQ(tok.encode("hello<|end|>"), (std::vector<int32_t>{257, 'l', 'o', 258}));
  EXPECT_EQ(tok.vocab_size(), 259u);
  EXPECT_EQ(tok.decode(std::vector<int32_t>{257, 'l', 'o', 258}), "hello<|end|>");
}

TEST_F(TokenizerErrors, MissingFile) {
  const fs::path path = fs::temp_directory_path() / "vv_no_such_tokenizer.json";
  try {
    vv::Tokenizer::load(path);
    FAIL() << "no error";
  } catch (const vv::Error& e) {
    EXPECT_EQ(e.kind(), vv::ErrorKind::kModel);
    EXPECT_EQ(std::string(e.what()), path.string() + ": cannot open tokenizer file");
  }
}

TEST_F(TokenizerErrors, MalformedJson) {
  expect_refused("{\"model\": {", "malformed JSON");
  expect_refused("", "malformed JSON");
  expect_refused("[1, 2]", "expected a JSON object");
}

TEST_F(TokenizerErrors, MissingOrBrokenModelFields) {
  expect_refused([](json& j) { j.erase("model"); }, "model: missing");
  expect_refused([](json& j) { j["model"].erase("merges"); }, "model.merges: missing");
  expect_refused([](json& j) { j["model"].erase("vocab"); }, "model.vocab: missing");
  expect_refused([](json& j) { j["model"]["vocab"] = json::array(); },
                 "model.vocab: expected a non-empty object");
  expect_refused([](json& j) { j["model"]["merges"] = "h e"; }, "model.merges: expected an array");
  expect_refused([](json& j) { j["model"]["merges"].push_back("x y z"); }, "model.merges[2]");
  expect_refused([](json& j) { j["model"]["merges"].push_back(42); }, "model.merges[2]");
  expect_refused([](json& j) { j["model"]["merges"].push_back("hel o"); },
                 "token 'helo' is not in model.vocab");
  expect_refused([](json& j) { j["model"]["vocab"]["he"] = "x"; }, "is not an integer");
  expect_refused([](json& j) { j["model"]["vocab"].erase("a"); }, "no token for byte 97");
  expect_refused([](json& j) { j["model"]["vocab"]["dup"] = 3; }, "id 3 is used twice");
  expect_refused([](json& j) { j["added_tokens"][0].erase("content"); }, "added_tokens[0].content: missing");
}

TEST_F(TokenizerErrors, UnsupportedConfigurations) {
  expect_refused([](json& j) { j["model"]["type"] = "WordPiece"; }, "model.type: unsupported model");
  expect_refused(
      [](json& j) {
        j["normalizer"] = {{"type", "NFKC"}};
      },
      "normalizer: unsupported normalizer 'NFKC'");
  expect_refused([](json& j) { j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "\\s+"; },
                 "unsupported split pattern");
  expect_refused(
      [](json& j) {
        j["pre_tokenizer"] = {{"type", "ByteLevel"}, {"add_prefix_space", false}};
      },
      "pre_tokenizer: unsupported type");
  expect_refused([](json& j) { j["pre_tokenizer"]["pretokenizers"][1]["add_prefix_space"] = true; },
                 "add_prefix_space: unsupported value");
  expect_refused([](json& j) { j["decoder"] = {{"type", "WordPiece"}}; }, "decoder: unsupported decoder");
  expect_refused([](json& j) { j["model"]["dropout"] = 0.1; }, "model.dropout");
  expect_refused([](json& j) { j["model"]["byte_fallback"] = true; }, "model.byte_fallback");
  expect_refused([](json& j) { j["added_tokens"][0]["lstrip"] = true; }, "added_tokens[0].lstrip");
  expect_refused([](json& j) { j["added_tokens"][0]["normalized"] = true; }, "added_tokens[0].normalized");
  expect_refused([](json& j) { j["truncation"] = {{"max_length", 8}}; }, "truncation: must be null");
}

}  // namespace
