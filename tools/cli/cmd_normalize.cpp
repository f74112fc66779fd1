// `vibevoice normalize`: the spoken form of text as `synth --normalize` reads it (numbers, money, dates, ...
// as words), from the model directory's grammars. Line by line from stdin (one output line per input line),
// or one --text. With --jsonl the input lines are JSON strings and each output line is a JSON object with
// the text and its alignment: for each run of output bytes that read the same input bytes, [out_begin,
// out_end, in_begin, in_end].
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "core/error.h"
#include "vibevoice/vibevoice.hpp"

namespace vv::cli {
namespace {

struct NormalizeArgs {
  std::string model;
  std::optional<std::string> text;
  bool jsonl = false;
};

std::string render(const NormalizedText& n, bool jsonl) {
  if (!jsonl) return n.text + "\n";
  nlohmann::json spans = nlohmann::json::array();
  for (size_t i = 0; i < n.source.size();) {
    size_t j = i;
    while (j < n.source.size() && n.source[j] == n.source[i]) ++j;
    spans.push_back({i, j, n.source[i].first, n.source[i].second});
    i = j;
  }
  return nlohmann::json{{"text", n.text}, {"alignment", spans}}.dump() + "\n";
}

void write(const std::string& s) {
  if (std::fwrite(s.data(), 1, s.size(), stdout) != s.size())
    fail(ErrorKind::kRuntime, "cannot write to stdout");
}

int run_normalize(const NormalizeArgs& args) {
  const TextNormalizer normalizer = TextNormalizer::load(args.model);
  if (args.text) {
    write(render(normalizer.normalize(*args.text), args.jsonl));
    if (std::fflush(stdout) != 0) fail(ErrorKind::kRuntime, "cannot write to stdout");
  } else {
    for_each_stdin_line(
        args.jsonl, [&](const std::string& text) { return render(normalizer.normalize(text), args.jsonl); });
  }
  return 0;
}

}  // namespace

void add_normalize_command(CLI::App& app, Runner& run) {
  auto args = std::make_shared<NormalizeArgs>();
  auto* sub = app.add_subcommand(
      "normalize",
      "print the spoken form of text (numbers, money, dates, ... as words), as --normalize reads it");
  sub->add_option("-m,--model", args->model, "model directory with text-normalization grammars")->required();
  sub->add_option("-t,--text", args->text, "text to normalize (default: stdin, line by line)");
  sub->add_flag(
      "--jsonl", args->jsonl,
      "input lines are JSON strings; output lines are JSON objects with the text and its alignment");
  sub->callback([&run, args] { run = [args] { return run_normalize(*args); }; });
}

}  // namespace vv::cli
