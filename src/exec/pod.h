// A step of several containers (init containers, sidecars, a containerSet, a daemon with a
// readiness probe) runs as one process tree under its supervisor: the supervisor starts
// `tether-supervise --pod VIEW_DIR HOST_DIR [SCRIPT]` as the step, and that pod helper starts
// the containers. So everything the step runs lives under the step's supervisor, outlives
// the engine with it, and dies with it.
//
// The pod directory (node_dir/pod on the host, bound at kPodViewDir in the step's view):
//   spec         what to run (written by the runner): see HostRunner::start
//   NAME.log     the log of every container but the main one, "RFC3339Nano line" per line
//                (the main container's output goes to the step's own stdout and main.log)
//   ready        written once a daemon's main container runs and its readiness probe passed
//   message      the pod's message when a container other than main decided its failure
//   status       a containerSet's containers and how each ended ("exit" fields "NAME CODE",
//                -1 for one that never ran)
#pragma once

#include <string>

namespace tether::exec {

inline constexpr const char* kPodFlag = "--pod";
inline constexpr const char* kPodViewDir = "/argo/pod";
inline constexpr const char* kPodDir = "pod";  // in node_dir
namespace pod_file {
inline constexpr const char* kSpec = "spec";
inline constexpr const char* kReady = "ready";
inline constexpr const char* kMessage = "message";
inline constexpr const char* kStatus = "status";
}  // namespace pod_file

// argv: VIEW_DIR HOST_DIR [extra args appended to the main container's command]. Returns the
// step's exit status.
int run_pod(int argc, char** argv);

}  // namespace tether::exec
