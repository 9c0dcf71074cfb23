// tether-supervise NODE_DIR: runs one step and records how it ended, independently of the
// engine that started it (as podman's conmon does). The engine may be killed at any moment;
// this process is in its own session and keeps pumping the step's output into NODE_DIR and
// records in NODE_DIR/state how the step ended. See layout.h for the files.
//
// Kept small on purpose (libc and libstdc++ only): it starts once per step.
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <string>

#include "exec/layout.h"
#include "exec/log_pump.h"
#include "exec/pod.h"
#include "exec/record.h"
#include "exec/sandbox.h"

namespace tether::exec {
namespace {

std::string rfc3339_us(long long us) {
  struct timespec ts = {static_cast<time_t>(us / 1000000), 0};
  return rfc3339_nano(ts);
}

// The node directory whose supervisor.log gets complaints. The file is created on the first
// one: most supervisors have nothing to say, and every file created costs a step start.
std::string g_log_dir;

void complain(const std::string& what) {
  std::string line = "tether-supervise: " + what + "\n";
  int fd = g_log_dir.empty()
               ? -1
               : ::open((g_log_dir + "/" + node_file::kSupervisorLog).c_str(),
                        O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  [[maybe_unused]] ssize_t n = ::write(fd >= 0 ? fd : 2, line.data(), line.size());
  if (fd >= 0) ::close(fd);
}

struct ChildStart {
  const std::string* dir;
  const StepSpec* spec;
  const ViewPlan* plan;
  ChildIo io;
  int status_read;
};

int step_child_main(void* arg) {
  auto* c = static_cast<ChildStart*>(arg);
  ::close(c->status_read);
  run_step_child(*c->dir, *c->spec, *c->plan, c->io);
}

class Supervisor {
 public:
  // inline_spec: the spec as the launcher handed it over; empty: read node_dir/spec.
  Supervisor(std::string node_dir, std::string token, std::string inline_spec = {}, int notify_fd = -1)
      : dir_(std::move(node_dir)), token_(std::move(token)), inline_spec_(std::move(inline_spec)), notify_fd_(notify_fd) {
    g_log_dir = dir_;
  }

  int run() {
    if (!lock()) return 1;
    // Under the lock, so attach() cannot mark the node abandoned between this check and the
    // fork: either it wrote `abandoned` first and we never run the step, or it finds the lock
    // held and waits for us.
    if (::access(path(node_file::kAbandoned).c_str(), F_OK) == 0) {
      complain("the node was abandoned by the engine; not starting the step");
      return 0;
    }
    // A supervisor of this same attempt got here first (one forked by a launcher that died
    // before it could say so, and one started directly in its place): it ran the step.
    if (::access(path(node_file::kState).c_str(), F_OK) == 0) {
      complain("another supervisor of this attempt started the step; not starting it again");
      return 0;
    }
    started_us_ = now_us();
    std::string spec_text, why;
    // node_dir/spec, when there is one, is the current attempt's: a spec handed over with
    // another token is an earlier attempt's, which the engine has since replaced.
    bool from_file = read_whole_file(path(node_file::kSpec), &spec_text);
    if (!from_file) {
      if (errno != ENOENT || inline_spec_.empty())
        return errno == ENOENT ? (complain("there is no step spec for this attempt; not starting the step"), 0)
                               : record_start_failure("cannot read the step spec: " + std::string(std::strerror(errno)));
      spec_text = std::move(inline_spec_);
    }
    if (spec_text.empty()) {
      // The supervisor of a later attempt took it (and emptied it) first.
      complain("the step spec is gone: another attempt took it; not starting the step");
      return 0;
    }
    if (!decode_spec(spec_text, &spec_, &why)) return record_start_failure("invalid step spec: " + why);
    if (spec_.token != token_) {
      complain("the step spec is for another attempt; not starting it");
      return 0;
    }
    // It holds the step's environment, Secret values included: they live on in memory only.
    // Emptied, not removed: on ext4 without a journal, an inode freed per step makes every
    // later file creation skip it for a while, and a step creates several.
    if (from_file) (void)!::truncate(path(node_file::kSpec).c_str(), 0);
    plan_ = plan_view(dir_, spec_.mounts, spec_.outputs, spec_.script, spec_.output_files);
    if (::mkdir(path(node_file::kTmp).c_str(), 01777) != 0 && errno != EEXIST)
      return record_start_failure("cannot create " + path(node_file::kTmp) + ": " + std::strerror(errno));
    if (!open_state()) return record_start_failure("cannot create " + path(node_file::kState) + ": " + std::strerror(errno));
    if (::pipe2(out_, O_CLOEXEC) != 0 || ::pipe2(err_, O_CLOEXEC) != 0)
      return record_start_failure(std::string("pipe: ") + std::strerror(errno));
    if (!spawn()) return 1;
    pump();
    if (int err = logs_.error()) complain("cannot write the step's output in " + dir_ + ": " + std::strerror(err));
    remove_unwritten_placeholders(plan_);
    return record_exit() ? 0 : 1;
  }

 private:
  std::string path(const char* name) const { return dir_ + "/" + name; }

  bool lock() {
    lock_fd_ = open_node_lock(dir_);
    while (lock_fd_ >= 0 && ::flock(lock_fd_, LOCK_EX) != 0) {
      if (errno != EINTR) {
        complain("cannot lock " + dir_ + ": " + std::strerror(errno));
        return false;
      }
    }
    if (lock_fd_ < 0) complain("cannot open " + dir_ + ": " + std::strerror(errno));
    return lock_fd_ >= 0;
  }

  // Created under the lock before the step can run: from then on no supervisor, of this
  // attempt or after an engine restart, may start it again.
  bool open_state() {
    state_fd_ = ::open(path(node_file::kState).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    return state_fd_ >= 0;
  }

  // At offset 0, whole: the start fields again, unchanged, then whatever follows them. A
  // reader catching it half written decodes a prefix of it, never a mix of two versions.
  bool write_state(const std::string& text) {
    if (state_fd_ < 0) state_fd_ = ::open(path(node_file::kState).c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    size_t off = 0;
    while (state_fd_ >= 0 && off < text.size()) {
      ssize_t n = ::pwrite(state_fd_, text.data() + off, text.size() - off, static_cast<off_t>(off));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return state_fd_ >= 0;
  }

  bool spawn() {
    int status[2];
    if (::pipe2(status, O_CLOEXEC) != 0) {
      record_start_failure(std::string("pipe: ") + std::strerror(errno));
      return false;
    }
    ChildStart start{&dir_, &spec_, &plan_, ChildIo{out_[1], err_[1], status[1], lock_fd_, ::getpid()}, status[0]};
    // As posix_spawn does: the child shares our memory until it execs, so no page tables are
    // copied, and runs on a stack of its own; CLONE_VFORK holds us until it has exec'ed or
    // failed. Its descriptors are its own copy.
    constexpr size_t kStack = 1 << 20;
    void* stack = ::mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
      record_start_failure(std::string("mmap: ") + std::strerror(errno));
      return false;
    }
    step_pid_ = ::clone(step_child_main, static_cast<char*>(stack) + kStack, CLONE_VM | CLONE_VFORK | SIGCHLD, &start);
    int clone_errno = errno;
    ::munmap(stack, kStack);
    if (step_pid_ < 0) {
      record_start_failure(std::string("clone: ") + std::strerror(clone_errno));
      return false;
    }
    ::close(status[1]);
    ::close(out_[1]);
    ::close(err_[1]);
    write_started();
    // Blocks until the child execs (end of file) or reports why it could not.
    std::string report;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(status[0], buf, sizeof buf)) != 0) {
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;
      report.append(buf, static_cast<size_t>(n));
    }
    ::close(status[0]);
    shared_view_ = !spec_.private_view;
    if (!report.empty() && report[0] == kSharedViewFlag) {
      shared_view_ = true;
      report.erase(0, 1);
    }
    if (report.empty()) {
      // Holding the step's mount namespace keeps its teardown (unmounting every copied mount
      // waits for an RCU grace period) out of the step's exit, which we wait for, until
      // after its end is announced.
      if (!shared_view_ && notify_fd_ >= 0)
        view_fd_ = ::open(("/proc/" + std::to_string(step_pid_) + "/ns/mnt").c_str(), O_RDONLY | O_CLOEXEC);
      return true;
    }
    int ws;
    while (::waitpid(step_pid_, &ws, 0) < 0 && errno == EINTR) {
    }
    drain_after_failure();
    record_start_failure(report.substr(1));
    return false;
  }

  void drain_after_failure() {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(err_[0], buf, sizeof buf)) > 0) logs_.feed(2, buf, static_cast<size_t>(n));
    logs_.finish(2);
  }

