// Sub-commands of the `vibevoice` CLI. Each lives in its own cmd_*.cpp and registers itself on the app;
// the returned callback runs after parsing. Errors are thrown as vv::Error and mapped to exit codes in main.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace vv::cli {

using Runner = std::function<int()>;

// Each adds its sub-command to `app` and stores the function that runs it in `run`.
void add_tokenize_command(CLI::App& app, Runner& run);
void add_synth_command(CLI::App& app, Runner& run);
void add_voices_command(CLI::App& app, Runner& run);
void add_serve_command(CLI::App& app, Runner& run);  // only when built with the server
void add_normalize_command(CLI::App& app, Runner& run);

// The text of one stdin line of a line-by-line command: the line itself, or with --jsonl the JSON string
// it holds (kInput naming the line otherwise).
std::string line_text(const std::string& line, bool jsonl, size_t line_number);
// Line-by-line commands: `handle` maps the text of each stdin line (line_text) to what is printed for it,
// written at once; a kInput error names the line (what came before it is printed).
void for_each_stdin_line(bool jsonl, const std::function<std::string(std::string)>& handle);

}  // namespace vv::cli
