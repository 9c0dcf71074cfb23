// The engine loop and its turn: commands, planning, one commit, starts, one wait, exits.
#include "engine/engine.h"

#include <poll.h>
#include <sys/eventfd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>

#include "base/crash_point.h"
#include "base/log.h"

namespace tether::engine {

std::string run_dir(const std::string& home, const std::string& run_uid) { return home + "/runs/" + run_uid; }

std::string node_dir(const std::string& home, const std::string& run_uid, const std::string& node_id) {
  return run_dir(home, run_uid) + "/nodes/" + node_id;
}

Engine::Engine(Store& store, Runner& runner, ArtifactRepo& repo, const Clock& clock, EngineOptions options)
    : store_(store), runner_(runner), repo_(repo), clock_(clock), options_(std::move(options)) {
  wake_fd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
}

Engine::~Engine() = default;

void Engine::post(Command command) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    inbox_.push_back(std::move(command));
  }
  uint64_t one = 1;
  if (wake_fd_.valid()) (void)!::write(wake_fd_.get(), &one, sizeof one);
}

void Engine::request_shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
  }
  uint64_t one = 1;
  if (wake_fd_.valid()) (void)!::write(wake_fd_.get(), &one, sizeof one);
}

// The loop. Each turn ends in one wait for whatever comes first: a step ending (the
// runner's fds), a command (the wake fd), or the nearest timer.
Status Engine::run() {
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (shutdown_) break;
    }
    TRY_STATUS(run_once(std::chrono::hours(1)));
    if (options_.idle_exit && runs_.empty() && to_start_.empty()) {
      if (!idle_since_) idle_since_ = clock_.now();
      std::lock_guard<std::mutex> lock(mu_);
      if (inbox_.empty() && clock_.now() - *idle_since_ >= *options_.idle_exit) break;
    } else {
      idle_since_.reset();
    }
  }
  // Exits collected after the last commit are recorded; nothing new is planned, so no
  // intent is left behind for a step that will not be started.
  return commit_turn();
}

Status Engine::run_once(std::chrono::milliseconds max_wait) {
  apply_commands();
  plan_runs();
  TRY_STATUS(commit_turn());
  if (!to_start_.empty()) crash_point("after-intent");
  stop_daemons();
  start_leaves();
  wait_for_events(max_wait);
  collect_exits();
  return ok_status();
}

void Engine::apply_commands() {
  std::vector<Command> commands;
  {
    std::lock_guard<std::mutex> lock(mu_);
    commands.swap(inbox_);
  }
  for (auto& c : commands) std::visit([this](auto& cmd) { apply(cmd); }, c);
}

namespace {

int64_t spec_int(const Json& spec, const char* key) {
  auto it = spec.find(key);
  if (it == spec.end()) return 0;
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_string()) return std::strtoll(it->get<std::string>().c_str(), nullptr, 10);
  return 0;
}

size_t running_leaves(const plan::RunState& st) {
  size_t n = 0;
  for (const auto& [id, node] : st.nodes)
    if (node_type::is_leaf(node.type) && node.phase == phase::kRunning) ++n;
  return n;
}

}  // namespace

