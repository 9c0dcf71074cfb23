// `{{...}}` tags in workflow text and their substitution, as Argo's util/template does.
//
// Argo substitutes into the JSON encoding of a whole template, JSON-escaping each value
// (strconv.Quote without the quotes) so the result stays valid JSON, then decodes it.
// tether substitutes into each string field separately with raw values; decoding
// Argo's JSON gives the same strings, so the two are equivalent.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/json.h"
#include "base/result.h"

namespace tether::expr {

struct Tag {
  enum class Kind { kSimple, kExpression } kind;
  std::string body;    // trimmed; for an expression, the text after '='
  size_t begin, end;   // byte offsets of the whole tag, `{{` to `}}` inclusive
  std::string raw;     // the text between the braces, untrimmed
};

// Every tag in order. A tag is `{{`, then everything up to the next `}}`; an expression
// tag starts with `=` right after the braces (`{{ =x}}` is a simple tag named "=x").
// A `{{` with no `}}` after it is an error, as in Argo (fasttemplate):
//   Cannot find end tag="}}" in the template="..." starting from "..."
Result<std::vector<Tag>> find_tags(std::string_view text);

// Flat dotted names ("inputs.parameters.x", "steps.gen.outputs.result", "item",
// "item.name", "workflow.name") to values, usually strings. A null value is an absent
// optional: the output of a skipped node that declared no default.
using Vars = std::map<std::string, Json>;

// One pass over text: a value containing `{{...}}` is never expanded again.
//  * simple tags become the value (strings as they are, other JSON as Go renders it); a
//    missing name is "failed to resolve {{name}}" unless allow_unresolved, which leaves
//    the tag as it was;
//  * expression tags are evaluated with expr-lang over vars expanded into nested objects
//    (so `inputs.parameters['x']` and `steps['flip-coin'].outputs.result` work); a string
//    result goes in as it is, anything else as JSON. An expression reading a variable
//    that is not there fails ("failed to evaluate expression: X is missing"), or with
//    allow_unresolved is left as it was, as is any expression that then fails.
//  * `now()` in an expression reads clock, the system clock when null.
Result<std::string> substitute(std::string_view text, const Vars& vars, bool allow_unresolved,
                               const Clock* clock = nullptr);

// vars expanded into nested objects as Argo's expression environment does: dotted keys
// split into levels, and a key that is also the prefix of another ("item" and
// "item.name") dropped in favour of the longer one.
Json expression_env(const Vars& vars);

}  // namespace tether::expr
