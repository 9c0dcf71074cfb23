#include "cli/render.h"

#include <gtest/gtest.h>

namespace tether::cli {
namespace {

WallTime at(const char* s) {
  WallTime t;
  EXPECT_TRUE(parse_rfc3339(s, &t));
  return t;
}

TEST(Tabwrite, MatchesGoTabwriter) {
  EXPECT_EQ(tabwrite("a\tbb\tc\nccc\td\te\n", 2), "a    bb  c\nccc  d   e\n");
  // A line with fewer cells ends the column block.
  EXPECT_EQ(tabwrite("aaaa\tb\nc\nd\te\n", 1), "aaaa b\nc\nd e\n");
  // Width is counted in runes, not bytes.
  EXPECT_EQ(tabwrite(" ✔ x\tt\n ✔ yy\tu\n", 2), " ✔ x   t\n ✔ yy  u\n");
}

TEST(Humanize, ShortAndLongDurations) {
  WallTime s = at("2026-01-01T00:00:00Z");
  EXPECT_EQ(duration_short(s, at("2026-01-01T00:00:00Z"), s), "0s");
  EXPECT_EQ(duration_short(s, at("2026-01-01T00:00:01Z"), s), "1s");
  EXPECT_EQ(duration_short(s, at("2026-01-01T00:00:42Z"), s), "42s");
  EXPECT_EQ(duration_short(s, at("2026-01-01T00:01:30Z"), s), "1m");
  EXPECT_EQ(duration_short(s, at("2026-01-01T03:10:00Z"), s), "3h");
  EXPECT_EQ(duration_long(s, at("2026-01-01T00:00:12Z"), s), "12 seconds");
  EXPECT_EQ(duration_long(s, at("2026-01-01T00:02:05Z"), s), "2 minutes 5 seconds");
  EXPECT_EQ(duration_long(s, at("2026-01-01T01:00:05Z"), s), "1 hour 0 minutes");
}

Json node(const std::string& wf, const std::string& name, const std::string& display, const std::string& type,
          const std::string& phase, const std::string& boundary, std::vector<std::string> children,
          const std::string& tmpl, const char* started) {
  Json n = {{"id", name == wf ? wf : wf + "-" + display}, {"name", name}, {"displayName", display},
            {"type", type}, {"phase", phase}, {"startedAt", started}, {"finishedAt", started}};
  if (!boundary.empty()) n["boundaryID"] = boundary;
  if (!children.empty()) n["children"] = children;
  if (!tmpl.empty()) n["templateName"] = tmpl;
  return n;
}

TEST(RenderGet, StepsTreeAsArgoDrawsIt) {
  const std::string wf = "steps-x";
  Json nodes = Json::object();
  auto add = [&](Json n) { nodes[n["id"].get<std::string>()] = n; };
  add(node(wf, wf, wf, "Steps", "Succeeded", "", {"steps-x-g0"}, "hello-hello-hello", "2026-01-01T00:00:00Z"));
  add(node(wf, "steps-x[0]", "g0", "StepGroup", "Succeeded", "steps-x", {"steps-x-hello1"}, "", "2026-01-01T00:00:00Z"));
  add(node(wf, "steps-x[0].hello1", "hello1", "Pod", "Succeeded", "steps-x", {"steps-x-g1"}, "print-message", "2026-01-01T00:00:00Z"));
  add(node(wf, "steps-x[1]", "g1", "StepGroup", "Succeeded", "steps-x", {"steps-x-hello2a", "steps-x-hello2b"}, "", "2026-01-01T00:00:05Z"));
  add(node(wf, "steps-x[1].hello2a", "hello2a", "Pod", "Succeeded", "steps-x", {}, "print-message", "2026-01-01T00:00:05Z"));
  add(node(wf, "steps-x[1].hello2b", "hello2b", "Pod", "Failed", "steps-x", {}, "print-message", "2026-01-01T00:00:05Z"));
  Json w = {{"metadata", {{"name", wf}, {"namespace", "default"}}}, {"spec", Json::object()},
            {"status", {{"phase", "Failed"}, {"nodes", nodes}}}};
  std::string out = render_get(w, GetOptions{}, at("2026-01-01T00:01:00Z"));
  auto tree = out.substr(out.find("STEP"));
  // argo's own layout: step groups are folded into ├─── / └─┬─ connectors, and Go's
  // tabwriter pads every cell but the last, so lines keep their trailing spaces.
  EXPECT_EQ(tree,
            "STEP            TEMPLATE           PODNAME                           DURATION  MESSAGE\n"
            " ✔ steps-x      hello-hello-hello                                                \n"
            " ├───✔ hello1   print-message      steps-x-print-message-2543571026  0s          \n"
            " └─┬─✔ hello2a  print-message      steps-x-print-message-518230251   0s          \n"
            "   └─✖ hello2b  print-message      steps-x-print-message-535007870   0s          \n");
}

}  // namespace
}  // namespace tether::cli
