// The planner against Argo's semantics: node names, types, phases and messages, loops,
// outputs, DAG dependencies, retries and exit handlers. Leaves end at once with the
// outcome a table gives for their display name.
#include "plan/planner.h"

#include <fnmatch.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>

#include "base/strings.h"

#include "testlib/yaml_json.h"

namespace tether::plan {
namespace {

struct Outcome {
  std::string pattern;  // fnmatch over the node's display name
  int exit_code = 0;
  std::string stdout_text;
  std::map<std::string, std::string> files;  // output parameter name -> content
  std::string message;                       // the step's termination message
};

class Sim {
 public:
  Sim(const std::string& yaml, std::vector<Outcome> table, TemplateSource templates = nullptr)
      : table_(std::move(table)) {
    RunSpec spec;
    spec.workflow = testlib::yaml_to_json(yaml);
    spec.name = spec.workflow["metadata"].value("name", std::string("wf"));
    spec.uid = "uid-1";
    spec.created_at = now_;
    spec.templates = std::move(templates);
    planner_ = std::make_unique<Planner>(std::move(spec), state_);
  }

  // Advances until the run finishes; every started leaf ends in the same turn.
  void run(int max_turns = 100) {
    std::string why = drive(max_turns);
    if (!why.empty()) FAIL() << why;
  }
  // "" when the run finished, else why not.
  std::string drive(int max_turns) {
    for (int i = 0; i < max_turns; ++i) {
      auto turn = planner_->advance(now_);
      if (!turn.ok()) return "advance: " + turn.error().str();
      if (turn->finished) return "";
      if (turn->ready.empty() && !turn->wake_at && !resume_suspended())
        return "stuck: nothing to start and not finished";
      size_t k = 0;
      for (const auto& id : turn->ready)
        if (k++ < per_turn) finish(id);
      now_ += std::chrono::seconds(1);
      if (turn->wake_at && *turn->wake_at > now_) now_ = *turn->wake_at;
    }
    return "did not finish";
  }

  const NodeStatus& node(const std::string& name) const {
    static NodeStatus missing;
    auto it = state_.nodes.find(node_id(planner_->spec().name, name));
    if (it == state_.nodes.end()) {
      ADD_FAILURE() << "no node " << name;
      return missing;
    }
    return it->second;
  }
  Turn advance_once() { return planner_->advance(now_).value(); }

  // Ends suspend nodes that wait for a resume, as `tether resume` does.
  bool resume_suspended() {
    bool any = false;
    for (auto& [id, n] : state_.nodes) {
      if (n.type != "Suspend" || phase_fulfilled(n.phase)) continue;
      n.phase = phase::kSucceeded;
      n.finished_at = now_;
      any = true;
    }
    return any;
  }
  bool has(const std::string& name) const { return state_.nodes.count(node_id(planner_->spec().name, name)) > 0; }
  std::string id(const std::string& name) const { return node_id(planner_->spec().name, name); }
  const RunState& state() const { return state_; }
  std::vector<std::string> started;  // display names, in start order
  size_t per_turn = SIZE_MAX;        // leaves that end per turn (the others wait)
  std::map<std::string, std::string> errors;  // display name -> why it could not run (Error)

 private:
  void finish(const std::string& id) {
    planner_->start_leaf(id, now_);
    const NodeStatus& n = state_.nodes.at(id);
    started.push_back(n.display_name);
    LeafResult r;
    r.started_at = now_;
    r.finished_at = now_;
    r.stdout_text = "";
    // Unless the table says otherwise, a step writes "1" to every output parameter file
    // and saves every output artifact.
    Json outs = Planner::leaf_template(n).value("outputs", Json::object());
    if (outs.contains("parameters"))
      for (const auto& p : outs["parameters"]) r.parameter_files[p.value("name", "")] = "1";
    if (outs.contains("artifacts"))
      for (auto a : outs["artifacts"]) {
        a["local"] = {{"key", artifact_key(planner_->spec().name, "pod", a.value("name", ""), true)}};
        r.artifacts.push_back(a);
      }
    for (const auto& o : table_) {
      if (fnmatch(o.pattern.c_str(), n.display_name.c_str(), 0) != 0) continue;
      r.exit_code = o.exit_code;
      r.stdout_text = o.stdout_text;
      for (const auto& [k, v] : o.files) r.parameter_files[k] = v;
      r.message = o.message;
      break;
    }
    if (auto e = errors.find(n.display_name); e != errors.end()) {
      r.kind = LeafResult::Kind::kStartFailed;
      r.message = e->second;
    }
    planner_->finish_leaf(id, r);
  }

