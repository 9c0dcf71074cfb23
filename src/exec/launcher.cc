#include "exec/launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "exec/layout.h"

extern char** environ;

namespace tether::exec {

SupervisorLauncher::~SupervisorLauncher() { stop(); }

void SupervisorLauncher::stop() {
  sock_.reset();  // end of file: the launcher exits
  if (pid_ > 0) {
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
  pid_ = -1;
}

Status SupervisorLauncher::start() {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    return io_error("cannot create the supervisor launcher's socket");
  UniqueFd ours(sv[0]), theirs(sv[1]);
  // A reply that never comes must not hang the engine: it then falls back to exec.
  struct timeval tv = {5, 0};
  ::setsockopt(ours.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  ::posix_spawnattr_init(&attr);
  ::posix_spawn_file_actions_init(&actions);
  // Its own session, as the supervisors it forks: a terminal's or the engine's process
  // group's signals reach neither.
  sigset_t none;
  sigemptyset(&none);
  ::posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK);
  ::posix_spawnattr_setsigmask(&attr, &none);
  ::posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  ::posix_spawn_file_actions_adddup2(&actions, theirs.get(), 3);
  if (notify_fd_ >= 0) ::posix_spawn_file_actions_adddup2(&actions, notify_fd_, kNotifyFd);
  std::string flag = kLauncherFlag;
  char* argv[] = {program_.data(), flag.data(), nullptr};
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, program_.c_str(), &actions, &attr, argv, environ);
  ::posix_spawn_file_actions_destroy(&actions);
  ::posix_spawnattr_destroy(&attr);
  if (rc != 0) return Error(ErrorCode::kUnavailable, "cannot start " + program_ + ": " + std::strerror(rc));
  sock_ = std::move(ours);
  pid_ = pid;
  return ok_status();
}

Status SupervisorLauncher::request(const std::string& dir, const std::string& token, const std::string& inline_spec) {
  if (!sock_.valid()) TRY_STATUS(start());
  std::string request = dir + "\n" + token;
  if (!inline_spec.empty()) request += "\n" + inline_spec;
  if (::send(sock_.get(), request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    std::string why = std::strerror(errno);
    stop();
    return Error(ErrorCode::kUnavailable, "supervisor launcher: send: " + why);
  }
  return ok_status();
}

Result<SupervisorLauncher::Launched> SupervisorLauncher::reply() {
  auto fail = [&](const std::string& why) -> Error {
    stop();
    return Error(ErrorCode::kUnavailable, "supervisor launcher: " + why);
  };
  if (!sock_.valid()) return Error(ErrorCode::kUnavailable, "supervisor launcher: not running");
  char text[256];
  struct iovec iov = {text, sizeof text - 1};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  while ((n = ::recvmsg(sock_.get(), &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
  }
  if (n <= 0) return fail(n == 0 ? "it ended" : std::string("recv: ") + std::strerror(errno));
  Launched out;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
      out.pidfd.reset(fd);
    }
  }
  std::string reply(text, static_cast<size_t>(n));
  if (reply.rfind("error: ", 0) == 0) {
    // The launcher works; this one request failed (a fork that could not be done).
    return Error(ErrorCode::kIo, "cannot start the step supervisor: " + reply.substr(7));
  }
  char* end = nullptr;
  long pid = std::strtol(reply.c_str(), &end, 10);
  long long start_time = (end && *end == ' ') ? std::strtoll(end + 1, &end, 10) : 0;
  if (pid <= 0 || !end || *end != '\0' || !out.pidfd.valid()) return fail("malformed reply \"" + reply + "\"");
  out.pid = static_cast<pid_t>(pid);
  out.start_time = start_time;
  return out;
}

}  // namespace tether::exec
