// The pod helper (pod.h): init containers in order, then sidecars, then the main container
// or a containerSet's graph; a daemon's readiness probe; sidecars stopped when main ends.
// Runs inside the step's view, as the step's process, under the step's supervisor.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "exec/log_pump.h"
#include "exec/pod.h"
#include "exec/record.h"

extern char** environ;

namespace tether::exec {
namespace {

struct Container {
  std::string role;  // init, sidecar, main, set
  std::string name;
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string workdir;
  std::vector<std::string> deps;
  // Run state.
  pid_t pid = -1;
  int out = -1, err = -1;  // pipes to its log (not for main)
  std::unique_ptr<LogPump> pump;
  int log_fd = -1;
  bool started = false, ended = false;
  int code = 0;
  int attempts = 0;
  long long restart_at_us = 0;
};

struct Probe {
  std::string kind;
  std::vector<std::string> argv;
  std::string path = "/";
  int port = 0;
  long long initial_us = 0, period_us = 10000000, timeout_us = 1000000;
};

std::string g_dir;

void write_message(const std::string& text) {
  write_file_replace(g_dir + "/" + pod_file::kMessage, text + "\n");
}

// As the supervisor starts a step: own process group (signals reach one container), the
// signals the helper handles unblocked again, the container's environment and directory.
pid_t spawn(const Container& c, int out, int err, const std::vector<std::string>& extra = {}) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  ::setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGCHLD}) ::signal(sig, SIG_DFL);
  if (out >= 0) ::dup2(out, 1);
  if (err >= 0) ::dup2(err, 2);
  if (!c.workdir.empty() && ::chdir(c.workdir.c_str()) != 0) {
    ::mkdir(c.workdir.c_str(), 0755);
    if (::chdir(c.workdir.c_str()) != 0) {
      std::fprintf(stderr, "failed to start %s: working directory %s: %s\n", c.name.c_str(), c.workdir.c_str(),
                   std::strerror(errno));
      ::_exit(127);
    }
  }
  std::vector<std::string> args = c.argv;
  args.insert(args.end(), extra.begin(), extra.end());
  if (args.empty()) {
    std::fprintf(stderr, "failed to start %s: no command\n", c.name.c_str());
    ::_exit(127);
  }
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = c.env;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  // execvp searches the PATH of the environment it runs in: the container's.
  environ = envp.data();
  ::execvp(argv[0], argv.data());
  std::fprintf(stderr, "failed to start %s: command \"%s\": %s\n", c.name.c_str(), argv[0], std::strerror(errno));
  ::_exit(errno == ENOENT ? 127 : 126);
}

bool connect_local(int port, long long timeout_us, int* fd_out) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  struct timeval tv = {static_cast<time_t>(timeout_us / 1000000), static_cast<suseconds_t>(timeout_us % 1000000)};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  struct sockaddr_in addr {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return false;
  }
  *fd_out = fd;
  return true;
}

// Kubernetes' httpGet probe: any status from 200 to 399 is ready.
bool http_ready(const Probe& p) {
  int fd;
  if (!connect_local(p.port, p.timeout_us, &fd)) return false;
  std::string req = "GET " + p.path + " HTTP/1.0\r\nHost: 127.0.0.1:" + std::to_string(p.port) +
                    "\r\nUser-Agent: kube-probe/tether\r\n\r\n";
  bool ok = ::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size());
  std::string head;
  char buf[256];
  while (ok && head.find('\n') == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    head.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  int status = 0;
  if (std::sscanf(head.c_str(), "HTTP/%*s %d", &status) != 1) return false;
  return status >= 200 && status < 400;
}

