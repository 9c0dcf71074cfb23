// The host executor with real processes: exit codes, logs, private views, argv/env fidelity,
// deadlines, and re-attaching after an engine restart.
#include "exec/host_runner.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include "base/json.h"
#include "base/strings.h"
#include "exec/launcher.h"
#include "exec/layout.h"
#include "exec/record.h"

extern char** environ;

namespace tether::exec {
namespace {

using engine::StepExit;
using engine::StepInvocation;
using std::chrono::milliseconds;
using std::chrono::steady_clock;
namespace fs = std::filesystem;

const char* const kPath = "/usr/local/bin:/usr/bin:/bin";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool exists(const std::string& p) { return ::access(p.c_str(), F_OK) == 0; }

std::map<std::string, std::string> outputs(const StepExit& e) {
  return std::map<std::string, std::string>(e.output_host_paths.begin(), e.output_host_paths.end());
}

// "host:<pid>:<start time>"
pid_t handle_pid(const std::string& handle) { return static_cast<pid_t>(std::stol(split(handle, ':').at(1))); }

// Supervisors are the launcher's children, not ours: wait for one to end through a pidfd.
void wait_until_gone(pid_t pid) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return;  // already gone
  struct pollfd p = {fd, POLLIN, 0};
  ::poll(&p, 1, 60000);
  ::close(fd);
}

class HostRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Under /tmp on purpose: node directories there are hidden by the step's own /tmp.
    char tmpl[] = "/tmp/tether-exec-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }

