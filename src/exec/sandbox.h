// The step side of the supervisor: what runs in the forked child between fork() and
// execve(): its own session, stdio, the private filesystem view, the working directory and
// the command lookup. Errors go back to the supervisor through a close-on-exec pipe.
#pragma once

#include <sys/types.h>

#include <string>

#include "exec/layout.h"

namespace tether::exec {

// Status pipe protocol: the child may write kSharedViewFlag first (namespaces unavailable,
// running in the host's view), then kFailureFlag and a message if the step cannot start.
// End of file with no failure means execve succeeded.
inline constexpr char kSharedViewFlag = 'S';
inline constexpr char kFailureFlag = 'F';

struct ChildIo {
  int stdout_fd = -1;
  int stderr_fd = -1;
  int status_fd = -1;
  // The supervisor's node lock: the child closes it at once, so the lock means "a supervisor
  // is alive" and never outlives the supervisor in a child that has not exec'ed yet.
  int lock_fd = -1;
  pid_t supervisor = 0;
};

[[noreturn]] void run_step_child(const std::string& node_dir, const StepSpec& spec, const ViewPlan& plan,
                                 const ChildIo& io);

// After the step ended: removes top-level output files the step never wrote (they were
// created as empty mount points), so the engine sees them as missing, as Argo would.
void remove_unwritten_placeholders(const ViewPlan& plan);

}  // namespace tether::exec
