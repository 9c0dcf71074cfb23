#include "expr/expr_lang.h"

#include <gtest/gtest.h>

namespace tether::expr {
namespace {

Json test_env() {
  return Json{
      {"inputs", {{"parameters", {{"x", "3"}, {"should-print", "true"}, {"num", "2"}}}}},
      {"steps", {{"flip-coin", {{"outputs", {{"result", "heads"}}}}}, {"heads", {{"outputs", {{"result", "H"}}}}},
                 {"tails", {{"outputs", {{"result", "T"}}}}}}},
      {"tasks", {{"producer", {{"outputs", {{"parameters", {{"msg", nullptr}}}}}}}}},
      {"workflow", {{"parameters", {{"json", R"([{"value":"true"}])"},
                                    {"weather", R"({"weekWeather": "eyJ0ZW1wcyI6IFszNCwgMjcsIDE1LCA1NywgNDZdfQo="})"}}},
                    {"creationTimestamp", "2024-03-05T06:07:08Z"},
                    {"status", "Running"}}},
      {"lastRetry", {{"exitCode", "2"}, {"status", "Failed"}, {"duration", "5"}, {"message", "pod deleted"}}},
      {"item", {{"name", "a"}, {"n", 2}}},
      {"xs", Json::array({1, 2, 3, 4})},
      {"words", Json::array({"app.main.log", "db.log", "x.main.log"})},
      {"n", 7},
      {"f", 2.5},
      {"s", "Hello"},
      {"nothing", nullptr},
  };
}

struct Case {
  const char* src;
  const char* json;  // expected result as Go JSON
};

class ExprLangEval : public ::testing::TestWithParam<Case> {};

TEST_P(ExprLangEval, Value) {
  const Case& c = GetParam();
  auto r = eval_expr(c.src, test_env());
  ASSERT_TRUE(r.ok()) << c.src << ": " << r.error().message;
  EXPECT_EQ(go_json(*r), c.json) << c.src;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ExprLangEval,
    ::testing::Values(
        // literals
        Case{"1", "1"}, Case{"0x1F", "31"}, Case{"0b101", "5"}, Case{"0o17", "15"}, Case{"1_000", "1000"},
        Case{"1.5", "1.5"}, Case{".5", "0.5"}, Case{"1e3", "1000"}, Case{"'a'", "\"a\""}, Case{"\"b\\n\"", "\"b\\n\""},
        Case{"`raw\\n`", "\"raw\\\\n\""}, Case{"true", "true"}, Case{"nil", "null"}, Case{"[1, 'a', nil]", "[1,\"a\",null]"},
        Case{"{a: 1, 'b c': 2, (1+1): 3}", "{\"2\":3,\"a\":1,\"b c\":2}"}, Case{"[1, 2,]", "[1,2]"},
        Case{"'\\u00e9\\x41'", "\"éA\""},
        // arithmetic: int and float are distinct
        Case{"1 + 2", "3"}, Case{"1 / 2", "0.5"}, Case{"4 / 2", "2"}, Case{"7 % 3", "1"}, Case{"-7 % 3", "-1"},
        Case{"2 ** 10", "1024"}, Case{"2 ^ 3 ^ 2", "512"}, Case{"1 + 2 * 3", "7"}, Case{"(1 + 2) * 3", "9"},
        Case{"1.5 + 1", "2.5"}, Case{"-n", "-7"}, Case{"- -1", "1"}, Case{"f * 2", "5"}, Case{"n - 10", "-3"},
        Case{"'a' + 'b'", "\"ab\""}, Case{"[1] + [2]", "[1,2]"},
        // comparison, mixed int and float
        Case{"1 == 1.0", "true"}, Case{"1 < 1.5", "true"}, Case{"2 >= 2", "true"}, Case{"'a' < 'b'", "true"},
        Case{"1 < 2 < 3", "true"}, Case{"3 > 2 > 2", "false"}, Case{"nil == nil", "true"}, Case{"[1,2] == [1,2]", "true"},
        Case{"'1' == 1", "false"},
        // logic
        Case{"true && false", "false"}, Case{"true and not false", "true"}, Case{"false || true", "true"},
        Case{"!true or false", "false"}, Case{"false && nothing.x", "false"}, Case{"true || nothing.x", "true"},
        // conditionals
        Case{"n > 5 ? 'big' : 'small'", "\"big\""}, Case{"nothing ?? 'dflt'", "\"dflt\""}, Case{"s ?? 'dflt'", "\"Hello\""},
        Case{"tasks.producer.outputs.parameters.msg ?? 'expr-fallback'", "\"expr-fallback\""},
        Case{"tasks.missing.outputs.parameters.msg ?? 'fallback'", "\"fallback\""},
        Case{"if n > 5 { 'big' } else { 'small' }", "\"big\""}, Case{"if false { 1 } else if true { 2 } else { 3 }", "2"},
        Case{"asInt(inputs.parameters.num) == 1? 1: asInt(inputs.parameters.num) == 2? 1: 5", "1"},
        // membership and strings
        Case{"2 in xs", "true"}, Case{"5 not in xs", "true"}, Case{"'name' in item", "true"}, Case{"'zz' in item", "false"},
        Case{"s contains 'ell'", "true"}, Case{"s startsWith 'He'", "true"}, Case{"s endsWith 'lo'", "true"},
        Case{"s not contains 'x'", "true"}, Case{"'pod deleted' matches 'imminent node shutdown|pod deleted'", "true"},
        Case{"s matches '^h'", "false"}, Case{"s matches '(?i)^h'", "true"},
        // member access
        Case{"inputs.parameters.x", "\"3\""}, Case{"inputs.parameters['should-print']", "\"true\""},
        Case{"inputs.parameters[\"should-print\"] == 'true'", "true"}, Case{"steps['flip-coin'].outputs.result", "\"heads\""},
        Case{"item.name", "\"a\""}, Case{"item?.name", "\"a\""}, Case{"nothing?.name", "null"}, Case{"nothing?.a.b", "null"},
        Case{"item.missing", "null"}, Case{"$env.n", "7"}, Case{"'n' in $env", "true"},
        Case{"steps['flip-coin'].outputs.result == 'heads' ? steps.heads.outputs.result : steps.tails.outputs.result", "\"H\""},
        // index and slices
        Case{"xs[0]", "1"}, Case{"xs[-1]", "4"}, Case{"xs[1:3]", "[2,3]"}, Case{"xs[:2]", "[1,2]"}, Case{"xs[2:]", "[3,4]"},
        Case{"xs[:]", "[1,2,3,4]"}, Case{"xs[1:-1]", "[2,3]"}, Case{"s[1:3]", "\"el\""}, Case{"s[0]", "\"H\""},
        // ranges
        Case{"1..3", "[1,2,3]"}, Case{"3..1", "[]"}, Case{"len(1..100)", "100"},
        // closures
        Case{"filter(xs, # > 2)", "[3,4]"}, Case{"filter([1, 3], {# > 1})", "[3]"}, Case{"map(xs, # * 2)", "[2,4,6,8]"},
        Case{"all(xs, # > 0)", "true"}, Case{"any(xs, # > 3)", "true"}, Case{"none(xs, # > 4)", "true"},
        Case{"one(xs, # == 2)", "true"}, Case{"count(xs, # % 2 == 0)", "2"}, Case{"filter(words, {# endsWith \"main.log\"})",
                                                                            "[\"app.main.log\",\"x.main.log\"]"},
        Case{"map([{n: 1}, {n: 2}], .n)", "[1,2]"}, Case{"map(xs, #index)", "[0,1,2,3]"}, Case{"find(xs, # > 2)", "3"},
        Case{"findIndex(xs, # > 2)", "2"}, Case{"findLast(xs, # < 3)", "2"}, Case{"sum(xs)", "10"}, Case{"sum(xs, # * 2)", "20"},
        Case{"reduce(xs, #acc + #)", "10"}, Case{"reduce(xs, #acc + #, 10)", "20"}, Case{"sortBy([3, 1, 2], #)", "[1,2,3]"},
        Case{"groupBy([1, 2, 3], # % 2 == 0)", "{\"false\":[1,3],\"true\":[2]}"}, Case{"xs | filter(# > 1) | map(# * 10)", "[20,30,40]"},
        Case{"map(map(xs, # + 1), # * 2)", "[4,6,8,10]"},
        // let and sequences
        Case{"let x = 2; x * n", "14"}, Case{"let a = 1; let b = 2; a + b", "3"}, Case{"1; 2", "2"},
        // builtins
        Case{"len('héllo')", "5"}, Case{"len(xs)", "4"}, Case{"len(item)", "2"}, Case{"abs(-2)", "2"}, Case{"abs(-2.5)", "2.5"},
        Case{"int('42')", "42"}, Case{"int(2.9)", "2"}, Case{"float('1.5')", "1.5"}, Case{"float(2)", "2"}, Case{"string(1.5)", "\"1.5\""},
        Case{"string(xs)", "\"[1 2 3 4]\""}, Case{"string(item)", "\"map[n:2 name:a]\""}, Case{"trim('  a  ')", "\"a\""},
        Case{"trim('__a__', '_')", "\"a\""}, Case{"upper('ab')", "\"AB\""}, Case{"lower('AB')", "\"ab\""},
        Case{"split('a,b,c', ',')", "[\"a\",\"b\",\"c\"]"}, Case{"split('a,b,c', ',', 2)", "[\"a\",\"b,c\"]"},
        Case{"join(['a', 'b'], '-')", "\"a-b\""}, Case{"keys({b: 1, a: 2})", "[\"a\",\"b\"]"}, Case{"values({a: 1})", "[1]"},
        Case{"toJSON({a: [1]})", "\"{\\n  \\\"a\\\": [\\n    1\\n  ]\\n}\""}, Case{"fromJSON('{\"a\": 1}').a", "1"},
        Case{"max(1, 5, 3)", "5"}, Case{"min(2.5, 1)", "1"}, Case{"first(xs)", "1"}, Case{"last(xs)", "4"},
        Case{"replace('aaa', 'a', 'b')", "\"bbb\""}, Case{"trimPrefix('foobar', 'foo')", "\"bar\""},
        Case{"indexOf('abc', 'c')", "2"}, Case{"reverse(xs)", "[4,3,2,1]"}, Case{"uniq([1, 1, 2])", "[1,2]"},
        Case{"toBase64('hi')", "\"aGk=\""}, Case{"fromBase64('aGk=')", "\"hi\""}, Case{"sort([3, 1, 2])", "[1,2,3]"},
        Case{"ceil(1.2)", "2"}, Case{"round(2.5)", "3"}, Case{"duration('1h30m').Minutes()", "90"},
        Case{"date('2024-01-02T03:04:05Z').Year()", "2024"},
        Case{"(date('2024-01-02T00:01:00Z') - date('2024-01-02T00:00:00Z')).Seconds()", "60"},
        // Argo's additions
        Case{"asInt(inputs.parameters.x) * 10", "30"}, Case{"asFloat('2.5') * 2", "5"},
        Case{"toJson(filter([1, 3], {# > 1}))", "\"[3]\""}, Case{"toJson({b: 1, a: '<x>'})", "\"{\\\"a\\\":\\\"\\\\u003cx\\\\u003e\\\",\\\"b\\\":1}\""},
        Case{"jsonpath(workflow.parameters.json, '$[0].value') == 'true'", "true"},
        Case{"jsonpath('{\"a\": \"1\"}', '$.a')", "\"1\""},
        Case{"jsonpath('{\"employees\": [{\"name\": \"Baris\", \"age\":43},{\"name\": \"Mo\", \"age\": 42}]}', "
             "'$.employees[?(@.name==\"Baris\")].age')",
             "[43]"},
        Case{"jsonpath('{\"e\": [{\"age\":43},{\"age\": 42},{\"age\":44}]}', '$.e[?(@.age>42 && @.age<44)].age')", "[43]"},
        Case{"jsonpath('{\"e\": [{\"n\":\"a\"},{\"n\":\"b\"}]}', '$.e[0:1]')", "[{\"n\":\"a\"}]"},
        Case{"jsonpath('{\"e\": [{\"n\":\"a\"},{\"n\":\"b\"}]}', '$.e[*].n')", "[\"a\",\"b\"]"},
        Case{"jsonpath('{\"a\": {\"b\": {\"c\": 1}}}', '$..c')", "[1]"},
        // sprig
        Case{"sprig.add(1, 2, '3')", "6"}, Case{"sprig.add(1, 2) / 5", "0.6"}, Case{"sprig.max(1, 9, 3)", "9"},
        Case{"sprig.min(4, 2.9)", "2"}, Case{"sprig.sub(5, 2)", "3"}, Case{"sprig.mul(2, 3, 4)", "24"},
        Case{"sprig.div(7, 2)", "3"}, Case{"sprig.mod(7, 2)", "1"}, Case{"sprig.b64dec('aGVsbG8=')", "\"hello\""},
        Case{"sprig.b64enc('hello')", "\"aGVsbG8=\""}, Case{"sprig.trim(' x ')", "\"x\""}, Case{"sprig.upper('x')", "\"X\""},
        Case{"sprig.lower('X')", "\"x\""}, Case{"sprig.replace('a', 'b', 'aXa')", "\"bXb\""},
        Case{"sprig.contains('ell', 'hello')", "true"}, Case{"sprig.hasPrefix('he', 'hello')", "true"},
        Case{"sprig.hasSuffix('lo', 'hello')", "true"}, Case{"sprig.split(',', 'a,b')", "{\"_0\":\"a\",\"_1\":\"b\"}"},
        Case{"sprig.join('-', ['a', 1])", "\"a-1\""}, Case{"sprig.default('d', '')", "\"d\""},
        Case{"sprig.default('d', 'v')", "\"v\""}, Case{"sprig.empty('')", "true"}, Case{"sprig.empty([1])", "false"},
        Case{"sprig.toString(12)", "\"12\""}, Case{"sprig.atoi('12')", "12"}, Case{"sprig.atoi('x')", "0"},
        Case{"sprig.int('7')", "7"}, Case{"sprig.int64(7.9)", "7"}, Case{"sprig.float64('1.5')", "1.5"},
        Case{"sprig.quote('a', 'b')", "\"\\\"a\\\" \\\"b\\\"\""}, Case{"sprig.squote('a')", "\"'a'\""},
        Case{"sprig.toJson({a: 1})", "\"{\\\"a\\\":1}\""}, Case{"sprig.fromJson('{\"a\":1}').a", "1"},
        Case{"sprig.dict('a', 1, 'b', 'x')", "{\"a\":1,\"b\":\"x\"}"}, Case{"sprig.list(1, 'a')", "[1,\"a\"]"},
        Case{"sprig.first([1, 2])", "1"}, Case{"sprig.last([1, 2])", "2"}, Case{"sprig.uniq([1, 1, 2])", "[1,2]"},
        Case{"sprig.sortAlpha(['b', 'a'])", "[\"a\",\"b\"]"}, Case{"len(sprig.randAlphaNum(8))", "8"},
        Case{"sprig.date('2006', workflow.creationTimestamp)", "\"2024\""},
        Case{"sprig.date('2006-01-02 15:04:05 Mon Jan', '2024-03-05T06:07:08Z')", "\"2024-03-05 06:07:08 Tue Mar\""},
        Case{"map([jsonpath(sprig.b64dec(jsonpath(workflow.parameters.weather, '$.weekWeather')), '$.temps')], "
             "{toJson({avg: sprig.add(#[0], #[1], #[2], #[3], #[4]) / 5, min: sprig.min(#[0], #[1], #[2], #[3], #[4]), "
             "max: sprig.max(#[0], #[1], #[2], #[3], #[4])})})[0]",
             "\"{\\\"avg\\\":35.8,\\\"max\\\":57,\\\"min\\\":15}\""},
        // retry-conditional's expression after substitution
        Case{"asInt(lastRetry.exitCode) > 1 && lastRetry.status != \"Error\" && asInt(lastRetry.duration) < 120 && "
             "(false == true || lastRetry.message matches 'imminent node shutdown|pod deleted')",
             "true"},
        Case{"workflow.status == \"Running\"", "true"},
        Case{"// comment\n1 /* two */ + 1", "2"}));

struct ErrCase {
  const char* src;
  const char* message;
};

class ExprLangError : public ::testing::TestWithParam<ErrCase> {};

TEST_P(ExprLangError, Message) {
  const ErrCase& c = GetParam();
  auto r = eval_expr(c.src, test_env());
  ASSERT_FALSE(r.ok()) << c.src << " gave " << go_json(*r);
  EXPECT_EQ(r.error().message, c.message) << c.src;
}

INSTANTIATE_TEST_SUITE_P(
    Table, ExprLangError,
    ::testing::Values(
        ErrCase{"1 +", "unexpected token EOF (1:4)\n | 1 +\n | ...^"},
        ErrCase{"a + )", "unexpected token Bracket(\")\") (1:5)\n | a + )\n | ....^"},
        ErrCase{"(1", "unexpected token EOF (1:3)\n | (1\n | ..^"},
        ErrCase{"'abc", "literal not terminated (1:5)\n | 'abc\n | ....^"},
        ErrCase{"1 @ 2", "unrecognized character: U+0040 '@' (1:3)\n | 1 @ 2\n | ..^"},
        ErrCase{"foo", "unknown name foo (1:1)\n | foo\n | ^"},
        ErrCase{"1 ?? 2 + 3", "Operator (+) and coalesce expressions (?\?) cannot be mixed. Wrap either by parentheses. (1:8)\n | 1 ?? 2 + 3\n | .......^"},
        ErrCase{"'a' + 1", "invalid operation: + (mismatched types string and int) (1:5)\n | 'a' + 1\n | ....^"},
        ErrCase{"1.5 % 2", "invalid operation: % (mismatched types float64 and int) (1:5)\n | 1.5 % 2\n | ....^"},
        ErrCase{"n % 0", "runtime error: integer divide by zero (1:3)\n | n % 0\n | ..^"},
        ErrCase{"xs[10]", "index out of range: 10 (array length is 4) (1:3)\n | xs[10]\n | ..^"},
        ErrCase{"nothing.x", "cannot fetch x from <nil> (1:9)\n | nothing.x\n | ........^"},
        ErrCase{"asInt('x')", "strconv.Atoi: parsing \"x\": invalid syntax (1:1)\n | asInt('x')\n | ^"},
        ErrCase{"nosuch(1)", "unknown func nosuch (1:1)\n | nosuch(1)\n | ^"},
        ErrCase{"1 ? 2 : 3", "non-bool expression (type int) used as condition (1:3)\n | 1 ? 2 : 3\n | ..^"},
        ErrCase{"9223372036854775808", "invalid integer literal: strconv.ParseInt: parsing \"9223372036854775808\": value out of range (1:20)\n | 9223372036854775808\n | ...................^"},
        ErrCase{"{a 1}", "unexpected token Number(\"1\") (1:4)\n | {a 1}\n | ...^"}));

TEST(ExprLang, ParseReportsLineAndColumn) {
  auto r = parse_expr("1 +\n  * 2");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "unexpected token Operator(\"*\") (2:3)\n |   * 2\n | ..^");
}

TEST(ExprLang, Identifiers) {
  auto ast = parse_expr(
      "steps['flip-coin'].outputs.result == 'heads' && asInt(inputs.parameters.x) > 1 && "
      "(tasks.a.outputs.parameters.m ?? item) != '' && filter(xs, #.n > 1) != nil && sprig.add(1, n) > 0");
  ASSERT_TRUE(ast.ok()) << ast.error().message;
  EXPECT_EQ(ast->identifiers(), (std::vector<std::string>{"steps.flip-coin.outputs.result", "inputs.parameters.x", "tasks", "item", "xs", "n"}));
}

TEST(ExprLang, DeepNestingIsAnErrorNotACrash) {
  std::string deep(5000, '(');
  deep += "1";
  deep += std::string(5000, ')');
  auto r = parse_expr(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("nested too deeply"), std::string::npos);

  std::string chain = "1";
  for (int k = 0; k < 5000; ++k) chain += " + 1";
  EXPECT_FALSE(parse_expr(chain).ok());
  std::string unary(5000, '-');
  EXPECT_FALSE(parse_expr(unary + "1").ok());
}

TEST(ExprLang, HugeRangeIsAnError) {
  auto r = eval_expr("0..100000000", Json::object());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("range is too large"), std::string::npos);
}

