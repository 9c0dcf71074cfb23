#include "cli/home.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "base/strings.h"
#include "server/control.h"

namespace tether::cli {

Result<Home> open_home() {
  Home h;
  if (const char* env = std::getenv("TETHER_HOME"); env && *env) {
    h.root = env;
  } else {
    const char* home = std::getenv("HOME");
    h.root = std::string(home && *home ? home : "/tmp") + "/.tether";
  }
  std::error_code ec;
  h.root = std::filesystem::absolute(h.root, ec).lexically_normal().string();
  if (!h.root.empty() && h.root.back() == '/' && h.root.size() > 1) h.root.pop_back();
  std::filesystem::create_directories(h.root, ec);
  if (ec) return invalid("cannot create TETHER_HOME " + h.root + ": " + ec.message());
  ::chmod(h.root.c_str(), 0700);
  return h;
}

Result<UniqueFd> acquire_engine_lock(const Home& home) {
  UniqueFd fd(::open(home.lock().c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return io_error("cannot open " + home.lock());
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    std::string pid = "unknown";
    if (auto content = read_file(home.lock()); content.ok() && !trim(*content).empty())
      pid = std::string(trim(*content));
    return Error(ErrorCode::kConflict,
                 "another tether engine (pid " + pid + ") is running on " + home.root + " (it holds " + home.lock() + ")");
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), pid.data(), pid.size(), 0) < 0)
    return io_error("cannot write " + home.lock());
  return fd;
}

namespace {

std::string self_exe() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "tether" : p.string();
}

bool engine_answers(const Home& home) {
  auto r = server::call(home.socket(), {{"op", "ping"}}, 2000);
  return r.ok();
}

}  // namespace

Status ensure_engine(const Home& home) {
  if (engine_answers(home)) return {};
  pid_t pid = ::fork();
  if (pid < 0) return io_error("fork");
  if (pid == 0) {
    // Detach fully: own session, no terminal, output to the engine's log. A second fork
    // makes init the parent, so the CLI never leaves a zombie behind.
    ::setsid();
    if (::fork() != 0) ::_exit(0);
    int null = ::open("/dev/null", O_RDONLY);
    int log = ::open(home.engine_log().c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (null >= 0) ::dup2(null, 0);
    if (log >= 0) {
      ::dup2(log, 1);
      ::dup2(log, 2);
    }
    std::string exe = self_exe();
    ::execl(exe.c_str(), exe.c_str(), "server", "--idle-exit", "60", "--no-http", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  // The client waits for the socket: this is the CLI, not the engine loop.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline) {
    if (engine_answers(home)) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::string tail;
  if (auto log = read_file(home.engine_log()); log.ok())
    tail = log->size() > 2000 ? log->substr(log->size() - 2000) : *log;
  return Error(ErrorCode::kUnavailable, "the engine did not start; its log " + home.engine_log() + " ends with:\n" + tail);
}

Result<Json> engine_call(const Home& home, const Json& request) {
  TRY_STATUS(ensure_engine(home));
  Json reply = TRY(server::call(home.socket(), request, -1));
  if (reply.is_object() && reply.value("ok", true) == false)
    return invalid(reply.value("error", std::string("the engine refused the request")));
  return reply;
}

}  // namespace tether::cli
