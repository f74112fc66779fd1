// Placeholder: replaced by the real `synth` sub-command.
#include "cli/commands.h"
#include "core/error.h"

namespace vv::cli {
void add_synth_command(CLI::App& app, Runner& run) {
  auto* sub = app.add_subcommand("synth", "(not implemented yet)");
  sub->callback([&run] { run = [] () -> int { fail(ErrorKind::kUsage, "'synth' is not implemented yet"); }; });
}
}  // namespace vv::cli