  void TearDown() override {
    expect_no_leftovers();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  static HostRunnerOptions options() {
    HostRunnerOptions o;
    o.supervisor_path = TETHER_TEST_SUPERVISOR;
    if (const char* other = std::getenv("TETHER_SUPERVISOR")) o.supervisor_path = other;  // e.g. a release build
    o.shims_dir = TETHER_TEST_SHIMS;
    return o;
  }

  // Every step carries the test's root in its environment, so leftovers can be found in /proc.
  StepInvocation step(const std::string& name, std::vector<std::string> command) {
    StepInvocation s;
    s.run_uid = "run";
    s.node_id = name;
    s.pod_name = name;
    s.node_dir = root_ + "/" + name;
    fs::create_directories(s.node_dir);
    s.image = "alpine:3";
    s.command = std::move(command);
    s.env = {{"PATH", kPath}, {"TETHER_TEST_ROOT", root_}};
    s.termination_grace_seconds = 1;
    return s;
  }

  static std::vector<StepExit> run_all(HostRunner& r, size_t n, std::chrono::seconds limit = std::chrono::seconds(30)) {
    std::vector<StepExit> done;
    auto end = steady_clock::now() + limit;
    while (done.size() < n) {
      auto now = steady_clock::now();
      if (now > end) {
        ADD_FAILURE() << "steps did not end in time";
        break;
      }
      std::vector<pollfd> fds;
      for (int fd : r.wait_fds()) fds.push_back({fd, POLLIN, 0});
      auto timeout = std::chrono::duration_cast<milliseconds>(end - now).count();
      if (auto w = r.next_wakeup()) {
        auto until = std::chrono::duration_cast<milliseconds>(*w - SystemClock::instance().now()).count();
        timeout = std::max<long long>(0, std::min<long long>(timeout, until + 1));
      }
      ::poll(fds.data(), fds.size(), static_cast<int>(timeout));
      for (auto& e : r.poll()) done.push_back(std::move(e));
    }
    return done;
  }

  static StepExit run_one(HostRunner& r, const StepInvocation& s) {
    auto handle = r.start(s);
    EXPECT_TRUE(handle.ok()) << handle.error().str();
    auto done = run_all(r, 1);
    return done.empty() ? StepExit{} : done[0];
  }

  // Exactly one step ended, normally, with this code and stdout.
  static void expect_one_exit(const std::vector<StepExit>& done, int code, const std::string& stdout_text) {
    ASSERT_EQ(done.size(), 1u);
    EXPECT_EQ(done[0].kind, StepExit::Kind::kExited) << done[0].message;
    EXPECT_EQ(done[0].exit_code, code);
    EXPECT_EQ(slurp(done[0].stdout_path), stdout_text);
  }

  // A supervisor run by hand, as one spawned by an engine that died would run; its exit status.
  static int run_supervisor(std::string node_dir, std::string token) {
    std::string program = TETHER_TEST_SUPERVISOR;
    char* argv[] = {program.data(), node_dir.data(), token.data(), nullptr};
    pid_t pid;
    if (::posix_spawn(&pid, program.c_str(), nullptr, nullptr, argv, environ) != 0) return -1;
    int status = -1;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  static std::map<std::string, StepExit> by_node(std::vector<StepExit> exits) {
    std::map<std::string, StepExit> m;
    for (auto& e : exits) m[e.node_id] = std::move(e);
    return m;
  }

  // No process carrying this test's marker, and no unreaped child of this process.
  void expect_no_leftovers() {
    std::string marker = "TETHER_TEST_ROOT=" + root_;
    std::vector<std::string> found;
    for (int attempt = 0; attempt < 50; ++attempt) {
      found.clear();
      for (const auto& entry : fs::directory_iterator("/proc")) {
        std::string name = entry.path().filename();
        if (name.find_first_not_of("0123456789") != std::string::npos) continue;
        std::string env = slurp(entry.path().string() + "/environ");
        if (env.find(marker) != std::string::npos) found.push_back(name + ": " + slurp(entry.path().string() + "/cmdline"));
      }
      if (found.empty()) break;
      std::this_thread::sleep_for(milliseconds(20));
    }
    EXPECT_TRUE(found.empty()) << "left over: " << join(found, "; ");
    std::string self = std::to_string(::getpid());
    EXPECT_EQ(trim(slurp("/proc/self/task/" + self + "/children")), "") << "unreaped children";
  }

  std::string root_;
};

TEST_F(HostRunnerTest, ReportsExitCodes) {
  HostRunner r(options());
  for (int code : {0, 1, 42}) ASSERT_TRUE(r.start(step("exit" + std::to_string(code), {"sh", "-c", "exit " + std::to_string(code)})).ok());
  auto exits = by_node(run_all(r, 3));
  for (int code : {0, 1, 42}) {
    const StepExit& e = exits["exit" + std::to_string(code)];
    EXPECT_EQ(e.kind, StepExit::Kind::kExited);
    EXPECT_EQ(e.exit_code, code);
    ASSERT_TRUE(e.started_at && e.finished_at);
    EXPECT_LE(*e.started_at, *e.finished_at);
  }
}

TEST_F(HostRunnerTest, KilledBySignalIs128PlusN) {
  HostRunner r(options());
  ASSERT_TRUE(r.start(step("kill9", {"sh", "-c", "kill -9 $$"})).ok());
  ASSERT_TRUE(r.start(step("term", {"sh", "-c", "kill -TERM $$"})).ok());
  auto exits = by_node(run_all(r, 2));
  EXPECT_EQ(exits["kill9"].exit_code, 137);
  EXPECT_EQ(exits["term"].exit_code, 143);
  EXPECT_EQ(exits["term"].kind, StepExit::Kind::kExited);
}

TEST_F(HostRunnerTest, StdoutGoesToItsFileAndBothStreamsToTheLog) {
  HostRunner r(options());
  StepExit e = run_one(r, step("logs", {"sh", "-c", "echo out1; echo err1 >&2; echo out2; printf partial"}));
  ASSERT_EQ(e.kind, StepExit::Kind::kExited);
  EXPECT_EQ(e.stdout_path, root_ + "/logs/stdout");
  EXPECT_EQ(slurp(e.stdout_path), "out1\nout2\npartial");
  std::string log = slurp(root_ + "/logs/" + engine::kStepLogFile);
  std::vector<std::string> lines = split(log, '\n');
  ASSERT_EQ(lines.size(), 5u) << log;  // four lines and the final newline
  std::regex stamped(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z (out1|err1|out2|partial)$)");
  for (size_t i = 0; i < 4; ++i) EXPECT_TRUE(std::regex_match(lines[i], stamped)) << lines[i];
  EXPECT_NE(log.find(" err1\n"), std::string::npos);
  EXPECT_LT(log.find(" out1\n"), log.find(" out2\n"));
}

TEST_F(HostRunnerTest, ParallelStepsWritingTheSamePathsDoNotCollide) {
  HostRunner r(options());
  const std::vector<std::string> outs = {"/tmp/out.txt", "/workspace/out", "/mnt/tether-test-out/x"};
  for (int i = 0; i < 4; ++i) {
    std::string n = std::to_string(i);
    StepInvocation s = step("par" + n, {"sh", "-c",
                                        "echo " + n + " > /tmp/out.txt && mkdir -p /workspace/out && echo " + n +
                                            " > /workspace/out/f && echo " + n + " > /mnt/tether-test-out/x"});
    s.output_paths = outs;
    ASSERT_TRUE(r.start(s).ok());
  }
  auto exits = by_node(run_all(r, 4));
  for (int i = 0; i < 4; ++i) {
    std::string n = std::to_string(i);
    const StepExit& e = exits["par" + n];
    ASSERT_EQ(e.kind, StepExit::Kind::kExited) << e.message;
    ASSERT_EQ(e.exit_code, 0) << slurp(root_ + "/par" + n + "/main.log");
    auto o = outputs(e);
    ASSERT_EQ(o.size(), 3u);
    EXPECT_EQ(slurp(o["/tmp/out.txt"]), n + "\n");
    EXPECT_EQ(slurp(o["/workspace/out"] + "/f"), n + "\n");
    EXPECT_EQ(slurp(o["/mnt/tether-test-out/x"]), n + "\n");
    for (const auto& [view, host] : o) EXPECT_EQ(host.rfind(root_ + "/par" + n + "/", 0), 0u) << host;
  }
  // Only empty mount points appear on the host.
  EXPECT_FALSE(exists("/workspace/out"));
  EXPECT_FALSE(exists("/mnt/tether-test-out/x"));
}

TEST_F(HostRunnerTest, OutputBesideHostFilesKeepsThemVisible) {
  HostRunner r(options());
  fs::create_directories(root_ + "/hostdir");
  std::ofstream(root_ + "/hostdir/existing") << "from host\n";
  // /tmp of the view is private, so reach the host directory through a mount of its parent.
  StepInvocation s = step("overlay", {"sh", "-c", "cat /data/hostdir/existing && echo new > /data/hostdir/new"});
  s.mounts = {{"/data", root_, false}};
  s.output_paths = {"/data/hostdir/new"};
  StepExit e = run_one(r, s);
  EXPECT_EQ(e.exit_code, 0);
  EXPECT_EQ(slurp(e.stdout_path), "from host\n");
  EXPECT_EQ(outputs(e)["/data/hostdir/new"], root_ + "/hostdir/new");  // a volume: written through
}

TEST_F(HostRunnerTest, InputMountsAreVisibleAndReadOnlyWhenAsked) {
  HostRunner r(options());
  fs::create_directories(root_ + "/in/dir");
  std::ofstream(root_ + "/in/file.txt") << "file content\n";
  std::ofstream(root_ + "/in/dir/a") << "dir content\n";
  StepInvocation s = step("inputs", {"sh", "-c",
                                     "cat /tmp/input-file /tether-test-in/dir/a && "
                                     "! (echo x > /tmp/input-file) 2>/dev/null && "
                                     "! (echo x > /tether-test-in/dir/b) 2>/dev/null && "
                                     "echo ok > /tether-test-rw/written"});
  fs::create_directories(root_ + "/rw");
  s.mounts = {{"/tmp/input-file", root_ + "/in/file.txt", true},
              {"/tether-test-in/dir", root_ + "/in/dir", true},
              {"/tether-test-rw", root_ + "/rw", false}};
  StepExit e = run_one(r, s);
  EXPECT_EQ(e.exit_code, 0) << slurp(root_ + "/inputs/main.log");
  EXPECT_EQ(slurp(e.stdout_path), "file content\ndir content\n");
  EXPECT_EQ(slurp(root_ + "/in/file.txt"), "file content\n");
  EXPECT_EQ(slurp(root_ + "/rw/written"), "ok\n");
  EXPECT_FALSE(exists(root_ + "/in/dir/b"));
}

TEST_F(HostRunnerTest, TopLevelFileOutputIsPrivateAndMissingWhenNotWritten) {
  HostRunner r(options());
  StepInvocation a = step("top-a", {"sh", "-c", "echo a > /tether-test-result.txt"});
  a.output_paths = {"/tether-test-result.txt"};
  StepInvocation b = step("top-b", {"true"});
  b.output_paths = {"/tether-test-result.txt"};
  ASSERT_TRUE(r.start(a).ok());
  ASSERT_TRUE(r.start(b).ok());
  auto exits = by_node(run_all(r, 2));
  EXPECT_EQ(slurp(outputs(exits["top-a"])["/tether-test-result.txt"]), "a\n");
  EXPECT_FALSE(exists(outputs(exits["top-b"])["/tether-test-result.txt"]));
  EXPECT_EQ(slurp("/tether-test-result.txt"), "");  // the host only has the empty mount point
  ::unlink("/tether-test-result.txt");
}

// Images start in "/", so Argo examples write "result.txt" and declare "/result.txt": a step
// with outputs directly under "/" starts in the private directory holding them.
TEST_F(HostRunnerTest, ARelativeWriteLandsOnATopLevelOutput) {
  HostRunner r(options());
  StepInvocation s = step("relative", {"sh", "-c", "printf heads > tether-test-rel.txt; pwd"});
  s.output_paths = {"/tether-test-rel.txt"};
  StepExit e = run_one(r, s);
  ASSERT_EQ(e.exit_code, 0) << slurp(s.node_dir + "/main.log");
  EXPECT_EQ(slurp(outputs(e)["/tether-test-rel.txt"]), "heads");
  EXPECT_EQ(slurp(e.stdout_path), std::string(kRootWorkdir) + "\n");
  EXPECT_EQ(slurp("/tether-test-rel.txt"), "");
  ::unlink("/tether-test-rel.txt");
}

// An output parameter is a file even when its name has no dot (argosay echo x /output).
TEST_F(HostRunnerTest, ATopLevelOutputParameterIsAFile) {
  HostRunner r(options());
  StepInvocation s = step("param-file", {"sh", "-c", "echo hello > /tether-test-output"});
  s.output_paths = {"/tether-test-output"};
  s.output_files = {"/tether-test-output"};
  StepExit e = run_one(r, s);
  ASSERT_EQ(e.exit_code, 0) << slurp(s.node_dir + "/main.log");
  EXPECT_EQ(slurp(outputs(e)["/tether-test-output"]), "hello\n");
  ::unlink("/tether-test-output");
}

TEST_F(HostRunnerTest, WithoutAPrivateViewPathsAreTheHostsOwn) {
  HostRunnerOptions o = options();
  o.private_view = false;  // what a host without namespaces gets
  HostRunner r(o);
  std::string out = root_ + "/shared-out.txt";
  StepInvocation s = step("shared", {"sh", "-c", "pwd; echo shared > " + out});
  s.output_paths = {out};
  StepExit e = run_one(r, s);
  EXPECT_EQ(e.exit_code, 0);
  EXPECT_EQ(slurp(e.stdout_path), s.node_dir + "/tmp\n");
  EXPECT_EQ(outputs(e)[out], out);
  EXPECT_EQ(slurp(out), "shared\n");
}

TEST_F(HostRunnerTest, MissingCommandIsAStartFailureNamingCommandAndImage) {
  HostRunner r(options());
  StepInvocation s = step("missing", {"cowsay-not-installed", "hi"});
  s.image = "docker/whalesay-ish:latest";
  StepExit e = run_one(r, s);
  EXPECT_EQ(e.kind, StepExit::Kind::kStartFailed);
  EXPECT_EQ(e.message, R"(failed to start: command "cowsay-not-installed" not found (image "docker/whalesay-ish:latest"))");
}

// A program in a folder under the host's /tmp (a clone there), named by its path or found
// on PATH, stays reachable behind the step's private /tmp.
TEST_F(HostRunnerTest, ProgramsUnderTheHostsTmpStayVisible) {
  char dir_template[] = "/tmp/tether-host-bin-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_template), nullptr);
  const std::string dir = dir_template;
  const std::string tool = dir + "/tool";
  std::ofstream(tool) << "#!/bin/sh\necho tool ran\n";
  ::chmod(tool.c_str(), 0755);
  HostRunner r(options());
  StepInvocation by_path = step("by-path", {tool});
  StepInvocation on_path = step("on-path", {"tool"});
  on_path.env.emplace_back("PATH", dir + ":/usr/bin:/bin");
  ASSERT_TRUE(r.start(by_path).ok());
  ASSERT_TRUE(r.start(on_path).ok());
  auto exits = by_node(run_all(r, 2));
  EXPECT_EQ(slurp(exits["by-path"].stdout_path), "tool ran\n") << exits["by-path"].message;
  EXPECT_EQ(slurp(exits["on-path"].stdout_path), "tool ran\n") << exits["on-path"].message;
  std::filesystem::remove_all(dir);
}

TEST_F(HostRunnerTest, WorkingDirectory) {
  HostRunner r(options());
  StepInvocation s = step("wd", {"sh", "-c", "pwd; touch here"});
  s.working_dir = "/tmp/work/sub";
  StepInvocation d = step("wd-default", {"pwd"});
  ASSERT_TRUE(r.start(s).ok());
  ASSERT_TRUE(r.start(d).ok());
  auto exits = by_node(run_all(r, 2));
  EXPECT_EQ(slurp(exits["wd"].stdout_path), "/tmp/work/sub\n");
  EXPECT_TRUE(exists(root_ + "/wd/tmp/work/sub/here"));
  EXPECT_EQ(slurp(exits["wd-default"].stdout_path), "/tmp\n");
}

TEST_F(HostRunnerTest, ScriptTemplates) {
  HostRunner r(options());
  StepInvocation sh = step("sh-script", {"sh"});
  sh.script = "echo \"$0\"\nfor i in 1 2; do echo line $i; done\n";
  StepInvocation py = step("py-script", {"python"});
  py.image = "python:alpine3.6";
  py.env = {{"PATH", "/usr/bin:/bin"}, {"TETHER_TEST_ROOT", root_}};
  py.script = "import sys\nprint('py', sys.argv[0], 6 * 7)\n";
  ASSERT_TRUE(r.start(sh).ok());
  ASSERT_TRUE(r.start(py).ok());
  auto exits = by_node(run_all(r, 2));
  EXPECT_EQ(slurp(exits["sh-script"].stdout_path), std::string(kStagingScript) + "\nline 1\nline 2\n");
  EXPECT_EQ(exits["py-script"].exit_code, 0) << slurp(root_ + "/py-script/main.log");
  EXPECT_EQ(slurp(exits["py-script"].stdout_path), "py " + std::string(kStagingScript) + " 42\n");
}

TEST_F(HostRunnerTest, ArgvAndEnvArriveByteForByte) {
  HostRunner r(options());
  std::string marker = root_ + "/pwned";
  std::vector<std::string> hostile = {
      "plain", "", "with space", "'single'", "\"double\"", "$(touch " + marker + ")", "`touch " + marker + "`",
      "a; touch " + marker, "line1\nline2", "tab\there", "ünïcødé ✓ 日本", "$HOME ${PATH} \\ * ? [x]",
      std::string(100 * 1024, 'v')};
  // The helper is bound into the view: the build tree may be under /tmp, which the step's
  // private /tmp hides.
  std::string helper = TETHER_TEST_ARGV_HELPER;
  std::string helper_dir = helper.substr(0, helper.rfind('/'));
  std::vector<std::string> argv = {"/argo/test-helper" + helper.substr(helper_dir.size())};
  argv.insert(argv.end(), hostile.begin(), hostile.end());
  StepInvocation s = step("argv", argv);
  s.mounts.push_back({"/argo/test-helper", helper_dir, true});
  s.env = {{"TETHER_TEST_ROOT", root_}, {"PATH", kPath}};
  for (size_t i = 0; i < hostile.size(); ++i) s.env.emplace_back("V" + std::to_string(i), hostile[i]);
  StepExit e = run_one(r, s);
  ASSERT_EQ(e.exit_code, 0) << e.message;
  Json got = Json::parse(slurp(e.stdout_path));
  std::vector<std::string> env;
  for (const auto& [k, v] : s.env) env.push_back(k + "=" + v);
  auto strings = [](const Json& arr) {
    std::vector<std::string> out;
    for (const auto& j : arr) out.push_back(j.get<std::string>());
    return out;
  };
  std::vector<std::string> got_argv = strings(got["argv"]), got_env = strings(got["env"]);
  EXPECT_EQ(got_argv, argv);
  EXPECT_EQ(got_env, env);  // exactly as given: nothing added, nothing lost, same order
  EXPECT_FALSE(exists(marker));
  EXPECT_FALSE(exists(root_ + "/argv/tmp/pwned"));
}


TEST_F(HostRunnerTest, ArgumentListTooLongIsAStartFailure) {
  HostRunner r(options());
  std::vector<std::string> argv = {"echo"};
  for (int i = 0; i < 40; ++i) argv.push_back(std::string(100 * 1024, 'x'));  // 4 MB > ARG_MAX
  StepExit e = run_one(r, step("e2big", argv));
  EXPECT_EQ(e.kind, StepExit::Kind::kStartFailed);
  EXPECT_NE(e.message.find("failed to start: command \"echo\": argument list and environment too long"), std::string::npos)
      << e.message;
  EXPECT_NE(e.message.find("(image \"alpine:3\")"), std::string::npos) << e.message;
}

TEST_F(HostRunnerTest, DeadlineSendsTermThenKill) {
  HostRunner r(options());
  // Ignores SIGTERM (its sleeps die of it, the loop goes on): only SIGKILL ends it.
  StepInvocation s = step("deadline", {"sh", "-c", "trap 'echo got-term' TERM; echo ready; while :; do sleep 1 & wait $!; done"});
  s.deadline = SystemClock::instance().now() + milliseconds(300);
  s.termination_grace_seconds = 1;
  auto t0 = steady_clock::now();
  ASSERT_TRUE(r.start(s).ok());
  EXPECT_EQ(r.next_wakeup(), s.deadline);
  auto done = run_all(r, 1);
  auto took = steady_clock::now() - t0;
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].kind, StepExit::Kind::kDeadline);
  EXPECT_EQ(done[0].exit_code, 137);
  EXPECT_GE(took, milliseconds(1250));
  EXPECT_LT(took, milliseconds(5000));
  std::string log = slurp(root_ + "/deadline/main.log");
  EXPECT_NE(log.find(" ready\n"), std::string::npos) << log;
  EXPECT_NE(log.find(" got-term\n"), std::string::npos) << log;
}