  WallTime now_ = WallTime(std::chrono::seconds(1'790'000'000));
  RunState state_;
  std::vector<Outcome> table_;
  std::unique_ptr<Planner> planner_;
};

constexpr const char* kLinear = R"Y(
metadata: {name: steps-wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: hello1
        template: say
    - - name: hello2a
        template: say
      - name: hello2b
        template: say
  - name: say
    container: {image: alpine, command: [echo, hi]}
)Y";

TEST(Planner, LinearStepsNodeNamesTypesAndLinks) {
  Sim sim(kLinear, {});
  sim.run();
  EXPECT_EQ(sim.state().phase, "Succeeded");
  const auto& root = sim.node("steps-wf");
  EXPECT_EQ(root.id, "steps-wf");
  EXPECT_EQ(root.type, "Steps");
  EXPECT_EQ(root.display_name, "steps-wf");
  EXPECT_EQ(root.phase, "Succeeded");
  EXPECT_EQ(root.children, std::vector<std::string>{sim.id("steps-wf[0]")});
  const auto& sg0 = sim.node("steps-wf[0]");
  EXPECT_EQ(sg0.type, "StepGroup");
  EXPECT_EQ(sg0.display_name, "[0]");
  EXPECT_EQ(sg0.boundary_id, "steps-wf");
  const auto& h1 = sim.node("steps-wf[0].hello1");
  EXPECT_EQ(h1.type, "Pod");
  EXPECT_EQ(h1.display_name, "hello1");
  EXPECT_EQ(h1.template_name, "say");
  EXPECT_EQ(h1.boundary_id, "steps-wf");
  EXPECT_EQ(h1.template_scope, "local/steps-wf");
  EXPECT_EQ(h1.children, std::vector<std::string>{sim.id("steps-wf[1]")});
  EXPECT_EQ(sim.node("steps-wf[1]").children,
            (std::vector<std::string>{sim.id("steps-wf[1].hello2a"), sim.id("steps-wf[1].hello2b")}));
  EXPECT_EQ(root.outbound_nodes,
            (std::vector<std::string>{sim.id("steps-wf[1].hello2a"), sim.id("steps-wf[1].hello2b")}));
  EXPECT_EQ(sim.started, (std::vector<std::string>{"hello1", "hello2a", "hello2b"}));
  EXPECT_EQ(Planner::leaf_template(h1)["container"]["command"], Json({"echo", "hi"}));
  EXPECT_EQ(h1.engine["podName"], pod_name("steps-wf", "steps-wf[0].hello1", "say"));
}

constexpr const char* kHttpAndData = R"Y(
metadata: {name: agent-wf}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: ok, template: call}
      - {name: bad, template: call, continueOn: {failed: true}}
      - {name: list, template: list, continueOn: {failed: true}}
  - name: call
    http: {url: "http://h/"}
  - name: list
    data: {source: {artifactPaths: {name: x}}}
)Y";

TEST(Planner, HttpAndDataTemplatesAreLeavesWithArgosNodeTypesAndMessages) {
  Sim sim(kHttpAndData, {{"ok", 0, "body\n"},
                         {"bad", 1, "not found", {}, "received non-2xx response code: 404"},
                         {"list", 1, "", {}, "unable to process data template: boom"}});
  sim.run();
  EXPECT_EQ(sim.state().phase, "Succeeded");
  const auto& ok = sim.node("agent-wf[0].ok");
  EXPECT_EQ(ok.type, "HTTP");
  EXPECT_EQ(ok.phase, "Succeeded");
  // The body as received, and no exit code: an HTTP node has no container.
  EXPECT_EQ(ok.outputs, Json({{"result", "body\n"}}));
  const auto& bad = sim.node("agent-wf[0].bad");
  EXPECT_EQ(bad.phase, "Failed");
  EXPECT_EQ(bad.message, "received non-2xx response code: 404");
  EXPECT_EQ(bad.outputs["result"], "not found");
  const auto& list = sim.node("agent-wf[0].list");
  EXPECT_EQ(list.type, "Pod");
  EXPECT_EQ(list.message, "main: Error (exit code 1): unable to process data template: boom");
  EXPECT_EQ(Planner::leaf_template(list)["data"]["source"]["artifactPaths"]["name"], "x");
  EXPECT_EQ(list.engine["captureResult"], true);
}

TEST(Planner, NodeIdIsFnv32aOfTheName) {
  // Argo: wf.NodeID(name) = wf name + "-" + fnv32a(name); checked against Argo's algorithm.
  EXPECT_EQ(node_id("steps-wf", "steps-wf"), "steps-wf");
  EXPECT_EQ(node_id("a", "a[0]"), "a-1721724678");
}

TEST(Planner, FailingStepFailsGroupAndWorkflowWithArgosMessages) {
  Sim sim(kLinear, {{"hello2b", 3}});
  sim.run();
  EXPECT_EQ(sim.node("steps-wf[1].hello2b").phase, "Failed");
  EXPECT_EQ(sim.node("steps-wf[1].hello2b").message, "main: Error (exit code 3)");
  EXPECT_EQ(sim.node("steps-wf[1].hello2b").outputs["exitCode"], "3");
  std::string msg = "child '" + sim.id("steps-wf[1].hello2b") + "' failed";
  EXPECT_EQ(sim.node("steps-wf[1]").phase, "Failed");
  EXPECT_EQ(sim.node("steps-wf[1]").message, msg);
  EXPECT_EQ(sim.node("steps-wf").phase, "Failed");
  EXPECT_EQ(sim.node("steps-wf").message, msg);
  EXPECT_EQ(sim.state().phase, "Failed");
  EXPECT_EQ(sim.state().message, msg);
}

TEST(Planner, FailedFirstGroupStopsLaterGroups) {
  Sim sim(kLinear, {{"hello1", 1}});
  sim.run();
  EXPECT_FALSE(sim.has("steps-wf[1]"));
  EXPECT_EQ(sim.started.size(), 1u);
}

TEST(Planner, ContinueOnFailedKeepsGoing) {
  Sim sim(R"Y(
metadata: {name: co}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: a, template: t, continueOn: {failed: true}}
    - - {name: b, template: t}
  - name: t
    container: {image: alpine}
)Y",
          {{"a", 1}});
  sim.run();
  EXPECT_EQ(sim.node("co[0].a").phase, "Failed");
  EXPECT_EQ(sim.node("co[0]").phase, "Succeeded");
  EXPECT_EQ(sim.state().phase, "Succeeded");
}

constexpr const char* kWhen = R"Y(
metadata: {name: coin}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: flip, template: t}
    - - {name: heads, template: t, when: "{{steps.flip.outputs.result}} == heads"}
      - {name: tails, template: t, when: "{{steps.flip.outputs.result}} == tails"}
  - name: t
    script: {image: python, source: "print(1)"}
)Y";

TEST(Planner, WhenFalseIsSkippedWithArgosMessage) {
  Sim sim(kWhen, {{"flip", 0, "heads\n"}});
  sim.run();
  EXPECT_EQ(sim.node("coin[0].flip").outputs["result"], "heads");
  EXPECT_EQ(sim.node("coin[1].heads").phase, "Succeeded");
  const auto& tails = sim.node("coin[1].tails");
  EXPECT_EQ(tails.type, "Skipped");
  EXPECT_EQ(tails.phase, "Skipped");
  EXPECT_EQ(tails.message, "when 'heads == tails' evaluated false");
  EXPECT_EQ(sim.state().phase, "Succeeded");
}

TEST(Planner, BadWhenIsAnError) {
  Sim sim(R"Y(
metadata: {name: bw}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: a, template: t, when: "1 +"}
  - name: t
    container: {image: alpine}
)Y",
          {});
  sim.run();
  EXPECT_EQ(sim.node("bw[0].a").phase, "Error");
  EXPECT_EQ(sim.node("bw[0].a").type, "Skipped");
  EXPECT_NE(sim.node("bw[0].a").message.find("Invalid 'when' expression '1 +'"), std::string::npos)
      << sim.node("bw[0].a").message;
  EXPECT_EQ(sim.node("bw[0]").phase, "Error");
  EXPECT_EQ(sim.state().phase, "Failed");
}

