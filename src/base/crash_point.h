// Named crash points, for the crash-safety tests: with TETHER_CRASH_AT=NAME or NAME:N in
// its environment, the process kills itself with SIGKILL the Nth time (default: the first)
// it passes crash_point(NAME), exactly as `kill -9` would stop it there: nothing flushed,
// no destructor run. Without the variable a call costs one branch.
//
// The points the engine process has (docs/ARCHITECTURE.md, "Crash safety"):
//   after-intent   a turn committed the intent to start a step; nothing started yet
//   after-spawn    a step's supervisor exists; its handle is not committed yet
//   after-exit     a step's end was observed; its result is not committed yet
//   artifact-save  an output artifact is half written to its temporary name
//   retry-backoff  a retry waits for its backoff to pass
//   exit-handler   an exit handler's step has just started
#pragma once

namespace tether {

void crash_point(const char* name);

}  // namespace tether
