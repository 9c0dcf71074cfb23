#include <fmt/core.h>
#include <unistd.h>

#include "cli/command.h"
#include "cli/render.h"
#include "cli/runs.h"

namespace tether::cli {
namespace {

struct GetArgs {
  std::vector<std::string> names;
  std::string output;
  std::string namespace_ = "default";
  std::string node_field_selector;
  std::string status;
};

int run_get(const GetArgs& a) {
  auto home = open_home();
  if (!home.ok()) return fmt::print(stderr, "{}\n", home.error().str()), 1;
  auto store = open_reader(*home);
  if (!store.ok()) return fmt::print(stderr, "{}\n", store.error().str()), 1;
  int rc = 0;
  for (const auto& name : a.names) {
    auto wf = load_workflow(**store, a.namespace_, name);
    if (!wf.ok()) {
      fmt::print(stderr, "{}\n", wf.error().str());
      rc = 1;
      continue;
    }
    if (a.output == "json") {
      fmt::print("{}\n", wf->dump(2));
    } else if (a.output == "yaml") {
      fmt::print("{}\n", wf->dump(2));
    } else {
      GetOptions o;
      o.output = a.output;
      o.node_field_selector = a.status.empty() ? a.node_field_selector : "phase=" + a.status;
      o.color = ::isatty(1);
      fmt::print("{}", render_get(*wf, o, SystemClock::instance().now()));
    }
  }
  return rc;
}

CommandRegistrar reg("get", [](CLI::App& root) {
  auto a = std::make_shared<GetArgs>();
  auto* cmd = root.add_subcommand("get", "display details about a workflow");
  cmd->add_option("name", a->names, "workflow name, uid or @latest")->required();
  cmd->add_option("-o,--output", a->output, "output format: json|yaml|short|wide")
      ->check(CLI::IsMember({"", "json", "yaml", "short", "wide"}));
  cmd->add_option("-n,--namespace", a->namespace_, "namespace");
  cmd->add_option("--node-field-selector", a->node_field_selector, "selector of nodes to display, e.g. phase=Failed");
  cmd->add_option("--status", a->status, "only nodes with this phase");
  cmd->callback([a] { set_exit_code(run_get(*a)); });
});

}  // namespace
}  // namespace tether::cli
