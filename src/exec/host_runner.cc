#include "exec/host_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <set>
#include <cstdlib>
#include <cstring>

#include "base/log.h"
#include "base/strings.h"
#include "exec/images.h"
#include "exec/launcher.h"
#include "exec/layout.h"
#include "exec/pod.h"
#include "exec/record.h"

extern char** environ;

namespace tether::exec {
namespace {

using engine::StepExit;
using engine::StepInvocation;

#ifndef P_PIDFD
constexpr idtype_t P_PIDFD = static_cast<idtype_t>(3);
#endif

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string exe_dir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string exe(buf, static_cast<size_t>(n));
  return exe.substr(0, exe.rfind('/'));
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

std::string default_shims_dir() {
  std::string dir = exe_dir();
  for (const std::string& candidate : {dir + "/share/tether/shims", dir + "/../share/tether/shims"})
    if (::access(candidate.c_str(), F_OK) == 0) return candidate;
  return "";
}

bool exists(const std::string& p) { return ::access(p.c_str(), F_OK) == 0; }

// The supervisor outlives the engine's working directory: it gets absolute paths only.
std::string absolute_path(const std::string& p) {
  if (p.empty() || p[0] == '/') return p;
  char cwd[4096];
  return ::getcwd(cwd, sizeof cwd) ? std::string(cwd) + "/" + p : p;
}

WallTime from_us(long long us) { return WallTime(std::chrono::microseconds(us)); }

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// The pid holding an flock on the file open as fd, from /proc/locks ("1: FLOCK ADVISORY WRITE
// pid maj:min:inode 0 EOF"; major and minor in hex).
pid_t flock_holder(int fd) {
  struct stat st;
  std::string locks;
  if (::fstat(fd, &st) != 0 || !read_whole_file("/proc/locks", &locks)) return -1;
  for (const std::string& line : split(locks, '\n')) {
    unsigned maj = 0, min = 0;
    unsigned long long ino = 0;
    int pid = 0;
    char kind[16];
    if (line.find("->") != std::string::npos) continue;  // a waiter, not the holder
    if (std::sscanf(line.c_str(), "%*d: %15s %*s %*s %d %x:%x:%llu", kind, &pid, &maj, &min, &ino) == 5 &&
        std::strcmp(kind, "FLOCK") == 0 && maj == major(st.st_dev) && min == minor(st.st_dev) && ino == st.st_ino)
      return pid;
  }
  return -1;
}

std::string new_token() {
  uint64_t bits = 0;
  if (::getrandom(&bits, sizeof bits, 0) != sizeof bits)
    bits = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^ ::getpid();
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(bits));
  return buf;
}

// Writes the attempt's files into node_dir under its lock. The lock proves no supervisor of an
// earlier attempt is running; one spawned earlier that has not locked yet will find the new
// spec (another token) before `abandoned` goes away, and refuse. A node runs again in the same
// directory when a run is retried.
//
// In a directory the engine has just made there is no earlier attempt, and the spec (the
// step's environment, Secret values included) need not touch the disk: the launcher hands it
// to the supervisor it forks (spec_text stays empty here). It is written only when it is too
// large for one message, or for a supervisor started without the launcher.
Status prepare_attempt(const std::string& dir, const std::string& spec_text, const std::optional<std::string>& script,
                       bool new_dir) {
  if (new_dir) {
    if (script && !write_file_replace(dir + "/" + node_file::kScript, *script, 0755))
      return io_error("cannot write " + dir + "/" + node_file::kScript);
    // Nothing reads it before the launch that follows: no write-then-rename needed.
    if (!spec_text.empty() && !write_file_in_place(dir + "/" + node_file::kSpec, spec_text, 0600))
      return io_error("cannot write " + dir + "/" + node_file::kSpec);
    return ok_status();
  }
  UniqueFd lock(open_node_lock(dir));
  if (!lock.valid()) return io_error("cannot open " + dir);
  bool locked = ::flock(lock.get(), LOCK_EX | LOCK_NB) == 0;
  // A supervisor that has recorded its step's end announces it before it exits: it holds
  // the lock a moment longer, so it is waited for. One whose step has not ended is a conflict.
  AttemptState state;
  if (!locked && read_attempt_state(dir + "/" + node_file::kState, &state) && state.ended) {
    for (int i = 0; i < 5000 && !locked; ++i) {
      ::usleep(1000);
      locked = ::flock(lock.get(), LOCK_EX | LOCK_NB) == 0;
    }
  }
  if (!locked) return Error(ErrorCode::kConflict, "a supervisor of an earlier attempt still runs in " + dir);
  if (script && !write_file_replace(dir + "/" + node_file::kScript, *script, 0755))
    return io_error("cannot write " + dir + "/" + node_file::kScript);
  // Readable by us alone, and emptied once the supervisor has taken it.
  if (!write_file_replace(dir + "/" + node_file::kSpec, spec_text, 0600))
    return io_error("cannot write " + dir + "/" + node_file::kSpec);
  // The logs go too: the new attempt's are created at its first output, if any.
  for (const char* name : {node_file::kState, node_file::kDeadline, node_file::kAbandoned, node_file::kStdout,
                           node_file::kLog})
    if (::unlink((dir + "/" + name).c_str()) != 0 && errno != ENOENT) return io_error("cannot remove " + dir + "/" + name);
  return ok_status();
}

// The pod directory of a new attempt: its spec, and nothing left of an earlier attempt that
// could read as this one's readiness or message.
Status prepare_pod(const std::string& pod_dir, const std::string& pod_spec) {
  if (::mkdir(pod_dir.c_str(), 0755) != 0 && errno != EEXIST) return io_error("cannot create " + pod_dir);
  for (const char* name : {pod_file::kReady, pod_file::kMessage})
    if (::unlink((pod_dir + "/" + name).c_str()) != 0 && errno != ENOENT) return io_error("cannot remove " + pod_dir + "/" + name);
  // Like the step's spec, it holds environments that may carry Secret values: readable by us
  // alone, and removed by the pod helper once read.
  if (!write_file_replace(pod_dir + "/" + pod_file::kSpec, pod_spec, 0600)) return io_error("cannot write " + pod_dir + "/" + pod_file::kSpec);
  return ok_status();
}

// The pipe supervisors announce their step's end on: its write end, or -1.
int make_notify_pipe(UniqueFd& read_end, UniqueFd& write_end) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
  read_end.reset(p[0]);
  write_end.reset(p[1]);
  return p[1];
}

