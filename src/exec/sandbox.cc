#include "exec/sandbox.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <string_view>
#include <vector>

namespace tether::exec {
namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

void write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    s.remove_prefix(static_cast<size_t>(n));
  }
}

std::string quoted(const std::string& s) { return "\"" + s + "\""; }
std::string errno_text() { return std::strerror(errno); }

// Creates every missing directory of p. A missing mount point is created on the host unless an
// earlier bind already made its parent private.
bool mkdir_p(const std::string& p) {
  for (size_t i = 1; i <= p.size(); ++i) {
    if (i != p.size() && p[i] != '/') continue;
    std::string prefix = p.substr(0, i);
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) return false;
  }
  return true;
}

bool ensure_file(const std::string& p) {
  if (!mkdir_p(parent_path(p))) return false;
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return errno == EISDIR;  // the bind will report the type mismatch
  ::close(fd);
  return true;
}

bool has_entries(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return false;
  bool any = false;
  while (dirent* e = ::readdir(d)) {
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) {
      any = true;
      break;
    }
  }
  ::closedir(d);
  return any;
}

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

class Child {
 public:
  Child(const std::string& node_dir, const StepSpec& spec, const ChildIo& io)
      : node_dir_(node_dir), spec_(spec), io_(io) {}

  [[noreturn]] void fail(const std::string& what) {
    std::string m(1, kFailureFlag);
    m += "failed to start: " + what;
    if (!spec_.image.empty()) m += " (image " + quoted(spec_.image) + ")";
    write_all(io_.status_fd, m);
    ::_exit(127);
  }