TEST_F(HostRunnerTest, SignalReachesTheStepsProcessGroup) {
  HostRunner r(options());
  ASSERT_TRUE(r.start(step("stop", {"sh", "-c", "sleep 30 & sleep 30; echo never"})).ok());
  r.signal("stop", SIGTERM);  // possibly before the step even exists: the supervisor holds it
  auto done = run_all(r, 1, std::chrono::seconds(10));
  ASSERT_NO_FATAL_FAILURE(expect_one_exit(done, 143, ""));
}

TEST_F(HostRunnerTest, BackgroundProcessesDieWithTheStep) {
  HostRunner r(options());
  StepExit e = run_one(r, step("bg", {"sh", "-c", "sleep 60 & setsid sleep 61 & echo started"}));
  EXPECT_EQ(e.exit_code, 0);
  EXPECT_EQ(slurp(e.stdout_path), "started\n");
  // expect_no_leftovers() checks that both sleeps are gone, the one that left the group too.
}

TEST_F(HostRunnerTest, AttachToAStepStillRunning) {
  StepInvocation s =
      step("attach-live", {"sh", "-c", "echo before; while [ ! -e /tmp/go ]; do sleep 0.02; done; echo after; exit 7"});
  pid_t supervisor;
  std::string handle;
  {
    HostRunner first(options());
    auto started = first.start(s);
    ASSERT_TRUE(started.ok());
    handle = *started;
    supervisor = handle_pid(handle);
  }  // the engine "crashes" at once: its runner is gone, the step runs on
  HostRunner second(options());
  ASSERT_TRUE(second.attach(s.node_id, s.node_dir, handle, s).ok());
  EXPECT_TRUE(second.poll().empty());
  for (int i = 0; i < 1000 && slurp(s.node_dir + "/stdout").empty(); ++i) std::this_thread::sleep_for(milliseconds(5));
  ASSERT_EQ(slurp(s.node_dir + "/stdout"), "before\n");
  std::ofstream(s.node_dir + "/tmp/go") << "go\n";
  auto done = run_all(second, 1);
  ASSERT_NO_FATAL_FAILURE(expect_one_exit(done, 7, "before\nafter\n"));
  wait_until_gone(supervisor);
}

