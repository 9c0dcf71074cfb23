// Hidden verbs the engine runs as the command of http and data steps (agent/): the
// supervisor starts the tether binary itself, so these steps take the same path as every
// other step. Not for users: they are left out of --help.
#include <memory>
#include <string>

#include "agent/data_step.h"
#include "agent/http_step.h"
#include "cli/command.h"

namespace tether::cli {
namespace {

void add_step_verb(CLI::App& root, const std::string& name, int (*run)(const std::string&)) {
  auto spec = std::make_shared<std::string>();
  auto* cmd = root.add_subcommand(name, "");
  cmd->group("");
  cmd->add_option("spec", *spec, "the step's spec, written by the engine")->required();
  cmd->callback([spec, run] { set_exit_code(run(*spec)); });
}

CommandRegistrar reg("__agent-steps", [](CLI::App& root) {
  add_step_verb(root, "__http-step", agent::run_http_step);
  add_step_verb(root, "__data-step", agent::run_data_step);
});

}  // namespace
}  // namespace tether::cli
