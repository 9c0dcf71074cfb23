#include <fmt/core.h>

#include "cli/command.h"

namespace tether::cli {
namespace {
CommandRegistrar reg("version", [](CLI::App& root) {
  auto* cmd = root.add_subcommand("version", "Print the version and the Argo spec version tether follows");
  cmd->callback([] { fmt::print("tether: v{}\nargo spec: {}\n", TETHER_VERSION, TETHER_SPEC_VERSION); });
});
}  // namespace
}  // namespace tether::cli