// "host:<pid>:<start time>" as start() returns it.
ProcessId parse_handle(const std::string& handle) {
  std::vector<std::string> parts = split(handle, ':');
  if (parts.size() != 3 || parts[0] != "host") return {};
  return {std::atoi(parts[1].c_str()), std::atoll(parts[2].c_str())};
}

// The supervisor's or the step's pid and start time, as the supervisor recorded them.
ProcessId from_started(const AttemptState& state, const std::string& who) {
  return {static_cast<int>(state.start.get_int(who + "_pid", -1)), state.start.get_int(who + "_start")};
}

}  // namespace

namespace {

HostRunnerOptions with_defaults(HostRunnerOptions o) {
  if (o.supervisor_path.empty()) o.supervisor_path = env_or("TETHER_SUPERVISOR", exe_dir() + "/tether-supervise");
  if (o.shims_dir.empty()) o.shims_dir = env_or("TETHER_SHIMS", default_shims_dir());
  if (!o.clock) o.clock = &SystemClock::instance();
  return o;
}

}  // namespace

HostRunner::HostRunner(HostRunnerOptions options)
    : options_(with_defaults(std::move(options))),
      launcher_(options_.supervisor_path, make_notify_pipe(notify_read_, notify_write_)) {
  wake_fd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  inotify_fd_.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
}