TEST_F(HostRunnerTest, StepSurvivesTheEngineAndItsProcessGroupBeingKilled) {
  StepInvocation s =
      step("survive", {"sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.02; done; echo survived; exit 5"});
  fs::create_directories(s.node_dir + "/tmp");  // so the test can write /tmp/go at any time
  int handle_pipe[2];
  ASSERT_EQ(::pipe(handle_pipe), 0);
  pid_t engine = ::fork();
  ASSERT_GE(engine, 0);
  if (engine == 0) {  // the engine: its own process group, as a terminal job would be
    ::setpgid(0, 0);
    HostRunner r(options());
    auto handle = r.start(s);
    std::string text = handle.ok() ? *handle : "";
    [[maybe_unused]] ssize_t n = ::write(handle_pipe[1], text.data(), text.size());
    ::close(handle_pipe[1]);
    ::pause();
    ::_exit(0);
  }
  ::close(handle_pipe[1]);
  char buf[128];
  ssize_t n = ::read(handle_pipe[0], buf, sizeof buf);
  ::close(handle_pipe[0]);
  ASSERT_GT(n, 0);
  ::kill(-engine, SIGKILL);
  ::waitpid(engine, nullptr, 0);

  HostRunner restarted(options());
  ASSERT_TRUE(restarted.attach(s.node_id, s.node_dir, std::string(buf, static_cast<size_t>(n)), s).ok());
  EXPECT_TRUE(restarted.poll().empty());
  std::ofstream(s.node_dir + "/tmp/go") << "go\n";
  auto done = run_all(restarted, 1);
  ASSERT_NO_FATAL_FAILURE(expect_one_exit(done, 5, "survived\n"));
}

