// The engine end to end with fakes: FakeRunner (a table of what each step does),
// MemoryStore, MemoryRepo and FakeClock. Every run is checked in the store, as the CLI
// and the API see it.
#include "engine/engine.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <set>

#include "base/strings.h"
#include "testlib/fake_clock.h"
#include "testlib/fake_runner.h"
#include "testlib/memory_repo.h"
#include "testlib/memory_store.h"
#include "testlib/yaml_json.h"

namespace tether::engine {
namespace {

using testlib::FakeStep;

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/tether-engine-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    home_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(home_); }

  void use_table(std::vector<FakeStep> table) { runner_ = std::make_unique<testlib::FakeRunner>(clock_, table); }

  // A restart on a machine where no step of the crashed engine is known to the runner:
  // either they provably never started, or their supervisors died with them.
  void recover_with_a_new_runner(bool steps_died) {
    use_table({});
    runner_->unknown_steps_died = steps_died;
    auto engine = make_engine();
    ASSERT_TRUE(engine->recover().ok());
    drive(*engine);
  }

  std::unique_ptr<Engine> make_engine(EngineOptions opts = {}) {
    if (!runner_) use_table({});
    opts.home = home_;
    return std::make_unique<Engine>(store_, *runner_, repo_, clock_, opts);
  }

  // A submit posted and one turn run: how the turn went and the reply, if one came.
  // on_reply runs when the reply comes, as the command's caller would be told.
  struct Posted {
    Status turn;
    std::optional<Result<RunRecord>> reply;
  };
  Posted post_submit(Engine& e, Json wf, const std::string& entrypoint = "", std::function<void()> on_reply = {}) {
    Posted p;
    e.post(Submit{std::move(wf), entrypoint, [&](Result<RunRecord> r) {
                    if (on_reply) on_reply();
                    p.reply = std::move(r);
                  }});
    p.turn = e.run_once(std::chrono::milliseconds(0));
    return p;
  }

  RunRecord submit(Engine& e, const std::string& yaml, const std::string& entrypoint = "") {
    Posted p = post_submit(e, testlib::yaml_to_json(yaml), entrypoint);
    EXPECT_TRUE(p.turn.ok());
    std::optional<Result<RunRecord>>& got = p.reply;
    EXPECT_TRUE(got.has_value());
    if (!got || !got->ok()) {
      ADD_FAILURE() << (got ? got->error().str() : "no reply");
      return {};
    }
    return **got;
  }

  // Turns until no run is active; the clock jumps to the next step end.
  void drive(Engine& e, int max_turns = 500) {
    for (int i = 0; i < max_turns && e.has_active_runs(); ++i) {
      ASSERT_TRUE(e.run_once(std::chrono::milliseconds(0)).ok());
      step_clock();
    }
    ASSERT_FALSE(e.has_active_runs()) << "run did not finish";
  }
  // Half a second a turn: a daemon's end is far away, and jumping there would skip the steps
  // that start once it is up.
  void drive_slowly(Engine& e, int max_turns = 500) {
    for (int i = 0; i < max_turns && e.has_active_runs(); ++i) {
      ASSERT_TRUE(e.run_once(std::chrono::milliseconds(0)).ok());
      clock_.advance(std::chrono::milliseconds(500));
    }
    ASSERT_FALSE(e.has_active_runs()) << "run did not finish";
  }
  void step_clock() {
    auto next = runner_->next_wakeup();
    if (next && *next > clock_.now()) clock_.set(*next);
    else clock_.advance(std::chrono::milliseconds(100));
  }

  RunRecord run_record(const std::string& name) {
    auto r = store_.find_run("default", name);
    EXPECT_TRUE(r.ok() && *r) << name;
    return r.ok() && *r ? **r : RunRecord{};
  }
  std::map<std::string, NodeStatus> nodes(const std::string& uid) {
    std::map<std::string, NodeStatus> out;
    auto ns = store_.nodes(uid);
    EXPECT_TRUE(ns.ok());
    for (const auto& n : *ns) {
      NodeStatus s = node_from_json(n.status);
      out[s.name] = s;
    }
    return out;
  }