TEST(ExprLang, RunawayWorkIsAnError) {
  for (const char* src : {"map(0..999999, map(0..999999, #))", "reduce(0..999999, #acc + 'abcdefghijklmnop', '')",
                          "let x = 0..999999; map(x, x)"}) {
    auto r = eval_expr(src, Json::object());
    ASSERT_FALSE(r.ok()) << src;
    EXPECT_NE(r.error().message.find("too expensive"), std::string::npos) << r.error().message;
  }
  auto big = eval_expr("len(map(0..9999, # * 2))", Json::object());
  ASSERT_TRUE(big.ok()) << big.error().message;
  EXPECT_EQ(*big, Json(10000));
}

TEST(ExprLang, NowIsATime) {
  auto r = eval_expr("now() - date('2020-01-01T00:00:00Z') > duration('1h')", Json::object());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(*r, Json(true));
  // cron-when.yaml, with lastScheduledTime an RFC 3339 string or nil.
  const char* cron = "cronworkflow.lastScheduledTime == nil || (now() - cronworkflow.lastScheduledTime).Seconds() > 360";
  auto first = eval_expr(cron, Json{{"cronworkflow", {{"lastScheduledTime", nullptr}}}});
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(*first, Json(true));
  auto later = eval_expr(cron, Json{{"cronworkflow", {{"lastScheduledTime", "2020-01-01T00:00:00Z"}}}});
  ASSERT_TRUE(later.ok()) << later.error().message;
  EXPECT_EQ(*later, Json(true));
}