TEST_F(HostRunnerTest, AttachToAStepThatEndedMeanwhile) {
  StepInvocation s = step("attach-ended", {"sh", "-c", "echo done; exit 3"});
  s.output_paths = {"/tmp/x"};
  pid_t supervisor;
  {
    HostRunner first(options());
    auto handle = first.start(s);
    ASSERT_TRUE(handle.ok());
    supervisor = handle_pid(*handle);
    wait_until_gone(supervisor);  // ended while no engine watched
  }
  HostRunner second(options());
  ASSERT_TRUE(second.attach(s.node_id, s.node_dir, "", s).ok());
  auto done = run_all(second, 1);
  ASSERT_NO_FATAL_FAILURE(expect_one_exit(done, 3, "done\n"));
  EXPECT_EQ(outputs(done[0])["/tmp/x"], s.node_dir + "/tmp/x");
}

// The engine died after committing the intent, before (or just after) spawning the
// supervisor: the step never ran, and the late supervisor must never run it.
TEST_F(HostRunnerTest, AttachToANodeWhoseSupervisorNeverRanReportsNotStartedAndBlocksIt) {
  std::string marker = root_ + "/ran";
  StepInvocation s = step("never", {"touch", marker});
  HostRunner runner(options());
  ASSERT_TRUE(runner.attach(s.node_id, s.node_dir, "", s).ok());
  auto done = run_all(runner, 1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].kind, StepExit::Kind::kNotStarted);
  EXPECT_TRUE(exists(s.node_dir + "/abandoned"));

  // The supervisor the crashed engine had spawned gets to run only now: it must refuse.
  std::string token = "t1";
  std::ofstream(s.node_dir + "/spec") << encode_spec(StepSpec{"", {"touch", marker}, {"PATH=/bin:/usr/bin"}, "", {}, {}, {}, false, true, token});
  EXPECT_EQ(run_supervisor(s.node_dir, token), 0);
  EXPECT_FALSE(exists(marker));
  EXPECT_FALSE(exists(s.node_dir + "/state"));
}