  std::string home_;
  testlib::FakeClock clock_;
  testlib::MemoryStore store_;
  testlib::MemoryRepo repo_;
  std::unique_ptr<testlib::FakeRunner> runner_;
};

constexpr const char* kLinear = R"Y(
metadata: {generateName: hello-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: one, template: say}
    - - {name: two, template: say}
    - - {name: three, template: say}
  - name: say
    container: {image: alpine, command: [echo], args: ["{{pod.name}}"]}
)Y";

TEST_F(EngineTest, LinearStepsRunEndToEnd) {
  auto e = make_engine();
  RunRecord rec = submit(*e, kLinear);
  EXPECT_EQ(rec.name.rfind("hello-", 0), 0u);
  EXPECT_EQ(rec.name.size(), 11u);
  EXPECT_EQ(run_record(rec.name).phase, "Running");
  drive(*e);
  RunRecord done = run_record(rec.name);
  EXPECT_EQ(done.phase, "Succeeded");
  EXPECT_FALSE(done.finished_at.empty());
  EXPECT_EQ(done.status["progress"], "3/3");
  auto ns = nodes(rec.uid);
  EXPECT_EQ(ns.size(), 7u);  // Steps, 3 groups, 3 pods
  for (const char* n : {"[0].one", "[1].two", "[2].three"}) {
    const NodeStatus& pod = ns.at(rec.name + n);
    EXPECT_EQ(pod.phase, "Succeeded") << n;
    EXPECT_EQ(pod.engine["intent"], true);
    EXPECT_EQ(pod.engine["handle"], "fake:" + pod.id);
    EXPECT_EQ(pod.engine["invocation"]["command"][1], pod.engine["podName"]);
    EXPECT_TRUE(std::filesystem::is_directory(node_dir(home_, rec.uid, pod.id)));
  }
  EXPECT_EQ(runner_->started_names(),
            (std::vector<std::string>{rec.name + "[0].one", rec.name + "[1].two", rec.name + "[2].three"}));
  EXPECT_EQ(runner_->max_starts(), 1);
  auto events = store_.events(rec.uid);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->front().reason, "WorkflowRunning");
  EXPECT_EQ(events->back().reason, "WorkflowSucceeded");
}

// A command is answered once what it changed is on disk; the turns of running steps do not
// wait for the disk. A store that cannot flush stops the engine, unanswered.
TEST_F(EngineTest, ACommandIsAnsweredOnceItsCommitIsFlushed) {
  auto e = make_engine();
  std::optional<int> flushes_at_reply;
  Posted first = post_submit(*e, testlib::yaml_to_json(kLinear), "", [&] { flushes_at_reply = store_.flushes(); });
  ASSERT_TRUE(first.turn.ok());
  ASSERT_TRUE(first.reply && first.reply->ok());
  ASSERT_TRUE(flushes_at_reply.has_value());
  EXPECT_EQ(*flushes_at_reply, 1);
  drive(*e);
  EXPECT_EQ(store_.flushes(), 1);

  store_.flush_result = Error(ErrorCode::kIo, "disk gone");
  Posted second = post_submit(*e, testlib::yaml_to_json(kLinear));
  ASSERT_FALSE(second.turn.ok());
  EXPECT_NE(second.turn.error().message.find("disk gone"), std::string::npos) << second.turn.error().message;
  EXPECT_FALSE(second.reply.has_value());
}

TEST_F(EngineTest, FailingStepFailsTheRunWithArgosMessage) {
  use_table({{"*.two", 2}});
  auto e = make_engine();
  RunRecord rec = submit(*e, kLinear);
  drive(*e);
  RunRecord done = run_record(rec.name);
  auto ns = nodes(rec.uid);
  const NodeStatus& two = ns.at(rec.name + "[1].two");
  EXPECT_EQ(two.phase, "Failed");
  EXPECT_EQ(two.message, "main: Error (exit code 2)");
  EXPECT_EQ(done.phase, "Failed");
  EXPECT_EQ(done.message, "child '" + two.id + "' failed");
  EXPECT_EQ(ns.count(rec.name + "[2].three"), 0u);
}

