// Verbs that change a running workflow through the engine: stop, terminate, suspend and
// resume, with argo's words ("workflow NAME stopped") and exit codes.
#include <fmt/core.h>

#include "cli/command.h"
#include "cli/runs.h"
#include "cli/workflow_input.h"

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

// The home, its store and the stored name of the run a verb names by name, uid or
// @latest: the engine knows runs by name or uid, @latest is the store's to resolve.
struct Target {
  Home home;
  std::unique_ptr<engine::Store> store;
  std::string name;
};

Result<Target> find_target(const std::string& namespace_, const std::string& name) {
  Target t{TRY(open_home()), nullptr, ""};
  t.store = TRY(open_reader(t.home));
  auto found = TRY(t.store->find_run(namespace_, name));
  if (!found) return not_found("workflows.argoproj.io \"" + name + "\" not found");
  t.name = found->name;
  return t;
}

int run_control(const Verb& verb, const ControlArgs& a) {
  int rc = 0;
  for (const auto& n : a.names) {
    auto t = find_target(a.namespace_, n);
    Json req = {{"op", verb.name}, {"namespace", a.namespace_}, {"name", t.ok() ? t->name : n}};
    if (!a.message.empty()) req["message"] = a.message;
    auto reply = t.ok() ? engine_call(t->home, req) : Result<Json>(t.take_error());
    if (!reply.ok()) {
      fmt::print(stderr, "{}\n", reply.error().message);
      rc = 1;
      continue;
    }
    fmt::print("workflow {} {}\n", t->name, verb.done);
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

struct RetryArgs {
  std::string name;
  std::string namespace_ = "default";
  std::vector<std::string> parameters;
  bool restart_successful = false;
  std::string node_field_selector;
  std::string output;
  bool wait = false, watch = false, log = false;
};

// argo retry: the engine takes the run up again where it failed; printed as submit prints.
int run_retry(const RetryArgs& a) {
  auto t = find_target(a.namespace_, a.name);
  if (!t.ok()) return fmt::print(stderr, "{}\n", t.error().message), 1;
  const std::string& name = t->name;
  Json req = {{"op", "retry"},           {"namespace", a.namespace_},
              {"name", name},            {"restartSuccessful", a.restart_successful},
              {"nodeFieldSelector", a.node_field_selector}, {"parameters", a.parameters}};
  auto reply = engine_call(t->home, req);
  if (!reply.ok()) return fmt::print(stderr, "{}\n", reply.error().message), 1;
  auto wf = load_workflow(*t->store, a.namespace_, name);
  if (!wf.ok()) return fmt::print(stderr, "{}\n", wf.error().str()), 1;
  print_submitted(*wf, a.output, a.watch);
  bool quiet = !a.output.empty() && a.output != "wide";
  return follow_after_submit(t->home, a.namespace_, {name}, a.watch, a.wait, a.log, quiet);
}

CommandRegistrar reg_retry("retry", [](CLI::App& root) {
  auto a = std::make_shared<RetryArgs>();
  auto* cmd = root.add_subcommand("retry", "retry a Failed or Error workflow from where it failed");
  cmd->add_option("workflow", a->name, "workflow name, uid or @latest")->required();
  cmd->add_option("-n,--namespace", a->namespace_, "namespace");
  cmd->add_option("-p,--parameter", a->parameters, "input parameter to override: NAME=VALUE")->allow_extra_args(false);
  cmd->add_flag("--restart-successful", a->restart_successful,
                "also restart succeeded nodes that match --node-field-selector");
  cmd->add_option("--node-field-selector", a->node_field_selector,
                  "selector of nodes to restart, e.g. displayName=step,phase=Succeeded");
  cmd->add_option("-o,--output", a->output, "output format: name|json|yaml|wide")
      ->check(CLI::IsMember({"", "name", "json", "yaml", "wide"}));
  cmd->add_flag("-w,--wait", a->wait, "wait for the workflow to complete");
  cmd->add_flag("--watch", a->watch, "watch the workflow until it completes");
  cmd->add_flag("--log", a->log, "log the workflow until it completes");
  cmd->callback([a] { set_exit_code(run_retry(*a)); });
});

struct NodeSetArgs {
  std::string name;
  std::string namespace_ = "default";
  std::string selector, phase, message;
  std::vector<std::string> outputs;
};

// argo node set: values for a running workflow's nodes, mostly the supplied outputs of a
// suspend node before `resume`.
int run_node_set(const NodeSetArgs& a) {
  auto t = find_target(a.namespace_, a.name);
  if (!t.ok()) return fmt::print(stderr, "{}\n", t.error().message), 1;
  Json req = {{"op", "node-set"}, {"namespace", a.namespace_}, {"name", t->name},
              {"nodeFieldSelector", a.selector}, {"phase", a.phase}, {"message", a.message},
              {"outputParameters", a.outputs}};
  auto reply = engine_call(t->home, req);
  if (!reply.ok()) return fmt::print(stderr, "{}\n", reply.error().message), 1;
  fmt::print("workflow values set\n");
  return 0;
}

CommandRegistrar reg_node("node", [](CLI::App& root) {
  auto a = std::make_shared<NodeSetArgs>();
  auto* node = root.add_subcommand("node", "change a running workflow's nodes");
  node->require_subcommand(1);
  auto* cmd = node->add_subcommand("set", "set outputs, phase or message of the nodes the selector names");
  cmd->add_option("workflow", a->name, "workflow name, uid or @latest")->required();
  cmd->add_option("-n,--namespace", a->namespace_, "namespace");
  cmd->add_option("--node-field-selector", a->selector, "selector of the nodes, e.g. displayName=approve")->required();
  cmd->add_option("-p,--output-parameter", a->outputs, "output parameter to set: NAME=VALUE")
      ->allow_extra_args(false);
  cmd->add_option("--phase", a->phase, "phase to set: Succeeded, Failed or Error");
  cmd->add_option("-m,--message", a->message, "message to set");
  cmd->callback([a] { set_exit_code(run_node_set(*a)); });
});

}  // namespace
}  // namespace tether::cli