// In a node directory made for this start the launcher hands the spec, environment and all,
// to the supervisor: nothing of it is written to disk.
TEST_F(HostRunnerTest, AStepInANewDirectoryGetsItsSpecWithoutAFile) {
  StepInvocation s = step("inline", {"sh", "-c", "echo \"$SECRET\""});
  s.env.push_back({"SECRET", "handed-over-not-written"});
  s.new_dir = true;
  HostRunner r(options());
  StepExit e = run_one(r, s);
  EXPECT_EQ(e.kind, StepExit::Kind::kExited) << e.message;
  EXPECT_EQ(slurp(e.stdout_path), "handed-over-not-written\n");
  EXPECT_FALSE(exists(s.node_dir + "/spec"));
}

// An engine launched a supervisor, handing it the spec, and died before the supervisor took
// the lock; the next engine started the node afresh, with its spec on disk. The late
// supervisor finds a spec that is not its own and must not run its step.
TEST_F(HostRunnerTest, ASupervisorHandedAnEarlierAttemptsSpecRefuses) {
  std::string marker = root_ + "/ran-late";
  StepInvocation s = step("late", {"true"});
  std::ofstream(s.node_dir + "/spec") << encode_spec(StepSpec{"", {"true"}, {"PATH=/bin:/usr/bin"}, "", {}, {}, {}, false, true, "current"});
  SupervisorLauncher launcher(options().supervisor_path);
  ASSERT_TRUE(launcher.request(s.node_dir, "earlier",
                               encode_spec(StepSpec{"", {"touch", marker}, {"PATH=/bin:/usr/bin"}, "", {}, {}, {}, false, true, "earlier"}))
                  .ok());
  auto launched = launcher.reply();
  ASSERT_TRUE(launched.ok()) << launched.error().str();
  wait_until_gone(launched->pid);
  EXPECT_FALSE(exists(marker));
  EXPECT_FALSE(exists(s.node_dir + "/state"));
  EXPECT_FALSE(exists(s.node_dir + "/stdout"));
}