TEST_F(EngineTest, StartFailureIsAnErrorNode) {
  use_table({{"*.one", 0, "", {}, std::chrono::milliseconds(1000), true}});
  auto e = make_engine();
  RunRecord rec = submit(*e, kLinear);
  drive(*e);
  auto ns = nodes(rec.uid);
  EXPECT_EQ(ns.at(rec.name + "[0].one").phase, "Error");
  EXPECT_EQ(ns.at(rec.name + "[0].one").message, "fake start failure for " + rec.name + "[0].one");
  EXPECT_EQ(run_record(rec.name).phase, "Failed");
}

TEST_F(EngineTest, ExplicitNameAndEntrypointOverride) {
  auto e = make_engine();
  RunRecord rec = submit(*e, R"Y(
metadata: {name: pick}
spec:
  entrypoint: main
  templates:
  - {name: main, container: {image: alpine}}
  - {name: other, container: {image: alpine}}
)Y",
                         "other");
  drive(*e);
  EXPECT_EQ(nodes(rec.uid).at("pick").template_name, "other");
  // The same name again is refused, as Kubernetes refuses it.
  Posted posted = post_submit(*e, testlib::yaml_to_json("metadata: {name: pick}\nspec: {entrypoint: main}"));
  ASSERT_TRUE(posted.turn.ok());
  std::optional<Result<RunRecord>>& again = posted.reply;
  ASSERT_TRUE(again && !again->ok());
  EXPECT_EQ(again->error().message, "workflows.argoproj.io \"pick\" already exists");
}

constexpr const char* kPassing = R"Y(
metadata: {name: pass}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: gen, template: gen}
    - - name: use
        template: use
        arguments:
          parameters: [{name: msg, value: "{{steps.gen.outputs.parameters.msg}}"}]
          artifacts: [{name: data, from: "{{steps.gen.outputs.artifacts.data}}"}]
  - name: gen
    script: {image: python, command: [python], source: "print('hi')"}
    outputs:
      parameters: [{name: msg, valueFrom: {path: /tmp/msg}}]
      artifacts: [{name: data, path: /tmp/data.txt}]
  - name: use
    inputs:
      parameters: [{name: msg}]
      artifacts: [{name: data, path: /in/data.txt}]
    container: {image: alpine, args: ["{{inputs.parameters.msg}}", "{{steps.gen.outputs.result}}"]}
)Y";

// The API server's route has no CLI in front of it: the engine names where a NUL is.
TEST_F(EngineTest, ANulByteIsRefusedWithItsPathAndNothingIsStored) {
  auto e = make_engine();
  Json wf = testlib::yaml_to_json(kLinear);
  wf["spec"]["templates"][1]["container"]["args"].push_back(std::string("a\0b", 3));
  Posted posted = post_submit(*e, wf);
  ASSERT_TRUE(posted.turn.ok());
  std::optional<Result<RunRecord>>& got = posted.reply;
  ASSERT_TRUE(got && !got->ok());
  EXPECT_EQ(got->error().message, "spec.templates[1].container.args[1] contains a NUL byte, which no program can receive");
  EXPECT_FALSE(e->has_active_runs());
}

