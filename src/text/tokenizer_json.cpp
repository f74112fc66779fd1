#include "text/tokenizer_json.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "text/pretokenizer.h"
#include "text/tokenizer_json_stream.h"

namespace vv {
namespace {

using nlohmann::json;

class Reader {
 public:
  Reader(std::string source, StreamedTokenizerJson& streamed)
      : source_(std::move(source)), streamed_(streamed) {}

  [[noreturn]] void refuse(const std::string& field, const std::string& problem) const {
    fail(ErrorKind::kModel, source_ + ": " + field + ": " + problem);
  }

  // `field` is the path of `obj` in the file ("" for the top level).
  const json& member(const json& obj, const std::string& field, const char* key) const {
    if (!obj.is_object()) refuse(field, "expected an object");
    const auto it = obj.find(key);
    if (it == obj.end()) refuse(field.empty() ? key : field + "." + key, "missing");
    return *it;
  }
  std::string string_of(const json& obj, const std::string& field, const char* key) const {
    const json& v = member(obj, field, key);
    if (!v.is_string()) refuse(field + "." + key, "expected a string");
    return v.get<std::string>();
  }
  // Optional boolean (absent or null -> fallback).
  bool flag(const json& obj, const std::string& field, const char* key, bool fallback) const {
    const auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return fallback;
    if (!it->is_boolean()) refuse(field + "." + key, "expected true or false");
    return it->get<bool>();
  }
  void expect_flag(const json& obj, const std::string& field, const char* key, bool fallback, bool wanted,
                   const char* why) const {
    if (flag(obj, field, key, fallback) != wanted)
      refuse(field + "." + key,
             std::string("unsupported value ") + (wanted ? "false" : "true") + " (" + why + ")");
  }

  bool normalizer(const json& root) const {
    const auto it = root.find("normalizer");
    if (it == root.end() || it->is_null()) return false;
    const std::string type = string_of(*it, "normalizer", "type");
    if (type == "NFC") return true;
    if (type == "Sequence") {
      const json& list = member(*it, "normalizer", "normalizers");
      if (list.is_array() && list.empty()) return false;
      if (list.is_array() && list.size() == 1 &&
          string_of(list[0], "normalizer.normalizers[0]", "type") == "NFC")
        return true;
    }
    refuse("normalizer", "unsupported normalizer '" + type + "' (only NFC or none is implemented)");
  }

  void pre_tokenizer(const json& root) const {
    const json& pt = member(root, "", "pre_tokenizer");
    const std::string field = "pre_tokenizer";
    if (pt.is_null()) refuse(field, "missing (a byte-level pre-tokenizer is required)");
    if (string_of(pt, field, "type") != "Sequence")
      refuse(field, "unsupported type (expected the Qwen2 Sequence[Split, ByteLevel])");
    const json& list = member(pt, field, "pretokenizers");
    if (!list.is_array() || list.size() != 2) refuse(field + ".pretokenizers", "expected [Split, ByteLevel]");
    const json& split = list[0];
    const std::string sf = field + ".pretokenizers[0]";
    if (string_of(split, sf, "type") != "Split") refuse(sf + ".type", "expected Split");
    const json& pattern = member(split, sf, "pattern");
    if (!pattern.is_object() || !pattern.contains("Regex") || !pattern["Regex"].is_string() ||
        pattern["Regex"].get<std::string>() != kQwen2PretokenizerPattern)
      refuse(sf + ".pattern", "unsupported split pattern (only the Qwen2 regex is implemented)");
    if (string_of(split, sf, "behavior") != "Isolated") refuse(sf + ".behavior", "expected Isolated");
    expect_flag(split, sf, "invert", false, false, "inverted splits are not implemented");
    const std::string bf = field + ".pretokenizers[1]";
    if (string_of(list[1], bf, "type") != "ByteLevel") refuse(bf + ".type", "expected ByteLevel");
    expect_flag(list[1], bf, "add_prefix_space", false, false, "a prefix space is not implemented");
    expect_flag(list[1], bf, "use_regex", true, false, "the GPT-2 regex is not implemented");
  }