constexpr const char* kLoops = R"Y(
metadata: {name: loops}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: plain
        template: echo
        arguments: {parameters: [{name: m, value: "{{item}}"}]}
        withItems: [a, 2, true]
      - name: maps
        template: echo
        arguments: {parameters: [{name: m, value: "{{item.os}}-{{item.v}}"}]}
        withItems: [{os: debian, v: "9.1"}, {v: 18, os: "ubuntu(x)"}]
      - name: seq
        template: echo
        arguments: {parameters: [{name: m, value: "{{item}}"}]}
        withSequence: {count: "3", start: "5", format: "n%02d"}
  - name: echo
    inputs: {parameters: [{name: m}]}
    container: {image: alpine, args: ["{{inputs.parameters.m}}"]}
)Y";

TEST(Planner, LoopChildNamesAndItemValues) {
  Sim sim(kLoops, {});
  sim.run();
  for (const char* n : {"loops[0].plain(0:a)", "loops[0].plain(1:2)", "loops[0].plain(2:true)",
                        "loops[0].maps(0:os:debian,v:9.1)", "loops[0].maps(1:os:ubuntux,v:18)",
                        "loops[0].seq(0:n05)", "loops[0].seq(2:n07)"})
    EXPECT_TRUE(sim.has(n)) << n;
  auto args = [&](const std::string& n) { return Planner::leaf_template(sim.node(n))["container"]["args"][0]; };
  EXPECT_EQ(args("loops[0].plain(1:2)"), "2");
  EXPECT_EQ(args("loops[0].maps(1:os:ubuntux,v:18)"), "ubuntu(x)-18");
  EXPECT_EQ(args("loops[0].seq(1:n06)"), "n06");
  EXPECT_EQ(sim.node("loops[0].plain(0:a)").display_name, "plain(0:a)");
  EXPECT_EQ(sim.node("loops[0].plain(0:a)").inputs["parameters"][0]["value"], "a");
  EXPECT_EQ(sim.state().phase, "Succeeded");
}

constexpr const char* kParam = R"Y(
metadata: {name: wp}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: gen, template: gen}
    - - name: use
        template: echo
        arguments: {parameters: [{name: m, value: "{{item}}"}]}
        withParam: "{{steps.gen.outputs.result}}"
  - name: gen
    script: {image: python, source: "print('[1,2]')"}
  - name: echo
    inputs: {parameters: [{name: m}]}
    container: {image: alpine, args: ["{{inputs.parameters.m}}"]}
)Y";

TEST(Planner, WithParamExpandsAJsonList) {
  Sim sim(kParam, {{"gen", 0, "[\"x\", {\"k\": 1}]\n"}});
  sim.run();
  EXPECT_TRUE(sim.has("wp[1].use(0:x)"));
  EXPECT_TRUE(sim.has("wp[1].use(1:k:1)"));
  EXPECT_EQ(Planner::leaf_template(sim.node("wp[1].use(1:k:1)"))["container"]["args"][0], "{\"k\":1}");
  EXPECT_EQ(sim.state().phase, "Succeeded");
}

TEST(Planner, WithParamThatIsNotAListIsAnError) {
  Sim sim(kParam, {{"gen", 0, "not json\n"}});
  sim.run();
  EXPECT_EQ(sim.node("wp[1]").phase, "Error");
  EXPECT_EQ(sim.node("wp[1]").message.rfind("withParam value could not be parsed as a JSON list: not json", 0), 0u)
      << sim.node("wp[1]").message;
  EXPECT_EQ(sim.state().phase, "Failed");
}

TEST(Planner, EmptyWithParamIsOneSkippedNode) {
  Sim sim(kParam, {{"gen", 0, "[]\n"}});
  sim.run();
  const auto& n = sim.node("wp[1].use");
  EXPECT_EQ(n.type, "Skipped");
  EXPECT_EQ(n.phase, "Skipped");
  EXPECT_EQ(n.message, "Skipped, empty params");
  EXPECT_EQ(sim.state().phase, "Succeeded");
}

TEST(Planner, OutputParametersFlowToLaterStepsAndLoopsAggregate) {
  Sim sim(R"Y(
metadata: {name: out}
spec:
  entrypoint: main
  templates:
  - name: main
    outputs:
      parameters:
      - name: all
        valueFrom: {parameter: "{{steps.fan.outputs.parameters.p}}"}
    steps:
    - - name: fan
        template: gen
        withItems: [1, 2]
    - - name: use
        template: echo
        arguments:
          parameters:
          - {name: a, value: "{{steps.fan.outputs.parameters}}"}
          - {name: b, value: "{{steps.fan.outputs.result}}"}
  - name: gen
    outputs:
      parameters:
      - name: p
        globalName: gp
        valueFrom: {path: /tmp/p}
    script: {image: python, source: "print('x')"}
  - name: echo
    inputs: {parameters: [{name: a}, {name: b}]}
    container: {image: alpine, args: ["{{inputs.parameters.a}}", "{{inputs.parameters.b}}"]}
)Y",
          {{"fan(0:1)", 0, "{\"r\": 1}\n", {{"p", "one\n"}}}, {"fan(1:2)", 0, "plain\n", {{"p", "two"}}}});
  sim.run();
  ASSERT_EQ(sim.state().phase, "Succeeded") << sim.state().message;
  const Json& args = Planner::leaf_template(sim.node("out[1].use"))["container"]["args"];
  EXPECT_EQ(args[0], "[{\"p\":\"one\"},{\"p\":\"two\"}]");
  EXPECT_EQ(args[1], "[{\"r\":1},\"plain\"]");
  EXPECT_EQ(sim.node("out").outputs["parameters"][0]["value"], "[\"one\",\"two\"]");
  EXPECT_EQ(sim.state().outputs["parameters"][0]["name"], "gp");
}

TEST(Planner, MissingOutputOfASkippedStepIsAbsentOptionalError) {
  Sim sim(R"Y(
metadata: {name: ab}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: maybe, template: gen, when: "false"}
    - - name: use
        template: echo
        arguments: {parameters: [{name: m, value: "{{steps.maybe.outputs.parameters.p}}"}]}
  - name: gen
    outputs: {parameters: [{name: p, valueFrom: {path: /tmp/p}}]}
    container: {image: alpine}
  - name: echo
    inputs: {parameters: [{name: m}]}
    container: {image: alpine}
)Y",
          {});
  sim.run();
  EXPECT_EQ(sim.node("ab[0].maybe").phase, "Skipped");
  const auto& use = sim.node("ab[1].use");
  EXPECT_EQ(use.phase, "Error");
  EXPECT_EQ(use.message,
            "inputs.parameters.m: argument references an absent optional (skipped/omitted node output with no "
            "default)");
  EXPECT_EQ(sim.state().phase, "Failed");
}

