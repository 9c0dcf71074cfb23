// The loader's building blocks: YAML 1.1 typing, positions, anchors and merges, limits,
// JSON round trips, and the Kubernetes scalar parsers.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include "spec/cron.h"
#include "spec/load.h"
#include "spec/model.h"
#include "spec/node.h"

namespace tether::spec {
namespace {

Node parse_one(const std::string& text) {
  auto docs = parse_yaml(text, "t.yaml");
  EXPECT_TRUE(docs.ok()) << (docs.ok() ? "" : docs.error().str());
  EXPECT_EQ(docs->size(), 1u);
  return docs->front();
}

TEST(Yaml, ScalarsAreTypedAsKubernetesTypesThem) {
  Node n = parse_one(
      "a: yes\nb: off\nc: \"yes\"\nd: 0x1F\ne: 0777\nf: 1_000\ng: 1.5e3\nh: ~\ni: .inf\nj: '1'\nk: n\nl: !!str 12\n"
      "m: -0b101\nn2: 12abc\no: |\n  text\n");
  Json j = to_json(n);
  EXPECT_EQ(j["a"], true);
  EXPECT_EQ(j["b"], false);
  EXPECT_EQ(j["c"], "yes");
  EXPECT_EQ(j["d"], 31);
  EXPECT_EQ(j["e"], 511);
  EXPECT_EQ(j["f"], 1000);
  EXPECT_EQ(j["g"], 1500.0);
  EXPECT_TRUE(j["h"].is_null());
  EXPECT_EQ(j["i"], ".inf");  // JSON has no infinity; the text is kept
  EXPECT_EQ(j["j"], "1");
  EXPECT_EQ(j["k"], false);
  EXPECT_EQ(j["l"], "12");
  EXPECT_EQ(j["n2"], "12abc");
  EXPECT_EQ(j["o"], "text\n");
}

TEST(Yaml, PositionsAreOneBased) {
  Node n = parse_one("spec:\n  entrypoint: main\n  templates:\n  - name: x\n");
  const Node* spec = n.get("spec");
  ASSERT_NE(spec, nullptr);
  EXPECT_EQ(spec->entries[0].key_pos.line, 2);
  EXPECT_EQ(spec->entries[0].key_pos.col, 3);
  EXPECT_EQ(spec->get("entrypoint")->pos.col, 15);
  EXPECT_EQ(spec->get("templates")->items[0].pos.line, 4);
  EXPECT_EQ(spec->get("templates")->items[0].pos.file.str(), "t.yaml");
}

TEST(Yaml, MergeKeysExplicitWinsAndEarlierSourceWins) {
  Node n = parse_one("a: &a {p: 1, q: 1}\nb: &b {q: 2, r: 2}\nc:\n  p: 0\n  <<: [*a, *b]\n");
  Json c = to_json(*n.get("c"));
  EXPECT_EQ(c, Json::parse(R"({"p": 0, "q": 1, "r": 2})"));
}

TEST(Yaml, DuplicateKeysNameBothPositions) {
  auto r = parse_yaml("a: 1\nb: 2\na: 3\n", "d.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().str(), "d.yaml:3:1: mapping key \"a\" already defined at line 1, column 1");
  ParseOptions lenient;
  lenient.allow_duplicate_keys = true;
  auto ok = parse_yaml("a: 1\nb: 2\na: 3\n", "d.yaml", lenient);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(to_json(ok->front())["a"], 3);
}

// Past a handful of keys a map indexes them: the same answers, in source order.
TEST(Yaml, ALargeMapFindsDuplicatesAndMergesLikeASmallOne) {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "k" + std::to_string(i) + ": " + std::to_string(i) + "\n";
  auto ok = parse_yaml(text, "big.yaml");
  ASSERT_TRUE(ok.ok());
  ASSERT_EQ(ok->front().entries.size(), 40u);
  EXPECT_EQ(ok->front().entries[39].key, "k39");
  auto dup = parse_yaml(text + "k3: again\n", "big.yaml");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().str(), "big.yaml:41:1: mapping key \"k3\" already defined at line 4, column 1");
  ParseOptions lenient;
  lenient.allow_duplicate_keys = true;
  auto last = parse_yaml(text + "k3: again\n", "big.yaml", lenient);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(to_json(last->front())["k3"], "again");
  std::string merged = "base: &b {";
  for (int i = 0; i < 30; ++i) merged += (i ? ", m" : "m") + std::to_string(i) + ": " + std::to_string(i);
  merged += "}\nuse:\n";
  for (int i = 0; i < 20; ++i) merged += "  m" + std::to_string(i * 2) + ": own\n";
  merged += "  <<: *b\n";
  auto m = parse_yaml(merged, "m.yaml");
  ASSERT_TRUE(m.ok());
  Json use = to_json(*m->front().get("use"));
  EXPECT_EQ(use.size(), 35u);  // m0..m29 and the own m30..m38
  EXPECT_EQ(use["m2"], "own");
  EXPECT_EQ(use["m3"], 3);
}

TEST(Yaml, AliasBombIsStopped) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  const char* names = "abcdefghij";
  for (int i = 1; i < 9; ++i)
    bomb += fmt::format("{0}: &{0} [*{1}, *{1}, *{1}, *{1}, *{1}, *{1}, *{1}, *{1}, *{1}, *{1}]\n", names[i], names[i - 1]);
  ParseOptions small;
  small.max_nodes = 10'000;
  auto r = parse_yaml(bomb, "bomb.yaml", small);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "document too large: more than 10000 values (alias expansion?)");
}

