// Runs the stored CronWorkflows: Argo's cron controller for one engine. It owns a thread
// that sleeps until the next scheduled time (or a change) and hands the engine what to do
// as commands (Submit, Terminate, Delete); the engine tells it when a run finishes. The
// decisions are cron_schedule.h's; this file keeps the in-memory schedule and the stored
// status (a kCronStatusKind object beside each CronWorkflow) in step.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "engine/cron_schedule.h"
#include "engine/engine.h"
#include "engine/store.h"

namespace tether::engine {

class CronController {
 public:
  // store must be safe to use from this controller's thread alongside the engine's
  // (its own connection); post hands a command to the engine (Engine::post).
  CronController(Store& store, const Clock& clock, std::function<void(Command)> post);

  // The loop of the controller's thread: returns after stop().
  void run();
  void stop();

  // Thread-safe: a CronWorkflow was stored (created, applied, suspended ...) or deleted.
  void changed(const std::string& namespace_, const std::string& name);
  // Thread-safe: a run finished (the engine's on_run_finished).
  void run_finished(const RunRecord& run);

  // One pass: loads what changed, follows finished runs, fires what is due now. Returns
  // when to come back (unix seconds of the controller's clock), if ever. run() calls it;
  // tests call it with a fake clock.
  std::optional<int64_t> tick();

 private:
  struct Entry {
    CronConfig config;
    CronStatus status;
    std::optional<int64_t> next;
  };
  using Key = std::pair<std::string, std::string>;  // namespace, name

  int64_t now_seconds() const;
  void load(const Key& key, int64_t now, std::vector<Command>& out);
  void follow_runs(Entry& e, std::vector<Command>& out);
  void fire(Entry& e, int64_t scheduled, std::vector<Command>& out);
  void submitted(const Key& key, int64_t scheduled, const Result<RunRecord>& r);
  void save(const Entry& e);

  Store& store_;
  const Clock& clock_;
  std::function<void(Command)> post_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool load_all_ = true;
  std::set<Key> changed_;
  std::set<std::string> finished_uids_;  // runs that finished since the last tick
  std::map<Key, Entry> entries_;
};

}  // namespace tether::engine