TEST(Planner, AbsentOptionalFallsBackToTheInputDefault) {
  Sim sim(R"Y(
metadata: {name: ab}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: maybe, template: gen, when: "false"}
    - - name: use
        template: echo
        arguments: {parameters: [{name: m, value: "{{steps.maybe.outputs.parameters.p}}"}]}
  - name: gen
    outputs: {parameters: [{name: p, valueFrom: {path: /tmp/p}}]}
    container: {image: alpine}
  - name: echo
    inputs: {parameters: [{name: m, default: fallback}]}
    container: {image: alpine, args: ["{{inputs.parameters.m}}"]}
)Y",
          {});
  sim.run();
  EXPECT_EQ(Planner::leaf_template(sim.node("ab[1].use"))["container"]["args"][0], "fallback");
  EXPECT_EQ(sim.state().phase, "Succeeded");
}

constexpr const char* kDiamond = R"Y(
metadata: {name: dia}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: A, template: t}
      - {name: B, template: t, dependencies: [A]}
      - {name: C, template: t, dependencies: [A]}
      - {name: D, template: t, depends: "B && C"}
  - name: t
    container: {image: alpine}
)Y";

TEST(Planner, DagDiamond) {
  Sim sim(kDiamond, {});
  sim.run();
  EXPECT_EQ(sim.state().phase, "Succeeded");
  const auto& root = sim.node("dia");
  EXPECT_EQ(root.type, "DAG");
  EXPECT_EQ(root.children, std::vector<std::string>{sim.id("dia.A")});
  EXPECT_EQ(sim.node("dia.A").display_name, "A");
  EXPECT_EQ(sim.node("dia.A").children, (std::vector<std::string>{sim.id("dia.B"), sim.id("dia.C")}));
  EXPECT_EQ(sim.node("dia.B").children, std::vector<std::string>{sim.id("dia.D")});
  EXPECT_EQ(sim.node("dia.C").children, std::vector<std::string>{sim.id("dia.D")});
  EXPECT_EQ(root.outbound_nodes, std::vector<std::string>{sim.id("dia.D")});
  EXPECT_EQ(sim.started.front(), "A");
  EXPECT_EQ(sim.started.back(), "D");
}

TEST(Planner, DagFailureOmitsDependentsAndFailsTheDag) {
  Sim sim(kDiamond, {{"B", 2}});
  sim.run();
  EXPECT_EQ(sim.node("dia.B").phase, "Failed");
  EXPECT_EQ(sim.node("dia.D").phase, "Omitted");
  EXPECT_EQ(sim.node("dia.D").type, "Skipped");
  EXPECT_EQ(sim.node("dia.D").message, "omitted: depends condition not met");
  EXPECT_EQ(sim.node("dia").phase, "Failed");
  EXPECT_EQ(sim.state().phase, "Failed");
}

TEST(Planner, DagDependsOnFailure) {
  Sim sim(R"Y(
metadata: {name: dep}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: A, template: t}
      - {name: onfail, template: t, depends: "A.Failed"}
      - {name: onok, template: t, depends: "A.Succeeded"}
  - name: t
    container: {image: alpine}
)Y",
          {{"A", 1}});
  sim.run();
  EXPECT_EQ(sim.node("dep.onfail").phase, "Succeeded");
  EXPECT_EQ(sim.node("dep.onok").phase, "Omitted");
  // The omitted target inherits its branch's failure.
  EXPECT_EQ(sim.state().phase, "Failed");
}

TEST(Planner, DagLoopTaskGroupAndAggregatedResults) {
  Sim sim(R"Y(
metadata: {name: dl}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: fan, template: t, withItems: [a, b]}
      - name: sum
        template: echo
        depends: fan
        arguments: {parameters: [{name: m, value: "{{tasks.fan.outputs.result}}"}]}
  - name: t
    script: {image: python, source: x}
  - name: echo
    inputs: {parameters: [{name: m}]}
    container: {image: alpine, args: ["{{inputs.parameters.m}}"]}
)Y",
          {{"fan(0:a)", 0, "1\n"}, {"fan(1:b)", 0, "2\n"}});
  sim.run();
  ASSERT_EQ(sim.state().phase, "Succeeded") << sim.state().message;
  EXPECT_EQ(sim.node("dl.fan").type, "TaskGroup");
  EXPECT_EQ(sim.node("dl.fan").children, (std::vector<std::string>{sim.id("dl.fan(0:a)"), sim.id("dl.fan(1:b)")}));
  EXPECT_EQ(sim.node("dl.fan(0:a)").children, std::vector<std::string>{sim.id("dl.sum")});
  EXPECT_EQ(Planner::leaf_template(sim.node("dl.sum"))["container"]["args"][0], "[1,2]");
}

TEST(Planner, RetriesMakeARetryNodeWithAttempts) {
  Sim sim(R"Y(
metadata: {name: rt}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: flaky, template: t}
  - name: t
    retryStrategy: {limit: 2}
    container: {image: alpine}
)Y",
          {{"flaky(0)", 1}, {"flaky(1)", 1}});
  sim.run();
  const auto& r = sim.node("rt[0].flaky");
  EXPECT_EQ(r.type, "Retry");
  EXPECT_EQ(r.phase, "Succeeded");
  EXPECT_EQ(r.children.size(), 3u);
  EXPECT_EQ(sim.node("rt[0].flaky(2)").display_name, "flaky(2)");
  EXPECT_EQ(sim.node("rt[0].flaky(0)").message, "main: Error (exit code 1)");
  EXPECT_EQ(sim.state().phase, "Succeeded");
}

TEST(Planner, RetriesExhausted) {
  Sim sim(R"Y(
metadata: {name: rt}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: flaky, template: t}
  - name: t
    retryStrategy: {limit: "1", backoff: {duration: "5s", factor: 2}}
    container: {image: alpine}
)Y",
          {{"flaky*", 1}});
  sim.run();
  const auto& r = sim.node("rt[0].flaky");
  EXPECT_EQ(r.phase, "Failed");
  EXPECT_EQ(r.message, "No more retries left");
  EXPECT_EQ(r.children.size(), 2u);
  EXPECT_EQ(sim.state().phase, "Failed");
}

