#include <fmt/core.h>

#include "cli/command.h"
#include "cli/runs.h"
#include "cli/stored_objects.h"

namespace tether::cli {
namespace {

struct DeleteArgs {
  std::vector<std::string> names;
  std::vector<std::string> files;  // -f: objects, as kubectl delete -f
  std::string namespace_ = "default";
  bool all = false, completed = false;
};

int run_delete(const DeleteArgs& a) {
  if (!a.files.empty()) {
    if (!a.names.empty() || a.all || a.completed)
      return fmt::print(stderr, "Error: -f deletes the objects of files; it takes no workflow names, --all or --completed\n"), 1;
    return delete_files(a.files, a.namespace_);
  }
  auto home = open_home();
  if (!home.ok()) return fmt::print(stderr, "{}\n", home.error().str()), 1;
  std::vector<std::string> names = a.names;
  if (a.all || a.completed) {
    auto store = open_reader(*home);
    if (!store.ok()) return fmt::print(stderr, "{}\n", store.error().str()), 1;
    engine::RunFilter f;
    f.namespace_ = a.namespace_;
    if (a.completed) f.completed = true;
    auto runs = (*store)->list_runs(f);
    if (!runs.ok()) return fmt::print(stderr, "{}\n", runs.error().str()), 1;
    for (const auto& r : *runs) names.push_back(r.name);
  }
  if (names.empty() && !a.all && !a.completed)
    return fmt::print(stderr, "Error: a workflow name, --all or --completed is required\n"), 1;
  int rc = 0;
  for (const auto& n : names) {
    auto reply = engine_call(*home, {{"op", "delete"}, {"namespace", a.namespace_}, {"name", n}});
    if (!reply.ok()) {
      fmt::print(stderr, "{}\n", reply.error().message);
      rc = 1;
      continue;
    }
    fmt::print("Workflow '{}' deleted\n", n);
  }
  return rc;
}

CommandRegistrar reg("delete", [](CLI::App& root) {
  auto a = std::make_shared<DeleteArgs>();
  auto* cmd = root.add_subcommand("delete", "delete workflows");
  cmd->alias("rm");
  cmd->add_option("names", a->names, "workflow names, uids or @latest");
  cmd->add_option("-f,--filename", a->files,
                  "delete the ConfigMaps, Secrets, (Cluster)WorkflowTemplates and CronWorkflows these files or "
                  "directories define")
      ->allow_extra_args(false);
  cmd->add_option("-n,--namespace", a->namespace_, "namespace");
  cmd->add_flag("--all", a->all, "delete all workflows");
  cmd->add_flag("--completed", a->completed, "delete completed workflows");
  cmd->callback([a] { set_exit_code(run_delete(*a)); });
});

}  // namespace
}  // namespace tether::cli
