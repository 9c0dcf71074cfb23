#include "cli/runs.h"

#include <chrono>
#include <thread>

#include "engine/view.h"
#include "store/sqlite_store.h"

namespace tether::cli {

Result<std::unique_ptr<engine::Store>> open_reader(const Home& home) {
  store::StoreOptions opts;
  opts.secret_key_path = home.secret_key();
  auto s = TRY(store::SqliteStore::open(home.db(), store::SqliteStore::Mode::kReader, opts));
  return std::unique_ptr<engine::Store>(std::move(s));
}

Result<Json> load_workflow(engine::Store& store, const std::string& namespace_, const std::string& name) {
  auto run = TRY(store.find_run(namespace_, name));
  if (!run) return not_found("workflows.argoproj.io \"" + name + "\" not found");
  auto nodes = TRY(store.nodes(run->uid));
  return engine::workflow_object(*run, nodes);
}

std::string run_phase(const Json& wf) {
  if (!wf.contains("status")) return "";
  return wf["status"].value("phase", std::string());
}

std::string run_message(const Json& wf) {
  if (!wf.contains("status")) return "";
  return wf["status"].value("message", std::string());
}

bool workflow_completed(const Json& wf) {
  std::string p = run_phase(wf);
  return p == "Succeeded" || p == "Failed" || p == "Error";
}

Result<std::string> await_completion(engine::Store& store, const std::string& namespace_, const std::string& name) {
  // Only the run's phase until it completes: a run of a thousand steps would otherwise be
  // read and parsed whole at every look, taking CPU from the engine that runs it.
  for (;;) {
    auto phase = TRY(store.run_phase(namespace_, name));
    if (!phase) return not_found("workflows.argoproj.io \"" + name + "\" not found");
    const std::string& p = *phase;
    if (p == "Succeeded" || p == "Failed" || p == "Error") return p;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

Result<Json> follow_workflow(engine::Store& store, const std::string& namespace_, const std::string& name,
                             const std::function<void(const Json&)>& on_change) {
  Json last;
  auto interval = std::chrono::milliseconds(50);
  while (true) {
    Json wf = TRY(load_workflow(store, namespace_, name));
    if (wf != last) {
      on_change(wf);
      last = wf;
    }
    if (workflow_completed(wf)) return wf;
    std::this_thread::sleep_for(interval);
    if (interval < std::chrono::milliseconds(250)) interval += std::chrono::milliseconds(25);
  }
}

}  // namespace tether::cli