HostRunner::~HostRunner() = default;

StepSpec HostRunner::make_spec(const StepInvocation& step, std::string* pod_spec) const {
  StepSpec spec;
  spec.image = step.image;
  // The step's private /tmp hides the host's: when tether itself lives under /tmp (a
  // clone there), its shims would vanish from the view. Bind them at a fixed path instead.
  std::string shims = options_.shims_dir;
  const std::string kViewShims = "/argo/shims";
  // Bound only for a step that runs a shim or has them on its PATH: two mounts per step
  // otherwise spent on nothing.
  bool uses_shims = false;
  // A container's argv and environment as the host runs it: the image's interpreter or shim,
  // and a PATH that finds the shims when the image's tools are shims.
  auto resolve = [&](const std::string& image, const std::vector<std::string>& command,
                     const std::vector<std::pair<std::string, std::string>>& env, std::vector<std::string>* argv,
                     std::vector<std::string>* env_out) {
    bool path_given = false;
    std::string search_path = env_or("PATH", kDefaultPath);
    for (const auto& [k, v] : env)
      if (k == "PATH") {
        path_given = true;
        search_path = v;
      }
    HostCommand host = host_command(image, command, options_.shims_dir, search_path);
    *argv = std::move(host.argv);
    std::string in_view = shims;
    if (options_.private_view && !shims.empty()) {
      for (auto& a : *argv)
        if (a.rfind(shims + "/", 0) == 0) {
          a = kViewShims + a.substr(shims.size());
          uses_shims = true;
        }
      in_view = kViewShims;
    }
    if (host.shims_on_path && !in_view.empty()) {
      search_path = in_view + ":" + search_path;
      uses_shims = true;
    }
    // Folders of the search path under /tmp (tools, or tether itself, in a clone there)
    // would vanish behind the step's private /tmp too: each is bound read-only where it is,
    // and so is the folder of a command named by its path there (http and data steps run
    // the tether binary itself).
    std::vector<std::string> dirs = split(search_path, ':');
    if (!argv->empty() && (*argv)[0].rfind("/tmp/", 0) == 0)
      dirs.push_back((*argv)[0].substr(0, (*argv)[0].rfind('/')));
    if (options_.private_view)
      for (const auto& dir : dirs) {
        if (dir.rfind("/tmp/", 0) != 0 || dir == in_view) continue;
        struct stat st;
        bool seen = std::any_of(spec.mounts.begin(), spec.mounts.end(), [&](const auto& m) { return m.path == dir; });
        if (!seen && ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) spec.mounts.push_back({dir, dir, true});
      }
    for (const auto& [k, v] : env) env_out->push_back(k + "=" + (k == "PATH" ? search_path : v));
    if (!path_given) env_out->push_back("PATH=" + search_path);
  };
  resolve(step.image, step.command, step.env, &spec.argv, &spec.env);
  spec.working_dir = step.working_dir;
  for (const auto& m : step.mounts) spec.mounts.push_back({m.path, m.host_path, m.read_only});
  spec.outputs = step.output_paths;
  spec.output_files = step.output_files;
  spec.script = step.script.has_value();
  spec.private_view = options_.private_view;
  spec.token = new_token();
  if (step.is_pod() && pod_spec) {
    // The step is the pod helper; the main container is one of the containers it starts.
    Record pod;
    auto add = [&](const char* role, const std::string& name, const std::string& image,
                   const std::vector<std::string>& command, const std::vector<std::pair<std::string, std::string>>& env,
                   const std::string& workdir, const std::vector<std::string>& deps) {
      Record c;
      c.add("role", role);
      c.add("name", name);
      std::vector<std::string> argv, envs;
      resolve(image, command, env, &argv, &envs);
      for (const auto& a : argv) c.add("argv", a);
      for (const auto& e : envs) c.add("env", e);
      c.add("workdir", workdir);
      for (const auto& d : deps) c.add("dep", d);
      pod.add("container", c.encode());
    };
    for (const auto& c : step.init_containers) add("init", c.name, c.image, c.command, c.env, c.working_dir, {});
    for (const auto& c : step.sidecars) add("sidecar", c.name, c.image, c.command, c.env, c.working_dir, {});
    for (const auto& c : step.container_set) add("set", c.name, c.image, c.command, c.env, c.working_dir, c.dependencies);
    if (step.container_set.empty()) {
      Record c;
      c.add("role", "main");
      c.add("name", "main");
      for (const auto& a : spec.argv) c.add("argv", a);
      for (const auto& e : spec.env) c.add("env", e);
      pod.add("container", c.encode());
    }
    pod.add("grace", step.termination_grace_seconds);
    pod.add("daemon", step.daemon ? 1 : 0);
    pod.add("retries", step.container_set_retries);
    pod.add("retry_delay_ms", step.container_set_retry_delay_ms);
    if (const auto& p = step.readiness) {
      Record r;
      r.add("kind", p->kind);
      for (const auto& a : p->command) r.add("argv", a);
      r.add("path", p->path);
      r.add("port", p->port);
      r.add("initial", p->initial_delay_seconds);
      r.add("period", p->period_seconds);
      r.add("timeout", p->timeout_seconds);
      pod.add("probe", r.encode());
    }
    *pod_spec = pod.encode();
    const std::string host_dir = absolute_path(step.node_dir) + "/" + kPodDir;
    // Through /proc: a volume mounted over the directory tether lives in cannot hide it.
    spec.argv = {"/proc/self/exe", kPodFlag, kPodViewDir, host_dir};
    spec.mounts.push_back({kPodViewDir, host_dir, false});
  }
  if (options_.private_view && uses_shims) spec.mounts.push_back({kViewShims, shims, true});
  return spec;
}