// Plans every active run and turns its ready leaves into intents, as far as
// spec.parallelism and the engine-wide limit allow.
void Engine::plan_runs() {
  size_t total_running = 0;
  for (auto& [uid, run] : runs_) total_running += run->running.size();
  // Oldest first, so that runs and steps waiting for the same lock get it in that order.
  std::vector<ActiveRun*> order;
  for (auto& [uid, run] : runs_) order.push_back(run.get());
  std::sort(order.begin(), order.end(), [](const ActiveRun* a, const ActiveRun* b) {
    return std::tie(a->record.created_at, a->record.name) < std::tie(b->record.created_at, b->record.name);
  });
  for (ActiveRun* run : order) {
    const std::string& uid = run->record.uid;
    if (run->finished || !admit(*run)) continue;
    // A leaf that could not be started is decided at once, so its run moves on this turn.
    for (int round = 0; round < 8; ++round) {
      auto turn = run->planner->advance(clock_.now());
      if (!turn.ok()) {
        log::error("run {}: {}", run->record.name, turn.error().str());
        run->state.phase = "Error";
        run->state.message = turn.error().message;
        run->state.finished_at = clock_.now();
        run->state.run_changed = true;
        run->finished = true;
        break;
      }
      timers_[uid] = turn->wake_at;
      find_daemons_to_stop(*run);
      if (turn->finished) {
        run->finished = true;
        break;
      }
      int64_t limit = spec_int(run->planner->exec_spec(), "parallelism");
      size_t active = limit > 0 ? running_leaves(run->state) : 0;
      bool decided = false;
      for (const auto& id : turn->ready) {
        if (run->suspended) break;
        if (limit > 0 && active >= static_cast<size_t>(limit)) break;
        if (options_.max_parallel_steps > 0 && total_running >= static_cast<size_t>(options_.max_parallel_steps)) break;
        plan::NodeStatus& node = run->state.nodes.at(id);
        auto memoized = use_memoized(*run, node);
        if (memoized.ok() && *memoized) {
          decided = true;
          continue;
        }
        auto waiting = memoized.ok() ? lock_leaf(*run, node) : Result<std::string>(memoized.take_error());
        if (waiting.ok() && !waiting->empty()) continue;
        auto inv = waiting.ok() ? build_invocation(*run, node) : Result<StepInvocation>(waiting.take_error());
        if (!inv.ok()) {
          unlock_leaf(*run, id);
          plan::LeafResult r;
          r.kind = plan::LeafResult::Kind::kStartFailed;
          r.message = inv.error().message;
          r.started_at = r.finished_at = clock_.now();
          run->planner->finish_leaf(id, r);
          decided = true;
          continue;
        }
        mark_intent(*run, node, *inv);
        to_start_.push_back({uid, id});
        ++active;
        ++total_running;
      }
      if (!decided) break;
    }
  }
}

namespace {

std::string time_or_empty(const std::optional<WallTime>& t) { return t ? format_rfc3339(*t) : std::string(); }

std::string progress_of(const plan::RunState& st) {
  size_t done = 0, total = 0;
  for (const auto& [id, n] : st.nodes) {
    if (!node_type::is_leaf(n.type)) continue;
    ++total;
    if (phase_fulfilled(n.phase)) ++done;
  }
  return std::to_string(done) + "/" + std::to_string(total);
}

const std::map<std::string, std::string>& run_event_reasons() {
  static const std::map<std::string, std::string> m = {
      {"Running", "WorkflowRunning"}, {"Succeeded", "WorkflowSucceeded"},
      {"Failed", "WorkflowFailed"},   {"Error", "WorkflowFailed"},
  };
  return m;
}

}  // namespace

