// The host executor: each step is a host process in a private filesystem view, run by its
// own supervisor (tether-supervise) so that it outlives the engine. See layout.h for the
// node directory and the view, supervisor_main.cc for the step side.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/fd.h"
#include "engine/runner.h"
#include "exec/launcher.h"
#include "exec/layout.h"

namespace tether::exec {

// A process named so that a reused pid is not mistaken for it (start time from /proc).
struct ProcessId {
  int pid = -1;
  long long start_time = 0;
};

struct HostRunnerOptions {
  // Empty: $TETHER_SUPERVISOR, else tether-supervise beside this executable.
  std::string supervisor_path;
  // Empty: $TETHER_SHIMS, else share/tether/shims beside this executable (or in ../share).
  std::string shims_dir;
  // False: steps run in the host's own filesystem view (no namespaces). For hosts without them.
  bool private_view = true;
  const Clock* clock = nullptr;  // nullptr: the system clock
};

class HostRunner final : public engine::Runner {
 public:
  explicit HostRunner(HostRunnerOptions options = {});
  // Steps keep running: they belong to their supervisors, and a later engine re-attaches.
  ~HostRunner() override;

  Result<std::string> start(const engine::StepInvocation& step) override;
  std::vector<Result<std::string>> start_all(const std::vector<const engine::StepInvocation*>& steps,
                                             const Prepare& prepare = {}) override;
  Status attach(const std::string& node_id, const std::string& node_dir, const std::string& handle,
                const engine::StepInvocation& step) override;
  void signal(const std::string& node_id, int sig) override;
  std::vector<int> wait_fds() const override;
  std::vector<engine::StepExit> poll() override;
  std::optional<WallTime> next_wakeup() const override;

  const std::string& supervisor_path() const { return options_.supervisor_path; }
  const std::string& shims_dir() const { return options_.shims_dir; }
  pid_t launcher_pid() const { return launcher_.pid(); }  // -1 until the first start

 private:
  struct Step {
    engine::StepInvocation invocation;
    UniqueFd pidfd;  // the supervisor's
    pid_t supervisor = -1;
    std::optional<WallTime> kill_at;  // deadline passed or stopped: SIGKILL after the grace
    bool term_sent = false;
    bool daemoned = false;  // kDaemoned reported
    std::string token;      // of the attempt, as its supervisor announces its end
  };

  // pod_spec: for a step of several containers, the pod helper's spec (pod.h).
  StepSpec make_spec(const engine::StepInvocation& step, std::string* pod_spec) const;
  void track(const engine::StepInvocation& step, UniqueFd pidfd, pid_t pid, std::string token = {});
  void check_deadlines(WallTime now);
  engine::StepExit collect(const std::string& node_id, const Step& step) const;
  bool adopt(const engine::StepInvocation& step, ProcessId supervisor);
  void wake();

  HostRunnerOptions options_;
  // Supervisors forked by the launcher write "TOKEN\n" here once a step's end is recorded
  // (launcher.h); non-blocking at both ends, so a full pipe costs only the early notice.
  UniqueFd notify_read_, notify_write_;
  SupervisorLauncher launcher_;
  std::map<std::string, Step> steps_;
  std::vector<engine::StepExit> ready_;  // found by attach(), reported by the next poll()
  UniqueFd wake_fd_;                     // eventfd, readable while ready_ is not empty
  UniqueFd inotify_fd_;                  // watches daemons' pod directories for `ready`
};

}  // namespace tether::exec