namespace {

// posix_spawn (vfork underneath) keeps the launch cheap however large the engine is. The
// supervisor gets its own session, so neither a terminal's signals nor the engine's death
// reach it, and only /dev/null and its own log as stdio. It starts with the signals it
// handles blocked: one forwarded right after start() stays pending until it reads its
// signalfd, instead of killing it.
Result<pid_t> spawn_supervisor(std::string program, std::string dir, std::string token) {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  ::posix_spawnattr_init(&attr);
  ::posix_spawn_file_actions_init(&actions);
  sigset_t blocked = supervisor_signals(), defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) sigaddset(&defaults, sig);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  ::posix_spawnattr_setsigmask(&attr, &blocked);
  ::posix_spawnattr_setsigdefault(&attr, &defaults);
  std::string supervisor_log = dir + "/" + node_file::kSupervisorLog;
  ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  ::posix_spawn_file_actions_addopen(&actions, 2, supervisor_log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  char* argv[] = {program.data(), dir.data(), token.data(), nullptr};
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, program.c_str(), &actions, &attr, argv, environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attr);
  if (rc != 0) return Error(ErrorCode::kUnavailable, "cannot start the step supervisor " + program + ": " + std::strerror(rc));
  return pid;
}

}  // namespace

Result<std::string> HostRunner::start(const StepInvocation& step) {
  auto results = start_all({&step});
  return std::move(results.front());
}

