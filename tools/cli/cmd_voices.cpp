// Placeholder: replaced by the real `voices` sub-command.
#include "cli/commands.h"
#include "core/error.h"

namespace vv::cli {
void add_voices_command(CLI::App& app, Runner& run) {
  auto* sub = app.add_subcommand("voices", "(not implemented yet)");
  sub->callback([&run] { run = [] () -> int { fail(ErrorKind::kUsage, "'voices' is not implemented yet"); }; });
}
}  // namespace vv::cli
