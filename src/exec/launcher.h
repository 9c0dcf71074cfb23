// Starting supervisors cheaply. Exec'ing tether-supervise for every step costs an exec and
// dynamic loading per step; instead the runner keeps one `tether-supervise --launcher`
// process that forks a supervisor per request. A forked supervisor is the same program
// running the same code as an exec'ed one, so everything about supervisors (their lock,
// their records, surviving the engine) is unchanged; only their parent differs: the
// launcher, which lets the kernel reap them.
//
// Protocol, on a SOCK_SEQPACKET socket pair (the launcher's end is its fd 3): the runner
// sends "NODE_DIR\nTOKEN"; the launcher answers with the supervisor's pid as text and its
// pidfd attached, or with "error: WHY". The launcher ends when the runner closes its end,
// so an engine that dies takes its launcher with it, never its supervisors.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>

#include "base/fd.h"
#include "base/result.h"

namespace tether::exec {

class SupervisorLauncher {
 public:
  explicit SupervisorLauncher(std::string program) : program_(std::move(program)) {}
  ~SupervisorLauncher();
  SupervisorLauncher(const SupervisorLauncher&) = delete;
  SupervisorLauncher& operator=(const SupervisorLauncher&) = delete;

  // A supervisor for NODE_DIR running as attempt TOKEN: its pid and a pidfd for it. Errors
  // mean the launcher is unusable (it is then dropped, and started again next time).
  Result<std::pair<pid_t, UniqueFd>> launch(const std::string& dir, const std::string& token);

  pid_t pid() const { return pid_; }

 private:
  Status start();
  void stop();

  std::string program_;
  UniqueFd sock_;
  pid_t pid_ = -1;
};

}  // namespace tether::exec