  void setup_process() {
    if (io_.lock_fd >= 0) ::close(io_.lock_fd);
    // Only the supervisor records the step's exit; a step whose supervisor died is lost, and
    // dies with it rather than run on unrecorded.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != io_.supervisor) ::_exit(127);
    ::setsid();
    // The supervisor blocks and ignores signals it handles itself; a step starts clean.
    for (int sig : {SIGPIPE, SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGCHLD}) ::signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull < 0 || ::dup2(devnull, 0) < 0 || ::dup2(io_.stdout_fd, 1) < 0 || ::dup2(io_.stderr_fd, 2) < 0)
      fail("cannot set up stdio: " + errno_text());
    if (devnull > 2) ::close(devnull);
  }

  // False when the kernel does not let us have namespaces (the step then runs in the host's view).
  bool enter_view(const ViewPlan& plan) {
    uid_t uid = ::geteuid();
    gid_t gid = ::getegid();
    int flags = CLONE_NEWNS | (uid != 0 ? CLONE_NEWUSER : 0);
    if (::unshare(flags) != 0) {
      if (errno == EPERM || errno == EINVAL || errno == ENOSPC || errno == ENOSYS || errno == EUSERS) return false;
      fail("cannot create a mount namespace: " + errno_text());
    }
    if (uid != 0) map_ids(uid, gid);
    // Slave: host mounts still appear in the view, nothing made here leaks to the host.
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0)
      fail("cannot make the mount namespace private: " + errno_text());
    // Open every source before binding anything: once node_dir/tmp covers /tmp, a source under
    // the host's /tmp (node_dir itself, often) has no path left in the view.
    std::vector<int> sources;
    for (const Bind& b : plan.binds) sources.push_back(open_source(b));
    for (size_t i = 0; i < plan.binds.size(); ++i) apply(plan.binds[i], sources[i]);
    return true;
  }

  void enter_working_dir(bool private_view, const std::string& view_default) {
    std::string dir = spec_.working_dir;
    if (dir.empty()) dir = private_view ? view_default : node_dir_ + "/" + node_file::kTmp;
    // Container runtimes create a missing working directory; so do we.
    if (::chdir(dir.c_str()) != 0 && !(errno == ENOENT && mkdir_p(dir) && ::chdir(dir.c_str()) == 0))
      fail("working directory " + quoted(dir) + ": " + errno_text());
  }

  [[noreturn]] void exec(bool private_view) {
    std::vector<std::string> argv = spec_.argv;
    if (spec_.script) argv.push_back(private_view ? kStagingScript : node_dir_ + "/" + node_file::kScript);
    std::vector<char*> av, ev;
    size_t bytes = 0;
    std::string search_path = kDefaultPath;
    for (auto& a : argv) {
      av.push_back(a.data());
      bytes += a.size() + 1 + sizeof(char*);
    }
    av.push_back(nullptr);
    std::vector<std::string> env = spec_.env;
    for (auto& e : env) {
      if (e.compare(0, 5, "PATH=") == 0) search_path = e.substr(5);
      ev.push_back(e.data());
      bytes += e.size() + 1 + sizeof(char*);
    }
    ev.push_back(nullptr);

    const std::string& cmd = argv[0];
    if (cmd.empty()) fail("empty command");
    int err = ENOENT;
    if (cmd.find('/') != std::string::npos) {
      ::execve(cmd.c_str(), av.data(), ev.data());
      err = errno;
    } else {
      bool denied = false;
      for (size_t i = 0; i <= search_path.size();) {
        size_t j = search_path.find(':', i);
        if (j == std::string::npos) j = search_path.size();
        std::string dir = search_path.substr(i, j - i);
        std::string file = (dir.empty() ? std::string(".") : dir) + "/" + cmd;
        i = j + 1;
        // A failed execve sets up a new address space before it finds there is no file: a
        // look first is far cheaper for the folders of PATH that do not have the command.
        if (::access(file.c_str(), F_OK) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
          err = errno;
          continue;
        }
        ::execve(file.c_str(), av.data(), ev.data());
        err = errno;
        if (err == EACCES) denied = true;
        if (err != ENOENT && err != ENOTDIR && err != EACCES && err != ENAMETOOLONG && err != ELOOP) break;
      }
      if (err != E2BIG && denied) err = EACCES;
      if (err == ENOTDIR || err == ENAMETOOLONG || err == ELOOP) err = ENOENT;
    }
    switch (err) {
      case ENOENT: fail("command " + quoted(cmd) + " not found");
      case EACCES: fail("command " + quoted(cmd) + " is not executable (permission denied)");
      case E2BIG:
        fail("command " + quoted(cmd) + ": argument list and environment too long (" + std::to_string(bytes) +
             " bytes, or one value over 128 KiB)");
      default: fail("command " + quoted(cmd) + ": " + std::strerror(err));
    }
  }

 private:
  void map_ids(uid_t uid, gid_t gid) {
    auto write_proc = [&](const char* file, const std::string& text) {
      int fd = ::open(file, O_WRONLY | O_CLOEXEC);
      bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
      if (fd >= 0) ::close(fd);
      if (!ok) fail(std::string("cannot write ") + file + ": " + errno_text());
    };
    write_proc("/proc/self/setgroups", "deny");
    write_proc("/proc/self/uid_map", std::to_string(uid) + " " + std::to_string(uid) + " 1");
    write_proc("/proc/self/gid_map", std::to_string(gid) + " " + std::to_string(gid) + " 1");
  }

  int open_source(const Bind& b) {
    switch (b.kind) {
      case Bind::Kind::kMount: break;
      case Bind::Kind::kOutputParent:
        if (!mkdir_p(b.source) || !mkdir_p(parent_path(b.source) + "/work"))
          fail("cannot create " + quoted(b.source) + ": " + errno_text());
        break;
      case Bind::Kind::kOutputTop: make_top_level_output(b); break;
    }
    int fd = ::open(b.source.c_str(), O_PATH | O_CLOEXEC);
    if (fd < 0) fail("cannot open " + quoted(b.source) + " for " + quoted(b.target) + ": " + errno_text());
    return fd;
  }

  // "/" cannot be bound over, so a top-level output gets its own file or directory. A file is
  // created with an mtime of 0 so that remove_unwritten_placeholders can tell it was never written.
  void make_top_level_output(const Bind& b) {
    struct stat st;
    bool host_has = ::stat(b.target.c_str(), &st) == 0;
    if (b.file && host_has && S_ISDIR(st.st_mode))
      fail("the output file " + quoted(b.target) + " cannot be mounted: the host has a directory there (an empty one "
           "is a mount point left by a step that wrote a directory there; remove it)");
    bool dir = !b.file && (host_has ? S_ISDIR(st.st_mode) : base_name(b.target).find('.') == std::string::npos);
    if (!mkdir_p(dir ? b.source : parent_path(b.source))) fail("cannot create " + quoted(b.source) + ": " + errno_text());
    if (dir) return;
    int fd = ::open(b.source.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) fail("cannot create " + quoted(b.source) + ": " + errno_text());
    const struct timespec epoch[2] = {{0, 0}, {0, 0}};
    ::futimens(fd, epoch);
    ::close(fd);
  }

  void apply(const Bind& b, int fd) {
    struct stat st;
    if (::fstat(fd, &st) != 0) fail("cannot stat " + quoted(b.source) + ": " + errno_text());
    bool dir = S_ISDIR(st.st_mode);
    if (b.kind == Bind::Kind::kOutputParent && has_entries(b.target) && overlay(b, fd)) return;
    if (!(dir ? mkdir_p(b.target) : ensure_file(b.target)))
      fail("cannot create mount point " + quoted(b.target) + ": " + errno_text());
    if (::mount(fd_path(fd).c_str(), b.target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
      fail("cannot mount " + quoted(b.source) + " at " + quoted(b.target) + ": " + errno_text());
    if (b.read_only) remount_read_only(b.target);
  }

  // The host has files where the step's output goes (/usr/local/bin/x): keep them visible and
  // send the step's writes to the private directory.
  bool overlay(const Bind& b, int upper_fd) {
    if (b.target.find_first_of(",:\\") != std::string::npos) return false;
    int work_fd = ::open((parent_path(b.source) + "/work").c_str(), O_PATH | O_CLOEXEC);
    if (work_fd < 0) return false;
    std::string options = "lowerdir=" + b.target + ",upperdir=" + fd_path(upper_fd) + ",workdir=" + fd_path(work_fd);
    bool ok = ::mount("overlay", b.target.c_str(), "overlay", 0, options.c_str()) == 0;
    ::close(work_fd);
    return ok;
  }

  void remount_read_only(const std::string& target) {
    struct statvfs vfs;
    unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY;
    // In a user namespace the flags the host set are locked and must be repeated.
    if (::statvfs(target.c_str(), &vfs) == 0) {
      const std::pair<unsigned long, unsigned long> keep[] = {
          {ST_NOSUID, MS_NOSUID}, {ST_NODEV, MS_NODEV}, {ST_NOEXEC, MS_NOEXEC},
          {ST_NOATIME, MS_NOATIME}, {ST_NODIRATIME, MS_NODIRATIME}, {ST_RELATIME, MS_RELATIME}};
      for (const auto& [st, ms] : keep)
        if (vfs.f_flag & st) flags |= ms;
    }
    if (::mount(nullptr, target.c_str(), nullptr, flags, nullptr) != 0)
      fail("cannot make " + quoted(target) + " read-only: " + errno_text());
  }

  const std::string& node_dir_;
  const StepSpec& spec_;
  const ChildIo& io_;
};

}  // namespace

void run_step_child(const std::string& node_dir, const StepSpec& spec, const ViewPlan& plan, const ChildIo& io) {
  Child child(node_dir, spec, io);
  child.setup_process();
  bool private_view = spec.private_view;
  if (private_view && !child.enter_view(plan)) {
    private_view = false;
    write_all(io.status_fd, std::string(1, kSharedViewFlag));
    write_all(2, "tether: warning: namespaces are unavailable here, so this step runs without a private "
                 "filesystem view: /tmp, mounts and outputs are the host's own paths\n");
  }
  child.enter_working_dir(private_view, plan.workdir);
  child.exec(private_view);
}

void remove_unwritten_placeholders(const ViewPlan& plan) {
  for (const Bind& b : plan.binds) {
    struct stat st;
    if (b.kind == Bind::Kind::kOutputTop && ::lstat(b.source.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        st.st_size == 0 && st.st_mtim.tv_sec == 0)
      ::unlink(b.source.c_str());
  }
}

}  // namespace tether::exec