TEST_F(HostRunnerTest, ARetryInTheSameNodeDirectoryStartsAfresh) {
  HostRunner r(options());
  StepInvocation s = step("again", {"sh", "-c", "echo first; exit 3"});
  EXPECT_EQ(run_one(r, s).exit_code, 3);
  std::ofstream(s.node_dir + "/abandoned") << "from an engine restart\n";
  s.command = {"sh", "-c", "echo second"};
  StepExit e = run_one(r, s);
  EXPECT_EQ(e.kind, StepExit::Kind::kExited);
  EXPECT_EQ(e.exit_code, 0);
  EXPECT_EQ(slurp(e.stdout_path), "second\n");
  // A supervisor spawned for the first attempt that only now gets going refuses to run.
  std::string state = slurp(s.node_dir + "/state");
  EXPECT_EQ(run_supervisor(s.node_dir, "first-attempt"), 0);
  EXPECT_EQ(slurp(s.node_dir + "/state"), state);
  EXPECT_EQ(slurp(e.stdout_path), "second\n");

  // A third attempt that writes nothing leaves nothing of the second's output behind.
  s.command = {"true"};
  e = run_one(r, s);
  EXPECT_EQ(e.exit_code, 0);
  EXPECT_FALSE(exists(e.stdout_path));
  EXPECT_FALSE(exists(s.node_dir + "/main.log"));
}

// Most steps of a large graph print nothing: their logs are not created at all (each file
// is an inode to allocate per step), and that reads as empty output.
TEST_F(HostRunnerTest, AStepThatPrintsNothingLeavesNoLogFiles) {
  HostRunner r(options());
  StepInvocation quiet = step("quiet", {"true"});
  StepExit e = run_one(r, quiet);
  EXPECT_EQ(e.kind, StepExit::Kind::kExited) << e.message;
  EXPECT_EQ(e.exit_code, 0);
  EXPECT_FALSE(exists(quiet.node_dir + "/stdout"));
  EXPECT_FALSE(exists(quiet.node_dir + "/main.log"));
  AttemptState state;
  ASSERT_TRUE(read_attempt_state(quiet.node_dir + "/state", &state));
  EXPECT_TRUE(state.ended);
  EXPECT_GT(state.start.get_int("step_pid"), 0);
  EXPECT_EQ(state.end.get("kind"), "exited");
  EXPECT_EQ(state.end.get_int("code", -1), 0);

  // Only stderr: main.log, and no stdout.
  StepInvocation err = step("err-only", {"sh", "-c", "echo oops >&2"});
  e = run_one(r, err);
  EXPECT_EQ(e.exit_code, 0);
  EXPECT_FALSE(exists(err.node_dir + "/stdout"));
  EXPECT_NE(slurp(err.node_dir + "/main.log").find(" oops\n"), std::string::npos);
}

TEST_F(HostRunnerTest, AttachAfterTheSupervisorDiedKillsTheOrphanAndReportsLost) {
  StepInvocation s = step("orphan", {"sleep", "60"});
  pid_t supervisor;
  {
    HostRunner first(options());
    auto handle = first.start(s);
    ASSERT_TRUE(handle.ok());
    supervisor = handle_pid(*handle);
    AttemptState state;
    for (int i = 0; i < 500 && !(read_attempt_state(s.node_dir + "/state", &state) && state.start.get_int("step_start"));
         ++i)
      std::this_thread::sleep_for(milliseconds(2));
    ::kill(supervisor, SIGKILL);
    wait_until_gone(supervisor);
  }
  HostRunner second(options());
  ASSERT_TRUE(second.attach(s.node_id, s.node_dir, "", s).ok());
  auto done = run_all(second, 1);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].kind, StepExit::Kind::kLost);
  // expect_no_leftovers(): the orphaned sleep was killed.
}

