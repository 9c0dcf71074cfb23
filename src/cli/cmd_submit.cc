// `tether submit FILE...`: argo's submit. Options are applied to the Workflow the way the
// argo CLI applies them (parameters into spec.arguments, entrypoint, names, labels) and the
// result goes to the engine, which creates the run and returns at once.
#include <fmt/core.h>
#include <unistd.h>

#include <iostream>
#include <iterator>

#include "cli/command.h"
#include "cli/render.h"
#include "cli/runs.h"
#include "cli/workflow_input.h"

namespace tether::cli {
namespace {

struct SubmitArgs {
  std::vector<std::string> files;
  SubmitOptions opts;
  std::string output;
  std::string namespace_ = "default";
  bool watch = false, wait = false, log = false, dry_run = false, server_dry_run = false;
  std::string from;
};

// request: fields the engine's submit request carries besides the workflow.
int submit_all(const Home& home, const SubmitArgs& a, std::vector<Json> workflows, const Json& request = Json::object());

int run_submit(const SubmitArgs& a) {
  auto home = open_home();
  if (!home.ok()) return fmt::print(stderr, "{}\n", home.error().str()), 1;

  std::vector<Json> workflows;
  if (!a.from.empty()) {
    auto wf = workflow_from_template(*home, a.namespace_, a.from);
    if (!wf.ok()) return fmt::print(stderr, "{}\n", wf.error().str()), 1;
    workflows.push_back(std::move(*wf));
  } else {
    if (a.files.empty()) return fmt::print(stderr, "Error: at least one workflow file or --from is required\n"), 1;
    auto loaded = load_workflow_files(*home, a.files, a.opts);
    if (!loaded.ok()) return fmt::print(stderr, "{}\n", loaded.error().str()), 1;
    workflows = std::move(*loaded);
  }
  return submit_all(*home, a, std::move(workflows));
}

// Hands each workflow to the engine and prints it as argo does; then --wait/--watch/--log.
int submit_all(const Home& home, const SubmitArgs& a, std::vector<Json> workflows, const Json& request) {
  std::vector<std::string> names;
  for (auto& wf : workflows) {
    auto prepared = apply_submit_options(wf, a.opts, a.namespace_);
    if (!prepared.ok()) return fmt::print(stderr, "{}\n", prepared.error().str()), 1;
    if (a.dry_run) {
      fmt::print("{}\n", a.output == "json" ? wf.dump(2) : to_yaml(wf));
      continue;
    }
    Json req = request;
    req["op"] = "submit";
    req["workflow"] = std::move(wf);  // not needed after: a large DAG is costly to copy
    auto reply = engine_call(home, req);
    if (!reply.ok()) return fmt::print(stderr, "Failed to submit workflow: {}\n", reply.error().message), 1;
    std::string name = (*reply)["name"].get<std::string>();
    names.push_back(name);
    if (a.output == "name") {
      // All it prints: the stored run, read whole, would cost a large DAG's submit dearly.
      fmt::print("{}\n", name);
      continue;
    }
    auto store = open_reader(home);
    if (!store.ok()) return fmt::print(stderr, "{}\n", store.error().str()), 1;
    auto created = load_workflow(**store, a.namespace_, name);
    if (!created.ok()) return fmt::print(stderr, "{}\n", created.error().str()), 1;
    print_submitted(*created, a.output, a.watch);
  }
  if (a.dry_run) return 0;
  bool quiet = !a.output.empty() && a.output != "wide";
  return follow_after_submit(home, a.namespace_, names, a.watch, a.wait, a.log, quiet);
}

// argo resubmit: the stored Workflow again, as a new run named from the old one.
int run_resubmit(const std::string& name, SubmitArgs a, bool memoized) {
  auto home = open_home();
  if (!home.ok()) return fmt::print(stderr, "{}\n", home.error().str()), 1;
  auto store = open_reader(*home);
  if (!store.ok()) return fmt::print(stderr, "{}\n", store.error().str()), 1;
  auto old = load_workflow(**store, a.namespace_, name);
  if (!old.ok()) return fmt::print(stderr, "{}\n", old.error().str()), 1;
  std::string phase = run_phase(*old);
  if (memoized && phase != "Failed" && phase != "Error")
    return fmt::print(stderr, "workflow must be Failed/Error to resubmit in memoized mode\n"), 1;
  const Json& meta = (*old)["metadata"];
  std::string old_name = meta.value("name", name);
  Json wf = {{"apiVersion", "argoproj.io/v1alpha1"}, {"kind", "Workflow"}};
  wf["metadata"] = {{"generateName", old_name + "-"}, {"namespace", a.namespace_}};
  Json labels = meta.contains("labels") && meta["labels"].is_object() ? meta["labels"] : Json::object();
  labels["workflows.argoproj.io/resubmitted-from-workflow"] = old_name;
  wf["metadata"]["labels"] = labels;
  wf["spec"] = (*old)["spec"];
  for (const char* control : {"shutdown", "suspend"}) wf["spec"].erase(control);
  // A terminated run's zero deadline would end the new one at once (Argo unsets it too).
  if (wf["spec"].value("activeDeadlineSeconds", Json()) == Json(0)) wf["spec"].erase("activeDeadlineSeconds");
  Json request = Json::object();
  if (memoized) request["memoizedFrom"] = {{"namespace", a.namespace_}, {"name", old_name}};
  return submit_all(*home, a, {std::move(wf)}, request);
}

CommandRegistrar reg("submit", [](CLI::App& root) {
  auto a = std::make_shared<SubmitArgs>();
  auto* cmd = root.add_subcommand("submit", "submit a workflow");
  cmd->add_option("files", a->files, "workflow files (- for stdin)");
  add_submit_option_flags(cmd, a->opts);
  cmd->add_option("-o,--output", a->output, "output format: name|json|yaml|wide")
      ->check(CLI::IsMember({"", "name", "json", "yaml", "wide"}));
  cmd->add_option("-n,--namespace", a->namespace_, "namespace");
  cmd->add_flag("-w,--wait", a->wait, "wait for the workflow to complete");
  cmd->add_flag("--watch", a->watch, "watch the workflow until it completes");
  cmd->add_flag("--log", a->log, "log the workflow until it completes");
  cmd->add_flag("--dry-run", a->dry_run, "print the workflow that would be submitted, without submitting");
  cmd->add_flag("--server-dry-run", a->server_dry_run, "accepted for argo compatibility; same as --dry-run")
      ->excludes("--dry-run");
  cmd->add_option("--from", a->from, "submit from an existing resource: workflowtemplate/NAME, clusterworkflowtemplate/NAME, cronwf/NAME");
  cmd->callback([a] {
    if (a->server_dry_run) a->dry_run = true;
    set_exit_code(run_submit(*a));
  });
});

CommandRegistrar reg_resubmit("resubmit", [](CLI::App& root) {
  auto a = std::make_shared<SubmitArgs>();
  auto name = std::make_shared<std::string>();
  auto memoized = std::make_shared<bool>(false);
  auto* cmd = root.add_subcommand("resubmit", "resubmit a workflow as a new run");
  cmd->add_option("workflow", *name, "workflow name, uid or @latest")->required();
  cmd->add_option("-p,--parameter", a->opts.parameters, "input parameter to override: NAME=VALUE")
      ->allow_extra_args(false);
  cmd->add_option("-o,--output", a->output, "output format: name|json|yaml|wide")
      ->check(CLI::IsMember({"", "name", "json", "yaml", "wide"}));
  cmd->add_option("-n,--namespace", a->namespace_, "namespace");
  cmd->add_flag("--memoized", *memoized,
                "start from the succeeded steps of a Failed or Error run: they keep their outputs and are not run again");
  cmd->add_flag("-w,--wait", a->wait, "wait for the workflow to complete");
  cmd->add_flag("--watch", a->watch, "watch the workflow until it completes");
  cmd->add_flag("--log", a->log, "log the workflow until it completes");
  cmd->callback([a, name, memoized] { set_exit_code(run_resubmit(*name, *a, *memoized)); });
});

}  // namespace
}  // namespace tether::cli
