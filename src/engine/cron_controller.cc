#include "engine/cron_controller.h"

#include <algorithm>
#include <chrono>

#include "base/log.h"

namespace tether::engine {

CronController::CronController(Store& store, const Clock& clock, std::function<void(Command)> post)
    : store_(store), clock_(clock), post_(std::move(post)) {}

int64_t CronController::now_seconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
}

void CronController::changed(const std::string& namespace_, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  changed_.insert({namespace_.empty() ? std::string("default") : namespace_, name});
  cv_.notify_all();
}

void CronController::run_finished(const RunRecord& run) {
  std::lock_guard<std::mutex> lock(mu_);
  finished_uids_.insert(run.uid);
  cv_.notify_all();
}

void CronController::stop() {
  std::lock_guard<std::mutex> lock(mu_);
  stopping_ = true;
  cv_.notify_all();
}

// Sleeps until the next scheduled time or an event: no polling.
void CronController::run() {
  for (;;) {
    std::optional<int64_t> next = tick();
    std::unique_lock<std::mutex> lock(mu_);
    auto woken = [this] { return stopping_ || load_all_ || !changed_.empty() || !finished_uids_.empty(); };
    if (!next) {
      cv_.wait(lock, woken);
    } else {
      auto wait = std::chrono::seconds(*next) - clock_.now().time_since_epoch() + std::chrono::milliseconds(1);
      if (wait > std::chrono::microseconds(0)) cv_.wait_for(lock, wait, woken);
    }
    if (stopping_) return;
  }
}

std::optional<int64_t> CronController::tick() {
  std::vector<Command> out;
  std::optional<int64_t> wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    int64_t now = now_seconds();
    if (load_all_) {
      load_all_ = false;
      auto all = store_.list_objects("CronWorkflow", "");
      if (!all.ok()) log::error("cron: cannot list CronWorkflows: {}", all.error().str());
      else
        for (const auto& o : *all) changed_.insert({o.namespace_.empty() ? "default" : o.namespace_, o.name});
    }
    std::set<Key> changed;
    changed.swap(changed_);
    for (const auto& key : changed) load(key, now, out);

    std::set<std::string> finished;
    finished.swap(finished_uids_);
    // Without a CronWorkflow no run can be one's: reading each back (its whole workflow)
    // would be for nothing.
    if (entries_.empty()) finished.clear();
    for (const auto& uid : finished) {
      // A run names its cron only in its stored labels.
      auto run = store_.find_run("", uid);
      if (!run.ok() || !*run) continue;
      const Json& labels = json_at(json_at((*run)->workflow, "metadata"), "labels");
      auto it = entries_.find({(*run)->namespace_, json_str(labels, kCronLabel)});
      if (it != entries_.end()) follow_runs(it->second, out);
    }

    for (auto& [key, e] : entries_) {
      if (e.next && *e.next <= now) {
        int64_t scheduled = *e.next;
        e.next = next_run(e.config, now);
        fire(e, scheduled, out);
      }
      if (e.next && (!wake || *e.next < *wake)) wake = e.next;
    }
  }
  // Outside the lock: a command's reply may come back on this thread (tests) or the
  // engine's, and takes the lock itself.
  for (auto& c : out) post_(std::move(c));
  return wake;
}

// A CronWorkflow appeared, changed or went away: Argo's processNextCronItem. A missed run
// still within startingDeadlineSeconds runs now; then the schedule starts from now.
void CronController::load(const Key& key, int64_t now, std::vector<Command>& out) {
  auto obj = store_.get_object("CronWorkflow", key.first, key.second);
  if (!obj.ok()) {
    log::error("cron {}/{}: {}", key.first, key.second, obj.error().str());
    return;
  }
  if (!*obj) {
    entries_.erase(key);
    (void)store_.delete_object(kCronStatusKind, key.first, key.second);
    return;
  }
  auto config = cron_config((*obj)->object);
  if (!config.ok()) {
    log::error("cron {}/{}: {}", key.first, key.second, config.error().message);
    entries_.erase(key);
    return;
  }
  Entry e;
  e.config = std::move(*config);
  auto stored = store_.get_object(kCronStatusKind, key.first, key.second);
  if (stored.ok() && *stored) e.status = cron_status_from_json((*stored)->object);
  auto [it, inserted] = entries_.insert_or_assign(key, std::move(e));
  Entry& entry = it->second;
  follow_runs(entry, out);
  if (auto missed = missed_run(entry.config, entry.status, now)) {
    log::info("cron {}: missed an execution at {} and is within startingDeadlineSeconds", key.second,
              format_rfc3339(WallTime(std::chrono::seconds(*missed))));
    fire(entry, *missed, out);
  }
  entry.next = next_run(entry.config, now);
  log::info("cron {}: scheduled, next run {}", key.second,
            entry.next ? format_rfc3339(WallTime(std::chrono::seconds(*entry.next))) : std::string("never"));
}

