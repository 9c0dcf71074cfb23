// govaluate (github.com/Knetic/govaluate), the language of a step's or task's `when`,
// evaluated after `{{...}}` substitution. Argo turns every bare word into a string
// before evaluating, so `heads == heads` is a comparison of two strings; numbers are
// float64; `true`/`false` are booleans. Messages are Argo's.
#pragma once

#include <string_view>

#include "base/result.h"

namespace tether::expr {

// Syntax check of a `when` after substitution; the error reads
// "Invalid 'when' expression '<text>': <govaluate's message>", with Argo's quoting hint
// when govaluate reported an invalid token.
Status check_when(std::string_view text);

// Evaluates a `when`. An empty text is true (no condition). A result that is not a
// boolean is an error: "Expected boolean evaluation for '<text>'. Got <value>".
Result<bool> eval_when(std::string_view text);

}  // namespace tether::expr
