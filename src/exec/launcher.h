// Starting supervisors cheaply. Exec'ing tether-supervise for every step costs an exec and
// dynamic loading per step; instead the runner keeps one `tether-supervise --launcher`
// process that forks a supervisor per request. A forked supervisor is the same program
// running the same code as an exec'ed one, so everything about supervisors (their lock,
// their records, surviving the engine) is unchanged; only their parent differs: the
// launcher, which lets the kernel reap them.
//
// Protocol, on a SOCK_SEQPACKET socket pair (the launcher's end is its fd 3): the runner
// sends "NODE_DIR\nTOKEN", or "NODE_DIR\nTOKEN\nSPEC" to hand the supervisor its spec
// directly instead of through NODE_DIR/spec; the launcher answers with "PID START_TIME" (the supervisor's pid
// and its start time in /proc/PID/stat) and its pidfd attached, or with "error: WHY".
// Replies come in the order of the requests, so the runner may send several before it reads
// the first: the launcher then forks while the engine prepares the next step. The launcher
// ends when the runner closes its end, so an engine that dies takes its launcher with it,
// never its supervisors.
//
// A supervisor forked by the launcher also has, as its fd 4, the write end of a pipe the
// runner reads: once it has recorded the step's end it writes "TOKEN\n" there, so the engine
// goes on without waiting for the supervisor's own exit (its process and the step's mount
// namespace are torn down after that). The supervisor's pidfd remains what counts when it
// ends without writing.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>

#include "base/fd.h"
#include "base/result.h"

namespace tether::exec {

class SupervisorLauncher {
 public:
  // notify_fd: the write end of a pipe the launcher's supervisors announce their step's end
  // on (kNotifyFd in them), or -1. Only borrowed: the caller keeps it open.
  explicit SupervisorLauncher(std::string program, int notify_fd = -1)
      : program_(std::move(program)), notify_fd_(notify_fd) {}
  ~SupervisorLauncher();
  SupervisorLauncher(const SupervisorLauncher&) = delete;
  SupervisorLauncher& operator=(const SupervisorLauncher&) = delete;

  struct Launched {
    pid_t pid = -1;
    long long start_time = 0;  // as proc_start_time() gives it
    UniqueFd pidfd;
  };
  // A supervisor for NODE_DIR running as attempt TOKEN, asked for in two halves: request()
  // may be called several times before the replies are read, one reply() per request, in
  // order. At most kMaxInFlight requests may wait for a reply, well within the socket's
  // buffer, so neither side can block on a full one. Errors of kUnavailable mean the
  // launcher is unusable (it is then dropped, and started again next time); any other error
  // is this one request's (a fork that could not be done).
  static constexpr size_t kMaxInFlight = 32;
  // A larger spec goes through the node directory: 32 of these stay well within the socket's
  // buffer, and so the launcher never blocks on a reply.
  static constexpr size_t kMaxInlineSpec = 64 * 1024;
  Status request(const std::string& dir, const std::string& token, const std::string& inline_spec = {});
  Result<Launched> reply();

  pid_t pid() const { return pid_; }

 private:
  Status start();
  void stop();

  std::string program_;
  int notify_fd_ = -1;
  UniqueFd sock_;
  pid_t pid_ = -1;
};

}  // namespace tether::exec