TEST(JsonPath, Queries) {
  const char* doc = R"({"a": {"b": [10, 20, 30], "c": "x"}, "list": [{"k": 1, "t": "u"}, {"k": 2}], "q": null})";
  struct Case {
    const char* path;
    const char* json;
  };
  const Case cases[] = {
      {"$", R"({"a":{"b":[10,20,30],"c":"x"},"list":[{"k":1,"t":"u"},{"k":2}],"q":null})"},
      {"$.a.c", "\"x\""},
      {R"($["a"]["c"])", "\"x\""},
      {"$.a.b[-1]", "30"},
      {"$.a.b[0,2]", "[10,30]"},
      {"$.a.b[1:]", "[20,30]"},
      {"$.a.b[::-1]", "[30,20,10]"},
      {"$.a.*", R"([[10,20,30],"x"])"},
      {"$..k", "[1,2]"},
      {"$.list[?(@.t)].k", "[1]"},
      {"$.list[?(@.k != 1)]", R"([{"k":2}])"},
      {"$.list[?(@.k == 1 || @.k == 2)].k", "[1,2]"},
      {"$.list[?(!(@.k > 1))].k", "[1]"},
      {"$.q", "null"},
  };
  for (const auto& c : cases) {
    std::string src = std::string("jsonpath('") + doc + "', '" + c.path + "')";
    auto r = eval_expr(src, Json::object());
    ASSERT_TRUE(r.ok()) << c.path << ": " << r.error().message;
    EXPECT_EQ(go_json(*r), c.json) << c.path;
  }
  for (const char* bad : {"a.b", "$.a.missing", "$.a.b[7]", "$.a[", "$.list[?(@.k ==)]"}) {
    auto r = eval_expr(std::string("jsonpath('") + doc + "', '" + bad + "')", Json::object());
    EXPECT_FALSE(r.ok()) << bad;
  }
  auto not_json = eval_expr("jsonpath('{', '$')", Json::object());
  EXPECT_FALSE(not_json.ok());
}

