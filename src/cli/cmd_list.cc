#include <fmt/core.h>
#include <unistd.h>

#include "base/strings.h"
#include "cli/command.h"
#include "cli/render.h"
#include "cli/runs.h"
#include "engine/view.h"

namespace tether::cli {
namespace {

struct ListArgs {
  std::string output;
  std::string namespace_ = "default";
  bool all_namespaces = false;
  bool running = false, completed = false;
  std::vector<std::string> status;
  std::string selector;
  bool no_headers = false;
  int chunk = 0;
};

int run_list(const ListArgs& a) {
  auto home = open_home();
  if (!home.ok()) return fmt::print(stderr, "{}\n", home.error().str()), 1;
  auto store = open_reader(*home);
  if (!store.ok()) return fmt::print(stderr, "{}\n", store.error().str()), 1;
  engine::RunFilter f;
  f.namespace_ = a.all_namespaces ? "" : a.namespace_;
  if (a.running) f.completed = false;
  if (a.completed) f.completed = true;
  for (const auto& s : a.status)
    for (const auto& part : split(s, ',')) f.phases.push_back(part);
  f.label_selector = a.selector;
  auto runs = (*store)->list_runs(f);
  if (!runs.ok()) return fmt::print(stderr, "{}\n", runs.error().str()), 1;
  std::vector<Json> wfs;
  bool need_nodes = a.output == "wide" || a.output == "json" || a.output == "yaml";
  for (const auto& r : *runs) {
    std::vector<engine::NodeRecord> nodes;
    if (need_nodes) {
      auto n = (*store)->nodes(r.uid);
      if (n.ok()) nodes = std::move(*n);
    }
    wfs.push_back(engine::workflow_object(r, nodes));
  }
  if (a.output == "name") {
    for (const auto& w : wfs) fmt::print("{}\n", w["metadata"]["name"].get<std::string>());
  } else if (a.output == "json" || a.output == "yaml") {
    fmt::print("{}\n", Json(wfs).dump(2));
  } else {
    ListOptions o;
    o.output = a.output;
    o.no_headers = a.no_headers;
    o.all_namespaces = a.all_namespaces;
    fmt::print("{}", render_list(wfs, o, SystemClock::instance().now()));
  }
  return 0;
}

CommandRegistrar reg("list", [](CLI::App& root) {
  auto a = std::make_shared<ListArgs>();
  auto* cmd = root.add_subcommand("list", "list workflows");
  cmd->alias("ls");
  cmd->add_option("-o,--output", a->output, "output format: name|wide|json|yaml")
      ->check(CLI::IsMember({"", "name", "wide", "json", "yaml"}));
  cmd->add_option("-n,--namespace", a->namespace_, "namespace");
  cmd->add_flag("-A,--all-namespaces", a->all_namespaces, "show workflows from all namespaces");
  cmd->add_flag("--running", a->running, "show only running workflows");
  cmd->add_flag("--completed", a->completed, "show only completed workflows");
  cmd->add_option("--status", a->status, "filter by status (comma separated)");
  cmd->add_option("-l,--selector", a->selector, "label selector (k=v,k2=v2)");
  cmd->add_flag("--no-headers", a->no_headers, "don't print headers");
  cmd->callback([a] { set_exit_code(run_list(*a)); });
});

}  // namespace
}  // namespace tether::cli
