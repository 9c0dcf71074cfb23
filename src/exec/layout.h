// The layout of a node's directory and of a step's private filesystem view. The runner
// (engine side) and the supervisor (step side) both derive it from the same inputs, so the
// runner knows where outputs land without asking the supervisor.
//
// node_dir/
//   lock         flock'ed by the supervisor for its whole life
//   spec         what to run, when the launcher did not hand it over (written by the runner
//                before the supervisor starts; emptied by the supervisor)
//   state        created just before the step starts; then the supervisor and step pids with
//                their kernel start times; then how the step ended (record.h)
//   abandoned    written by attach() when no supervisor ever ran: one that starts later refuses
//   deadline     written before the deadline's SIGTERM, so a restarted engine reports kDeadline
//   main.log     both streams, "RFC3339Nano line" per line (created at the first output)
//   stdout       raw stdout (outputs.result; created at the first output)
//   script       a script template's source
//   tmp/         the step's /tmp
//   outputs/<parent>/upper/  a private directory bound (or overlaid) on an output's parent
//   pod/         a step of several containers: the pod helper's spec, logs, ready (pod.h)
//
// The view, when namespaces are available:
//   /tmp                   node_dir/tmp
//   each StepMount         bound at its path (read-only if asked)
//   /a/b/out               node_dir/outputs/%2Fa%2Fb/upper bound on /a/b, so parallel steps
//                          writing the same absolute path never collide; when /a/b already
//                          exists on the host and is not empty, an overlay of it is used
//                          instead, so the step still sees what the host has there
//   /out (top level)       a private file or directory bound on /out itself ("/" cannot be
//                          bound over): a directory if the host has one there or the name has
//                          no dot, else a file
//   /argo/staging/script   node_dir/script (as in Argo)
// Mount points that do not exist are created on the host (empty directories, or empty files
// for file mounts) because a mount needs an inode to cover; nothing is ever written into them
// on the host.
#pragma once

#include <csignal>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tether::exec {

// The node's lock is an flock on the node directory itself (open_node_lock): a lock file
// would be one more inode to create per step, and creating inodes is a large part of what a
// step start costs on ext4.
namespace node_file {
inline constexpr const char* kSpec = "spec";
// Created by the supervisor, under the node's lock, just before it starts the step (and
// removed when an attempt is prepared): once the lock is free, its absence proves the step
// never ran, so an engine may start it afresh. The start and the end go into it too: one
// file where there were three, as every file created costs an inode, and on ext4 without a
// journal allocating one gets slower the more files were deleted in the last minute or so.
inline constexpr const char* kState = "state";
inline constexpr const char* kAbandoned = "abandoned";
inline constexpr const char* kDeadline = "deadline";
inline constexpr const char* kLog = "main.log";
inline constexpr const char* kStdout = "stdout";
inline constexpr const char* kScript = "script";
inline constexpr const char* kTmp = "tmp";
inline constexpr const char* kOutputs = "outputs";
inline constexpr const char* kSupervisorLog = "supervisor.log";
}  // namespace node_file

inline constexpr const char* kStagingScript = "/argo/staging/script";

// `tether-supervise --launcher`: the long-lived process that forks supervisors (launcher.h).
inline constexpr const char* kLauncherFlag = "--launcher";
// In the launcher and the supervisors it forks: the pipe to announce a step's end on
// (launcher.h). Its socket to the runner is fd 3.
inline constexpr int kNotifyFd = 4;

// The runner asks the supervisor to deliver a signal to the step with this realtime signal
// (queued, so a SIGTERM quickly followed by a SIGKILL are both delivered); the payload is the
// signal to send. The supervisor holds the step's pid while it is alive, so this cannot hit a
// reused pid.
inline int forward_signal() { return SIGRTMIN + 2; }

// The signals a supervisor handles through its signalfd. It is spawned with them already
// blocked, so one that arrives before it gets going waits instead of killing it.
inline sigset_t supervisor_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGCHLD, forward_signal()}) sigaddset(&set, sig);
  return set;
}

// The node directory opened for its flock; -1 with errno set when it cannot be opened
// (ENOENT: no node directory, so no supervisor ever ran there).
int open_node_lock(const std::string& node_dir);

struct MountSpec {
  std::string path;       // in the view
  std::string host_path;
  bool read_only = false;
};

// What a supervisor runs: node_dir/spec.
struct StepSpec {
  std::string image;
  std::vector<std::string> argv;
  std::vector<std::string> env;  // "NAME=value", exactly what the step gets
  std::string working_dir;       // empty: /tmp of the view (node_dir/tmp without a view)
  std::vector<MountSpec> mounts;
  std::vector<std::string> outputs;
  std::vector<std::string> output_files;  // outputs that are files whatever their name
  bool script = false;           // node_dir/script is appended to argv
  bool private_view = true;
  // Names this attempt. The supervisor gets it on its command line and runs the spec only if
  // they match, so a supervisor spawned for an earlier attempt in the same node_dir (by an
  // engine that then died) can never run a later attempt's step a second time.
  std::string token;
};

std::string encode_spec(const StepSpec& spec);
bool decode_spec(std::string_view text, StepSpec* out, std::string* why);

// Lexical: "/a/./b//c/" → "/a/b/c", ".." pops; a relative path is taken from "/".
std::string normalize_path(std::string_view path);
std::string parent_path(const std::string& normalized);
std::string base_name(const std::string& normalized);

struct Bind {
  enum class Kind {
    kMount,         // a StepMount or /tmp: a file or directory, whatever the source is
    kOutputParent,  // private directory on an output's parent (overlay if the host has content)
    kOutputTop,     // private file or directory on a top-level output path
  };
  std::string target;  // in the view
  std::string source;  // on the host
  Kind kind = Kind::kMount;
  bool read_only = false;
  bool file = false;  // kOutputTop: known to be a file (an output parameter)
};

struct ViewPlan {
  std::vector<Bind> binds;  // in mount order: a parent before anything under it
  // For each requested output (as given): the host path it lands on.
  std::vector<std::pair<std::string, std::string>> outputs;
  // The working directory when the step names none: /tmp, or kRootWorkdir when the step has
  // outputs directly under "/".
  std::string workdir = "/tmp";
};

// Where a step with outputs directly under "/" starts when it names no working directory:
// the private directory that holds those outputs, bound here. An image's working directory
// is usually "/", and such steps write "result.txt" meaning "/result.txt"; the host's own "/"
// is no place for a step's files.
inline constexpr const char* kRootWorkdir = "/argo/workdir";

ViewPlan plan_view(const std::string& node_dir, const std::vector<MountSpec>& mounts,
                   const std::vector<std::string>& outputs, bool script,
                   const std::vector<std::string>& output_files = {});

// Without a private view every path is the host's own.
std::vector<std::pair<std::string, std::string>> shared_view_outputs(const std::vector<std::string>& outputs);

}  // namespace tether::exec