// Steps of one turn are prepared one by one as they are launched: one whose inputs cannot
// be staged fails on its own, and the others of its batch start.
TEST_F(EngineTest, AStepWhoseInputCannotBeStagedFailsAloneInItsBatch) {
  auto e = make_engine();
  RunRecord rec = submit(*e, R"Y(
metadata: {name: staging}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: first, template: plain}
      - {name: missing, template: needs-input}
      - {name: last, template: plain}
  - name: plain
    container: {image: alpine, command: ["true"]}
  - name: needs-input
    inputs:
      artifacts: [{name: data, path: /in/data, local: {key: nowhere/data.tgz}}]
    container: {image: alpine, command: ["true"]}
)Y");
  drive(*e);
  auto ns = nodes(rec.uid);
  EXPECT_EQ(ns.at("staging.first").phase, "Succeeded");
  EXPECT_EQ(ns.at("staging.last").phase, "Succeeded");
  EXPECT_EQ(ns.at("staging.missing").phase, "Error");
  EXPECT_NE(ns.at("staging.missing").message.find("inputs.artifacts.data"), std::string::npos)
      << ns.at("staging.missing").message;
  EXPECT_EQ(run_record("staging").phase, "Error");
}

TEST_F(EngineTest, ParametersResultAndArtifactsPassBetweenSteps) {
  use_table({{"*.gen", 0, "hello\n", {{"/tmp/msg", "from-file\n"}, {"/tmp/data.txt", "payload"}}}});
  auto e = make_engine();
  RunRecord rec = submit(*e, kPassing);
  drive(*e);
  ASSERT_EQ(run_record("pass").phase, "Succeeded") << run_record("pass").message;
  auto ns = nodes(rec.uid);
  const NodeStatus& gen = ns.at("pass[0].gen");
  EXPECT_EQ(gen.outputs["result"], "hello");
  EXPECT_EQ(gen.outputs["exitCode"], "0");
  EXPECT_EQ(gen.outputs["parameters"][0]["value"], "from-file");
  std::string key = gen.outputs["artifacts"][0]["local"]["key"];
  EXPECT_EQ(key, "pass/" + gen.engine["podName"].get<std::string>() + "/data.tgz");
  EXPECT_EQ(repo_.objects.at(key), "payload");
  const NodeStatus& use = ns.at("pass[1].use");
  EXPECT_EQ(use.inputs["parameters"][0]["value"], "from-file");
  EXPECT_EQ(use.inputs["artifacts"][0]["local"]["key"], key);
  std::string staged = node_dir(home_, rec.uid, use.id) + "/inputs/data";
  EXPECT_EQ(read_file(staged).value(), "payload");
  const Json& mounts = use.engine["invocation"]["mounts"];
  EXPECT_EQ(mounts[0]["path"], "/in/data.txt");
  EXPECT_EQ(mounts[0]["hostPath"], staged);
}

TEST_F(EngineTest, MissingOutputArtifactIsAnError) {
  use_table({{"*.gen", 0, "hello\n", {{"/tmp/msg", "x"}}}});
  auto e = make_engine();
  RunRecord rec = submit(*e, kPassing);
  drive(*e);
  auto ns = nodes(rec.uid);
  EXPECT_EQ(ns.at("pass[0].gen").phase, "Error");
  EXPECT_EQ(ns.at("pass[0].gen").message, "open /tmp/data.txt: no such file or directory");
  EXPECT_EQ(run_record("pass").phase, "Failed");
}

constexpr const char* kDag = R"Y(
metadata: {name: dag}
spec:
  entrypoint: main
  parallelism: 2
  templates:
  - name: main
    dag:
      tasks:
      - {name: A, template: t}
      - {name: B, template: t, depends: A}
      - {name: C, template: t, depends: A}
      - {name: D, template: t, depends: A}
      - {name: E, template: t, depends: "B && C && D"}
  - name: t
    container: {image: alpine}
)Y";

TEST_F(EngineTest, DagRespectsParallelism) {
  auto e = make_engine();
  RunRecord rec = submit(*e, kDag);
  drive(*e);
  EXPECT_EQ(run_record("dag").phase, "Succeeded");
  EXPECT_EQ(runner_->max_concurrent, 2u);
  EXPECT_EQ(runner_->started_names().back(), "dag.E");
  EXPECT_EQ(nodes(rec.uid).at("dag").outbound_nodes, std::vector<std::string>{node_id("dag", "dag.E")});
}

