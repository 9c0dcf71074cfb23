#include "expr/catalog.h"

#include "base/strings.h"

namespace tether::expr {
namespace {

constexpr unsigned kWf = kScopeWorkflow;
constexpr unsigned kTpl = kScopeTemplate;

// Node fields Argo exposes for an earlier step (steps.X) and a task dependency (tasks.X).
struct NodeField {
  const char* suffix;
  VarKind kind;
  const char* doc;
};
const NodeField kNodeFields[] = {
    {"id", VarKind::kString, "unique id of the node"},
    {"ip", VarKind::kString, "IP address of a daemon node"},
    {"status", VarKind::kString, "phase of the node: Succeeded, Failed, Error, Skipped, Omitted, ..."},
    {"exitCode", VarKind::kNumber, "exit code of a script or container node"},
    {"startedAt", VarKind::kTime, "when the node started (RFC 3339)"},
    {"finishedAt", VarKind::kTime, "when the node finished (RFC 3339)"},
    {"hostNodeName", VarKind::kString, "host the node ran on"},
    {"outputs.result", VarKind::kString, "standard output of a container, script or HTTP node"},
    {"outputs.parameters", VarKind::kJson, "for a loop, a JSON array of each iteration's output parameters"},
    {"outputs.parameters.*", VarKind::kString, "an output parameter; for a loop, a JSON array of each iteration's value"},
    {"outputs.artifacts.*", VarKind::kArtifact, "an output artifact"},
};

// strftime characters Argo formats workflow.creationTimestamp with (docs/variables.md).
const char kStrftimeChars[] = "aAbBcCdDeFgGhHIjklmMnprRsStTuUVwWxXyYzZ";

std::vector<VariableInfo> build() {
  std::vector<VariableInfo> v = {
      {"workflow.name", VarKind::kString, kWf, "workflow name"},
      {"workflow.namespace", VarKind::kString, kWf, "workflow namespace"},
      {"workflow.uid", VarKind::kString, kWf, "workflow UID"},
      {"workflow.serviceAccountName", VarKind::kString, kWf, "workflow service account name"},
      {"workflow.mainEntrypoint", VarKind::kString, kWf, "the workflow's initial entrypoint"},
      {"workflow.creationTimestamp", VarKind::kTime, kWf, "creation time (RFC 3339)"},
      {"workflow.creationTimestamp.RFC3339", VarKind::kTime, kWf, "creation time (RFC 3339)"},
      {"workflow.parameters", VarKind::kJson, kWf, "all workflow parameters as a JSON string (deprecated)"},
      {"workflow.parameters.json", VarKind::kJson, kWf, "all workflow parameters as a JSON string"},
      {"workflow.parameters.*", VarKind::kString, kWf, "a workflow parameter"},
      {"workflow.outputs.parameters.*", VarKind::kString, kWf, "a global output parameter"},
      {"workflow.outputs.artifacts.*", VarKind::kArtifact, kWf, "a global output artifact"},
      {"workflow.labels.json", VarKind::kJson, kWf, "all workflow labels as a JSON string"},
      {"workflow.labels.**", VarKind::kString, kWf, "a workflow label"},
      {"workflow.annotations.json", VarKind::kJson, kWf, "all workflow annotations as a JSON string"},
      {"workflow.annotations.**", VarKind::kString, kWf, "a workflow annotation"},
      {"workflow.priority", VarKind::kNumber, kWf, "workflow priority"},
      {"workflow.duration", VarKind::kNumber, kWf, "workflow duration so far, in seconds"},
      {"workflow.scheduledTime", VarKind::kTime, kWf, "scheduled run time of a CronWorkflow's run (RFC 3339)"},
      {"workflow.status", VarKind::kString, kWf | kScopeExitHandler,
       "workflow phase; Running while it runs, final (Succeeded, Failed or Error) in exit handlers"},
      {"workflow.failures", VarKind::kJson, kScopeExitHandler,
       "JSON list of failed nodes: displayName, message, templateName, phase, podName, finishedAt"},
      {"inputs.parameters", VarKind::kJson, kTpl, "all input parameters as a JSON string"},
      {"inputs.parameters.*", VarKind::kString, kTpl, "an input parameter"},
      {"inputs.artifacts.*", VarKind::kArtifact, kTpl, "an input artifact"},
      {"inputs.artifacts.*.path", VarKind::kString, kTpl, "local path of an input artifact"},
      {"outputs.parameters.*", VarKind::kString, kTpl | kScopeMetrics, "an output parameter of this template"},
      {"outputs.parameters.*.path", VarKind::kString, kTpl, "local path of an output parameter"},
      {"outputs.artifacts.*.path", VarKind::kString, kTpl, "local path of an output artifact"},
      {"outputs.result", VarKind::kString, kScopeMetrics, "standard output of this template"},
      {"pod.name", VarKind::kString, kTpl, "pod (process) name of the container or script"},
      {"node.name", VarKind::kString, kTpl, "full name of the node"},
      {"steps.name", VarKind::kString, kScopeSteps, "name of the step"},
      {"tasks.name", VarKind::kString, kScopeDag, "name of the task"},
      {"item", VarKind::kAny, kScopeLoop, "the current loop item"},
      {"item.**", VarKind::kAny, kScopeLoop, "a field of the current loop item (a map)"},
      {"retries", VarKind::kNumber, kScopeRetry | kScopeMetrics, "retry number of the node"},
      {"lastRetry.exitCode", VarKind::kNumber, kScopeRetry, "exit code of the last retry"},
      {"lastRetry.status", VarKind::kString, kScopeRetry, "phase of the last retry"},
      {"lastRetry.duration", VarKind::kNumber, kScopeRetry, "duration of the last retry in seconds"},
      {"lastRetry.message", VarKind::kString, kScopeRetry, "message of the last retry"},
      {"status", VarKind::kString, kScopeMetrics, "phase of the metric-emitting template"},
      {"duration", VarKind::kNumber, kScopeMetrics, "duration of the metric-emitting template in seconds"},
      {"exitCode", VarKind::kNumber, kScopeMetrics, "exit code of the metric-emitting template"},
      {"resourcesDuration.cpu", VarKind::kNumber, kScopeMetrics, "CPU resource duration in seconds"},
      {"resourcesDuration.memory", VarKind::kNumber, kScopeMetrics, "memory resource duration in seconds"},
      {"request.method", VarKind::kString, kScopeHttp, "HTTP request method"},
      {"request.url", VarKind::kString, kScopeHttp, "HTTP request URL"},
      {"request.body", VarKind::kString, kScopeHttp, "HTTP request body"},
      {"request.headers", VarKind::kJson, kScopeHttp, "HTTP request headers"},
      {"response.statusCode", VarKind::kNumber, kScopeHttp, "HTTP response status code"},
      {"response.body", VarKind::kString, kScopeHttp, "HTTP response body"},
      {"response.headers", VarKind::kJson, kScopeHttp, "HTTP response headers"},
      {"cronworkflow.name", VarKind::kString, kScopeCron, "name of the CronWorkflow"},
      {"cronworkflow.namespace", VarKind::kString, kScopeCron, "namespace of the CronWorkflow"},
      {"cronworkflow.labels.json", VarKind::kJson, kScopeCron, "CronWorkflow labels as a JSON string"},
      {"cronworkflow.labels.**", VarKind::kString, kScopeCron, "a CronWorkflow label"},
      {"cronworkflow.annotations.json", VarKind::kJson, kScopeCron, "CronWorkflow annotations as a JSON string"},
      {"cronworkflow.annotations.**", VarKind::kString, kScopeCron, "a CronWorkflow annotation"},
      {"cronworkflow.lastScheduledTime", VarKind::kTime, kScopeCron, "when a run was last scheduled; nil on the first run"},
      {"cronworkflow.failed", VarKind::kNumber, kScopeCron, "how many runs failed"},
      {"cronworkflow.succeeded", VarKind::kNumber, kScopeCron, "how many runs succeeded"},
  };
  for (const char* c = kStrftimeChars; *c; ++c) {
    v.push_back({std::string("workflow.creationTimestamp.") + *c, VarKind::kString, kWf,
                 std::string("creation time formatted with strftime %") + *c});
  }
  for (const auto& f : kNodeFields) {
    v.push_back({std::string("steps.*.") + f.suffix, f.kind, kScopeSteps, std::string("earlier step: ") + f.doc});
    v.push_back({std::string("tasks.*.") + f.suffix, f.kind, kScopeDag, std::string("dependency task: ") + f.doc});
  }
  return v;
}

size_t wildcard_count(std::string_view pattern) {
  size_t n = 0;
  for (char c : pattern) n += c == '*';
  return n;
}

}  // namespace

bool variable_pattern_matches(std::string_view pattern, std::string_view name) {
  std::vector<std::string> p = split(pattern, '.');
  std::vector<std::string> n = split(name, '.');
  for (size_t k = 0; k < p.size(); ++k) {
    if (p[k] == "**") return k == p.size() - 1 && n.size() > k && !n[k].empty();
    if (k >= n.size()) return false;
    if (p[k] == "*") {
      if (n[k].empty()) return false;
    } else if (p[k] != n[k]) {
      return false;
    }
  }
  return p.size() == n.size();
}

const std::vector<VariableInfo>& all_variables() {
  static const std::vector<VariableInfo> table = build();
  return table;
}

const VariableInfo* lookup_variable(std::string_view name) {
  const VariableInfo* best = nullptr;
  for (const auto& v : all_variables()) {
    if (!variable_pattern_matches(v.pattern, name)) continue;
    if (!best || wildcard_count(v.pattern) < wildcard_count(best->pattern)) best = &v;
  }
  return best;
}

}  // namespace tether::expr