TEST(Yaml, DeepNestingIsStopped) {
  auto r = parse_yaml(std::string(5000, '[') + std::string(5000, ']'), "deep.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("nested deeper than 200 levels"), std::string::npos);
}

TEST(Yaml, InvalidUtf8AndControlCharactersAreRefused) {
  EXPECT_EQ(parse_yaml("a: \xff\n", "u.yaml").error().str(), "u.yaml:1:4: yaml: invalid leading UTF-8 octet");
  EXPECT_EQ(parse_yaml("a: b\n\x01", "u.yaml").error().str(), "u.yaml:2:1: yaml: control characters are not allowed");
  EXPECT_TRUE(parse_yaml("\xEF\xBB\xBF" "a: \xc3\xa9\n", "u.yaml").ok());
}

TEST(Yaml, MalformedFlowDoesNotLoop) {
  auto r = parse_yaml(R"({i"a"p"name":"sz"},"data":{"k":"aGk="}})", "f.yaml");
  EXPECT_FALSE(r.ok());
}

TEST(Json, RoundTripThroughNodesKeepsTypes) {
  Json j = Json::parse(R"({"name": "t", "container": {"image": "alpine", "args": ["1", "yes"]},
                           "inputs": {"parameters": [{"name": "n", "value": 3}, {"name": "b", "value": true}]},
                           "retryStrategy": {"limit": "2"}})");
  EXPECT_EQ(to_json(from_json(j)), j);
  auto t = decode_template(j);
  ASSERT_TRUE(t.ok()) << t.error().str();
  EXPECT_STREQ(t->kind_name(), "container");
  EXPECT_EQ(t->container()->args, (std::vector<std::string>{"1", "yes"}));
  EXPECT_EQ(t->inputs.parameters[0].value, "3");
  EXPECT_EQ(t->inputs.parameters[1].value, "true");
  EXPECT_FALSE(t->retry_strategy->limit->is_int);
  EXPECT_EQ(*t->retry_strategy->limit->to_int(), 2);
}

TEST(Decode, TemplateKindsAndDefaults) {
  auto t = decode_template(Json::parse(R"({"name": "s", "steps": [[{"name": "a", "template": "b"}], []]})"));
  ASSERT_TRUE(t.ok());
  EXPECT_STREQ(t->kind_name(), "steps");
  EXPECT_EQ(t->as<StepsTemplate>()->steps.size(), 2u);
  auto none = decode_template(Json::parse(R"({"name": "x"})"));
  ASSERT_TRUE(none.ok());
  EXPECT_STREQ(none->kind_name(), "");
  auto strict = decode_template(Json::parse(R"({"name": "x", "bogus": 1})"));
  EXPECT_EQ(strict.error().message, "json: unknown field \"bogus\"");
  auto lenient = decode_template(Json::parse(R"({"name": "x", "bogus": 1})"), DecodeOptions{false});
  EXPECT_TRUE(lenient.ok());
}

TEST(Scalars, GoDurations) {
  EXPECT_EQ(*parse_duration_ms("1m30s"), 90'000);
  EXPECT_EQ(*parse_duration_ms("300ms"), 300);
  EXPECT_EQ(*parse_duration_ms("1.5h"), 5'400'000);
  EXPECT_EQ(*parse_duration_ms("-2s"), -2'000);
  EXPECT_EQ(*parse_duration_ms("0"), 0);
  EXPECT_EQ(*parse_duration_ms("30", true), 30'000);
  EXPECT_EQ(parse_duration_ms("30").error().message, "time: missing unit in duration \"30\"");
  EXPECT_EQ(parse_duration_ms("5x").error().message, "time: unknown unit \"x\" in duration \"5x\"");
  EXPECT_FALSE(parse_duration_ms("").ok());
}

TEST(Scalars, Quantities) {
  EXPECT_DOUBLE_EQ(*parse_quantity("500Mi"), 500.0 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(*parse_quantity("1.5"), 1.5);
  EXPECT_DOUBLE_EQ(*parse_quantity("100m"), 0.1);
  EXPECT_DOUBLE_EQ(*parse_quantity("2e3"), 2000);
  EXPECT_DOUBLE_EQ(*parse_quantity("1G"), 1e9);
  EXPECT_FALSE(parse_quantity("1Gb").ok());
  EXPECT_FALSE(parse_quantity("abc").ok());
}

TEST(Scalars, IntOrString) {
  EXPECT_EQ(IntOrString::of(3).str(), "3");
  EXPECT_EQ(*IntOrString::of(std::string("42")).to_int(), 42);
  EXPECT_FALSE(IntOrString::of(std::string("{{x}}")).to_int().ok());
}

TEST(Cron, Schedules) {
  EXPECT_TRUE(check_cron_schedule("*/5 1-3,7 * JAN-MAR mon-fri").ok());
  EXPECT_TRUE(check_cron_schedule("@daily").ok());
  EXPECT_TRUE(check_cron_schedule("CRON_TZ=UTC 0 0 * * *").ok());
  EXPECT_EQ(check_cron_schedule("0 0 * *").error().message, "expected exactly 5 fields, found 4: [0 0 * *]");
  EXPECT_EQ(check_cron_schedule("0 0 32 * *").error().message, "end of range (32) above maximum (31): 32");
  EXPECT_EQ(check_cron_schedule("5-1 * * * *").error().message, "beginning of range (5) beyond end of range (1): 5-1");
  EXPECT_TRUE(valid_timezone("Europe/Berlin"));
  EXPECT_FALSE(valid_timezone("../etc/passwd"));
}

}  // namespace
}  // namespace tether::spec