TEST_F(EngineTest, RecoverAfterACrashNeverStartsARecordedStepTwice) {
  use_table({{"*", 0, "", {}, std::chrono::seconds(10)}});
  auto first = make_engine();
  RunRecord rec = submit(*first, kDag);
  // Run until B, C and D are running (two at a time), then "crash": drop the engine.
  for (int i = 0; i < 50 && runner_->started_names().size() < 3; ++i) {
    ASSERT_TRUE(first->run_once(std::chrono::milliseconds(0)).ok());
    step_clock();
  }
  ASSERT_EQ(runner_->started_names().size(), 3u);
  first.reset();
  clock_.advance(std::chrono::seconds(30));  // steps end while no engine watches

  auto second = make_engine();
  ASSERT_TRUE(second->recover().ok());
  EXPECT_TRUE(second->has_active_runs());
  EXPECT_EQ(runner_->attached.size(), 2u);
  drive(*second);
  EXPECT_EQ(run_record("dag").phase, "Succeeded");
  EXPECT_EQ(runner_->max_starts(), 1);
  EXPECT_EQ(runner_->started_names().size(), 5u);
}

TEST_F(EngineTest, IntentWithoutStartIsStartedAfreshAfterACrash) {
  auto first = make_engine();
  RunRecord rec = submit(*first, kLinear);
  // The submit turn committed the first leaf's intent and started it; commit its handle,
  // then craft the crash window: an intent committed but never started.
  auto ns = nodes(rec.uid);
  NodeStatus one = ns.at(rec.name + "[0].one");
  ASSERT_EQ(one.engine["intent"], true);
  first.reset();
  // A fresh runner knows nothing of the step: it provably never ran, so it starts now.
  ASSERT_NO_FATAL_FAILURE(recover_with_a_new_runner(/*steps_died=*/false));
  auto after = nodes(rec.uid);
  EXPECT_EQ(after.at(rec.name + "[0].one").phase, "Succeeded");
  EXPECT_EQ(runner_->starts(rec.name + "[0].one"), 1);
  EXPECT_EQ(run_record(rec.name).phase, "Succeeded");
}

TEST_F(EngineTest, StepThatMayHaveRunButWhoseEndIsUnknownIsLost) {
  auto first = make_engine();
  RunRecord rec = submit(*first, kLinear);
  first.reset();
  ASSERT_NO_FATAL_FAILURE(recover_with_a_new_runner(/*steps_died=*/true));
  auto after = nodes(rec.uid);
  EXPECT_EQ(after.at(rec.name + "[0].one").phase, "Error");
  EXPECT_EQ(after.at(rec.name + "[0].one").message, "lost");
  EXPECT_EQ(runner_->starts(rec.name + "[0].one"), 0);
  EXPECT_EQ(run_record(rec.name).phase, "Failed");
}

TEST_F(EngineTest, LostStepIsRetriedByAPolicyThatRetriesErrors) {
  const char* wf = R"Y(
metadata: {name: lost}
spec:
  entrypoint: main
  templates:
  - name: main
    retryStrategy: {limit: 2, retryPolicy: Always}
    container: {image: alpine}
)Y";
  auto first = make_engine();
  RunRecord rec = submit(*first, wf);
  first.reset();
  ASSERT_NO_FATAL_FAILURE(recover_with_a_new_runner(/*steps_died=*/true));
  auto ns = nodes(rec.uid);
  EXPECT_EQ(ns.at("lost(0)").phase, "Error");
  EXPECT_EQ(ns.at("lost(1)").phase, "Succeeded");
  EXPECT_EQ(ns.at("lost").type, "Retry");
  EXPECT_EQ(run_record("lost").phase, "Succeeded");
}

constexpr const char* kExit = R"Y(
metadata: {name: ex}
spec:
  entrypoint: main
  onExit: bye
  templates:
  - name: main
    steps:
    - - {name: work, template: t}
  - name: t
    container: {image: alpine}
  - name: bye
    container: {image: alpine, args: ["{{workflow.status}}"]}
)Y";