// Each step's files are written and its request sent before the reply for an earlier one is
// read: the launcher forks one supervisor while the engine prepares the next step.
std::vector<Result<std::string>> HostRunner::start_all(const std::vector<const StepInvocation*>& steps,
                                                       const Prepare& prepare) {
  std::vector<Result<std::string>> out(steps.size(), Result<std::string>(std::string()));
  struct Sent {
    size_t index;
    std::string dir, token;
    std::string inline_spec;  // handed over by the launcher; empty: it is in node_dir/spec
  };
  std::deque<Sent> waiting;
  auto finish = [&](const Sent& s, Result<SupervisorLauncher::Launched> launched) {
    const StepInvocation& step = *steps[s.index];
    pid_t pid = -1;
    long long start_time = 0;
    UniqueFd pidfd;
    if (launched.ok()) {
      pid = launched->pid;
      start_time = launched->start_time;
      pidfd = std::move(launched->pidfd);
    } else {
      log::warn("{}; starting the supervisor directly", launched.error().message);
      // An exec'ed supervisor reads its spec from the node directory.
      if (!s.inline_spec.empty() &&
          !write_file_replace(s.dir + "/" + node_file::kSpec, s.inline_spec, 0600)) {
        out[s.index] = io_error("cannot write " + s.dir + "/" + node_file::kSpec);
        return;
      }
      auto spawned = spawn_supervisor(options_.supervisor_path, s.dir, s.token);
      if (!spawned.ok()) {
        out[s.index] = spawned.take_error();
        return;
      }
      pid = *spawned;
      pidfd.reset(pidfd_open(pid));
      if (!pidfd.valid()) {
        out[s.index] = io_error("pidfd_open of the step supervisor");
        return;
      }
      start_time = proc_start_time(pid);
    }
    StepInvocation tracked = step;
    tracked.node_dir = s.dir;
    track(tracked, std::move(pidfd), pid, launched.ok() ? s.token : std::string());
    // Its start time makes the handle name this process even after its pid is reused.
    out[s.index] = "host:" + std::to_string(pid) + ":" + std::to_string(start_time);
  };
  auto finish_oldest = [&] {
    Sent s = std::move(waiting.front());
    waiting.pop_front();
    finish(s, launcher_.reply());
  };
  for (size_t i = 0; i < steps.size(); ++i) {
    if (prepare)
      if (Status st = prepare(i); !st.ok()) {
        out[i] = st.error();
        continue;
      }
    const StepInvocation& step = *steps[i];
    if (steps_.count(step.node_id)) {
      out[i] = Error(ErrorCode::kConflict, "step " + step.node_id + " is already running");
      continue;
    }
    std::string pod_spec;
    StepSpec spec = make_spec(step, &pod_spec);
    if (spec.argv.empty()) {
      StepExit e;
      e.node_id = step.node_id;
      e.kind = StepExit::Kind::kStartFailed;
      e.exit_code = 127;
      e.message = "failed to start: no command, and the host has no entrypoint for image \"" + step.image + "\"";
      ready_.push_back(std::move(e));
      wake();
      out[i] = std::string("host:none");
      continue;
    }
    std::string dir = absolute_path(step.node_dir);
    std::string spec_text = encode_spec(spec);
    bool inline_spec = step.new_dir && spec_text.size() <= SupervisorLauncher::kMaxInlineSpec;
    Status prepared = prepare_attempt(dir, inline_spec ? std::string() : spec_text, step.script, step.new_dir);
    if (prepared.ok() && step.is_pod()) prepared = prepare_pod(dir + "/" + kPodDir, pod_spec);
    if (!prepared.ok()) {
      out[i] = prepared.error();
      continue;
    }
    if (waiting.size() >= SupervisorLauncher::kMaxInFlight) finish_oldest();
    Sent sent{i, std::move(dir), spec.token, inline_spec ? std::move(spec_text) : std::string()};
    if (auto st = launcher_.request(sent.dir, sent.token, sent.inline_spec); !st.ok()) {
      // The launcher is gone, and with it the replies still owed: those are started directly.
      while (!waiting.empty()) finish_oldest();
      finish(sent, st.error());
      continue;
    }
    waiting.push_back(std::move(sent));
  }
  while (!waiting.empty()) finish_oldest();
  return out;
}