TEST_F(HostRunnerTest, ArgosayAndCowsayShims) {
  HostRunner r(options());
  StepInvocation to_file = step("say-file", {"echo", "hello", "/tmp/out/f"});
  to_file.image = "argoproj/argosay:v2";
  to_file.output_paths = {"/tmp/out/f"};
  StepInvocation plain = step("say", {});
  plain.image = "argoproj/argosay:v2";
  StepInvocation code = step("say-exit", {"/argosay", "exit", "3"});
  code.image = "argoproj/argosay:v2";
  StepInvocation cow = step("cow", {"sh", "-c", "cowsay hello"});
  cow.image = "argoproj/argosay:v1";
  StepInvocation whale = step("whale", {"cowsay", "hello world"});
  whale.image = "docker/whalesay:latest";
  for (const auto* s : {&to_file, &plain, &code, &cow, &whale}) ASSERT_TRUE(r.start(*s).ok());
  auto exits = by_node(run_all(r, 5));
  EXPECT_EQ(exits["say-file"].exit_code, 0) << slurp(root_ + "/say-file/main.log");
  EXPECT_EQ(slurp(outputs(exits["say-file"])["/tmp/out/f"]), "hello\n");
  EXPECT_EQ(slurp(exits["say"].stdout_path), "hello argo\n");
  EXPECT_EQ(exits["say-exit"].exit_code, 3);
  EXPECT_NE(slurp(exits["cow"].stdout_path).find("< hello >"), std::string::npos) << slurp(root_ + "/cow/main.log");
  EXPECT_NE(slurp(exits["whale"].stdout_path).find("< hello world >"), std::string::npos);
}

TEST_F(HostRunnerTest, StartCostIsSmall) {
  HostRunner r(options());
  constexpr int kSteps = 20;
  std::chrono::microseconds in_start{0}, total{0};
  for (int i = 0; i < kSteps; ++i) {
    std::string name = "t";  // not "t" + to_string(i): g++ 12 warns falsely (-Wrestrict)
    name += std::to_string(i);
    StepInvocation s = step(name, {"true"});
    auto t0 = steady_clock::now();
    ASSERT_TRUE(r.start(s).ok());
    auto t1 = steady_clock::now();
    auto done = run_all(r, 1);
    ASSERT_EQ(done.size(), 1u);
    ASSERT_EQ(done[0].exit_code, 0);
    in_start += std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0);
    total += std::chrono::duration_cast<std::chrono::microseconds>(steady_clock::now() - t0);
  }
  // A figure for whoever reads the log; bench/engine.sh is where speed is measured.
  std::printf("per step: start() %lld us, start() to collected exit of `true` %lld us\n",
              static_cast<long long>(in_start.count() / kSteps), static_cast<long long>(total.count() / kSteps));
}

TEST_F(HostRunnerTest, ALauncherThatDiedIsReplacedAndNoStepIsLost) {
  HostRunner r(options());
  StepExit first = run_one(r, step("before", {"sh", "-c", "echo one"}));
  ASSERT_EQ(first.exit_code, 0);
  pid_t launcher = r.launcher_pid();
  ASSERT_GT(launcher, 0);
  ::kill(launcher, SIGKILL);
  // The next start finds the launcher gone: it starts that supervisor itself and a new
  // launcher for the one after.
  for (const char* name : {"after1", "after2"}) {
    StepExit e = run_one(r, step(name, {"sh", "-c", "echo two"}));
    EXPECT_EQ(e.kind, StepExit::Kind::kExited) << e.message;
    EXPECT_EQ(e.exit_code, 0);
    EXPECT_EQ(slurp(e.stdout_path), "two\n");
  }
  EXPECT_GT(r.launcher_pid(), 0);
  EXPECT_NE(r.launcher_pid(), launcher);
}

TEST_F(HostRunnerTest, TheLauncherEndsWithTheRunnerAndItsStepsDoNot) {
  StepInvocation s = step("outlives", {"sh", "-c", "sleep 0.3; echo done"});
  pid_t launcher;
  {
    HostRunner first(options());
    ASSERT_TRUE(first.start(s).ok());
    launcher = first.launcher_pid();
    ASSERT_GT(launcher, 0);
    // Until its supervisor has the step going, an engine that takes over would rightly find
    // it never started (and have it refuse to start later): that is not this test's case.
    for (int i = 0; i < 1000 && !exists(s.node_dir + "/stdout"); ++i) ::usleep(10000);
    ASSERT_TRUE(exists(s.node_dir + "/stdout"));
  }
  // The runner reaped its launcher when it went away.
  EXPECT_NE(::kill(launcher, 0), 0);
  HostRunner second(options());
  ASSERT_TRUE(second.attach(s.node_id, s.node_dir, "", s).ok());
  auto done = run_all(second, 1);
  ASSERT_NO_FATAL_FAILURE(expect_one_exit(done, 0, "done\n"));
}

}  // namespace
}  // namespace tether::exec
