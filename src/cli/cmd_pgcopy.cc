#include <string>
#include <vector>

#include "cli/command.h"
#include "pgcopy/command.h"

namespace tether::cli {
namespace {
CommandRegistrar reg("pgcopy", [](CLI::App& root) {
  auto* cmd = root.add_subcommand("pgcopy", "Load CSV into PostgreSQL in parallel (timescaledb-parallel-copy's flags)");
  // The loader parses its own Go-style flags (-flag value, -flag=value), so CLI11 passes
  // every argument through untouched, -h included.
  cmd->prefix_command();
  cmd->set_help_flag();
  cmd->callback([cmd] {
    std::vector<std::string> args = cmd->remaining();
    set_exit_code(tether::pgcopy::run_command(args, "tether pgcopy"));
  });
});
}  // namespace
}  // namespace tether::cli