void HostRunner::track(const StepInvocation& step, UniqueFd pidfd, pid_t pid, std::string token) {
  Step& s = steps_[step.node_id];
  s.invocation = step;
  s.pidfd = std::move(pidfd);
  s.supervisor = pid;
  s.token = std::move(token);
  // A daemon's readiness is a file its pod helper writes; inotify wakes the engine for it.
  if (step.daemon && inotify_fd_.valid())
    ::inotify_add_watch(inotify_fd_.get(), (step.node_dir + "/" + kPodDir).c_str(), IN_MOVED_TO | IN_CLOSE_WRITE);
}

// Decides, under the node's lock, between three cases; the lock is what makes "a step recorded
// as started is never started twice" hold without races:
//  - the lock is held: a supervisor is alive (running the step, or about to) → wait for it;
//  - it is free and `state` records an end: the step ended while no engine watched → report it;
//  - it is free, no end is recorded, and the supervisor named by the handle is alive: it has
//    not reached its lock yet (the engine died right after start()) → wait for it;
//  - it is free, no end is recorded, and no such supervisor: none ran to the end. Either none
//    ever locked (the engine died before storing the handle), or it died with the step.
//    Writing `abandoned` while holding the lock means a supervisor that only now gets the
//    lock sees it and exits without running anything; a step left running by a dead
//    supervisor is killed. Either way it will never run: if no supervisor got as far as
//    creating `state`, the step provably never started and is reported not started (the engine
//    starts it afresh); otherwise it is reported lost.
Status HostRunner::attach(const std::string& node_id, const std::string& node_dir, const std::string& handle,
                          const StepInvocation& step) {
  if (steps_.count(node_id)) return ok_status();
  Step probe;
  probe.invocation = step;
  probe.invocation.node_id = node_id;
  probe.invocation.node_dir = absolute_path(node_dir);
  const StepInvocation& inv = probe.invocation;
  auto report = [&](StepExit e) {
    ready_.push_back(std::move(e));
    wake();
    return ok_status();
  };
  const std::string& lock_path = node_dir;
  UniqueFd lock(open_node_lock(node_dir));
  if (!lock.valid() && errno != ENOENT) return io_error("cannot open " + lock_path);
  auto not_started = [&] {
    StepExit e;
    e.node_id = node_id;
    e.kind = StepExit::Kind::kNotStarted;
    return report(std::move(e));
  };
  if (!lock.valid()) return not_started();  // no node directory: start() was never called
  for (int attempt = 0; attempt < 5; ++attempt) {
    AttemptState state;
    if (::flock(lock.get(), LOCK_EX | LOCK_NB) == 0) {
      // A state file that is there but cannot be read counts as run: never start twice.
      bool ran = read_attempt_state(node_dir + "/" + node_file::kState, &state) || errno != ENOENT;
      if (!state.ended && adopt(inv, parse_handle(handle))) return ok_status();
      if (!state.ended) {
        if (!write_file_replace(node_dir + "/" + node_file::kAbandoned, "abandoned by the engine\n"))
          return io_error("cannot write " + node_dir + "/" + node_file::kAbandoned);
        if (!ran) return not_started();
        ProcessId orphan = from_started(state, "step");
        if (orphan.pid > 0 && proc_start_time(orphan.pid) == orphan.start_time) ::kill(-orphan.pid, SIGKILL);
      }
      return report(collect(node_id, probe));
    }
    if (errno != EWOULDBLOCK) return io_error("cannot lock " + lock_path);
    read_attempt_state(node_dir + "/" + node_file::kState, &state);
    // A supervisor holds the lock. Its pid is in `state`, or, in the instant before it
    // wrote it there, in /proc/locks. If it ended meanwhile, the next round sees the lock free.
    ProcessId holder = from_started(state, "supervisor");
    if (holder.pid <= 0) holder.pid = flock_holder(lock.get());
    if (holder.start_time == 0) holder.start_time = proc_start_time(holder.pid);
    if (adopt(inv, holder)) return ok_status();
  }
  return Error(ErrorCode::kUnavailable, "cannot attach to step " + node_id + " (handle " + handle +
                                            "): its supervisor keeps changing state");
}