TEST_F(EngineTest, ExitHandlerRunsWithTheWorkflowStatus) {
  use_table({{"*.work", 1}});
  auto e = make_engine();
  RunRecord rec = submit(*e, kExit);
  drive(*e);
  auto ns = nodes(rec.uid);
  EXPECT_EQ(ns.at("ex.onExit").phase, "Succeeded");
  EXPECT_EQ(ns.at("ex.onExit").engine["invocation"]["command"][0], "Failed");
  EXPECT_EQ(runner_->started_names().back(), "ex.onExit");
  EXPECT_EQ(run_record("ex").phase, "Failed");
}

TEST_F(EngineTest, StopSignalsRunningStepsAndRunsTheExitHandler) {
  use_table({{"*.work", 0, "", {}, std::chrono::hours(1)}});
  auto e = make_engine();
  RunRecord rec = submit(*e, kExit);
  std::optional<Status> stopped;
  e->post(Stop{{"default", "ex"}, "", [&](Status s) { stopped = s; }});
  drive(*e);
  ASSERT_TRUE(stopped && stopped->ok());
  ASSERT_EQ(runner_->signals.size(), 1u);
  EXPECT_EQ(runner_->signals[0].second, SIGTERM);
  auto ns = nodes(rec.uid);
  EXPECT_EQ(ns.at("ex[0].work").phase, "Failed");
  EXPECT_EQ(ns.at("ex[0].work").message, "Stopped with strategy 'Stop'");
  EXPECT_EQ(ns.at("ex.onExit").phase, "Succeeded");
  RunRecord done = run_record("ex");
  EXPECT_EQ(done.phase, "Failed");
  EXPECT_EQ(done.message, "Stopped with strategy 'Stop'");
}

TEST_F(EngineTest, TerminateSkipsTheExitHandler) {
  use_table({{"*.work", 0, "", {}, std::chrono::hours(1)}});
  auto e = make_engine();
  RunRecord rec = submit(*e, kExit);
  e->post(Terminate{{"default", "ex"}, nullptr});
  drive(*e);
  EXPECT_EQ(nodes(rec.uid).count("ex.onExit"), 0u);
  EXPECT_EQ(run_record("ex").message, "Stopped with strategy 'Terminate'");
}

TEST_F(EngineTest, TemplateRefFromAppliedWorkflowTemplate) {
  ASSERT_TRUE(store_
                  .put_object({"WorkflowTemplate", "default", "lib", testlib::yaml_to_json(R"Y(
metadata: {name: lib}
spec:
  templates:
  - name: hello
    container: {image: alpine, args: [hi]}
)Y"),
                               ""})
                  .ok());
  auto e = make_engine();
  RunRecord rec = submit(*e, R"Y(
metadata: {name: ref}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: a, templateRef: {name: lib, template: hello}}
)Y");
  drive(*e);
  EXPECT_EQ(run_record("ref").phase, "Succeeded");
  EXPECT_EQ(nodes(rec.uid).at("ref[0].a").engine["invocation"]["command"][0], "hi");
}

TEST_F(EngineTest, EnvFromConfigMapAndMissingConfigMapIsAnError) {
  ASSERT_TRUE(store_.put_object({"ConfigMap", "default", "cfg", Json{{"data", {{"k", "v1"}}}}, ""}).ok());
  auto e = make_engine();
  RunRecord rec = submit(*e, R"Y(
metadata: {name: env}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: ok, template: ok}
    - - {name: bad, template: bad}
  - name: ok
    container:
      image: alpine
      env: [{name: A, valueFrom: {configMapKeyRef: {name: cfg, key: k}}}, {name: B, value: plain}]
  - name: bad
    container:
      image: alpine
      env: [{name: A, valueFrom: {configMapKeyRef: {name: nope, key: k}}}]
)Y");
  drive(*e);
  auto ns = nodes(rec.uid);
  // The step gets the values; the store keeps only the names (values may be secrets).
  using Env = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(runner_->invocations.at("env[0].ok").env, (Env{{"A", "v1"}, {"B", "plain"}}));
  EXPECT_EQ(ns.at("env[0].ok").engine["invocation"]["env"], Json::parse(R"(["A","B"])"));
  EXPECT_EQ(ns.at("env[1].bad").phase, "Error");
  EXPECT_EQ(ns.at("env[1].bad").message, "configmap \"nope\" not found");
}