// Everything this turn changed, in one transaction; then the replies of its commands.
Status Engine::commit_turn() {
  Batch batch = std::move(batch_);
  batch_ = Batch();
  std::string now = format_rfc3339(clock_.now());
  for (auto& [uid, run] : runs_) {
    plan::RunState& st = run->state;
    for (const auto& id : st.changed) {
      auto it = st.nodes.find(id);
      if (it == st.nodes.end()) continue;
      const plan::NodeStatus& n = it->second;
      batch.nodes.push_back({uid, id, to_json(n)});
      if (node_type::is_leaf(n.type) && phase_fulfilled(n.phase) && run->evented.insert(id).second) {
        std::string msg = n.phase + " node " + n.name + (n.message.empty() ? "" : ": " + n.message);
        batch.events.push_back({uid, id, now, n.phase == phase::kSucceeded ? "Normal" : "Warning",
                                "WorkflowNode" + n.phase, msg});
      }
    }
    st.changed.clear();
    RunRecord& rec = run->record;
    bool is_new = !rec.workflow.is_null() || run->workflow_unstored;
    if (!is_new && !st.run_changed) continue;
    rec.phase = st.phase.empty() ? std::string("Pending") : st.phase;
    rec.message = st.message;
    rec.started_at = time_or_empty(st.started_at);
    rec.finished_at = time_or_empty(st.finished_at);
    rec.status = Json::object();
    if (!st.outputs.is_null()) rec.status["outputs"] = st.outputs;
    rec.status["progress"] = progress_of(st);
    // Stored once; later updates keep it.
    Json workflow = std::move(rec.workflow);
    rec.workflow = nullptr;
    batch.runs.push_back(rec);
    if (!workflow.is_null()) batch.runs.back().workflow = std::move(workflow);
    else if (run->workflow_unstored) batch.runs.back().workflow_ref = &run->planner->spec().workflow;
    run->workflow_unstored = false;
    st.run_changed = false;
    if (rec.phase != run->last_phase) {
      auto reason = run_event_reasons().find(rec.phase);
      if (reason != run_event_reasons().end())
        batch.events.push_back({uid, "", now, rec.phase == "Failed" || rec.phase == "Error" ? "Warning" : "Normal",
                                reason->second,
                                rec.phase == "Running" ? std::string("Workflow Running")
                                                       : rec.message.empty() ? "Workflow completed" : rec.message});
      run->last_phase = rec.phase;
    }
  }
  if (!batch.empty()) {
    auto st = store_.commit(batch);
    if (!st.ok()) return Error(st.error().code, "store commit: " + st.error().message);
  }
  std::vector<Reply> replies;
  replies.swap(replies_);
  // What a command is told is on disk: a store that syncs in the background has synced it.
  // The turns of running steps do not wait; a crash of this process loses none of them.
  if (!replies.empty())
    if (auto st = store_.flush(); !st.ok()) return Error(st.error().code, "store flush: " + st.error().message);
  for (auto& r : replies) r.fn();
  for (auto it = runs_.begin(); it != runs_.end();) {
    if (it->second->finished && it->second->running.empty()) {
      if (options_.on_run_finished) options_.on_run_finished(it->second->record);
      timers_.erase(it->first);
      if (locks_.holds(it->first)) plan_again_ = true;
      locks_.release(it->first);
      it = runs_.erase(it);
    } else {
      ++it;
    }
  }
  return ok_status();
}

// What is left uncommitted here comes from start_leaves(): steps now Running with their
// handles. Their intent is on disk already, so they need no turn of their own; they go out
// with the next turn, which a short step's end brings soon (one commit, one sync per step,
// instead of two), and at the latest after kStartsCommittedWithin, so that `get` shows them
// Running.
void Engine::wait_for_events(std::chrono::milliseconds max_wait) {
  constexpr std::chrono::milliseconds kStartsCommittedWithin{50};
  bool busy = !to_start_.empty() || plan_again_;
  plan_again_ = false;
  bool uncommitted = false;
  for (auto& [uid, run] : runs_) uncommitted = uncommitted || !run->state.changed.empty() || run->state.run_changed;
  {
    std::lock_guard<std::mutex> lock(mu_);
    busy = busy || !inbox_.empty() || shutdown_;
  }
  auto timeout = busy ? std::chrono::milliseconds(0) : max_wait;
  for (const auto& [uid, w] : timers_)
    if (w && *w > clock_.now()) crash_point("retry-backoff");
  if (uncommitted) timeout = std::min(timeout, kStartsCommittedWithin);
  if (auto t = next_timer()) {
    auto until = std::chrono::duration_cast<std::chrono::milliseconds>(*t - clock_.now());
    timeout = std::max(std::chrono::milliseconds(0), std::min(timeout, until + std::chrono::milliseconds(1)));
  }
  if (options_.idle_exit && runs_.empty()) timeout = std::min(timeout, *options_.idle_exit);
  std::vector<pollfd> fds;
  for (int fd : runner_.wait_fds()) fds.push_back({fd, POLLIN, 0});
  if (wake_fd_.valid()) fds.push_back({wake_fd_.get(), POLLIN, 0});
  timespec ts{static_cast<time_t>(timeout.count() / 1000), static_cast<long>((timeout.count() % 1000) * 1000000)};
  int rc = ::ppoll(fds.data(), fds.size(), &ts, nullptr);
  if (rc < 0 && errno != EINTR) log::warn("ppoll: {}", strerror(errno));
  uint64_t drained;
  if (wake_fd_.valid()) (void)!::read(wake_fd_.get(), &drained, sizeof drained);
}

