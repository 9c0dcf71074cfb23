// engine::Runner without processes, for engine tests. What a step does is a TABLE of
// node-name patterns (fnmatch, first match wins): exit code, stdout, files written at
// output paths, duration on the FakeClock. The runner outlives Engine objects, like real
// steps outlive a crashed engine, so a test can drop an Engine mid-run, build another
// on the same store and runner, and check that recover() never starts a step twice.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/clock.h"
#include "engine/runner.h"

namespace tether::testlib {

struct FakeStep {
  std::string pattern;  // over StepInvocation::node_name
  int exit_code = 0;
  std::string stdout_text;
  std::map<std::string, std::string> files;  // output path in the step's view -> content
  std::chrono::milliseconds duration{1000};
  bool start_fails = false;  // start() returns an error (the engine never sees a handle)
  // A daemon step (StepInvocation::daemon) is reported kDaemoned this long after its start;
  // it then runs for `duration` or until signalled.
  std::chrono::milliseconds ready_after{0};
};

class FakeRunner final : public engine::Runner {
 public:
  FakeRunner(const Clock& clock, std::vector<FakeStep> table) : clock_(clock), table_(std::move(table)) {}

  Result<std::string> start(const engine::StepInvocation& step) override;
  Status attach(const std::string& node_id, const std::string& node_dir, const std::string& handle,
                const engine::StepInvocation& step) override;
  void signal(const std::string& node_id, int sig) override;
  std::vector<int> wait_fds() const override { return {}; }
  std::vector<engine::StepExit> poll() override;
  std::optional<WallTime> next_wakeup() const override;

  int starts(const std::string& node_name) const;  // start() calls for a node
  int max_starts() const;                          // over every node
  std::vector<std::string> started_names() const { return started_order_; }
  std::vector<std::string> attached;               // node IDs passed to attach()
  std::map<std::string, engine::StepInvocation> invocations;  // the last start() of each node name
  std::vector<std::pair<std::string, int>> signals;
  size_t running() const { return running_.size(); }
  size_t max_concurrent = 0;                       // most steps running at once
  // What attach() makes of a step this runner never started: by default it provably never
  // ran (kNotStarted); true: an earlier runner's supervisor died with it (kLost).
  bool unknown_steps_died = false;

 private:
  struct Live {
    engine::StepInvocation step;
    FakeStep spec;
    WallTime started;
    WallTime ends;
    int forced_code = -1;  // set by signal()
    bool daemoned = false;
  };
  const FakeStep& lookup(const std::string& node_name) const;
  engine::StepExit finish(const Live& live, int code);

  const Clock& clock_;
  std::vector<FakeStep> table_;
  std::map<std::string, Live> running_;  // by node ID
  std::map<std::string, int> starts_;    // by node name
  std::vector<std::string> started_order_;
  std::set<std::string> ever_started_;   // node IDs
  std::vector<engine::StepExit> lost_;   // attach() of a node this runner does not run
};

}  // namespace tether::testlib
