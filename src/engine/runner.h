// The executor contract. An executor (host processes, podman, Kubernetes pods) implements
// Runner; the scheduler owns one. All calls come from the engine thread.
//
// Crash safety rests on this contract:
//  - Before start() the engine has committed the node's intent to start and created
//    node_dir. start() returns only after the step's supervisor exists.
//  - A step outlives the engine: it runs in its own session under a supervisor that
//    records the exit status in node_dir, so a new engine can attach() to it or collect
//    the status of a step that ended while no engine was running.
//  - attach() guarantees that a step it does not adopt will never run later. It reports
//    kNotStarted when the step provably never started (the engine then starts it as if
//    for the first time), and kLost when its start cannot be ruled out but its end is
//    unknown (its supervisor died with it).
#pragma once

#include <optional>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/result.h"

namespace tether::engine {

struct StepMount {
  std::string path;       // absolute path in the step's filesystem view
  std::string host_path;  // what appears there (file or directory on the host)
  bool read_only = false;
};

// Another container of the step's pod: an init container, a sidecar, or one of a
// containerSet's. They all share the step's filesystem view (its mounts) and the host network.
struct StepContainer {
  std::string name;
  std::string image;
  std::vector<std::string> command;  // command + args
  std::vector<std::pair<std::string, std::string>> env;
  std::string working_dir;
  std::vector<std::string> dependencies;  // containerSet: containers that must succeed first
};

// A daemon's readinessProbe, run against 127.0.0.1 (host processes share the host network).
struct StepProbe {
  std::string kind;                  // exec, httpGet or tcpSocket
  std::vector<std::string> command;  // exec
  std::string path = "/";            // httpGet
  int port = 0;                      // httpGet, tcpSocket
  int initial_delay_seconds = 0;
  int period_seconds = 10;
  int timeout_seconds = 1;
};

struct StepInvocation {
  std::string run_uid;
  std::string node_id;
  std::string node_name;  // Argo's node name (wf[0].step), for messages and logs
  std::string pod_name;   // Argo's pod name, for {{pod.name}}, logs and container names
  std::string node_dir;   // host directory owned by this step; exists before start()
  std::string image;      // the host executor ignores it except to pick an interpreter
  std::vector<std::string> command;  // container command + args, fully substituted
  std::vector<std::pair<std::string, std::string>> env;
  std::string working_dir;             // empty: the executor's default
  std::optional<std::string> script;   // script source: written to a file whose path is appended to command
  std::vector<StepMount> mounts;       // input artifacts (already in node_dir), volumes
  std::vector<std::string> output_paths;  // paths (in the step's view) the engine will read after exit
  std::vector<std::string> output_files;  // those of them that must be files (output parameters)
  std::optional<WallTime> deadline;    // the runner sends SIGTERM then SIGKILL after this
  int termination_grace_seconds = 30;
  // A pod of several containers: init containers run in order first, sidecars start before
  // the main container and are killed when it ends. A containerSet's containers replace the
  // main command; the one named "main" gives the step's stdout.
  std::vector<StepContainer> init_containers;
  std::vector<StepContainer> sidecars;
  std::vector<StepContainer> container_set;
  // daemon: true. The runner reports kDaemoned once the main container runs and its probe
  // (if any) passes; the step then runs on until it is signalled.
  bool daemon = false;
  std::optional<StepProbe> readiness;
  // containerSet.retryStrategy: a failed container is started again this many times.
  int container_set_retries = 0;
  int container_set_retry_delay_ms = 0;
  // Not stored: the engine created node_dir for this start, so nothing of an earlier
  // attempt can be in it (no supervisor to wait for, no records to clear).
  bool new_dir = false;
  bool is_pod() const { return !init_containers.empty() || !sidecars.empty() || !container_set.empty() || daemon; }
};

struct StepExit {
  enum class Kind {
    kExited,       // the main process ended; exit_code is its status (128+N if killed by signal N)
    kStartFailed,  // the step could not be started (missing command, bad working dir...)
    kLost,         // its start cannot be proven or its supervisor died with it
    kDeadline,     // killed because its deadline passed
    kNotStarted,   // attach(): provably never started, and now never will: start it afresh
    kDaemoned,     // not an end: a daemon step is up (and ready); its end is reported later
  };
  std::string node_id;
  Kind kind = Kind::kExited;
  int exit_code = 0;
  // kStartFailed / kLost: a clear reason naming command and image; kExited: a pod's
  // termination message (which container failed, and how)
  std::string message;
  bool pod_message = false;  // kExited: message is the pod's whole message ("init: Error (exit code 1)")
  // A containerSet's containers and their exit codes (-1: never ran).
  std::vector<std::pair<std::string, int>> container_exits;
  std::optional<WallTime> started_at;
  std::optional<WallTime> finished_at;
  // For each requested output path: the host path where the engine can read it (it may
  // not exist if the step did not write it).
  std::vector<std::pair<std::string, std::string>> output_host_paths;
  std::string stdout_path;  // host file with the step's raw stdout (for outputs.result)
};

// Where a step's logs are, for `tether logs`: node_dir/main.log holds both streams, one
// line each, "RFC3339Nano<space>line".
inline constexpr const char* kStepLogFile = "main.log";

class Runner {
 public:
  virtual ~Runner() = default;

  // Starts the step in the background. Returns an opaque handle the engine stores with
  // the node and passes back to attach() after a restart.
  virtual Result<std::string> start(const StepInvocation& step) = 0;

  // A step's preparation by the engine (its invocation completed, its node directory made,
  // its inputs staged), called by start_all just before that step is started: the first
  // steps of a hundred are on their way while the engine prepares the others. A step whose
  // preparation fails is not started, and its result is that error.
  using Prepare = std::function<Status(size_t index)>;

  // start() for each step, in order, with one result each. A runner may overlap their
  // launches: a turn that makes a hundred steps ready starts them as one batch.
  virtual std::vector<Result<std::string>> start_all(const std::vector<const StepInvocation*>& steps,
                                                     const Prepare& prepare = {}) {
    std::vector<Result<std::string>> out;
    out.reserve(steps.size());
    for (size_t i = 0; i < steps.size(); ++i) {
      if (prepare)
        if (Status st = prepare(i); !st.ok()) {
          out.push_back(st.error());
          continue;
        }
      out.push_back(start(*steps[i]));
    }
    return out;
  }

  // After an engine restart: re-adopts a step from an earlier engine. `handle` is empty
  // when the engine crashed between committing the intent and storing the handle. The
  // step's end (or loss) is reported by a later poll().
  virtual Status attach(const std::string& node_id, const std::string& node_dir, const std::string& handle,
                        const StepInvocation& step) = 0;

  // Signals the step's process group (SIGTERM for stop/deadline; SIGKILL after the grace).
  virtual void signal(const std::string& node_id, int sig) = 0;

  // File descriptors that become readable when poll() has something to report.
  virtual std::vector<int> wait_fds() const = 0;
  // Non-blocking: every step that ended since the last call.
  virtual std::vector<StepExit> poll() = 0;
  // The earliest time the runner needs poll() called even without fd activity (deadlines).
  virtual std::optional<WallTime> next_wakeup() const { return std::nullopt; }
};

}  // namespace tether::engine