  void write_started() {
    Record r;
    r.add("supervisor_pid", ::getpid());
    r.add("supervisor_start", proc_start_time(::getpid()));
    r.add("step_pid", step_pid_);
    r.add("step_start", proc_start_time(step_pid_));
    r.add("started_us", started_us_);
    r.add("time", rfc3339_us(started_us_));
    // A reader that catches it half written finds no supervisor pid and looks the lock's
    // holder up instead, as it does before the fields are there.
    std::string text = r.encode();
    if (write_state(text))
      state_start_ = std::move(text);
    else
      complain("cannot write " + path(node_file::kState) + ": " + std::strerror(errno));
  }

  // Signals sent to the supervisor (directly, or forwarded by the runner) go to the step's
  // process group while the step is alive and unreaped, so its pid cannot have been reused.
  void forward(const signalfd_siginfo& si) {
    if (exited_ || static_cast<int>(si.ssi_signo) == SIGCHLD) return;
    int sig = static_cast<int>(si.ssi_signo) == forward_signal() ? si.ssi_int : static_cast<int>(si.ssi_signo);
    if (sig == SIGHUP) return;
    if (sig > 0 && sig < NSIG) ::kill(-step_pid_, sig);
  }

  void pump() {
    struct pollfd fds[3] = {{out_[0], POLLIN, 0}, {err_[0], POLLIN, 0}, {sig_fd_, POLLIN, 0}};
    long long drain_until = 0;
    char buf[65536];
    while (fds[0].fd >= 0 || fds[1].fd >= 0 || !exited_) {
      int timeout = -1;
      if (exited_) {
        // Output of processes that escaped the step's group (and keep its pipes) is not waited for.
        long long left = drain_until - now_us();
        if (left <= 0) break;
        timeout = static_cast<int>(left / 1000) + 1;
      }
      int n = ::poll(fds, 3, timeout);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;
      for (int s = 0; s < 2; ++s) {
        if (fds[s].fd < 0 || !(fds[s].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        ssize_t r = ::read(fds[s].fd, buf, sizeof buf);
        if (r > 0) {
          logs_.feed(s + 1, buf, static_cast<size_t>(r));
        } else if (r == 0 || errno != EINTR) {
          logs_.finish(s + 1);
          ::close(fds[s].fd);
          fds[s].fd = -1;
        }
      }
      signalfd_siginfo si;
      if (fds[2].revents & POLLIN && ::read(sig_fd_, &si, sizeof si) == sizeof si) forward(si);
      if (!exited_ && step_ended()) {
        reap();
        drain_until = now_us() + 1000000;
      }
    }
    for (int s = 0; s < 2; ++s) logs_.finish(s + 1);
  }

  // Looks without reaping: the zombie leader keeps the step's process group id from being
  // reused until reap() has killed what is left of the group.
  bool step_ended() const {
    siginfo_t info{};
    return ::waitid(P_PID, static_cast<id_t>(step_pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid != 0;
  }

  void reap() {
    ::kill(-step_pid_, SIGKILL);
    int ws = 0;
    while (::waitpid(step_pid_, &ws, 0) < 0 && errno == EINTR) {
    }
    finished_us_ = now_us();
    exit_code_ = WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : WEXITSTATUS(ws);
    exited_ = true;
    kill_escaped();
  }

  // As a subreaper we inherit every orphan of the step, including daemons that left its
  // process group (setsid): like a container's, a step's processes end with its main process.
  // Bounded, so a process stuck in the kernel cannot keep the exit from being recorded.
  void kill_escaped() {
    const std::string children = "/proc/self/task/" + std::to_string(::getpid()) + "/children";
    const long long until = now_us() + 1000000;
    std::string list;
    while (read_whole_file(children, &list) && list.find_first_not_of(' ') != std::string::npos) {
      for (char* p = list.data(); *p;) {
        char* end;
        long pid = std::strtol(p, &end, 10);
        if (end == p) break;
        if (pid > 0) ::kill(static_cast<pid_t>(pid), SIGKILL);
        p = end;
      }
      while (::waitpid(-1, nullptr, WNOHANG) > 0) {
      }
      long long left = until - now_us();
      if (left <= 0) break;
      struct pollfd pfd = {sig_fd_, POLLIN, 0};
      if (::poll(&pfd, 1, static_cast<int>(left / 1000) + 1) > 0) {
        signalfd_siginfo si;
        [[maybe_unused]] ssize_t n = ::read(sig_fd_, &si, sizeof si);
      }
    }
  }

  Record exit_record(const char* kind) const {
    Record r;
    r.add("kind", kind);
    r.add("view", shared_view_ ? "shared" : "private");
    r.add("started_us", started_us_);
    r.add("finished_us", finished_us_ ? finished_us_ : now_us());
    return r;
  }

  // Nobody reads the end fields while we hold the lock, or before we have announced them or
  // ended, and end fields cut short by our death do not decode, which reads as "lost", as
  // none at all would.
  bool write_exit(const Record& r) { return write_state(state_start_ + r.encode()); }

  // The end is recorded: the runner may collect the step now (launcher.h). What is left, our
  // exit and the teardown of the step's mount namespace, happens after.
  void announce() {
    if (notify_fd_ < 0) return;
    std::string line = token_ + "\n";
    [[maybe_unused]] ssize_t n = ::write(notify_fd_, line.data(), line.size());
    ::close(notify_fd_);
    notify_fd_ = -1;
    if (view_fd_ >= 0) ::close(view_fd_);
    view_fd_ = -1;
  }

  bool record_exit() {
    Record r = exit_record("exited");
    r.add("code", exit_code_);
    if (write_exit(r)) return announce(), true;
    complain("cannot write " + path(node_file::kState) + ": " + std::strerror(errno));
    return false;
  }

  int record_start_failure(const std::string& message) {
    Record r = exit_record("start_failed");
    r.add("code", 127);
    r.add("message", message);
    if (write_exit(r)) return announce(), 0;
    complain("cannot write " + path(node_file::kState) + ": " + std::strerror(errno));
    return 1;
  }

 public:
  bool block_signals() {
    sigset_t set = supervisor_signals();
    ::signal(SIGPIPE, SIG_IGN);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    sig_fd_ = ::signalfd(-1, &set, SFD_CLOEXEC);
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    return sig_fd_ >= 0;
  }

 private:
  std::string dir_, token_, inline_spec_;
  StepSpec spec_;
  ViewPlan plan_;
  LogPump logs_{LogFile::create_on_write(dir_ + "/" + node_file::kLog),
                LogFile::create_on_write(dir_ + "/" + node_file::kStdout)};
  std::string state_start_;  // the start fields as written
  int lock_fd_ = -1, state_fd_ = -1, sig_fd_ = -1;
  int notify_fd_ = -1, view_fd_ = -1;
  int out_[2] = {-1, -1}, err_[2] = {-1, -1};
  pid_t step_pid_ = -1;
  bool exited_ = false, shared_view_ = false;
  int exit_code_ = 0;
  long long started_us_ = 0, finished_us_ = 0;
};

}  // namespace
}  // namespace tether::exec

namespace tether::exec {
namespace {

// What posix_spawn gives a supervisor started by the engine, done by hand after a fork: its
// own process group (in the launcher's session, which has no terminal: a session of its own
// would cost a scheduler autogroup per step and isolate nothing more), the signals it handles blocked (inherited from the launcher) and the others
// at their defaults, /dev/null as stdin and stdout, no other descriptor. Its stderr stays
// the launcher's (the engine's log) for what only the C library or a sanitizer would say;
// its own complaints go to node_dir/supervisor.log.
// Whether the runner gave the launcher a notification pipe (kNotifyFd).
bool g_have_notify = false;

int supervise_forked(const std::string& dir, const std::string& token, std::string inline_spec) {
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD}) ::signal(sig, SIG_DFL);
  ::setpgid(0, 0);
  int null_in = ::open("/dev/null", O_RDONLY);
  int null_out = ::open("/dev/null", O_WRONLY);
  if (null_in < 0 || null_out < 0 || ::dup2(null_in, 0) < 0 || ::dup2(null_out, 1) < 0) return 1;
  // The launcher's socket and everything else go; the notification pipe stays, close-on-exec
  // so that the step never holds it.
  ::close(3);
  ::syscall(SYS_close_range, static_cast<unsigned>(kNotifyFd) + 1, ~0U, 0U);
  int notify = g_have_notify ? kNotifyFd : -1;
  if (notify >= 0) ::fcntl(notify, F_SETFD, FD_CLOEXEC);
  Supervisor supervisor(dir, token, std::move(inline_spec), notify);
  if (!supervisor.block_signals()) {
    complain(std::string("signalfd: ") + std::strerror(errno));
    return 1;
  }
  return supervisor.run();
}

bool send_reply(int sock, const std::string& text, int fd) {
  struct iovec iov = {const_cast<char*>(text.data()), text.size()};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  return ::sendmsg(sock, &msg, MSG_NOSIGNAL) == static_cast<ssize_t>(text.size());
}

// The launcher (launcher.h has the protocol): forks one supervisor per request. A fork of
// this small process costs far less than an exec of a new one, and the pidfd from
// CLONE_PIDFD names the child even if it has already ended when the engine reads the reply.
int run_launcher(int sock) {
  // Supervisors report through their node directories, never through a wait status: let
  // the kernel reap them.
  ::signal(SIGCHLD, SIG_IGN);
  ::signal(SIGPIPE, SIG_IGN);
  for (int sig : {SIGINT, SIGHUP, SIGQUIT}) ::signal(sig, SIG_IGN);
  sigset_t set = supervisor_signals();
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  // The C library reads the time zone database at its first time conversion; done here once,
  // every supervisor forked from us has it already.
  ::tzset();
  std::string buf;
  for (;;) {
    // Each request is one message: its size first, so a spec handed over whole fits.
    ssize_t size = ::recv(sock, nullptr, 0, MSG_PEEK | MSG_TRUNC);
    if (size == 0) return 0;
    if (size < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    buf.resize(static_cast<size_t>(size));
    ssize_t n = ::recv(sock, buf.data(), buf.size(), 0);
    if (n == 0) return 0;  // the engine closed its end: nothing more will come
    if (n < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    std::string request(buf.data(), static_cast<size_t>(n));
    size_t nl = request.find('\n');
    if (nl == std::string::npos || request[0] != '/') {
      send_reply(sock, "error: malformed request", -1);
      continue;
    }
    std::string dir = request.substr(0, nl), token = request.substr(nl + 1), inline_spec;
    if (size_t nl2 = token.find('\n'); nl2 != std::string::npos) {
      inline_spec = token.substr(nl2 + 1);
      token.resize(nl2);
    }
    int pidfd = -1;
    // struct clone_args of linux/sched.h, whose macros clash with glibc's <sched.h>.
    struct {
      uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
    } args{};
    args.flags = CLONE_PIDFD;
    args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
    args.exit_signal = SIGCHLD;
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) ::_exit(supervise_forked(dir, token, std::move(inline_spec)));
    if (pid < 0) {
      send_reply(sock, std::string("error: fork: ") + std::strerror(errno), -1);
      continue;
    }
    // Read here, not by the engine: this process has a core of its own to spare while the
    // engine prepares the next step.
    send_reply(sock, std::to_string(pid) + " " + std::to_string(proc_start_time(static_cast<pid_t>(pid))), pidfd);
    ::close(pidfd);
  }
}

}  // namespace
}  // namespace tether::exec

int main(int argc, char** argv) {
  if (argc >= 4 && std::strcmp(argv[1], tether::exec::kPodFlag) == 0) return tether::exec::run_pod(argc - 2, argv + 2);
  if (argc == 2 && std::strcmp(argv[1], tether::exec::kLauncherFlag) == 0) {
    // The engine passes its end of a socket pair as fd 3, and may pass a pipe as fd 4.
    struct stat st;
    tether::exec::g_have_notify = ::fstat(tether::exec::kNotifyFd, &st) == 0 && S_ISFIFO(st.st_mode);
    ::syscall(SYS_close_range, tether::exec::g_have_notify ? 5U : 4U, ~0U, 0U);
    return tether::exec::run_launcher(3);
  }
  if (argc != 3 || argv[1][0] != '/') {
    std::fputs("usage: tether-supervise /absolute/node_dir token\n", stderr);
    return 2;
  }
  // The engine's descriptors are none of the step's business.
  ::syscall(SYS_close_range, 3U, ~0U, 0U);
  tether::exec::Supervisor supervisor(argv[1], argv[2]);
  if (!supervisor.block_signals()) {
    tether::exec::complain(std::string("signalfd: ") + std::strerror(errno));
    return 1;
  }
  return supervisor.run();
}
