// `vibevoice tokenize`: text on stdin -> token ids on stdout, one JSON array per input line. Exposes the C++
// tokenizer for parity checks against Hugging Face `tokenizers` and for inspecting what the model will read.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.h"
#include "core/error.h"
#include "text/text_prep.h"
#include "text/tokenizer.h"

namespace vv::cli {
namespace {

struct TokenizeArgs {
  std::string tokenizer;
  bool jsonl = false;
  bool prepare = false;
};

}  // namespace

void for_each_stdin_line(bool jsonl, const std::function<std::string(std::string)>& handle) {
  std::ios::sync_with_stdio(false);
  std::string line;
  for (size_t line_number = 1; std::getline(std::cin, line); ++line_number) {
    try {
      const std::string out = handle(line_text(line, jsonl, line_number));
      if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size())
        fail(ErrorKind::kRuntime, "cannot write to stdout");
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::kInput || std::string(e.what()).starts_with("stdin line")) throw;
      fail(e.kind(), "stdin line " + std::to_string(line_number) + ": " + e.what());
    }
  }
  if (std::fflush(stdout) != 0) fail(ErrorKind::kRuntime, "cannot write to stdout");
}

std::string line_text(const std::string& line, bool jsonl, size_t line_number) {
  if (!jsonl) return line;
  nlohmann::json value;
  try {
    value = nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    fail(ErrorKind::kInput, "stdin line " + std::to_string(line_number) + ": malformed JSON: " + e.what());
  }
  if (!value.is_string())
    fail(ErrorKind::kInput, "stdin line " + std::to_string(line_number) + ": expected a JSON string");
  return value.get<std::string>();
}

namespace {

int run_tokenize(const TokenizeArgs& args) {
  const Tokenizer tokenizer = Tokenizer::load(args.tokenizer);
  for_each_stdin_line(args.jsonl, [&](std::string text) {
    if (args.prepare) text = prepare_text(text).text;
    std::string out = "[";
    for (int32_t id : tokenizer.encode(text)) {
      if (out.size() > 1) out += ", ";
      out += std::to_string(id);
    }
    return out + "]\n";
  });
  return 0;
}

}  // namespace

void add_tokenize_command(CLI::App& app, Runner& run) {
  auto args = std::make_shared<TokenizeArgs>();
  auto* sub = app.add_subcommand("tokenize", "tokenize stdin line by line (one JSON array of ids per line)");
  sub->add_option("--tokenizer", args->tokenizer,
                  "Hugging Face tokenizer.json (e.g. MODEL_DIR/tokenizer.json)")
      ->required();
  sub->add_flag("--jsonl", args->jsonl, "every input line is a JSON string (to pass newlines and any text)");
  sub->add_flag("--prepare", args->prepare,
                "apply the model's text preparation first (curly quotes, strip, append a newline)");
  sub->callback([&run, args] { run = [args] { return run_tokenize(*args); }; });
}

}  // namespace vv::cli