TEST(Planner, RetryExpressionStopsRetrying) {
  Sim sim(R"Y(
metadata: {name: rx}
spec:
  entrypoint: main
  templates:
  - name: main
    retryStrategy: {limit: 5, expression: "asInt(lastRetry.exitCode) > 1"}
    container: {image: alpine}
)Y",
          {{"rx(0)", 2}, {"rx(1)", 1}});
  sim.run();
  EXPECT_EQ(sim.node("rx").children.size(), 2u);
  EXPECT_EQ(sim.node("rx").phase, "Failed");
  EXPECT_EQ(sim.node("rx").message, "retryStrategy.expression evaluated to false");
}

// duration × factor^(n−1), capped: the gaps between attempts are 2s, 4s, then the 5s cap.
TEST(Planner, BackoffGrowsByItsFactorUpToItsCap) {
  Sim sim(R"Y(
metadata: {name: bo}
spec:
  entrypoint: main
  templates:
  - name: main
    retryStrategy: {limit: 3, backoff: {duration: "2s", factor: 2, cap: "5s"}}
    container: {image: alpine}
)Y",
          {{"bo(*)", 1}});
  sim.run();
  ASSERT_EQ(sim.node("bo").children.size(), 4u);
  std::vector<int64_t> gaps;
  for (int i = 1; i < 4; ++i) {
    const auto& prev = sim.node("bo(" + std::to_string(i - 1) + ")");
    const auto& next = sim.node("bo(" + std::to_string(i) + ")");
    gaps.push_back(std::chrono::duration_cast<std::chrono::seconds>(*next.started_at - *prev.finished_at).count());
  }
  EXPECT_EQ(gaps, (std::vector<int64_t>{2, 4, 5}));
  EXPECT_EQ(sim.node("bo").message, "No more retries left");
}

TEST(Planner, BackoffMaxDurationEndsRetriesFromTheFirstAttemptsStart) {
  Sim sim(R"Y(
metadata: {name: md}
spec:
  entrypoint: main
  templates:
  - name: main
    retryStrategy: {limit: 100, backoff: {duration: "2s", maxDuration: "5s"}}
    container: {image: alpine}
)Y",
          {{"md(*)", 1}});
  sim.run();
  EXPECT_EQ(sim.node("md").phase, "Failed");
  EXPECT_EQ(sim.node("md").message, "Max duration limit exceeded");
  EXPECT_LT(sim.node("md").children.size(), 5u);
}

// Which outcomes each retryPolicy retries: one failure (exit 1) or one error, then success.
TEST(Planner, RetryPolicies) {
  struct Case {
    std::string policy;
    std::string first;  // "fail", "error" or "transient"
    bool retried;
  };
  const std::vector<Case> cases = {
      {"", "fail", true},           {"", "error", false},          {"OnFailure", "fail", true},
      {"OnFailure", "error", false}, {"OnError", "fail", false},    {"OnError", "error", true},
      {"Always", "fail", true},     {"Always", "error", true},     {"OnTransientError", "fail", false},
      {"OnTransientError", "error", false}, {"OnTransientError", "transient", true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.policy + " after " + c.first);
    std::string policy = c.policy.empty() ? "" : ", retryPolicy: " + c.policy;
    Sim sim("metadata: {name: rp}\nspec:\n  entrypoint: main\n  templates:\n  - name: main\n"
            "    retryStrategy: {limit: 2" + policy + "}\n    container: {image: alpine}\n",
            {{"rp(0)", c.first == "fail" ? 1 : 0, "", {}}});
    if (c.first == "error") sim.errors["rp(0)"] = "volume 'x' not found";
    if (c.first == "transient") sim.errors["rp(0)"] = "dial tcp 10.0.0.1:443: connect: connection refused";
    sim.run();
    EXPECT_EQ(sim.node("rp").children.size(), c.retried ? 2u : 1u);
    EXPECT_EQ(sim.node("rp").phase, c.retried ? "Succeeded" : (c.first == "fail" ? "Failed" : "Error"));
  }
}

TEST(Planner, RetryExpressionWithoutAPolicyRetriesErrorsToo) {
  Sim sim(R"Y(
metadata: {name: re}
spec:
  entrypoint: main
  templates:
  - name: main
    retryStrategy: {limit: 2, expression: "lastRetry.status == 'Error'"}
    container: {image: alpine}
)Y",
          {});
  sim.errors["re(0)"] = "volume 'x' not found";
  sim.run();
  EXPECT_EQ(sim.node("re").children.size(), 2u);
  EXPECT_EQ(sim.node("re").phase, "Succeeded");
}

constexpr const char* kExit = R"Y(
metadata: {name: ex}
spec:
  entrypoint: main
  onExit: bye
  templates:
  - name: main
    container: {image: alpine}
  - name: bye
    container: {image: alpine, args: ["{{workflow.status}}", "{{workflow.failures}}"]}
)Y";

TEST(Planner, ExitHandlerSeesWorkflowStatus) {
  Sim sim(kExit, {{"ex", 1}});
  sim.run();
  EXPECT_EQ(sim.node("ex").type, "Pod");
  EXPECT_EQ(sim.node("ex").phase, "Failed");
  const auto& bye = sim.node("ex.onExit");
  EXPECT_EQ(bye.display_name, "ex.onExit");
  EXPECT_EQ(bye.node_flag["hooked"], true);
  const Json& args = Planner::leaf_template(bye)["container"]["args"];
  EXPECT_EQ(args[0], "Failed");
  Json failures = parse_json(parse_json(args[1].get<std::string>())->get<std::string>()).value();
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0]["displayName"], "ex");
  EXPECT_EQ(failures[0]["message"], "main: Error (exit code 1)");
  EXPECT_EQ(failures[0]["phase"], "Failed");
  EXPECT_EQ(sim.state().phase, "Failed");
  EXPECT_EQ(sim.state().message, "main: Error (exit code 1)");
}

