#include "expr/govaluate.h"

#include <gtest/gtest.h>

namespace tether::expr {
namespace {

struct WhenCase {
  const char* when;
  bool want;
};

class WhenEval : public ::testing::TestWithParam<WhenCase> {};

TEST_P(WhenEval, Value) {
  const WhenCase& c = GetParam();
  EXPECT_TRUE(check_when(c.when).ok()) << c.when;
  auto r = eval_when(c.when);
  ASSERT_TRUE(r.ok()) << c.when << ": " << r.error().message;
  EXPECT_EQ(*r, c.want) << c.when;
}

INSTANTIATE_TEST_SUITE_P(
    Table, WhenEval,
    ::testing::Values(
        WhenCase{"", true}, WhenCase{"true", true}, WhenCase{"false", false}, WhenCase{"heads == heads", true},
        WhenCase{"heads == tails", false}, WhenCase{"Succeeded != Succeeded", false}, WhenCase{"Failed != Succeeded", true},
        WhenCase{"true == true", true}, WhenCase{"false == true", false}, WhenCase{"YES == YES", true},
        WhenCase{"even == even", true}, WhenCase{"3 < 10", true}, WhenCase{"10 < 9", false}, WhenCase{"10 <= 10.0", true},
        WhenCase{"2 != 1 && 2 != 2", false}, WhenCase{"3 != 1 && 3 != 2", true}, WhenCase{"1.5 > 1", true},
        WhenCase{"( heads == heads && tails == tails ) || ( tails == tails && tails == tails )", true},
        WhenCase{"( heads == heads &&\n  heads == tails\n) ||\n( heads == tails && heads == tails )", false},
        WhenCase{"heads =~ hea", true}, WhenCase{"tails =~ hea", false}, WhenCase{"tails !~ hea", true},
        WhenCase{"tails =~ '^t.*s$'", true}, WhenCase{"a in (a, b)", true}, WhenCase{"c in (a, b)", false},
        WhenCase{"1 in (1, 2)", true}, WhenCase{"'hello world' == 'hello world'", true},
        WhenCase{"\"hello world\" == 'hello world'", true}, WhenCase{"1 + 2 == 3", true}, WhenCase{"'a' + 'b' == ab", true},
        WhenCase{"2 * 3 > 5", true}, WhenCase{"-1 < 0", true}, WhenCase{"!true == false", true}, WhenCase{"!(1 > 2)", true},
        WhenCase{"10 % 3 == 1", true}, WhenCase{"2 ** 3 == 8", true}, WhenCase{"b > a", true}, WhenCase{"10 > 9", true},
        WhenCase{"'10' > '9'", false}, WhenCase{"0x10 == 16", true}, WhenCase{"1 == 1 ? true : false", true},
        WhenCase{"[a b] == 'a b'", true}, WhenCase{"heads == heads && 1 + 1 == 2 || false", true},
        // quoted dates are times, compared as Unix seconds
        WhenCase{"'2024-01-02' < '2024-01-10'", true}, WhenCase{"'2024-01-02T00:00:00Z' == '2024-01-02'", true},
        WhenCase{"'2024-01-02 01:00' > '2024-01-02T00:30:00+00:00'", true},
        WhenCase{"'2024-01-02' == 1704153600", true}));

struct WhenError {
  const char* when;
  const char* message;
};

class WhenErrors : public ::testing::TestWithParam<WhenError> {};

TEST_P(WhenErrors, Message) {
  const WhenError& c = GetParam();
  auto r = eval_when(c.when);
  ASSERT_FALSE(r.ok()) << c.when << " gave " << *r;
  EXPECT_EQ(r.error().message, c.message) << c.when;
}

INSTANTIATE_TEST_SUITE_P(
    Table, WhenErrors,
    ::testing::Values(
        WhenError{"hello world == hello world",
                  "Invalid 'when' expression 'hello world == hello world': Cannot transition token types from VARIABLE "
                  "[hello] to VARIABLE [world]"},
        WhenError{"foo@bar == x",
                  "Invalid 'when' expression 'foo@bar == x': Invalid token: '@' (hint: try wrapping the affected "
                  "expression in quotes (\"))"},
        WhenError{"a ==", "Invalid 'when' expression 'a ==': Unexpected end of expression"},
        WhenError{"(a == b", "Invalid 'when' expression '(a == b': Unbalanced parenthesis"},
        WhenError{"'abc == x", "Invalid 'when' expression ''abc == x': Unclosed string literal"},
        WhenError{"== a", "Invalid 'when' expression '== a': Cannot transition token types from UNKNOWN [<nil>] to COMPARATOR [==]"},
        WhenError{"a.b == c", "Invalid 'when' expression 'a.b == c': Unable to access unexported field 'b' in token 'a.b'"},
        WhenError{"foo(1)", "Invalid 'when' expression 'foo(1)': Undefined function foo"},
        WhenError{"1.2.3 == x", "Invalid 'when' expression '1.2.3 == x': Unable to parse numeric value '1.2.3' to float64\n"},
        WhenError{"!foo", "Failed to parse 'when' expression '!foo': Cannot transition token types from PREFIX [!] to STRING [foo]"},
        WhenError{"heads > 1",
                  "Failed to evaluate 'when' expresion 'heads > 1': Value 'heads' cannot be used with the comparator '>', it is not a number"},
        WhenError{"heads && true",
                  "Failed to evaluate 'when' expresion 'heads && true': Value 'heads' cannot be used with the logical operator '&&', it is not a bool"},
        WhenError{"a - 1 == 2",
                  "Failed to evaluate 'when' expresion 'a - 1 == 2': Value 'a' cannot be used with the modifier '-', it is not a number"},
        WhenError{"a in b", "Failed to evaluate 'when' expresion 'a in b': Value 'b' cannot be used with the comparator 'in', it is not a number"},
        WhenError{"v1.2 == x", "Failed to evaluate 'when' expresion 'v1.2 == x': No parameter 'v1' found."},
        WhenError{"1 + 2", "Expected boolean evaluation for '1 + 2'. Got 3"},
        WhenError{"heads", "Expected boolean evaluation for 'heads'. Got heads"},
        WhenError{"(1 > 0) ? yes : no", "Expected boolean evaluation for '(1 > 0) ? yes : no'. Got yes"},
        WhenError{"'2024-01-02'", "Expected boolean evaluation for ''2024-01-02''. Got 1.7041536e+09"},
        WhenError{"'2024-01-02' ? a : b",
                  "Invalid 'when' expression ''2024-01-02' ? a : b': Cannot transition token types from TIME [2024-01-02 00:00:00 +0000 UTC] to TERNARY [?]"}));

TEST(Govaluate, CheckWhenReportsSyntaxOnly) {
  EXPECT_TRUE(check_when("heads > 1").ok());  // a type error shows only when evaluated
  auto st = check_when("hello world == x");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message,
            "Invalid 'when' expression 'hello world == x': Cannot transition token types from VARIABLE [hello] to VARIABLE [world]");
}

TEST(Govaluate, DeepNestingIsAnError) {
  std::string deep(3000, '(');
  deep += "true";
  deep += std::string(3000, ')');
  EXPECT_FALSE(eval_when(deep).ok());
  std::string chain = "true";
  for (int k = 0; k < 3000; ++k) chain += " && true";
  auto r = eval_when(chain);
  EXPECT_TRUE(!r.ok() || *r);
}

}  // namespace
}  // namespace tether::expr