// Argo's reconcileActiveWfs and enforceHistoryLimit, from the runs that carry the label.
void CronController::follow_runs(Entry& e, std::vector<Command>& out) {
  RunFilter filter;
  filter.namespace_ = e.config.namespace_;
  filter.label_selector = std::string(kCronLabel) + "=" + e.config.name;
  auto runs = store_.list_runs(filter);
  if (!runs.ok()) {
    log::error("cron {}: {}", e.config.name, runs.error().str());
    return;
  }
  if (reconcile_active(e.status, *runs)) {
    auto stop = decide(e.config, e.status, clock_);
    if (stop.ok() && stop->stopped) e.status.phase = "Stopped";
    save(e);
  }
  for (const auto& name : runs_over_history_limit(e.config, *runs)) {
    log::info("cron {}: deleting {} (history limit)", e.config.name, name);
    out.push_back(Delete{RunRef{e.config.namespace_, name}, [](Status) {}});
  }
}

void CronController::fire(Entry& e, int64_t scheduled, std::vector<Command>& out) {
  const std::string& name = e.config.name;
  log::info("cron {}: running the {} schedule", name, format_rfc3339(WallTime(std::chrono::seconds(scheduled))));
  // Before a policy reads the active list, bring it up to date with the store: a run may
  // have been deleted or finished without this controller hearing of it.
  follow_runs(e, out);
  e.status.last_used_schedule = e.config.schedule_string;
  auto verdict = decide(e.config, e.status, clock_);
  if (!verdict.ok()) {
    log::error("cron {}: run policy error: {}", name, verdict.error().message);
    e.status.submission_error = "run policy error: " + verdict.error().message;
    ++e.status.failed;
    return save(e);
  }
  if (verdict->stopped) e.status.phase = "Stopped";
  if (verdict->kind == Verdict::Kind::kSkip) {
    log::info("cron {}: {}", name, verdict->reason);
    return save(e);
  }
  for (const auto& run : verdict->terminate) {
    log::info("cron {}: 'ConcurrencyPolicy: Replace' and has active Workflows: terminating {}", name, run);
    out.push_back(Terminate{RunRef{e.config.namespace_, run}, [](Status) {}});
  }
  save(e);
  Submit submit;
  submit.workflow = child_workflow(e.config, scheduled);
  Key key{e.config.namespace_, name};
  submit.reply = [this, key, scheduled](Result<RunRecord> r) { submitted(key, scheduled, r); };
  out.push_back(std::move(submit));
}

// The run of a scheduled time is recorded once the engine has committed it. A name that
// exists already is that same scheduled time submitted before (Argo ignores it too).
void CronController::submitted(const Key& key, int64_t scheduled, const Result<RunRecord>& r) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  CronStatus& s = it->second.status;
  if (r.ok() || r.error().code == ErrorCode::kConflict) {
    if (r.ok()) s.active.push_back({r->name, r->uid});
    s.phase = s.phase.empty() ? "Active" : s.phase;
    s.last_scheduled = std::max(s.last_scheduled.value_or(scheduled), scheduled);
    s.submission_error.clear();
  } else {
    log::error("cron {}: Failed to submit Workflow: {}", key.second, r.error().message);
    s.submission_error = "Failed to submit Workflow: " + r.error().message;
    ++s.failed;
  }
  save(it->second);
}

void CronController::save(const Entry& e) {
  ObjectRecord o;
  o.kind = kCronStatusKind;
  o.namespace_ = e.config.namespace_;
  o.name = e.config.name;
  o.object = cron_status_to_json(e.status);
  o.updated_at = format_rfc3339(clock_.now());
  if (auto st = store_.put_object(o); !st.ok()) log::error("cron {}: cannot store status: {}", e.config.name, st.error().str());
}

}  // namespace tether::engine
