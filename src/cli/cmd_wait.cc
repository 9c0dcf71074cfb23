#include <fmt/core.h>
#include <unistd.h>

#include "cli/command.h"
#include "cli/runs.h"
#include "cli/workflow_input.h"

namespace tether::cli {
namespace {

struct WaitArgs {
  std::vector<std::string> names;
  std::string namespace_ = "default";
  bool ignore_not_found = false;
};

CommandRegistrar wait_reg("wait", [](CLI::App& root) {
  auto a = std::make_shared<WaitArgs>();
  auto* cmd = root.add_subcommand("wait", "waits for workflows to complete");
  cmd->add_option("names", a->names, "workflow names, uids or @latest")->required();
  cmd->add_option("-n,--namespace", a->namespace_, "namespace");
  cmd->add_flag("--ignore-not-found", a->ignore_not_found, "ignore a workflow that does not exist");
  cmd->callback([a] {
    auto home = open_home();
    if (!home.ok()) return fmt::print(stderr, "{}\n", home.error().str()), set_exit_code(1);
    set_exit_code(wait_for_runs(*home, a->namespace_, a->names, false));
  });
});

CommandRegistrar watch_reg("watch", [](CLI::App& root) {
  auto a = std::make_shared<WaitArgs>();
  auto* cmd = root.add_subcommand("watch", "watch a workflow until it completes");
  cmd->add_option("name", a->names, "workflow name, uid or @latest")->required()->expected(1);
  cmd->add_option("-n,--namespace", a->namespace_, "namespace");
  cmd->callback([a] {
    auto home = open_home();
    if (!home.ok()) return fmt::print(stderr, "{}\n", home.error().str()), set_exit_code(1);
    // argo watch exits 0 whatever the outcome; it shows, it does not judge.
    follow_after_submit(*home, a->namespace_, a->names, true, false, false, false);
    set_exit_code(0);
  });
});

}  // namespace
}  // namespace tether::cli
