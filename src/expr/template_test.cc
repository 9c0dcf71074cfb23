#include "expr/template.h"

#include <gtest/gtest.h>

namespace tether::expr {
namespace {

Vars test_vars() {
  return {{"inputs.parameters.x", "3"},
          {"inputs.parameters.foo", "5"},
          {"inputs.parameters.should-print", "true"},
          {"inputs.parameters.message", "{{inputs.parameters.x}}"},
          {"inputs.parameters.n", 7},
          {"inputs.parameters.obj", Json{{"a", 1}, {"b", "<x>"}}},
          {"steps.flip-coin.outputs.result", "heads"},
          {"item", R"({"a":"1"})"},
          {"item.a", "1"},
          {"workflow.creationTimestamp", "2024-03-05T06:07:08Z"},
          {"workflow.parameters.json", R"([{"value":"true"}])"},
          {"tasks.producer.outputs.parameters.msg", nullptr}};
}

TEST(FindTags, KindsBodiesAndOffsets) {
  auto tags = find_tags("a {{ inputs.parameters.x }} b {{=1 + 1}}{{ =x}}");
  ASSERT_TRUE(tags.ok()) << tags.error().message;
  ASSERT_EQ(tags->size(), 3u);
  EXPECT_EQ((*tags)[0].kind, Tag::Kind::kSimple);
  EXPECT_EQ((*tags)[0].body, "inputs.parameters.x");
  EXPECT_EQ((*tags)[0].raw, " inputs.parameters.x ");
  EXPECT_EQ((*tags)[0].begin, 2u);
  EXPECT_EQ((*tags)[0].end, 27u);
  EXPECT_EQ((*tags)[1].kind, Tag::Kind::kExpression);
  EXPECT_EQ((*tags)[1].body, "1 + 1");
  EXPECT_EQ((*tags)[1].begin, 30u);
  EXPECT_EQ((*tags)[1].end, 40u);
  EXPECT_EQ((*tags)[2].kind, Tag::Kind::kSimple);  // '=' must follow the braces directly
  EXPECT_EQ((*tags)[2].body, "=x");
}

TEST(FindTags, NoTagsAndEdgeCases) {
  EXPECT_TRUE(find_tags("plain } text {").value().empty());
  auto t = find_tags("{{}}{{a}}}");
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ((*t)[0].body, "");
  EXPECT_EQ((*t)[1].body, "a");
}

TEST(FindTags, UnterminatedIsAnErrorAsInArgo) {
  auto t = find_tags("echo {{ oops\n");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().message,
            "Cannot find end tag=\"}}\" in the template=\"echo {{ oops\\n\" starting from \" oops\\n\"");
}

struct SubCase {
  const char* text;
  const char* want;
};

class Substitute : public ::testing::TestWithParam<SubCase> {};

TEST_P(Substitute, Strict) {
  const SubCase& c = GetParam();
  auto r = substitute(c.text, test_vars(), false);
  ASSERT_TRUE(r.ok()) << c.text << ": " << r.error().message;
  EXPECT_EQ(*r, c.want) << c.text;
}

INSTANTIATE_TEST_SUITE_P(
    Table, Substitute,
    ::testing::Values(
        SubCase{"no tags", "no tags"}, SubCase{"x={{inputs.parameters.x}}", "x=3"},
        SubCase{"{{ inputs.parameters.x }}", "3"}, SubCase{"{{inputs.parameters.should-print}} == true", "true == true"},
        SubCase{"{{inputs.parameters.message}}", "{{inputs.parameters.x}}"},  // one pass only
        SubCase{"{{inputs.parameters.n}}", "7"}, SubCase{"{{inputs.parameters.obj}}", "{\"a\":1,\"b\":\"\\u003cx\\u003e\"}"},
        SubCase{"{{steps.flip-coin.outputs.result}} == heads", "heads == heads"},
        SubCase{"{{item}} {{item.a}}", "{\"a\":\"1\"} 1"},
        SubCase{"hello {{=asInt(inputs.parameters.foo) * 10}} @ {{=sprig.date('2006', workflow.creationTimestamp)}}", "hello 50 @ 2024"},
        SubCase{"{{=toJson(filter([1, 3], {# > 1}))}}", "[3]"},
        SubCase{"{{= inputs.parameters[\"should-print\"] == 'true'}}", "true"},
        SubCase{"{{=jsonpath(workflow.parameters.json, '$[0].value') == 'true'}}", "true"},
        SubCase{"{{=steps['flip-coin'].outputs.result}}", "heads"}, SubCase{"{{=item.a}}", "1"},
        SubCase{"{{=1/2}} {{=[1, 'a']}} {{=sprig.dict('a', 1.0)}}", "0.5 [1,\"a\"] {\"a\":1}"},
        SubCase{"{{=tasks.producer.outputs.parameters.msg ?? 'expr-fallback'}}", "expr-fallback"},
        SubCase{"{{=inputs.parameters.message}}", "{{inputs.parameters.x}}"},
        SubCase{"{{=\n  1 +\n  2\n}}", "3"},
        SubCase{"{{inputs.parameters.{{item.a}}}}", "{{inputs.parameters.1}}"}));

struct SubError {
  const char* text;
  bool allow_unresolved;
  const char* message;
};

class SubstituteErrors : public ::testing::TestWithParam<SubError> {};

TEST_P(SubstituteErrors, Message) {
  const SubError& c = GetParam();
  auto r = substitute(c.text, test_vars(), c.allow_unresolved);
  ASSERT_FALSE(r.ok()) << c.text << " gave " << *r;
  EXPECT_EQ(r.error().message, c.message) << c.text;
}

INSTANTIATE_TEST_SUITE_P(
    Table, SubstituteErrors,
    ::testing::Values(
        SubError{"{{inputs.parameters.y}}", false, "failed to resolve {{inputs.parameters.y}}"},
        SubError{"{{ inputs.parameters.y }}", false, "failed to resolve {{ inputs.parameters.y }}"},
        SubError{"{{tasks.producer.outputs.parameters.msg}}", true,
                 "unable to substitute {{tasks.producer.outputs.parameters.msg}}: output is an absent optional "
                 "(skipped/omitted node with no default)"},
        SubError{"{{=inputs.parameters.nope}}", false, "failed to evaluate expression: inputs.parameters.nope is missing"},
        SubError{"{{=nothing.a ?? 'x'}}", false, "failed to evaluate expression: nothing is missing"},
        SubError{"{{=1 +}}", true, "failed to evaluate expression: unexpected token EOF (1:4)\n | 1 +\n | ...^"},
        SubError{"{{=asInt('x')}}", false,
                 "failed to evaluate expression: strconv.Atoi: parsing \"x\": invalid syntax (1:1)\n | asInt('x')\n | ^"},
        SubError{"{{=nil}}", false, "failed to evaluate expression \"nil\""},
        SubError{"a {{b", true, "Cannot find end tag=\"}}\" in the template=\"a {{b\" starting from \"b\""}));

TEST(Substitute, AllowUnresolvedLeavesTagsAlone) {
  const char* text = "{{inputs.parameters.y}} {{=item2}} {{=retries + 1}} {{=asInt('x')}} {{=nil}} {{inputs.parameters.x}}";
  auto r = substitute(text, test_vars(), true);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "{{inputs.parameters.y}} {{=item2}} {{=retries + 1}} {{=asInt('x')}} {{=nil}} 3");
}

TEST(Substitute, LateBoundVariablesWaitForTheirPass) {
  Vars vars = {{"inputs.parameters.x", "1"}};
  auto r = substitute("{{=item}} {{=lastRetry.exitCode}} {{=workflow.status}}", vars, true);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, "{{=item}} {{=lastRetry.exitCode}} {{=workflow.status}}");
}

TEST(ExpressionEnv, DottedKeysNestAndParentsGiveWay) {
  Vars vars = {{"item", "{\"a\":\"1\"}"}, {"item.a", "1"}, {"a-b", "x"}, {"a.b", "y"}, {"steps.s.outputs.result", "r"}};
  EXPECT_EQ(expression_env(vars), (Json{{"item", {{"a", "1"}}}, {"a-b", "x"}, {"a", {{"b", "y"}}},
                                         {"steps", {{"s", {{"outputs", {{"result", "r"}}}}}}}}));
}

}  // namespace
}  // namespace tether::expr