// The workflow's activeDeadlineSeconds counts from the run's stored start: once it has
// passed, nothing new starts (Argo's "Step exceeded its deadline") but the exit handler runs.
TEST(Planner, WorkflowDeadlineStopsNewStepsButNotTheExitHandler) {
  Sim sim(R"Y(
metadata: {name: dl}
spec:
  entrypoint: main
  activeDeadlineSeconds: 3
  onExit: bye
  templates:
  - name: main
    steps:
    - - {name: a, template: t}
    - - {name: b, template: t}
    - - {name: c, template: t}
    - - {name: d, template: t}
    - - {name: e, template: t}
  - name: t
    container: {image: alpine}
  - name: bye
    container: {image: alpine}
)Y",
          {});
  sim.run();
  // The simulation jumps to the deadline, the run's next wake time, after the first step.
  EXPECT_EQ(sim.node("dl[0].a").phase, "Succeeded");
  const auto& late = sim.node("dl[1].b");
  EXPECT_EQ(late.phase, "Failed");
  EXPECT_EQ(late.message, "Step exceeded its deadline");
  EXPECT_FALSE(sim.has("dl[2].c"));
  EXPECT_EQ(sim.node("dl.onExit").phase, "Succeeded");
  EXPECT_EQ(sim.state().phase, "Failed");
  EXPECT_EQ(sim.started, (std::vector<std::string>{"a", "dl.onExit"}));
}

TEST(Planner, FailedExitHandlerFailsASucceededWorkflow) {
  Sim sim(kExit, {{"ex.onExit", 4}});
  sim.run();
  EXPECT_EQ(sim.state().phase, "Failed");
  EXPECT_EQ(sim.state().message, "main: Error (exit code 4)");
}

TEST(Planner, StepOnExitRunsAfterTheStep) {
  Sim sim(R"Y(
metadata: {name: so}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: a, template: t, onExit: cleanup}
  - name: t
    container: {image: alpine}
  - name: cleanup
    container: {image: alpine, args: ["{{steps.a.status}}"]}
)Y",
          {});
  sim.run();
  EXPECT_EQ(sim.node("so[0].a.onExit").phase, "Succeeded");
  EXPECT_EQ(sim.node("so[0].a").children, std::vector<std::string>{sim.id("so[0].a.onExit")});
  EXPECT_EQ(sim.started, (std::vector<std::string>{"a", "a.onExit"}));
}

TEST(Planner, WorkflowVariablesAndTemplateDefaults) {
  Sim sim(R"Y(
metadata: {name: vars, labels: {team: x}, annotations: {workflows.argoproj.io/scheduled-time: "2027-01-15T08:00:00Z"}}
spec:
  entrypoint: main
  arguments: {parameters: [{name: greeting, value: hello}]}
  templateDefaults: {container: {image: busybox, env: [{name: E, value: "1"}]}}
  templates:
  - name: main
    container:
      command: [echo]
      args: ["{{workflow.name}}", "{{workflow.parameters.greeting}}", "{{workflow.labels.team}}",
             "{{pod.name}}", "{{workflow.creationTimestamp.Y}}", "{{=sprig.upper(workflow.parameters.greeting)}}",
             "{{workflow.scheduledTime}}"]
)Y",
          {});
  sim.run();
  const Json& t = Planner::leaf_template(sim.node("vars"));
  EXPECT_EQ(t["container"]["image"], "busybox");
  EXPECT_EQ(t["container"]["env"][0]["name"], "E");
  const Json& a = t["container"]["args"];
  EXPECT_EQ(a[0], "vars");
  EXPECT_EQ(a[1], "hello");
  EXPECT_EQ(a[2], "x");
  EXPECT_EQ(a[3], "vars");  // the root pod keeps the workflow's name
  EXPECT_EQ(a[4], "2026");
  EXPECT_EQ(a[5], "HELLO");
  EXPECT_EQ(a[6], "2027-01-15T08:00:00Z");  // a CronWorkflow run's scheduled time
}

TEST(Planner, TemplateRefResolvesFromTheStore) {
  auto source = [](bool cluster, const std::string& name) -> Result<Json> {
    if (cluster || name != "lib") return not_found("workflowtemplate " + name + " not found");
    return testlib::yaml_to_json(R"Y(
metadata: {name: lib}
spec:
  templates:
  - name: hello
    inputs: {parameters: [{name: who, default: world}]}
    container: {image: alpine, args: ["hello {{inputs.parameters.who}}"]}
)Y");
  };
  Sim sim(R"Y(
metadata: {name: tr}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: a
        templateRef: {name: lib, template: hello}
    - - name: b
        templateRef: {name: nope, template: hello}
)Y",
          {}, source);
  sim.run();
  const auto& a = sim.node("tr[0].a");
  EXPECT_EQ(a.template_ref["name"], "lib");
  EXPECT_EQ(a.template_scope, "local/tr");
  EXPECT_EQ(Planner::leaf_template(a)["container"]["args"][0], "hello world");
  EXPECT_EQ(sim.node("tr[1].b").phase, "Error");
  EXPECT_EQ(sim.state().phase, "Failed");
}

TEST(Planner, MissingInputIsAnErrorNode) {
  Sim sim(R"Y(
metadata: {name: mi}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: a, template: t}
  - name: t
    inputs: {parameters: [{name: x}]}
    container: {image: alpine}
)Y",
          {});
  sim.run();
  EXPECT_EQ(sim.node("mi[0].a").phase, "Error");
  EXPECT_EQ(sim.node("mi[0].a").message, "inputs.parameters.x was not supplied");
  EXPECT_EQ(sim.node("mi[0]").message,
            "step group deemed errored due to child mi[0].a error: inputs.parameters.x was not supplied");
}

TEST(Planner, LifecycleHookRunsWhenItsExpressionHolds) {
  Sim sim(R"Y(
metadata: {name: hk}
spec:
  entrypoint: main
  hooks:
    done: {template: t, expression: workflow.status == "Running"}
  templates:
  - name: main
    steps:
    - - name: a
        template: t
        hooks:
          after: {template: t, expression: steps.a.status == "Succeeded"}
  - name: t
    container: {image: alpine}
)Y",
          {});
  sim.run();
  EXPECT_EQ(sim.node("hk[0].a.hooks.after").phase, "Succeeded");
  EXPECT_EQ(sim.node("hk[0].a").children, std::vector<std::string>{sim.id("hk[0].a.hooks.after")});
  EXPECT_EQ(sim.node("hk.hooks.done").node_flag["hooked"], true);
  EXPECT_EQ(sim.state().phase, "Succeeded");
}

TEST(Planner, TemplateParallelismHoldsBackChildren) {
  Sim sim(R"Y(
metadata: {name: par}
spec:
  entrypoint: main
  templates:
  - name: main
    parallelism: 2
    steps:
    - - {name: fan, template: t, withItems: [1, 2, 3, 4, 5]}
  - name: t
    container: {image: alpine}
)Y",
          {});
  EXPECT_EQ(sim.advance_once().ready.size(), 2u);
  sim.run();
  EXPECT_EQ(sim.started.size(), 5u);
  EXPECT_EQ(sim.state().phase, "Succeeded");
}

