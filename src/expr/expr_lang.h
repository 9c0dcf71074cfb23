// expr-lang (github.com/expr-lang/expr), the language of `{{=...}}` tags, output
// parameter `expression`, artifact `fromExpression`, retry `expression` and hook
// `expression`. The grammar and operator precedence follow expr-lang's parser; the
// function set is expr-lang's builtins plus what Argo adds to the environment
// (asInt, asFloat, jsonpath, toJson, sprig.*).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/json.h"
#include "base/result.h"

namespace tether::expr {

struct ExprNode {
  enum class Kind {
    kNil, kBool, kInt, kFloat, kString,
    kIdent,      // str = name
    kPointer,    // `#` (str empty) or `#index`, `#acc` inside a predicate
    kUnary,      // str = operator; kids[0]
    kBinary,     // str = operator; kids[0], kids[1]
    kTernary,    // kids: cond, then, else
    kMember,     // kids[0].kids[1]; optional for `?.`
    kSlice,      // kids: node, from (or null), to (or null)
    kCall,       // kids[0] = callee (kIdent or kMember), rest = arguments
    kPredicate,  // kids[0]: the closure body of filter/map/all/...
    kArray,      // kids: elements
    kMap,        // kids: alternating key, value
    kSequence,   // kids: expressions separated by `;`, value of the last
    kLet,        // str = name; kids: value, body
  };
  Kind kind = Kind::kNil;
  size_t pos = 0;  // byte offset in the source, for error messages
  std::string str;
  int64_t int_value = 0;
  double float_value = 0;
  bool bool_value = false;
  bool optional = false;  // `?.` member access or `?.[...]` index
  int depth = 1;          // height of this subtree; the parser bounds it
  std::vector<std::unique_ptr<ExprNode>> kids;  // a null kid is an absent slice bound
};

struct ExprAst {
  std::shared_ptr<const ExprNode> root;
  std::string source;

  // The variables the expression reads, as dotted paths where the path is made only
  // of names (`inputs.parameters.x`, `steps.flip-coin.outputs.result` from
  // `steps['flip-coin'].outputs.result`), else the bare identifier. A path guarded by
  // `??` or `?.` contributes only its root name, as Argo does when it decides whether an
  // expression can be evaluated yet. Closure pointers and function names are not
  // variables.
  std::vector<std::string> identifiers() const;
};

// Syntax check. Errors read like expr-lang's: `unexpected token Operator(")") (1:5)`
// followed by the source line and a caret under the column.
Result<ExprAst> parse_expr(std::string_view src);

// Evaluates src against env (a JSON object; nested objects are reached with `.` and
// `[]`). Unknown top-level names are an error ("unknown name x"), as when Argo compiles
// with expr.Env(env). `now()` reads clock (the system clock when null), so a scheduler
// driven by a test clock sees the same time in its expressions.
Result<Json> eval_expr(std::string_view src, const Json& env, const Clock* clock = nullptr);
Result<Json> eval_expr(const ExprAst& ast, const Json& env, const Clock* clock = nullptr);

// Renders a value as Go's json.Marshal would: compact, <>& escaped, floats in Go's
// shortest form (2 not 2.0, 1e+21).
std::string go_json(const Json& value);

}  // namespace tether::expr
