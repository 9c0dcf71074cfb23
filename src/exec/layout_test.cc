// Pure parts of the host executor: node file records, the view plan, the image table.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <map>

#include "exec/images.h"
#include "exec/layout.h"
#include "exec/record.h"

namespace tether::exec {
namespace {

TEST(Record, RoundTripsArbitraryBytes) {
  Record r;
  std::string nasty("a\nb 3:c\0d", 9);
  r.add("arg", nasty);
  r.add("arg", "");
  r.add("code", 42);
  Record back;
  std::string why;
  ASSERT_TRUE(Record::decode(r.encode(), &back, &why)) << why;
  EXPECT_EQ(back.all("arg"), (std::vector<std::string>{nasty, ""}));
  EXPECT_EQ(back.get_int("code"), 42);
  EXPECT_EQ(back.get_int("missing", -1), -1);
}

TEST(Record, RejectsTruncatedText) {
  Record r;
  r.add("message", "hello world");
  std::string text = r.encode();
  Record back;
  std::string why;
  for (size_t cut = 1; cut < text.size(); ++cut)
    EXPECT_FALSE(Record::decode(text.substr(0, cut), &back, &why)) << cut;
  EXPECT_FALSE(Record::decode("x 99999999999999999999:a\n", &back, &why));
}

// A reader may catch node_dir/state at any point of its writing: every cut reads as the
// start fields so far, and an end only once all of it is there.
TEST(AttemptState, ACutAnywhereNeverReadsAsEnded) {
  Record start, end;
  start.add("supervisor_pid", 41);
  start.add("step_pid", 42);
  start.add("started_us", 1000);
  end.add("kind", "exited");
  end.add("started_us", 1000);
  end.add("code", 3);
  std::string head = start.encode(), text = head + end.encode();
  std::string path = ::testing::TempDir() + "/attempt-state";
  AttemptState st;
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    { std::ofstream(path, std::ios::binary | std::ios::trunc) << text.substr(0, cut); }
    ASSERT_TRUE(read_attempt_state(path, &st)) << cut;
    EXPECT_EQ(st.ended, cut == text.size()) << cut;
    if (cut >= head.size()) {
      EXPECT_EQ(st.start.get_int("step_pid"), 42) << cut;
      EXPECT_EQ(st.start.fields().size(), 3u) << cut;
    }
  }
  EXPECT_EQ(st.end.get_int("code", -1), 3);
  EXPECT_EQ(st.end.get_int("started_us"), 1000);
  // A start failure records an end with no start before it.
  { std::ofstream(path, std::ios::binary | std::ios::trunc) << end.encode(); }
  ASSERT_TRUE(read_attempt_state(path, &st));
  EXPECT_TRUE(st.ended);
  EXPECT_TRUE(st.start.fields().empty());
  ::unlink(path.c_str());
  EXPECT_FALSE(read_attempt_state(path, &st));
  EXPECT_EQ(errno, ENOENT);
}

TEST(StepSpec, RoundTrips) {
  StepSpec s;
  s.image = "python:3";
  s.argv = {"python3", "-c", "print('\\n')"};
  s.env = {"A=1", "B=x\ny"};
  s.working_dir = "/w";
  s.mounts = {{"/in", "/host/in", true}, {"/v", "/host/v", false}};
  s.outputs = {"/tmp/out.txt"};
  s.script = true;
  s.private_view = false;
  StepSpec back;
  std::string why;
  ASSERT_TRUE(decode_spec(encode_spec(s), &back, &why)) << why;
  EXPECT_EQ(back.argv, s.argv);
  EXPECT_EQ(back.env, s.env);
  EXPECT_EQ(back.working_dir, "/w");
  ASSERT_EQ(back.mounts.size(), 2u);
  EXPECT_EQ(back.mounts[0].host_path, "/host/in");
  EXPECT_TRUE(back.mounts[0].read_only);
  EXPECT_FALSE(back.mounts[1].read_only);
  EXPECT_EQ(back.outputs, s.outputs);
  EXPECT_TRUE(back.script);
  EXPECT_FALSE(back.private_view);
}

TEST(Layout, NormalizesPaths) {
  EXPECT_EQ(normalize_path("/a/./b//c/"), "/a/b/c");
  EXPECT_EQ(normalize_path("/a/../../b"), "/b");
  EXPECT_EQ(normalize_path("rel/x"), "/rel/x");
  EXPECT_EQ(normalize_path("/"), "/");
  EXPECT_EQ(parent_path("/a"), "/");
  EXPECT_EQ(parent_path("/a/b"), "/a");
  EXPECT_EQ(base_name("/a/b"), "b");
}

std::map<std::string, std::string> outputs_of(const ViewPlan& plan) {
  return std::map<std::string, std::string>(plan.outputs.begin(), plan.outputs.end());
}

std::vector<std::string> targets_of(const ViewPlan& plan) {
  std::vector<std::string> targets;
  for (const Bind& b : plan.binds) targets.push_back(b.target);
  return targets;
}

TEST(Layout, MapsOutputsToPrivatePlaces) {
  ViewPlan plan = plan_view("/n", {{"/vol", "/host/vol", false}},
                            {"/tmp/out.txt", "/workspace/out", "/mnt/out/x", "/vol/a/b", "/result.txt", "/mnt/out/y/"},
                            false);
  auto out = outputs_of(plan);
  EXPECT_EQ(out["/tmp/out.txt"], "/n/tmp/out.txt");
  EXPECT_EQ(out["/workspace/out"], "/n/outputs/%2Fworkspace/upper/out");
  EXPECT_EQ(out["/mnt/out/x"], "/n/outputs/%2Fmnt%2Fout/upper/x");
  EXPECT_EQ(out["/mnt/out/y/"], "/n/outputs/%2Fmnt%2Fout/upper/y");  // shares /mnt/out's bind
  EXPECT_EQ(out["/vol/a/b"], "/host/vol/a/b");
  EXPECT_EQ(out["/result.txt"], "/n/outputs/%2F/upper/result.txt");
  // A step with an output directly under "/" starts in the directory that holds it.
  EXPECT_EQ(targets_of(plan),
            (std::vector<std::string>{"/tmp", "/result.txt", "/workspace", "/vol", kRootWorkdir, "/mnt/out"}));
  EXPECT_EQ(plan.workdir, kRootWorkdir);
  EXPECT_EQ(plan_view("/n", {}, {"/tmp/x", "/a/b"}, false).workdir, "/tmp");
}

TEST(Layout, NestedOutputLandsInsideItsDirectoryOutput) {
  ViewPlan plan = plan_view("/n", {}, {"/work/dir/file", "/work/dir"}, true);
  auto out = outputs_of(plan);
  EXPECT_EQ(out["/work/dir"], "/n/outputs/%2Fwork/upper/dir");
  EXPECT_EQ(out["/work/dir/file"], "/n/outputs/%2Fwork/upper/dir/file");
  ASSERT_EQ(plan.binds.size(), 3u);  // /tmp, /work, /argo/staging/script
  EXPECT_EQ(plan.binds[1].target, "/work");
  EXPECT_EQ(plan.binds[2].target, kStagingScript);
  EXPECT_TRUE(plan.binds[2].read_only);
}

TEST(Layout, MountsAreBoundAfterTheirParents) {
  ViewPlan plan = plan_view("/n", {{"/tmp/in/file", "/h/file", true}, {"/a", "/h/a", false}}, {"/a/b/c"}, false);
  EXPECT_EQ(targets_of(plan), (std::vector<std::string>{"/tmp", "/a", "/tmp/in/file"}));
  EXPECT_EQ(outputs_of(plan)["/a/b/c"], "/h/a/b/c");
}

TEST(Images, ParsesRepositories) {
  EXPECT_EQ(image_repository("python:3.12"), "python");
  EXPECT_EQ(image_repository("docker.io/library/python:3.12-alpine"), "python");
  EXPECT_EQ(image_repository("argoproj/argosay:v2"), "argoproj/argosay");
  EXPECT_EQ(image_repository("localhost:5000/x/y@sha256:abc"), "localhost:5000/x/y");
  EXPECT_EQ(image_repository("docker/whalesay"), "docker/whalesay");
}

TEST(Images, PicksHostCommands) {
  const std::string shims = TETHER_TEST_SHIMS;
  const std::string path = "/usr/bin:/bin";
  using V = std::vector<std::string>;
  EXPECT_EQ(host_command("argoproj/argosay:v2", {}, shims, path).argv, V{shims + "/argosay"});
  EXPECT_EQ(host_command("argoproj/argosay:v2", {"echo", "hi"}, shims, path).argv, (V{shims + "/argosay", "echo", "hi"}));
  EXPECT_EQ(host_command("argoproj/argosay:v2", {"/argosay", "exit", "1"}, shims, path).argv,
            (V{shims + "/argosay", "exit", "1"}));
  EXPECT_EQ(host_command("argoproj/argosay:v2", {"sh", "-c", "x"}, shims, path).argv, (V{"sh", "-c", "x"}));
  EXPECT_TRUE(host_command("argoproj/argosay:v1", {"sh", "-c", "cowsay hi"}, shims, path).shims_on_path);
  EXPECT_EQ(host_command("docker/whalesay:latest", {"cowsay", "hi"}, shims, path).argv, (V{shims + "/cowsay", "hi"}));
  EXPECT_EQ(host_command("python:3", {"python", "-c", "1"}, shims, "/nonexistent").argv, (V{"python3", "-c", "1"}));
  EXPECT_EQ(host_command("python:3", {"python", "-c", "1"}, shims, "/usr/bin:/bin:" + path).argv[0],
            find_in_path("python", "/usr/bin:/bin") ? "python" : "python3");
  EXPECT_EQ(host_command("alpine:3", {"echo", "hi"}, shims, path).argv, (V{"echo", "hi"}));
  EXPECT_FALSE(host_command("alpine:3", {"echo"}, shims, path).shims_on_path);
}

}  // namespace
}  // namespace tether::exec
