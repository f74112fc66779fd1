// Placeholder: replaced by the real `tokenize` sub-command.
#include "cli/commands.h"
#include "core/error.h"

namespace vv::cli {
void add_tokenize_command(CLI::App& app, Runner& run) {
  auto* sub = app.add_subcommand("tokenize", "(not implemented yet)");
  sub->callback([&run] { run = [] () -> int { fail(ErrorKind::kUsage, "'tokenize' is not implemented yet"); }; });
}
}  // namespace vv::cli