// Argo's killDaemonedChildren: a daemon whose scope ended is stopped. The stop is recorded
// with the node (committed this turn) before the signal goes out; a restarted engine finds
// the same daemons from the nodes and signals them again.
void Engine::find_daemons_to_stop(ActiveRun& run) {
  if (run.finished && run.running.empty()) return;
  for (const auto& id : run.planner->daemons_to_stop()) {
    if (!run.running.count(id) || !run.stopping.insert(id).second) continue;
    plan::NodeStatus& n = run.state.nodes.at(id);
    if (!json_at(n.engine, "stopDaemon").is_boolean()) {
      n.engine["stopDaemon"] = true;
      run.state.changed.insert(id);
    }
    to_stop_.push_back({run.record.uid, id});
  }
}

// After the commit: SIGTERM now; the runner sends SIGKILL after the step's grace period.
void Engine::stop_daemons() {
  std::vector<PendingStart> stops;
  stops.swap(to_stop_);
  for (const auto& s : stops) runner_.signal(s.node_id, SIGTERM);
}

std::optional<WallTime> Engine::next_timer() const {
  std::optional<WallTime> t = runner_.next_wakeup();
  for (const auto& [uid, w] : timers_)
    if (w && (!t || *w < *t)) t = w;
  return t;
}

// Records the end of every step the runner reports.
void Engine::collect_exits() {
  std::vector<StepExit> exits = runner_.poll();
  if (!exits.empty()) crash_point("after-exit");
  for (const StepExit& exit : exits) {
    for (auto& [uid, run] : runs_) {
      if (!run->running.count(exit.node_id)) continue;
      run->running.erase(exit.node_id);
      auto it = run->state.nodes.find(exit.node_id);
      if (it == run->state.nodes.end()) break;
      if (exit.kind == StepExit::Kind::kNotStarted) {
        // Its intent was committed by an engine that died before the step ran; the runner
        // has made sure that start can never happen now, so this one is the first.
        plan::NodeStatus& n = it->second;
        for (const char* key : {"intent", "handle", "invocation", "nodeDir"}) n.engine.erase(key);
        n.phase = phase::kPending;
        n.started_at.reset();
        run->state.changed.insert(n.id);
        log::info("run {}: step {} never started before the restart; starting it", run->record.name, n.name);
        break;
      }
      if (exit.kind == StepExit::Kind::kDaemoned) {
        run->running.insert(exit.node_id);
        run->planner->daemon_ready(exit.node_id);
        break;
      }
      plan::LeafResult r = read_exit(*run, it->second, exit);
      r.daemon_stopped = json_at(it->second.engine, "stopDaemon").is_boolean();
      const std::string& strategy = run->planner->shutdown_strategy();
      if (!r.daemon_stopped && !strategy.empty() && !(r.kind == plan::LeafResult::Kind::kExited && r.exit_code == 0)) {
        r.kind = plan::LeafResult::Kind::kStopped;
        r.message = "Stopped with strategy '" + strategy + "'";
      }
      run->planner->finish_leaf(exit.node_id, r);
      remember(*run, it->second);
      unlock_leaf(*run, exit.node_id);
      break;
    }
  }
}

}  // namespace tether::engine