bool HostRunner::adopt(const StepInvocation& step, ProcessId supervisor) {
  UniqueFd pidfd(supervisor.pid > 0 ? pidfd_open(supervisor.pid) : -1);
  // Checked after opening the pidfd: if the start time still matches, the pidfd is that process.
  if (!pidfd.valid() || supervisor.start_time == 0 || proc_start_time(supervisor.pid) != supervisor.start_time)
    return false;
  track(step, std::move(pidfd), supervisor.pid);
  return true;
}

void HostRunner::signal(const std::string& node_id, int sig) {
  auto it = steps_.find(node_id);
  if (it == steps_.end() || !it->second.pidfd.valid()) return;
  if (sig == SIGTERM && !it->second.term_sent) {
    it->second.term_sent = true;
    it->second.kill_at = options_.clock->now() + std::chrono::seconds(it->second.invocation.termination_grace_seconds);
  }
  siginfo_t info{};
  info.si_signo = forward_signal();
  info.si_code = SI_QUEUE;
  info.si_pid = ::getpid();
  info.si_uid = ::getuid();
  info.si_value.sival_int = sig;
  // ESRCH: the supervisor just ended, the next poll() reports the step.
  if (::syscall(SYS_pidfd_send_signal, it->second.pidfd.get(), forward_signal(), &info, 0) != 0 && errno != ESRCH)
    log::warn("cannot signal step {}: {}", node_id, std::strerror(errno));
}

std::vector<int> HostRunner::wait_fds() const {
  std::vector<int> fds;
  if (wake_fd_.valid()) fds.push_back(wake_fd_.get());
  if (inotify_fd_.valid()) fds.push_back(inotify_fd_.get());
  if (notify_read_.valid()) fds.push_back(notify_read_.get());
  for (const auto& [id, s] : steps_)
    if (s.pidfd.valid()) fds.push_back(s.pidfd.get());
  return fds;
}

void HostRunner::wake() {
  uint64_t one = 1;
  if (wake_fd_.valid()) [[maybe_unused]] ssize_t n = ::write(wake_fd_.get(), &one, sizeof one);
}

void HostRunner::check_deadlines(WallTime now) {
  for (auto& [id, s] : steps_) {
    const auto& deadline = s.invocation.deadline;
    if (!s.term_sent && deadline && now >= *deadline) {
      // Recorded first, so an engine that restarts still reports the exit as the deadline's.
      write_file_replace(s.invocation.node_dir + "/" + node_file::kDeadline, format_rfc3339(now) + "\n");
      signal(id, SIGTERM);
      s.term_sent = true;
      s.kill_at = now + std::chrono::seconds(s.invocation.termination_grace_seconds);
    } else if (s.kill_at && now >= *s.kill_at) {
      signal(id, SIGKILL);
      s.kill_at.reset();
    }
  }
}

std::optional<WallTime> HostRunner::next_wakeup() const {
  std::optional<WallTime> next;
  for (const auto& [id, s] : steps_) {
    std::optional<WallTime> t = s.term_sent ? s.kill_at : s.invocation.deadline;
    if (t && (!next || *t < *next)) next = t;
  }
  return next;
}