TEST_F(EngineTest, OneCommitPerTurnAndIdleExit) {
  EngineOptions opts;
  opts.idle_exit = std::chrono::milliseconds(0);
  auto e = make_engine(opts);
  RunRecord rec = submit(*e, kLinear);
  int before = store_.commits();
  ASSERT_TRUE(e->run_once(std::chrono::milliseconds(0)).ok());
  EXPECT_LE(store_.commits() - before, 1);
  drive(*e);
  EXPECT_TRUE(e->run().ok());  // nothing active: returns at once
}

TEST_F(EngineTest, DeleteRemovesTheRunAndItsArtifacts) {
  use_table({{"*.gen", 0, "hello\n", {{"/tmp/msg", "m"}, {"/tmp/data.txt", "payload"}}}});
  auto e = make_engine();
  RunRecord rec = submit(*e, kPassing);
  drive(*e);
  ASSERT_FALSE(repo_.objects.empty());
  std::optional<Status> deleted;
  e->post(Delete{{"default", "pass"}, [&](Status s) { deleted = s; }});
  ASSERT_TRUE(e->run_once(std::chrono::milliseconds(0)).ok());
  ASSERT_TRUE(deleted && deleted->ok());
  auto r = store_.find_run("default", "pass");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(*r);
  EXPECT_TRUE(repo_.objects.empty());
}

constexpr const char* kDaemon = R"Y(
metadata: {name: daemon}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: server, template: server}
    - - name: client
        template: client
        arguments: {parameters: [{name: ip, value: "{{steps.server.ip}}"}]}
  - name: server
    daemon: true
    container:
      image: python
      command: [python3, -m, http.server]
      readinessProbe: {httpGet: {path: /, port: 8000}, initialDelaySeconds: 2}
  - name: client
    inputs: {parameters: [{name: ip}]}
    container: {image: alpine, command: [wget, "{{inputs.parameters.ip}}:8000"]}
)Y";

TEST_F(EngineTest, DaemonIsDaemonedThenStoppedWhenItsStepsEnd) {
  use_table({{"*.server", 0, "", {}, std::chrono::hours(1), false, std::chrono::seconds(2)},
             {"*", 0, "", {}, std::chrono::seconds(1)}});
  auto engine = make_engine();
  RunRecord rec = submit(*engine, kDaemon);
  drive_slowly(*engine);
  EXPECT_EQ(run_record("daemon").phase, "Succeeded");
  const StepInvocation& server = runner_->invocations.at("daemon[0].server");
  EXPECT_TRUE(server.daemon);
  ASSERT_TRUE(server.readiness.has_value());
  EXPECT_EQ(server.readiness->kind, "httpGet");
  EXPECT_EQ(server.readiness->port, 8000);
  EXPECT_EQ(server.readiness->initial_delay_seconds, 2);
  // The client ran against the daemon's address, once it was up.
  EXPECT_EQ(runner_->invocations.at("daemon[1].client").command.back(), "127.0.0.1:8000");
  ASSERT_EQ(runner_->signals.size(), 1u);
  EXPECT_EQ(runner_->signals[0].second, SIGTERM);
  auto ns = nodes(rec.uid);
  EXPECT_EQ(ns["daemon[0].server"].phase, "Succeeded");
  EXPECT_FALSE(ns["daemon[0].server"].daemoned);
  EXPECT_EQ(ns["daemon[0].server"].pod_ip, "127.0.0.1");
  EXPECT_FALSE(ns["daemon[0].server"].outputs.contains("exitCode"));
}

