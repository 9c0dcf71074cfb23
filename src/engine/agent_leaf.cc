// http and data leaves: a normal step whose command is `tether __http-step SPEC` or
// `tether __data-step SPEC`, the spec being the processed template. Argo runs these in an
// agent pod or an executor; as a step they get the runner's supervision, logs, deadlines and
// re-adoption after a crash for free.
#include "engine/agent_leaf.h"

#include "engine/engine.h"

namespace tether::engine {

namespace {

bool is_http(const Json& tmpl) { return json_at(tmpl, "http").is_object(); }
bool is_data(const Json& tmpl) { return json_at(tmpl, "data").is_object(); }

// A header value from a Secret reaches the step through its environment, which is kept out
// of the store (ActiveRun::start_env); the spec, which is stored, only names the variable.
Result<Json> http_spec(Store& store, const std::string& ns, Json http, StepInvocation& inv) {
  Json& headers = http["headers"];
  if (!headers.is_array()) return http;
  for (size_t i = 0; i < headers.size(); ++i) {
    Json& h = headers[i];
    const Json& ref = json_at(json_at(h, "valueFrom"), "secretKeyRef");
    if (!ref.is_object()) continue;
    auto value = lookup_config_key(store, ns, true, ref);
    if (!value.ok())
      return Error(value.error().code, "http.headers[" + std::to_string(i) + "] " + json_str(h, "name") + ": " +
                                           value.error().message);
    std::string var = "TETHER_HTTP_HEADER_" + std::to_string(i);
    inv.env.emplace_back(var, value->value_or(""));
    h.erase("valueFrom");
    h["valueFromEnv"] = var;
  }
  return http;
}

// source.artifactPaths lists an artifact of the template's inputs (named alike): the
// engine stages it at its path like any input artifact, and the step lists that path.
// Argo lists a bucket's keys; tether's repository is not addressed by location in YAML.
Result<std::string> data_source_path(const Json& tmpl) {
  const Json& paths = json_at(json_at(json_at(tmpl, "data"), "source"), "artifactPaths");
  if (!paths.is_object()) return invalid("data.source: no valid source is used for data template");
  if (json_at(paths, "raw").is_object())
    return invalid("data.source.artifactPaths: ListObjects is currently not supported for this artifact type");
  for (auto it = paths.begin(); it != paths.end(); ++it)
    if (it->is_object() && it.key() != "archive")
      return invalid("data.source.artifactPaths: artifact location " + it.key() + " is not supported by tether");
  std::string name = json_str(paths, "name");
  const Json& inputs = json_at(json_at(tmpl, "inputs"), "artifacts");
  if (inputs.is_array())
    for (const auto& a : inputs)
      if (json_str(a, "name") == name && !json_str(a, "path").empty()) return json_str(a, "path");
  return invalid("data.source.artifactPaths: the template has no input artifact '" + name +
                 "' with a path to list (tether lists an input artifact of the same name)");
}

}  // namespace

std::optional<std::string> agent_message_path(const plan::NodeStatus& node) {
  const Json& tmpl = plan::Planner::leaf_template(node);
  if (!is_http(tmpl) && !is_data(tmpl)) return std::nullopt;
  return "/tmp/.tether-message-" + node.id;
}

Status Engine::make_agent_step(ActiveRun& run, const plan::NodeStatus& node, StepInvocation& inv) {
  auto message = agent_message_path(node);
  if (!message) return ok_status();
  if (options_.self_exe.empty())
    return Error(ErrorCode::kUnavailable, "this engine cannot run http and data templates: it does not know the tether binary");
  const Json& tmpl = plan::Planner::leaf_template(node);
  Json spec = {{"messageFile", *message}};
  if (is_http(tmpl)) {
    spec["http"] = TRY(http_spec(store_, run.record.namespace_, tmpl["http"], inv));
    inv.command = {options_.self_exe, "__http-step"};
  } else {
    spec["data"] = tmpl["data"];
    spec["sourcePath"] = TRY(data_source_path(tmpl));
    inv.command = {options_.self_exe, "__data-step"};
  }
  // The runner appends the script's path, as for a script template.
  inv.script = spec.dump();
  inv.output_paths.push_back(*message);
  inv.output_files.push_back(*message);
  return ok_status();
}

}  // namespace tether::engine