// The walk is repeated every turn, so its cost per node matters: a 1,000-item loop whose
// steps end 25 per turn takes 40 walks over a growing run.
TEST(PlannerScale, ThousandItemLoopEndingTwentyFivePerTurn) {
  Sim sim(R"Y(
metadata: {name: big}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: fan
        template: echo
        arguments: {parameters: [{name: m, value: "{{item}}"}]}
        withSequence: {count: "1000"}
  - name: echo
    inputs: {parameters: [{name: m}]}
    container: {image: alpine, args: ["{{inputs.parameters.m}}"]}
)Y",
          {});
  sim.per_turn = 25;
  auto start = std::chrono::steady_clock::now();
  sim.run(200);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "1000-item loop, 25 ends per turn: " << secs << " s\n";
  EXPECT_EQ(sim.state().phase, "Succeeded");
  EXPECT_EQ(sim.state().nodes.size(), 1002u);
}

// A long chain is walked without recursing once per task (a deep stack on the first walk),
// and each task starts only after the one before it ended.
TEST(PlannerScale, LongChainRunsTaskAfterTask) {
  constexpr int kTasks = 500;
  std::string yaml =
      "metadata: {name: chain}\nspec:\n  entrypoint: main\n  templates:\n"
      "  - name: noop\n    container: {image: alpine}\n  - name: main\n    dag:\n      tasks:\n";
  for (int i = 0; i < kTasks; ++i) {
    yaml += "      - {name: t" + std::to_string(i) + ", template: noop";
    if (i > 0) yaml += ", dependencies: [t" + std::to_string(i - 1) + "]";
    yaml += "}\n";
  }
  Sim sim(yaml, {});
  sim.run(kTasks + 2);
  EXPECT_EQ(sim.state().phase, "Succeeded");
  ASSERT_EQ(sim.started.size(), static_cast<size_t>(kTasks));
  for (int i = 0; i < kTasks; ++i) ASSERT_EQ(sim.started[i], "t" + std::to_string(i));
}

// Every Workflow among Argo's examples, with every step succeeding at once: the walk
// must never fail, never get stuck, and always end the run.
TEST(PlannerExamples, EveryArgoExampleWorkflowFinishes) {
  const char* shared = std::getenv("TETHER_SHARED");
  std::filesystem::path dir = std::filesystem::path(shared ? shared : "") / "argo-examples";
  if (!shared || !std::filesystem::is_directory(dir)) GTEST_SKIP() << "no " << dir << " (TETHER_SHARED)";
  std::map<std::string, Json> library;  // WorkflowTemplates and ClusterWorkflowTemplates by kind/name
  std::vector<std::pair<std::string, Json>> workflows;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    std::vector<YAML::Node> docs;
    try {
      docs = YAML::LoadAll(read_file(entry.path().string()).value());
    } catch (const std::exception&) {
      continue;
    }
    for (const auto& d : docs) {
      Json j = testlib::yaml_node_to_json(d);
      std::string kind = j.value("kind", "");
      std::string name = j["metadata"].value("name", j["metadata"].value("generateName", "x"));
      if (kind == "Workflow") workflows.emplace_back(entry.path().filename().string(), j);
      if (kind == "WorkflowTemplate" || kind == "ClusterWorkflowTemplate") library[kind + "/" + name] = j;
    }
  }
  auto source = [&](bool cluster, const std::string& name) -> Result<Json> {
    auto it = library.find((cluster ? "ClusterWorkflowTemplate/" : "WorkflowTemplate/") + name);
    if (it == library.end()) return not_found(name + " not found");
    return it->second;
  };
  ASSERT_GT(workflows.size(), 100u);
  int succeeded = 0;
  for (auto& [file, wf] : workflows) {
    if (!wf["metadata"].contains("name")) wf["metadata"]["name"] = wf["metadata"].value("generateName", "x") + "test";
    Sim sim(wf.dump(), {}, source);
    std::string why = sim.drive(400);
    EXPECT_EQ(why, "") << file;
    if (sim.state().phase == "Succeeded") ++succeeded;
    else std::cout << "  " << file << ": " << sim.state().phase << ": " << sim.state().message << "\n";
  }
  std::cout << succeeded << " of " << workflows.size() << " example workflows succeeded\n";
}

// Drives a planner by hand, for steps that do not end at once (daemons).
struct Manual {
  explicit Manual(const std::string& yaml) {
    RunSpec spec;
    spec.workflow = testlib::yaml_to_json(yaml);
    spec.name = spec.workflow["metadata"].value("name", std::string("wf"));
    spec.uid = "uid-1";
    spec.created_at = now;
    planner = std::make_unique<Planner>(std::move(spec), state);
  }
  Turn advance() { return planner->advance(now).value(); }
  std::string id(const std::string& name) const { return node_id(planner->spec().name, name); }
  NodeStatus& node(const std::string& name) { return state.nodes.at(id(name)); }
  void exit(const std::string& name, int code, bool stopped = false) {
    LeafResult r;
    r.exit_code = code;
    r.started_at = r.finished_at = now;
    r.daemon_stopped = stopped;
    planner->finish_leaf(id(name), r);
  }
  WallTime now{};
  RunState state;
  std::unique_ptr<Planner> planner;
};

constexpr const char* kDaemonSteps = R"Y(
metadata: {name: d}
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
    container: {image: nginx}
  - name: client
    inputs: {parameters: [{name: ip}]}
    container: {image: curl, args: ["{{inputs.parameters.ip}}"]}
)Y";

