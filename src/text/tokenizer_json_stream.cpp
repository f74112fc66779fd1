#include "text/tokenizer_json_stream.h"

#include "core/error.h"

namespace vv {
namespace {

using nlohmann::json;

class Handler : public nlohmann::json_sax<json> {
 public:
  explicit Handler(StreamedTokenizerJson& out) : out_(out) {}

  const std::string& error() const { return error_; }

  bool null() override { return value(json(nullptr)); }
  bool boolean(bool v) override { return value(json(v)); }
  bool number_integer(number_integer_t v) override {
    if (mode_ == Mode::kVocab) return vocab_id(v);
    return value(json(v));
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (mode_ == Mode::kVocab) return vocab_id(v <= INT64_MAX ? static_cast<int64_t>(v) : -1);
    return value(json(v));
  }
  bool number_float(number_float_t v, const string_t&) override { return value(json(v)); }
  bool binary(binary_t&) override { return refuse("", "unexpected binary value"); }

  bool string(string_t& v) override {
    if (mode_ == Mode::kMerges) return merge_string(v);
    if (mode_ == Mode::kMergePair) {
      pair_.push_back(std::move(v));
      return pair_.size() <= 2 || refuse(merge_field(), "expected [\"a\", \"b\"]");
    }
    return value(json(std::move(v)));
  }

  bool key(string_t& k) override {
    if (mode_ == Mode::kVocab) {
      token_ = std::move(k);
      return true;
    }
    key_ = std::move(k);
    return true;
  }

  bool start_object(std::size_t) override {
    if (mode_ == Mode::kVocab) return refuse("model.vocab", "id of token '" + token_ + "' is not an integer");
    if (mode_ != Mode::kDom) return refuse(merge_field(), "expected \"a b\" or [\"a\", \"b\"]");
    if (at_model_key("vocab")) {
      mode_ = Mode::kVocab;
      out_.vocab_seen = true;
      return true;
    }
    return open(json::object());
  }
  bool end_object() override {
    if (mode_ == Mode::kVocab) {
      mode_ = Mode::kDom;
      return true;
    }
    stack_.pop_back();
    return true;
  }

  bool start_array(std::size_t) override {
    if (mode_ == Mode::kVocab) return refuse("model.vocab", "id of token '" + token_ + "' is not an integer");
    if (mode_ == Mode::kMerges) {
      mode_ = Mode::kMergePair;
      pair_.clear();
      return true;
    }
    if (mode_ == Mode::kMergePair) return refuse(merge_field(), "expected [\"a\", \"b\"]");
    if (at_model_key("merges")) {
      mode_ = Mode::kMerges;
      out_.merges_seen = true;
      return true;
    }
    return open(json::array());
  }
  bool end_array() override {
    if (mode_ == Mode::kMergePair) {
      if (pair_.size() != 2) return refuse(merge_field(), "expected [\"a\", \"b\"]");
      out_.merges.push_back({std::move(pair_[0]), std::move(pair_[1])});
      mode_ = Mode::kMerges;
      return true;
    }
    if (mode_ == Mode::kMerges) {
      mode_ = Mode::kDom;
      return true;
    }
    stack_.pop_back();
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    if (error_.empty()) error_ = std::string("malformed JSON: ") + e.what();
    return false;
  }

 private:
  enum class Mode { kDom, kVocab, kMerges, kMergePair };

  bool refuse(const std::string& field, const std::string& problem) {
    if (error_.empty()) error_ = field.empty() ? problem : field + ": " + problem;
    return false;
  }
  std::string merge_field() const { return "model.merges[" + std::to_string(out_.merges.size()) + "]"; }

  // True when the value about to start is member `key` of the top-level "model" object.
  bool at_model_key(const char* key) const {
    return stack_.size() == 2 && key_ == key && stack_[1]->is_object() && stack_[0]->is_object() &&
           stack_[0]->contains("model") && &(*stack_[0])["model"] == stack_[1];
  }

  // Stores a value in the open container (or as the document itself).
  json* place(json&& v) {
    if (stack_.empty()) {
      out_.rest = std::move(v);
      return &out_.rest;
    }
    json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(v));
      return &parent.back();
    }
    json& slot = parent[key_];
    slot = std::move(v);
    return &slot;
  }
  bool value(json&& v) {
    if (mode_ != Mode::kDom)
      return refuse(mode_ == Mode::kVocab ? "model.vocab" : merge_field(),
                    mode_ == Mode::kVocab ? "id of token '" + token_ + "' is not an integer"
                                          : "expected \"a b\" or [\"a\", \"b\"]");
    place(std::move(v));
    return true;
  }
  bool open(json&& container) {
    stack_.push_back(place(std::move(container)));
    return true;
  }

  bool vocab_id(int64_t id) {
    if (id < 0 || id > INT32_MAX)
      return refuse("model.vocab", "id of token '" + token_ + "' is out of range");
    out_.vocab.emplace_back(std::move(token_), static_cast<int32_t>(id));
    return true;
  }
  bool merge_string(const std::string& s) {  // "left right" (older format)
    const size_t space = s.find(' ');
    if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
      return refuse(merge_field(), "expected two tokens separated by one space");
    out_.merges.push_back({s.substr(0, space), s.substr(space + 1)});
    return true;
  }

  StreamedTokenizerJson& out_;
  std::vector<json*> stack_;  // open containers of the DOM part
  std::string key_;           // last key seen in the DOM part
  std::string token_;         // last key seen in model.vocab
  std::vector<std::string> pair_;
  Mode mode_ = Mode::kDom;
  std::string error_;
};

}  // namespace

StreamedTokenizerJson parse_tokenizer_json(const std::string& text, const std::string& source) {
  StreamedTokenizerJson out;
  Handler handler(out);
  const bool ok = json::sax_parse(text, &handler, json::input_format_t::json, /*strict=*/true);
  if (!ok)
    fail(ErrorKind::kModel, source + ": " + (handler.error().empty() ? "malformed JSON" : handler.error()));
  return out;
}

}  // namespace vv
