// Turning files and flags into the Workflow JSON the engine runs, as the argo CLI does
// before it calls the server: parameters into spec.arguments, entrypoint, names, labels.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/result.h"
#include "cli/home.h"
#include "spec/validate.h"

namespace tether::cli {

struct SubmitOptions {
  std::vector<std::string> parameters;  // -p name=value, one per flag
  std::string parameter_file;
  std::string entrypoint;
  std::string name;
  std::string generate_name;
  std::vector<std::string> labels;      // -l k=v,k2=v2
  std::string service_account;
  std::optional<int> priority;
};

void add_submit_option_flags(CLI::App* cmd, SubmitOptions& opts);

// Finds WorkflowTemplates and ClusterWorkflowTemplates applied to this home's store.
spec::ValidateContext::Lookup stored_template_lookup(const Home& home);

// Loads every Workflow document of the files (- is stdin), validated as `lint` would once
// the parameters of opts are in spec.arguments.
Result<std::vector<Json>> load_workflow_files(const Home& home, const std::vector<std::string>& files,
                                              const SubmitOptions& opts);

// A Workflow that runs a stored WorkflowTemplate / ClusterWorkflowTemplate / CronWorkflow
// ("workflowtemplate/NAME", "clusterworkflowtemplate/NAME", "cronwf/NAME").
Result<Json> workflow_from_template(const Home& home, const std::string& namespace_, const std::string& from);

// -p and --parameter-file values in order (a later one wins), checked.
Result<std::vector<std::pair<std::string, std::string>>> submit_parameters(const SubmitOptions& opts);

Status apply_submit_options(Json& wf, const SubmitOptions& opts, const std::string& namespace_);

// Prints a run just submitted (or retried) as argo does for -o name|json|yaml|wide, or the
// `get` tree; nothing for --watch, which draws it itself.
void print_submitted(const Json& wf, const std::string& output, bool watch);

// After submit: --log streams logs, --wait prints "NAME PHASE at TIME", --watch redraws
// `get`. Returns the process exit code (1 when --wait saw a run that did not succeed).
int follow_after_submit(const Home& home, const std::string& namespace_, const std::vector<std::string>& names,
                        bool watch, bool wait, bool log, bool quiet);

// Waits for each run; prints "NAME PHASE at TIME" unless quiet. 1 unless all Succeeded.
int wait_for_runs(const Home& home, const std::string& namespace_, const std::vector<std::string>& names, bool quiet);

std::string to_yaml(const Json& j);

}  // namespace tether::cli