  void decoder_and_post(const json& root) const {
    const auto dec = root.find("decoder");
    if (dec != root.end() && !dec->is_null() && string_of(*dec, "decoder", "type") != "ByteLevel")
      refuse("decoder", "unsupported decoder (only ByteLevel is implemented)");
    const auto post = root.find("post_processor");
    if (post != root.end() && !post->is_null()) {
      const std::string type = string_of(*post, "post_processor", "type");
      if (type == "ByteLevel")
        expect_flag(*post, "post_processor", "trim_offsets", true, false,
                    "offset trimming is not implemented");
      else if (type != "TemplateProcessing")  // only adds special tokens, which encode() never does
        refuse("post_processor", "unsupported post-processor '" + type + "'");
    }
    for (const char* key : {"truncation", "padding"}) {
      const auto it = root.find(key);
      if (it != root.end() && !it->is_null())
        refuse(key, "must be null (truncation/padding is not implemented)");
    }
  }

  void model(const json& root, TokenizerSpec& spec) {
    const json& m = member(root, "", "model");
    if (string_of(m, "model", "type") != "BPE")
      refuse("model.type", "unsupported model (only BPE is implemented)");
    const auto dropout = m.find("dropout");
    if (dropout != m.end() && !dropout->is_null()) refuse("model.dropout", "BPE dropout is not supported");
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
      const auto it = m.find(key);
      if (it != m.end() && !it->is_null() && !(it->is_string() && it->get<std::string>().empty()))
        refuse(std::string("model.") + key, "must be empty");
    }
    expect_flag(m, "model", "byte_fallback", false, false, "byte fallback is not implemented");
    spec.ignore_merges = flag(m, "model", "ignore_merges", false);

    if (!streamed_.vocab_seen) {
      member(m, "model", "vocab");  // reports a missing field
      refuse("model.vocab", "expected a non-empty object");
    }
    if (streamed_.vocab.empty()) refuse("model.vocab", "expected a non-empty object");
    spec.vocab = std::move(streamed_.vocab);
    if (!streamed_.merges_seen) {
      member(m, "model", "merges");
      refuse("model.merges", "expected an array");
    }
    spec.merges = std::move(streamed_.merges);
  }

  void added_tokens(const json& root, TokenizerSpec& spec) const {
    const auto it = root.find("added_tokens");
    if (it == root.end() || it->is_null()) return;
    if (!it->is_array()) refuse("added_tokens", "expected an array");
    for (size_t i = 0; i < it->size(); ++i) {
      const json& t = (*it)[i];
      const std::string field = "added_tokens[" + std::to_string(i) + "]";
      const json& id = member(t, field, "id");
      if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() > INT32_MAX)
        refuse(field + ".id", "expected a non-negative integer");
      AddedToken token{string_of(t, field, "content"), static_cast<int32_t>(id.get<int64_t>()),
                       flag(t, field, "special", false)};
      if (token.content.empty()) refuse(field + ".content", "empty");
      for (const char* key : {"single_word", "lstrip", "rstrip"})
        expect_flag(t, field, key, false, false, "not implemented");
      // HF matches tokens with normalized=true in the normalized text instead of the raw text.
      expect_flag(t, field, "normalized", !token.special, false,
                  "matching on normalized text is not implemented");
      spec.added_tokens.push_back(std::move(token));
    }
  }

 private:
  std::string source_;
  StreamedTokenizerJson& streamed_;
};

}  // namespace

TokenizerSpec read_tokenizer_json(const std::filesystem::path& path) {
  const std::string source = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorKind::kModel, source + ": cannot open tokenizer file");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  StreamedTokenizerJson streamed = parse_tokenizer_json(buffer.str(), source);
  const json& root = streamed.rest;
  if (!root.is_object()) fail(ErrorKind::kModel, source + ": expected a JSON object at the top level");
  Reader reader(source, streamed);
  TokenizerSpec spec;
  try {
    spec.nfc = reader.normalizer(root);
    reader.pre_tokenizer(root);
    reader.decoder_and_post(root);
    reader.model(root, spec);
    reader.added_tokens(root, spec);
  } catch (const json::exception& e) {  // e.g. a value of an unexpected type deep inside
    fail(ErrorKind::kModel, source + ": unexpected content: " + e.what());
  }
  return spec;
}

}  // namespace vv
