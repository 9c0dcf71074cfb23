#include "expr/depends.h"

#include <gtest/gtest.h>

#include <map>

namespace tether::expr {
namespace {

using States = std::map<std::string, TaskState>;

TaskState phase(const char* p) {
  TaskState s;
  s.phase = p;
  return s;
}

TaskState loop(std::vector<std::string> children) {
  TaskState s;
  s.phase = "Failed";
  s.is_loop_parent = true;
  s.child_phases = std::move(children);
  return s;
}

bool eval(const char* text, const States& states) {
  auto d = parse_depends(text);
  EXPECT_TRUE(d.ok()) << text << ": " << d.error().message;
  if (!d.ok()) return false;
  return d->eval([&](const std::string& name) { return states.at(name); });
}

TEST(Depends, BareNameIsSucceededSkippedOrDaemoned) {
  EXPECT_TRUE(eval("A", {{"A", phase("Succeeded")}}));
  EXPECT_TRUE(eval("A", {{"A", phase("Skipped")}}));
  EXPECT_FALSE(eval("A", {{"A", phase("Failed")}}));
  EXPECT_FALSE(eval("A", {{"A", phase("Error")}}));
  EXPECT_FALSE(eval("A", {{"A", phase("Omitted")}}));
  TaskState daemon = phase("Running");
  daemon.daemoned = true;
  EXPECT_TRUE(eval("A", {{"A", daemon}}));
}

TEST(Depends, BareNameHonoursTheDependencysContinueOn) {
  TaskState failed = phase("Failed");
  failed.continue_on_failed = true;
  EXPECT_TRUE(eval("A", {{"A", failed}}));
  TaskState errored = phase("Error");
  errored.continue_on_error = true;
  EXPECT_TRUE(eval("A", {{"A", errored}}));
  errored.continue_on_error = false;
  errored.continue_on_failed = true;
  EXPECT_FALSE(eval("A", {{"A", errored}}));
}

TEST(Depends, Results) {
  States s = {{"A", phase("Succeeded")}, {"B", phase("Failed")}, {"C", phase("Error")},
              {"D", phase("Skipped")},   {"E", phase("Omitted")}, {"flip-coin", phase("Succeeded")}};
  EXPECT_TRUE(eval("A.Succeeded", s));
  EXPECT_TRUE(eval("B.Failed", s));
  EXPECT_TRUE(eval("C.Errored", s));
  EXPECT_TRUE(eval("D.Skipped", s));
  EXPECT_TRUE(eval("E.Omitted", s));
  EXPECT_FALSE(eval("A.Failed", s));
  EXPECT_TRUE(eval("B.Failed && A", s));  // dag-continue-on-fail.yaml
  EXPECT_TRUE(eval("A && (B.Succeeded || B.Failed)", s));
  EXPECT_FALSE(eval("!A", s));
  EXPECT_TRUE(eval("!B", s));
  EXPECT_TRUE(eval("flip-coin", s));
  EXPECT_TRUE(eval("A || B && C.Succeeded", s));   // && binds tighter
  EXPECT_FALSE(eval("(A || B) && C.Succeeded", s));
  EXPECT_TRUE(eval("  A&&D  ", s));
}

TEST(Depends, LoopResults) {
  States s = {{"some", loop({"Failed", "Succeeded"})}, {"all", loop({"Failed", "Failed"})}, {"none", loop({})},
              {"plain", phase("Succeeded")}};
  EXPECT_TRUE(eval("some.AnySucceeded", s));
  EXPECT_FALSE(eval("some.AllFailed", s));
  EXPECT_TRUE(eval("all.AllFailed", s));
  EXPECT_FALSE(eval("all.AnySucceeded", s));
  EXPECT_FALSE(eval("none.AllFailed", s));
  EXPECT_FALSE(eval("plain.AnySucceeded", s));
}

TEST(Depends, TaskNames) {
  auto d = parse_depends("B && C || (B.Failed && !task-3.AnySucceeded)");
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->task_names(), (std::vector<std::string>{"B", "C", "task-3"}));
  EXPECT_EQ(d->item_dependencies(), (std::vector<std::string>{"task-3"}));
}

TEST(Depends, Errors) {
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {"", "depends: empty expression"},
      {"A &&", "depends 'A &&': column 5: expected a task name"},
      {"A & B", "depends 'A & B': column 3: unexpected '&'"},
      {"(A", "depends '(A': column 3: expected ')'"},
      {"A B", "depends 'A B': column 3: unexpected 'B'"},
      {"A.Succeded", "task result 'Succeded' for task 'A' is invalid"},
      {"A || $", "depends 'A || $': column 6: expected a task name, found '$'"},
  };
  for (const auto& c : cases) {
    auto d = parse_depends(c.text);
    ASSERT_FALSE(d.ok()) << c.text;
    EXPECT_EQ(d.error().message, c.message) << c.text;
  }
  std::string deep(1000, '(');
  deep += "A" + std::string(1000, ')');
  EXPECT_FALSE(parse_depends(deep).ok());
  std::string bangs(1000, '!');
  EXPECT_FALSE(parse_depends(bangs + "A").ok());
}

TEST(Depends, LongChainsAreFlat) {
  std::string chain = "A";
  for (int k = 0; k < 20000; ++k) chain += " && A";
  EXPECT_TRUE(eval(chain.c_str(), {{"A", phase("Succeeded")}}));
}

TEST(Depends, FromDependencies) {
  EXPECT_EQ(dependencies_to_depends({"A", "B", "c-1"}), "A && B && c-1");
  EXPECT_EQ(dependencies_to_depends({}), "");
}

// Built directly, a dependencies list means what its depends text parses to.
TEST(Depends, DependenciesExprMatchesTheParsedText) {
  States ok = {{"A", phase("Succeeded")}, {"B", phase("Skipped")}, {"c-1", phase("Succeeded")}};
  States one_failed = {{"A", phase("Succeeded")}, {"B", phase("Failed")}, {"c-1", phase("Succeeded")}};
  for (const std::vector<std::string>& deps :
       {std::vector<std::string>{"A", "B", "c-1", "A"}, std::vector<std::string>{"A"}}) {
    auto built = dependencies_expr(deps);
    auto parsed = parse_depends(dependencies_to_depends(deps));
    ASSERT_TRUE(built.ok() && parsed.ok());
    EXPECT_EQ(built->task_names(), parsed->task_names());
    EXPECT_EQ(built->text(), parsed->text());
    for (const States* st : {&ok, &one_failed}) {
      auto look = [&](const std::string& n) { return st->at(n); };
      EXPECT_EQ(built->eval(look), parsed->eval(look));
    }
  }
  EXPECT_FALSE(dependencies_expr({"A", "B"})->eval([&](const std::string& n) { return one_failed.at(n); }));
  // Repeats anywhere, long names (not stored inline) among them: each name once, in order.
  std::string longer(40, 'x');
  EXPECT_EQ(dependencies_expr({"A", "A", longer, "B", longer, "B", "A", "C"})->task_names(),
            (std::vector<std::string>{"A", longer, "B", "C"}));
  // What is not a plain name gets the parser's message.
  auto bad = dependencies_expr({"A", "b_c"});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, parse_depends("A && b_c").error().message);
}

}  // namespace
}  // namespace tether::expr