TEST(GoFormat, TimesAndDurations) {
  auto t = eval_expr("date('2024-03-05T06:07:08.5+01:00').Format('2006-01-02T15:04:05.000Z07:00 Jan _2 3PM')", Json::object());
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(*t, Json("2024-03-05T05:07:08.500Z Mar  5 5AM"));
  auto d = eval_expr("[string(duration('1h2m3.5s')), string(duration('1.5ms')), string(duration('0s')), string(-duration('90s'))]",
                     Json::object());
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(*d, (Json{"1h2m3.5s", "1.5ms", "0s", "-1m30s"}));
  EXPECT_FALSE(eval_expr("duration('5 parsecs')", Json::object()).ok());
  EXPECT_FALSE(eval_expr("date('yesterday')", Json::object()).ok());
  // Beyond what int64 nanoseconds hold (found by fuzzing: it overflowed).
  EXPECT_FALSE(eval_expr("date('6024-01-02T15:00:00+01:00')", Json::object()).ok());
}

TEST(GoJson, FloatsAsGoWritesThem) {
  EXPECT_EQ(go_json(Json(2.0)), "2");
  EXPECT_EQ(go_json(Json(0.5)), "0.5");
  EXPECT_EQ(go_json(Json(1e21)), "1e+21");
  EXPECT_EQ(go_json(Json(1e20)), "100000000000000000000");
  EXPECT_EQ(go_json(Json(1e-7)), "1e-7");
  EXPECT_EQ(go_json(Json(0.000001)), "0.000001");
  EXPECT_EQ(go_json(Json(35.8)), "35.8");
  EXPECT_EQ(go_json(Json{{"b", 1.0}, {"a", "<&>"}}), "{\"a\":\"\\u003c\\u0026\\u003e\",\"b\":1}");
}

}  // namespace
}  // namespace tether::expr