class Pod {
 public:
  int run(const std::string& dir, const std::vector<std::string>& extra) {
    g_dir = dir;
    extra_ = extra;
    std::string text, why;
    Record r;
    if (!read_whole_file(dir + "/" + pod_file::kSpec, &text) || !Record::decode(text, &r, &why)) {
      std::fprintf(stderr, "tether pod: cannot read %s/%s\n", dir.c_str(), pod_file::kSpec);
      return 127;
    }
    (void)!::truncate((dir + "/" + pod_file::kSpec).c_str(), 0);  // its environments: in memory only
    if (!parse(r)) return 127;
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, sig);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
    sig_fd_ = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);

    // Init containers, one after the other; the first that fails decides the pod.
    for (auto& c : containers_) {
      if (c.role != "init") continue;
      start(c);
      while (!c.ended && !terminated_) step(-1);
      if (terminated_) return finish(143);
      if (c.code != 0) {
        write_message(c.name + ": Error (exit code " + std::to_string(c.code) + ")");
        return finish(c.code);
      }
    }
    for (auto& c : containers_)
      if (c.role == "sidecar") start(c);
    int code = has_set_ ? run_set() : run_main();
    stop_sidecars();
    return finish(code);
  }

 private:
  bool parse(const Record& r) {
    grace_us_ = r.get_int("grace", 30) * 1000000LL;
    daemon_ = r.get_int("daemon") != 0;
    retries_ = static_cast<int>(r.get_int("retries"));
    retry_delay_us_ = r.get_int("retry_delay_ms") * 1000;
    for (const auto& text : r.all("container")) {
      Record c;
      std::string why;
      if (!Record::decode(text, &c, &why)) return false;
      Container k;
      k.role = c.get("role");
      k.name = c.get("name");
      k.argv = c.all("argv");
      k.env = c.all("env");
      k.workdir = c.get("workdir");
      k.deps = c.all("dep");
      has_set_ = has_set_ || k.role == "set";
      containers_.push_back(std::move(k));
    }
    std::string probe = r.get("probe");
    if (!probe.empty()) {
      Record p;
      std::string why;
      if (!Record::decode(probe, &p, &why)) return false;
      probe_.kind = p.get("kind");
      probe_.argv = p.all("argv");
      probe_.path = p.get("path", "/");
      probe_.port = static_cast<int>(p.get_int("port"));
      probe_.initial_us = p.get_int("initial") * 1000000LL;
      probe_.period_us = std::max(1LL, p.get_int("period", 10)) * 1000000LL;
      probe_.timeout_us = std::max(1LL, p.get_int("timeout", 1)) * 1000000LL;
    }
    return true;
  }

  // The main container writes to the step's own stdout and stderr (the supervisor makes
  // them main.log and outputs.result); the others to their own logs.
  void start(Container& c) {
    bool main = c.role == "main" || (c.role == "set" && c.name == "main");
    int out = -1, err = -1;
    if (!main) {
      int o[2], e[2];
      if (c.log_fd < 0)
        c.log_fd = ::open((g_dir + "/" + c.name + ".log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
      if (::pipe2(o, O_CLOEXEC) == 0 && ::pipe2(e, O_CLOEXEC) == 0) {
        // Our ends never block: a process that escaped the container may keep its pipe open.
        ::fcntl(o[0], F_SETFL, O_NONBLOCK);
        ::fcntl(e[0], F_SETFL, O_NONBLOCK);
        c.out = o[0];
        c.err = e[0];
        out = o[1];
        err = e[1];
      }
      c.pump = std::make_unique<LogPump>(LogFile::open_fd(c.log_fd), LogFile());
    }
    c.pid = spawn(c, out, err, c.role == "main" ? extra_ : std::vector<std::string>{});
    if (out >= 0) ::close(out);
    if (err >= 0) ::close(err);
    c.started = true;
    c.ended = false;
    ++c.attempts;
  }

  // One round of waiting: container output, ended children, signals; at most timeout_ms.
  void step(int timeout_ms) {
    std::vector<struct pollfd> fds;
    std::vector<std::pair<Container*, int>> who;
    for (auto& c : containers_)
      for (int s = 0; s < 2; ++s) {
        int fd = s == 0 ? c.out : c.err;
        if (fd < 0) continue;
        fds.push_back({fd, POLLIN, 0});
        who.emplace_back(&c, s + 1);
      }
    fds.push_back({sig_fd_, POLLIN, 0});
    int n = ::poll(fds.data(), fds.size(), timeout_ms);
    if (n < 0 && errno != EINTR) return;
    char buf[65536];
    for (size_t i = 0; i + 1 < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      auto [c, stream] = who[i];
      int& fd = stream == 1 ? c->out : c->err;
      ssize_t r = ::read(fd, buf, sizeof buf);
      if (r > 0) {
        c->pump->feed(stream, buf, static_cast<size_t>(r));
      } else if (r == 0 || errno != EINTR) {
        c->pump->finish(stream);
        ::close(fd);
        fd = -1;
      }
    }
    signalfd_siginfo si;
    while (::read(sig_fd_, &si, sizeof si) == sizeof si) {
      int sig = static_cast<int>(si.ssi_signo);
      if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
        // A stop: every container that runs gets it, as the kubelet signals every container.
        terminated_ = true;
        for (auto& c : containers_)
          if (c.started && !c.ended) ::kill(-c.pid, sig);
      }
    }
    reap();
  }

  void reap() {
    int ws;
    pid_t pid;
    while ((pid = ::waitpid(-1, &ws, WNOHANG)) > 0) {
      if (pid == probe_pid_) {
        probe_pid_ = -1;
        if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0) mark_ready();
        continue;
      }
      for (auto& c : containers_)
        if (c.pid == pid && !c.ended) {
          c.ended = true;
          c.code = WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : WEXITSTATUS(ws);
          // What is left in its group (a background job) ends with it, as in a container.
          ::kill(-pid, SIGKILL);
        }
    }
  }

  void mark_ready() {
    if (ready_) return;
    ready_ = true;
    write_file_replace(g_dir + "/" + pod_file::kReady, rfc3339_nano_now() + "\n");
  }

  static std::string rfc3339_nano_now() {
    struct timespec ts;
    ::clock_gettime(CLOCK_REALTIME, &ts);
    return rfc3339_nano(ts);
  }

  // A daemon is ready once its main container runs and, with a probe, once the probe passes.
  void probe_round(long long now) {
    if (ready_ || now < next_probe_us_) return;
    next_probe_us_ = now + probe_.period_us;
    if (probe_.kind == "httpGet") {
      if (http_ready(probe_)) mark_ready();
    } else if (probe_.kind == "tcpSocket") {
      int fd;
      if (connect_local(probe_.port, probe_.timeout_us, &fd)) {
        ::close(fd);
        mark_ready();
      }
    } else if (probe_.kind == "exec" && probe_pid_ < 0) {
      Container c;
      c.name = "readinessProbe";
      c.argv = probe_.argv;
      for (const auto& m : containers_)
        if (m.role == "main") c.env = m.env;
      int null_fd = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
      probe_pid_ = spawn(c, null_fd, null_fd);
      probe_deadline_us_ = now + probe_.timeout_us;
      if (null_fd >= 0) ::close(null_fd);
    }
    if (probe_pid_ > 0 && now >= probe_deadline_us_) ::kill(-probe_pid_, SIGKILL);
  }

  int run_main() {
    Container* main = nullptr;
    for (auto& c : containers_)
      if (c.role == "main") main = &c;
    if (!main) return 127;
    start(*main);
    long long started = now_us();
    if (daemon_ && probe_.kind.empty()) mark_ready();
    next_probe_us_ = started + probe_.initial_us;
    while (!main->ended) {
      int timeout = -1;
      if (daemon_ && !ready_ && !probe_.kind.empty()) {
        long long now = now_us();
        probe_round(now);
        long long next = probe_pid_ > 0 ? std::min(next_probe_us_, probe_deadline_us_) : next_probe_us_;
        timeout = static_cast<int>(std::max(0LL, next - now) / 1000) + 1;
      }
      step(timeout);
    }
    return main->code;
  }

  // A containerSet: each container starts once its dependencies succeeded; one whose
  // dependency failed never starts. The set's retryStrategy restarts a failed container.
  int run_set() {
    for (;;) {
      bool progress = true;
      while (progress) {
        progress = false;
        for (auto& c : containers_) {
          if (c.role != "set" || c.started) continue;
          bool ready = true, blocked = false;
          for (const auto& d : c.deps)
            for (const auto& o : containers_)
              if (o.role == "set" && o.name == d) {
                if (!settled(o)) ready = false;
                else if (o.code != 0) blocked = true;
              }
          if (blocked) {
            c.started = c.ended = true;
            c.code = -1;  // never ran
            progress = true;
          } else if (ready && !terminated_) {
            start(c);
          }
        }
      }
      long long now = now_us();
      long long wake = 0;
      bool running = false;
      for (auto& c : containers_) {
        if (c.role != "set") continue;
        if (c.started && !c.ended) running = true;
        if (c.ended && c.code > 0 && c.pid > 0 && c.attempts <= retries_ && !terminated_) {
          if (c.restart_at_us == 0) c.restart_at_us = now + retry_delay_us_;
          if (now >= c.restart_at_us) {
            c.restart_at_us = 0;
            start(c);
            running = true;
          } else {
            wake = wake == 0 ? c.restart_at_us : std::min(wake, c.restart_at_us);
          }
        }
      }
      if (!running && wake == 0) break;
      step(wake == 0 ? -1 : static_cast<int>((wake - now) / 1000) + 1);
    }
    for (auto& c : containers_)
      if (c.role == "set" && c.code > 0) {
        write_message(c.name + ": Error (exit code " + std::to_string(c.code) + ")");
        return c.code;
      }
    return terminated_ ? 143 : 0;
  }

  // Ended for good: succeeded, never ran, or failed with no retry left.
  bool settled(const Container& c) const {
    return c.ended && (c.code <= 0 || c.attempts > retries_ || terminated_);
  }

  // Argo's wait container kills sidecars once main is done: SIGTERM, SIGKILL after the grace.
  void stop_sidecars() {
    bool any = false;
    for (auto& c : containers_)
      if (c.role == "sidecar" && c.started && !c.ended) {
        ::kill(-c.pid, SIGTERM);
        any = true;
      }
    long long until = now_us() + grace_us_;
    while (any) {
      any = false;
      for (auto& c : containers_) any = any || (c.role == "sidecar" && c.started && !c.ended);
      if (!any) break;
      long long left = until - now_us();
      if (left <= 0) {
        for (auto& c : containers_)
          if (c.role == "sidecar" && c.started && !c.ended) ::kill(-c.pid, SIGKILL);
        until = now_us() + 1000000000LL;
      }
      step(left > 0 ? static_cast<int>(left / 1000) + 1 : 100);
    }
  }

  int finish(int code) {
    if (probe_pid_ > 0) ::kill(-probe_pid_, SIGKILL);
    // How each of a containerSet's containers ended (-1: never ran), for its Container node.
    if (has_set_) {
      Record status;
      for (const auto& c : containers_)
        if (c.role == "set") status.add("exit", c.name + " " + std::to_string(c.started && c.pid > 0 ? c.code : -1));
      write_file_replace(g_dir + "/" + pod_file::kStatus, status.encode());
    }
    // Drain what the containers wrote last.
    for (auto& c : containers_)
      for (int* fd : {&c.out, &c.err}) {
        if (*fd < 0) continue;
        char buf[65536];
        ssize_t n;
        while ((n = ::read(*fd, buf, sizeof buf)) > 0) c.pump->feed(fd == &c.out ? 1 : 2, buf, static_cast<size_t>(n));
        c.pump->finish(fd == &c.out ? 1 : 2);
        ::close(*fd);
        *fd = -1;
      }
    return code;
  }

  std::vector<Container> containers_;
  std::vector<std::string> extra_;
  Probe probe_;
  bool daemon_ = false, has_set_ = false, ready_ = false, terminated_ = false;
  int retries_ = 0;
  long long retry_delay_us_ = 0, grace_us_ = 30000000, next_probe_us_ = 0, probe_deadline_us_ = 0;
  pid_t probe_pid_ = -1;
  int sig_fd_ = -1;
};

}  // namespace

int run_pod(int argc, char** argv) {
  std::string view = argv[0], host = argv[1];
  std::string dir = ::access((view + "/" + pod_file::kSpec).c_str(), R_OK) == 0 ? view : host;
  std::vector<std::string> extra(argv + 2, argv + argc);
  Pod pod;
  return pod.run(dir, extra);
}

}  // namespace tether::exec
