// Verbs that change a running workflow through the engine: stop, terminate, suspend and
// resume, with argo's words ("workflow NAME stopped") and exit codes.
#include <fmt/core.h>

#include "cli/command.h"
#include "cli/runs.h"

namespace tether::cli {
namespace {

struct ControlArgs {
  std::vector<std::string> names;
  std::string namespace_ = "default";
  std::string message;
};

struct Verb {
  const char* name;
  const char* done;  // argo's past tense
  const char* help;
};

constexpr Verb kVerbs[] = {
    {"stop", "stopped", "stop workflows: running steps are stopped, exit handlers still run"},
    {"terminate", "terminated", "terminate workflows: running steps are stopped, exit handlers do not run"},
    {"suspend", "suspended", "suspend workflows"},
    {"resume", "resumed", "resume suspended workflows"},
};

int run_control(const Verb& verb, const ControlArgs& a) {
  auto home = open_home();
  if (!home.ok()) return fmt::print(stderr, "{}\n", home.error().str()), 1;
  auto store = open_reader(*home);
  if (!store.ok()) return fmt::print(stderr, "{}\n", store.error().str()), 1;
  int rc = 0;
  for (const auto& n : a.names) {
    // The engine knows runs by name or uid; @latest is the store's to resolve.
    auto found = (*store)->find_run(a.namespace_, n);
    if (!found.ok()) return fmt::print(stderr, "{}\n", found.error().str()), 1;
    if (!*found) {
      fmt::print(stderr, "workflows.argoproj.io \"{}\" not found\n", n);
      rc = 1;
      continue;
    }
    Json req = {{"op", verb.name}, {"namespace", a.namespace_}, {"name", (*found)->name}};
    if (!a.message.empty()) req["message"] = a.message;
    auto reply = engine_call(*home, req);
    if (!reply.ok()) {
      fmt::print(stderr, "{}\n", reply.error().message);
      rc = 1;
      continue;
    }
    fmt::print("workflow {} {}\n", (*found)->name, verb.done);
  }
  return rc;
}

CommandRegistrar reg("control", [](CLI::App& root) {
  for (const Verb& verb : kVerbs) {
    auto a = std::make_shared<ControlArgs>();
    auto* cmd = root.add_subcommand(verb.name, verb.help);
    cmd->add_option("names", a->names, "workflow names, uids or @latest")->required();
    cmd->add_option("-n,--namespace", a->namespace_, "namespace");
    if (std::string(verb.name) == "stop") cmd->add_option("--message", a->message, "message to add to the nodes");
    cmd->callback([a, &verb] { set_exit_code(run_control(verb, *a)); });
  }
});

}  // namespace
}  // namespace tether::cli