TEST(PlannerDaemons, ReadyDaemonLetsTheNextStepRunAndIsStoppedWhenItsStepsEnd) {
  Manual m(kDaemonSteps);
  Turn t = m.advance();
  ASSERT_EQ(t.ready, std::vector<std::string>{m.id("d[0].server")});
  m.planner->start_leaf(m.id("d[0].server"), m.now);
  EXPECT_TRUE(m.advance().ready.empty());  // running, not yet ready: the client waits
  m.planner->daemon_ready(m.id("d[0].server"));
  EXPECT_TRUE(m.node("d[0].server").daemoned);
  t = m.advance();
  ASSERT_EQ(t.ready, std::vector<std::string>{m.id("d[1].client")});
  EXPECT_EQ(Planner::leaf_template(m.node("d[1].client"))["container"]["args"][0], "127.0.0.1");
  EXPECT_TRUE(m.planner->daemons_to_stop().empty());
  m.planner->start_leaf(m.id("d[1].client"), m.now);
  m.exit("d[1].client", 0);
  t = m.advance();
  EXPECT_EQ(m.node("d").phase, "Succeeded");
  EXPECT_FALSE(t.finished);  // not before its daemon is gone
  EXPECT_EQ(m.planner->daemons_to_stop(), std::vector<std::string>{m.id("d[0].server")});
  m.exit("d[0].server", 143, true);
  EXPECT_TRUE(m.advance().finished);
  EXPECT_EQ(m.state.phase, "Succeeded");
  EXPECT_EQ(m.node("d[0].server").phase, "Succeeded");
  EXPECT_FALSE(m.node("d[0].server").daemoned);
  EXPECT_TRUE(m.planner->daemons_to_stop().empty());
}

TEST(PlannerDaemons, DaemonEndingOnItsOwnFailsEvenWithStatusZero) {
  for (int code : {0, 3}) {
    Manual m(kDaemonSteps);
    m.advance();
    m.planner->start_leaf(m.id("d[0].server"), m.now);
    m.exit("d[0].server", code);
    EXPECT_TRUE(m.advance().finished);
    EXPECT_EQ(m.node("d[0].server").phase, "Failed") << code;
    EXPECT_EQ(m.node("d[0].server").message, code ? "main: Error (exit code 3)" : "") << code;
    EXPECT_EQ(m.state.phase, "Failed");
  }
}

TEST(PlannerDaemons, DagDependsDaemonedAndRetryNodeIsDaemonedWithItsAttempt) {
  Manual m(R"Y(
metadata: {name: g}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: server, template: server}
      - {name: client, template: client, depends: server.Daemoned}
  - name: server
    daemon: true
    retryStrategy: {limit: 2}
    container: {image: nginx}
  - name: client
    container: {image: curl}
)Y");
  m.advance();
  m.planner->start_leaf(m.id("g.server(0)"), m.now);
  m.planner->daemon_ready(m.id("g.server(0)"));
  Turn t = m.advance();
  EXPECT_TRUE(m.node("g.server").daemoned);
  EXPECT_EQ(m.node("g.server").phase, "Running");
  ASSERT_EQ(t.ready, std::vector<std::string>{m.id("g.client")});
  m.planner->start_leaf(m.id("g.client"), m.now);
  m.exit("g.client", 0);
  m.advance();
  EXPECT_EQ(m.planner->daemons_to_stop(), std::vector<std::string>{m.id("g.server(0)")});
  m.exit("g.server(0)", 143, true);
  EXPECT_TRUE(m.advance().finished);
  EXPECT_EQ(m.state.phase, "Succeeded");
  EXPECT_EQ(m.node("g.server").phase, "Succeeded");
  EXPECT_FALSE(m.node("g.server").daemoned);
}

// A task whose pod is a containerSet of three containers (a; then b and main), and one after it.
constexpr const char* kContainerSet = R"Y(
metadata: {name: cs}
spec:
  entrypoint: main
  templates:
  - name: main
    dag:
      tasks:
      - {name: build, template: set}
      - {name: after, template: one, depends: build}
  - name: set
    containerSet:
      containers:
      - {name: a, image: alpine}
      - {name: b, image: alpine, dependencies: [a]}
      - {name: main, image: alpine, dependencies: [a]}
  - name: one
    container: {image: alpine}
)Y";

TEST(PlannerContainerSet, ContainerNodesFollowTheGraphAndEndAsTheirContainers) {
  Manual m(kContainerSet);
  Turn t = m.advance();
  ASSERT_EQ(t.ready, std::vector<std::string>{m.id("cs.build")});
  EXPECT_EQ(m.node("cs.build").type, "Pod");
  EXPECT_EQ(m.node("cs.build.a").type, "Container");
  EXPECT_EQ(m.node("cs.build.a").display_name, "a");
  EXPECT_EQ(m.node("cs.build.a").boundary_id, m.id("cs.build"));
  EXPECT_EQ(m.node("cs.build").children, std::vector<std::string>{m.id("cs.build.a")});
  EXPECT_EQ(m.node("cs.build.a").children, (std::vector<std::string>{m.id("cs.build.b"), m.id("cs.build.main")}));
  m.planner->start_leaf(m.id("cs.build"), m.now);
  EXPECT_EQ(m.node("cs.build.b").phase, "Running");
  LeafResult r;
  r.exit_code = 2;
  r.message = "b: Error (exit code 2)";
  r.pod_message = true;
  r.container_exits = {{"a", 0}, {"b", 2}, {"main", 0}};
  m.planner->finish_leaf(m.id("cs.build"), r);
  EXPECT_EQ(m.node("cs.build").message, "b: Error (exit code 2)");
  EXPECT_EQ(m.node("cs.build.a").phase, "Succeeded");
  EXPECT_EQ(m.node("cs.build.b").phase, "Failed");
  EXPECT_EQ(m.node("cs.build.b").message, "b: Error (exit code 2)");
  EXPECT_EQ(m.node("cs.build.main").phase, "Succeeded");
  EXPECT_TRUE(m.advance().finished);
  EXPECT_EQ(m.state.phase, "Failed");
}

TEST(PlannerContainerSet, NextTaskFollowsTheSetsLastContainers) {
  Manual m(kContainerSet);
  m.advance();
  m.planner->start_leaf(m.id("cs.build"), m.now);
  LeafResult r;
  r.container_exits = {{"a", 0}, {"b", 0}, {"main", 0}};
  m.planner->finish_leaf(m.id("cs.build"), r);
  Turn t = m.advance();
  ASSERT_EQ(t.ready, std::vector<std::string>{m.id("cs.after")});
  EXPECT_EQ(m.node("cs.build.main").children, std::vector<std::string>{m.id("cs.after")});
  EXPECT_EQ(m.node("cs.build.b").children, std::vector<std::string>{m.id("cs.after")});
  EXPECT_TRUE(m.node("cs.build.a").children.size() == 2u);
  m.planner->start_leaf(m.id("cs.after"), m.now);
  m.exit("cs.after", 0);
  EXPECT_TRUE(m.advance().finished);
  EXPECT_EQ(m.state.phase, "Succeeded");
}

}  // namespace
}  // namespace tether::plan