std::vector<StepExit> HostRunner::poll() {
  uint64_t count;
  if (wake_fd_.valid()) [[maybe_unused]] ssize_t n = ::read(wake_fd_.get(), &count, sizeof count);
  std::vector<StepExit> out = std::move(ready_);
  ready_.clear();
  check_deadlines(options_.clock->now());
  if (inotify_fd_.valid()) {
    char events[4096];
    while (::read(inotify_fd_.get(), events, sizeof events) > 0) {
    }
  }
  for (auto& [id, s] : steps_) {
    if (!s.invocation.daemon || s.daemoned) continue;
    if (!exists(s.invocation.node_dir + "/" + kPodDir + "/" + pod_file::kReady)) continue;
    s.daemoned = true;
    StepExit e;
    e.node_id = id;
    e.kind = StepExit::Kind::kDaemoned;
    out.push_back(std::move(e));
  }

  // Steps whose supervisors announced their end: collected now, their supervisors' own
  // exits are of no further interest.
  std::set<std::string> announced;
  if (notify_read_.valid()) {
    std::string text;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(notify_read_.get(), buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
    if (!text.empty()) {
      std::set<std::string> tokens;
      for (const auto& t : split(text, '\n'))
        if (!t.empty()) tokens.insert(t);
      for (const auto& [id, s] : steps_)
        if (!s.token.empty() && tokens.count(s.token)) announced.insert(id);
    }
  }
  std::vector<struct pollfd> fds;
  std::vector<std::string> ids;
  for (const auto& [id, s] : steps_) {
    fds.push_back({s.pidfd.get(), POLLIN, 0});
    ids.push_back(id);
  }
  if (fds.empty() || (::poll(fds.data(), fds.size(), 0) <= 0 && announced.empty())) return out;
  for (size_t i = 0; i < fds.size(); ++i) {
    if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)) && !announced.count(ids[i])) continue;
    auto it = steps_.find(ids[i]);
    // Reaps it if it is our child (not so for one adopted after a restart: ECHILD).
    siginfo_t info{};
    ::waitid(P_PIDFD, static_cast<id_t>(it->second.pidfd.get()), &info, WEXITED | WNOHANG);
    out.push_back(collect(it->first, it->second));
    steps_.erase(it);
  }
  return out;
}

StepExit HostRunner::collect(const std::string& node_id, const Step& step) const {
  const StepInvocation& inv = step.invocation;
  const std::string& dir = inv.node_dir;
  StepExit e;
  e.node_id = node_id;
  e.stdout_path = dir + "/" + node_file::kStdout;
  AttemptState state;
  bool ended = read_attempt_state(dir + "/" + node_file::kState, &state) && state.ended;
  const Record& r = state.end;
  if (ended && r.get("view") == "shared") {
    e.output_host_paths = shared_view_outputs(inv.output_paths);
  } else {
    std::vector<MountSpec> mounts;
    for (const auto& m : inv.mounts) mounts.push_back({m.path, m.host_path, m.read_only});
    e.output_host_paths = plan_view(dir, mounts, inv.output_paths, inv.script.has_value(), inv.output_files).outputs;
  }
  if (!ended) {
    e.kind = StepExit::Kind::kLost;
    e.message = exists(dir + "/" + node_file::kAbandoned)
                    ? "lost"
                    : "lost: the step's supervisor ended without recording how the step ended";
    return e;
  }
  if (r.get("kind") == "start_failed") {
    e.kind = StepExit::Kind::kStartFailed;
    e.message = r.get("message");
  } else {
    e.kind = exists(dir + "/" + node_file::kDeadline) ? StepExit::Kind::kDeadline : StepExit::Kind::kExited;
    std::string message;
    if (inv.is_pod() && read_whole_file(dir + "/" + kPodDir + "/" + pod_file::kMessage, &message)) {
      e.message = std::string(trim(message));
      e.pod_message = true;
    }
    std::string status, why;
    Record containers;
    if (!inv.container_set.empty() && read_whole_file(dir + "/" + kPodDir + "/" + pod_file::kStatus, &status) &&
        Record::decode(status, &containers, &why))
      for (const auto& line : containers.all("exit")) {
        size_t sp = line.rfind(' ');
        if (sp != std::string::npos) e.container_exits.emplace_back(line.substr(0, sp), std::atoi(line.c_str() + sp + 1));
      }
  }
  e.exit_code = static_cast<int>(r.get_int("code", -1));
  if (long long us = r.get_int("started_us")) e.started_at = from_us(us);
  if (long long us = r.get_int("finished_us")) e.finished_at = from_us(us);
  return e;
}

}  // namespace tether::exec
