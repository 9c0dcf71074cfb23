// The engine: one thread that owns every active run, plans it, starts its leaves through
// the Runner, records every change in the Store and reacts to steps ending, commands and
// timers. Read run() first: it is the whole loop.
//
// Crash safety (DESIGN.md): a leaf's intent to start (node Pending with tether.intent, its
// directory and the invocation) is committed before Runner::start(); the runner's handle is
// committed on the next turn. recover() rebuilds every unfinished run from the store and
// attach()es every leaf whose intent was committed, so no recorded step is started twice.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "base/clock.h"
#include "base/fd.h"
#include "base/json.h"
#include "base/result.h"
#include "engine/artifact_repo.h"
#include "engine/locks.h"
#include "engine/runner.h"
#include "engine/state.h"
#include "engine/store.h"
#include "plan/planner.h"

namespace tether::engine {

struct EngineOptions {
  std::string home;  // $TETHER_HOME: runs/<uid>/nodes/<node id>/ live here
  // Return from run() after this long without an active run (the background engine);
  // unset: run until request_shutdown() (`tether server`).
  std::optional<std::chrono::milliseconds> idle_exit;
  int max_parallel_steps = 0;  // 0: no engine-wide limit (spec.parallelism still applies)
  // The tether binary: http and data steps run it (`tether __http-step SPEC`).
  std::string self_exe;
  // Called on the engine thread once a finished run's end is committed (the cron
  // controller follows its runs with it).
  std::function<void(const RunRecord&)> on_run_finished;
};

// Commands, posted from any thread; each reply runs on the engine thread once the
// command's effect is committed.
struct RunRef {
  std::string namespace_ = "default";
  std::string name;  // name or uid
};
struct Submit {
  Json workflow;  // a Workflow object: metadata.name or generateName, labels; spec with arguments merged
  std::string entrypoint_override;
  std::function<void(Result<RunRecord>)> reply;
  // Argo's `resubmit --memoized`: the new run starts with the succeeded nodes of this
  // Failed or Error run (renamed to the new run), so they are not run again.
  std::optional<RunRef> memoized_from;
};
struct Stop {  // Argo's stop: running steps are stopped, exit handlers run
  RunRef run;
  std::string message;
  std::function<void(Status)> reply;
};
struct Terminate {  // Argo's terminate: no exit handlers
  RunRef run;
  std::function<void(Status)> reply;
};
struct Delete {
  RunRef run;
  std::function<void(Status)> reply;
};
struct Suspend {
  RunRef run;
  std::function<void(Status)> reply;
};
struct Resume {  // ends suspend nodes (a suspend template without duration waits for this)
  RunRef run;
  std::function<void(Status)> reply;
};
// Argo's retry of a Failed or Error run: failed steps run again, succeeded ones keep their
// results unless restart_successful names them with node_field_selector.
struct Retry {
  RunRef run;
  bool restart_successful = false;
  std::string node_field_selector;  // k=v[,k2=v2]: displayName, name, templateName, phase, id, type
  std::vector<std::pair<std::string, std::string>> parameters;  // replace spec.arguments values
  std::function<void(Status)> reply;
};
// Argo's `node set`: outputs (of suspend nodes), phase or message of the running run's
// nodes that the selector names.
struct NodeSet {
  RunRef run;
  std::string node_field_selector;
  std::vector<std::pair<std::string, std::string>> output_parameters;
  std::string phase;
  std::string message;
  std::function<void(Status)> reply;
};
using Command = std::variant<Submit, Stop, Terminate, Delete, Suspend, Resume, Retry, NodeSet>;

class Engine {
 public:
  Engine(Store& store, Runner& runner, ArtifactRepo& repo, const Clock& clock, EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Adopts every unfinished run in the store (call once, before run()).
  Status recover();

  // Thread-safe: queues a command and wakes the loop.
  void post(Command command);
  // Thread-safe: run() returns after the current turn.
  void request_shutdown();

  // The loop. Returns ok after request_shutdown() or the idle timeout; an error only when
  // the store refuses a commit (the engine cannot go on without recording).
  Status run();
  // One turn: commands, planning, one commit, starts, a wait of at most max_wait, exits.
  Status run_once(std::chrono::milliseconds max_wait);

  bool has_active_runs() const { return !runs_.empty(); }

 private:
  struct ActiveRun {
    RunRecord record;
    plan::RunState state;
    std::unique_ptr<plan::Planner> planner;
    std::set<std::string> running;  // leaves handed to the runner
    std::string last_phase;         // phase last committed, for events
    std::set<std::string> evented;  // leaves whose end has an event
    // Resolved environment of leaves whose intent is committed but which have not started:
    // kept out of the store because values may come from Secrets.
    std::map<std::string, std::vector<std::pair<std::string, std::string>>> start_env;
    bool finished = false;
    bool suspended = false;  // spec.suspend: nothing new starts
    // The document the planner holds is not stored yet (a new run): the next commit writes
    // it from there rather than from a copy in `record`.
    bool workflow_unstored = false;
    std::set<std::string> stopping;  // daemons this engine has signalled since their scope ended
  };
  struct PendingStart {
    std::string run_uid;
    std::string node_id;
  };
  struct Reply {
    std::function<void()> fn;
  };

  // One turn's steps (engine.cc).
  void apply_commands();
  void plan_runs();
  Status commit_turn();
  void start_leaves();
  void find_daemons_to_stop(ActiveRun& run);
  void stop_daemons();
  void wait_for_events(std::chrono::milliseconds max_wait);
  void collect_exits();

  // Commands (commands.cc).
  void apply(Submit& c);
  void apply(Stop& c);
  void apply(Terminate& c);
  void apply(Delete& c);
  void apply(Suspend& c);
  void apply(Resume& c);
  void apply(Retry& c);
  void apply(NodeSet& c);
  ActiveRun* find_active(const RunRef& ref);
  Status shutdown_active(const RunRef& ref, const std::string& strategy);
  void reply_later(std::function<void(Status)> fn, Status status);
  void shutdown_run(ActiveRun& run, const std::string& strategy);
  void set_suspended(ActiveRun& run, bool suspended);
  void store_control_fields(ActiveRun& run);

  // Leaves (leaf.cc).
  Result<StepInvocation> build_invocation(ActiveRun& run, plan::NodeStatus& node);
  Status stage_inputs(ActiveRun& run, const plan::NodeStatus& node, StepInvocation& inv);
  plan::LeafResult read_exit(ActiveRun& run, const plan::NodeStatus& node, const StepExit& exit);
  void mark_intent(ActiveRun& run, plan::NodeStatus& node, const StepInvocation& inv);
  // http and data templates (agent_leaf.cc): the step runs the tether binary on a spec.
  Status make_agent_step(ActiveRun& run, const plan::NodeStatus& node, StepInvocation& inv);

  // Memoization (memo.cc): a cache hit decides the leaf without running it (true);
  // remember() stores the outputs of a memoized leaf that succeeded.
  Result<bool> use_memoized(ActiveRun& run, plan::NodeStatus& node);
  // Synchronization (locks.h): admit() takes the workflow's locks before it starts;
  // lock_leaf() a step's before it starts; "" once held, else why it waits.
  bool admit(ActiveRun& run);
  Result<std::string> lock_leaf(ActiveRun& run, plan::NodeStatus& node);
  void unlock_leaf(ActiveRun& run, const std::string& node_id);
  void remember(ActiveRun& run, const plan::NodeStatus& node);

  plan::TemplateSource template_source(const std::string& namespace_);
  std::unique_ptr<ActiveRun> make_active(RunRecord record, plan::RunState state);
  std::optional<WallTime> next_timer() const;

  Store& store_;
  Runner& runner_;
  ArtifactRepo& repo_;
  const Clock& clock_;
  EngineOptions options_;

  std::map<std::string, std::unique_ptr<ActiveRun>> runs_;  // by uid
  std::vector<PendingStart> to_start_;
  std::vector<PendingStart> to_stop_;  // daemons whose stop is recorded, to signal after the commit
  std::vector<Reply> replies_;          // run after this turn's commit
  Batch batch_;                         // what this turn changed besides nodes and runs
  std::map<std::string, std::optional<WallTime>> timers_;  // run uid -> planner wake time
  std::optional<WallTime> idle_since_;
  // A leaf of this turn could not start, or a lock was given back: plan again at once.
  bool plan_again_ = false;
  Locks locks_;

  std::mutex mu_;  // guards inbox_ and shutdown_
  std::vector<Command> inbox_;
  bool shutdown_ = false;
  UniqueFd wake_fd_;
};

// The invocation of a leaf as stored with its node (tether.invocation), so that a
// restarted engine can attach() to it.
Json invocation_to_json(const StepInvocation& s);
StepInvocation invocation_from_json(const Json& j);

// A ConfigMap key (secret false) or Secret key from the store, for env, volumes and
// parameters; ref is {name, key, optional}; an empty key gives all keys as a JSON object.
// nullopt: absent and optional.
Result<std::optional<std::string>> lookup_config_key(Store& store, const std::string& namespace_, bool secret,
                                                     const Json& ref);

// The directory of a run and of one of its nodes under $TETHER_HOME.
std::string run_dir(const std::string& home, const std::string& run_uid);
std::string node_dir(const std::string& home, const std::string& run_uid, const std::string& node_id);

}  // namespace tether::engine
