// What the reading verbs share: a read-only store, finding a run by name/uid/@latest, the
// run as Argo's Workflow object, and following a run until it completes.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/json.h"
#include "base/result.h"
#include "cli/home.h"
#include "engine/store.h"

namespace tether::cli {

Result<std::unique_ptr<engine::Store>> open_reader(const Home& home);

// The run as Argo's Workflow JSON (metadata, spec, status with nodes).
Result<Json> load_workflow(engine::Store& store, const std::string& namespace_, const std::string& name);

bool workflow_completed(const Json& wf);  // phase Succeeded, Failed or Error

// Waits until the run completes, then returns its phase.
Result<std::string> await_completion(engine::Store& store, const std::string& namespace_, const std::string& name);

// Calls on_change with the workflow each time it changes, until it completes (returns it).
// The CLI reads the store; the engine pushes nothing, so this polls at a gentle interval.
Result<Json> follow_workflow(engine::Store& store, const std::string& namespace_, const std::string& name,
                             const std::function<void(const Json&)>& on_change);

std::string run_phase(const Json& wf);
std::string run_message(const Json& wf);

}  // namespace tether::cli