TEST_F(EngineTest, DaemonIsStoppedByAnEngineThatRestartedAfterItWasDaemoned) {
  use_table({{"*.server", 0, "", {}, std::chrono::hours(1), false, std::chrono::seconds(1)},
             {"*", 0, "", {}, std::chrono::seconds(5)}});
  auto first = make_engine();
  RunRecord rec = submit(*first, kDaemon);
  for (int i = 0; i < 50 && runner_->started_names().size() < 2; ++i) {
    ASSERT_TRUE(first->run_once(std::chrono::milliseconds(0)).ok());
    clock_.advance(std::chrono::milliseconds(500));
  }
  ASSERT_EQ(runner_->started_names().size(), 2u);  // the client runs: the server is daemoned
  EXPECT_TRUE(nodes(rec.uid)["daemon[0].server"].daemoned);
  first.reset();
  auto second = make_engine();
  ASSERT_TRUE(second->recover().ok());
  drive_slowly(*second);
  EXPECT_EQ(run_record("daemon").phase, "Succeeded");
  EXPECT_EQ(runner_->max_starts(), 1);
  ASSERT_EQ(runner_->signals.size(), 1u);
  EXPECT_EQ(runner_->signals[0].first, nodes(rec.uid)["daemon[0].server"].id);
  EXPECT_EQ(nodes(rec.uid)["daemon[0].server"].phase, "Succeeded");
}

TEST_F(EngineTest, PodContainersReachTheRunnerWithTheirOwnEnvironment) {
  use_table({});
  auto engine = make_engine();
  submit(*engine, R"Y(
metadata: {name: pod}
spec:
  entrypoint: main
  templates:
  - name: main
    volumes: [{name: ws, emptyDir: {}}]
    initContainers:
    - {name: fetch, image: alpine, command: [sh, -c], args: [fetch], env: [{name: WHO, value: init}], mirrorVolumeMounts: true}
    sidecars:
    - {name: cache, image: redis, command: [redis-server], volumeMounts: [{name: ws, mountPath: /cache}]}
    container: {image: alpine, command: [cat, /ws/x], env: [{name: WHO, value: main}], volumeMounts: [{name: ws, mountPath: /ws}]}
    podSpecPatch: '{"terminationGracePeriodSeconds": 3}'
)Y");
  drive(*engine);
  const StepInvocation& inv = runner_->invocations.at("pod");
  ASSERT_EQ(inv.init_containers.size(), 1u);
  EXPECT_EQ(inv.init_containers[0].name, "fetch");
  EXPECT_EQ(inv.init_containers[0].command, (std::vector<std::string>{"sh", "-c", "fetch"}));
  EXPECT_EQ(inv.init_containers[0].env, (std::vector<std::pair<std::string, std::string>>{{"WHO", "init"}}));
  EXPECT_EQ(inv.env, (std::vector<std::pair<std::string, std::string>>{{"WHO", "main"}}));
  ASSERT_EQ(inv.sidecars.size(), 1u);
  EXPECT_EQ(inv.sidecars[0].name, "cache");
  EXPECT_EQ(inv.termination_grace_seconds, 3);
  // The pod's containers share its volumes: every mount of any of them is in the view.
  std::set<std::string> paths;
  for (const auto& m : inv.mounts) paths.insert(m.path);
  EXPECT_EQ(paths, (std::set<std::string>{"/ws", "/cache"}));
  // What is stored names env variables only; the values never reach the store.
  Json stored = invocation_to_json(inv);
  EXPECT_EQ(stored["initContainers"][0]["env"], Json::array({"WHO"}));
  EXPECT_EQ(stored.dump().find("init\""), std::string::npos);
  StepInvocation back = invocation_from_json(stored);
  EXPECT_EQ(back.init_containers[0].command, inv.init_containers[0].command);
  EXPECT_EQ(back.sidecars[0].name, "cache");
}

}  // namespace
}  // namespace tether::engine
