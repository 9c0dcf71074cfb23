// The variable catalog: every `{{...}}` name Argo defines, once. Validation reads it to
// say whether a name exists, substitution code to know what to provide, docs to list
// them. Scope rules (steps.X only after step X, ...) belong to validation, not here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tether::expr {

enum class VarKind {
  kString,    // plain text
  kJson,      // a JSON document in a string (workflow.parameters, outputs.parameters of a loop)
  kNumber,    // digits in a string (exitCode, retries, duration)
  kTime,      // RFC 3339 timestamp
  kArtifact,  // names an artifact, for `from:` and artifact arguments
  kAny,       // loop items: whatever the item is
};

// Where a variable can be used, as bits.
enum VarScope : unsigned {
  kScopeWorkflow = 1u << 0,     // anywhere in the workflow
  kScopeTemplate = 1u << 1,     // inside a template, about that template (inputs, outputs, pod)
  kScopeSteps = 1u << 2,        // in a steps template, about an earlier step
  kScopeDag = 1u << 3,          // in a DAG template, about a task it depends on
  kScopeLoop = 1u << 4,         // in a step or task with withItems/withParam/withSequence
  kScopeRetry = 1u << 5,        // in a template with retryStrategy (and its expression)
  kScopeExitHandler = 1u << 6,  // in onExit handlers and workflow-level hooks
  kScopeCron = 1u << 7,         // in a CronWorkflow's `when` and its workflow
  kScopeMetrics = 1u << 8,      // in prometheus metrics of a template
  kScopeHttp = 1u << 9,         // in an HTTP template's successCondition
};

struct VariableInfo {
  // Dotted name; `*` stands for one segment (a step, task, parameter, artifact name),
  // `**` at the end for one or more (label and annotation keys contain dots).
  std::string pattern;
  VarKind kind;
  unsigned scope;  // VarScope bits
  std::string doc;
};

// The entry whose pattern matches name (exact patterns win over wildcard ones), or null.
const VariableInfo* lookup_variable(std::string_view name);
const std::vector<VariableInfo>& all_variables();
// True when name matches pattern under the rules above.
bool variable_pattern_matches(std::string_view pattern, std::string_view name);

}  // namespace tether::expr
