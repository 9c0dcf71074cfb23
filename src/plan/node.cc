#include "plan/node.h"

#include <cstdint>

namespace tether::plan {

bool phase_fulfilled(const std::string& p) {
  return p == phase::kSucceeded || p == phase::kFailed || p == phase::kError || p == phase::kSkipped ||
         p == phase::kOmitted;
}
bool phase_completed(const std::string& p) { return phase_fulfilled(p); }
bool fulfilled(const NodeStatus& n) { return phase_fulfilled(n.phase) || (n.daemoned && n.phase != phase::kPending); }
bool phase_failed_or_error(const std::string& p) { return p == phase::kFailed || p == phase::kError; }

namespace {
uint32_t fnv32a(const std::string& s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return h;
}

void put_time(Json& j, const char* key, const std::optional<WallTime>& t) {
  j[key] = t ? Json(format_rfc3339(*t)) : Json(nullptr);
}
std::optional<WallTime> get_time(const Json& j, const char* key) {
  if (!j.contains(key) || !j[key].is_string()) return std::nullopt;
  WallTime t;
  if (!parse_rfc3339(j[key].get<std::string>(), &t)) return std::nullopt;
  return t;
}
std::string get_str(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
std::vector<std::string> get_list(const Json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (auto& v : *it)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}
}  // namespace

Json to_json(const NodeStatus& n) {
  Json j = Json::object();
  j["id"] = n.id;
  j["name"] = n.name;
  j["displayName"] = n.display_name;
  j["type"] = n.type;
  if (!n.template_name.empty()) j["templateName"] = n.template_name;
  if (!n.template_ref.is_null()) j["templateRef"] = n.template_ref;
  if (!n.template_scope.empty()) j["templateScope"] = n.template_scope;
  j["phase"] = n.phase;
  if (!n.boundary_id.empty()) j["boundaryID"] = n.boundary_id;
  if (!n.message.empty()) j["message"] = n.message;
  put_time(j, "startedAt", n.started_at);
  put_time(j, "finishedAt", n.finished_at);
  if (!n.progress.empty()) j["progress"] = n.progress;
  if (!n.inputs.is_null()) j["inputs"] = n.inputs;
  if (!n.outputs.is_null()) j["outputs"] = n.outputs;
  if (!n.children.empty()) j["children"] = n.children;
  if (!n.outbound_nodes.empty()) j["outboundNodes"] = n.outbound_nodes;
  if (!n.host_node_name.empty()) j["hostNodeName"] = n.host_node_name;
  if (n.daemoned) j["daemoned"] = true;
  if (!n.pod_ip.empty()) j["podIP"] = n.pod_ip;
  if (!n.memoization_status_json.empty()) {
    auto m = parse_json(n.memoization_status_json);
    if (m.ok()) j["memoizationStatus"] = *m;
  }
  if (!n.node_flag.is_null()) j["nodeFlag"] = n.node_flag;
  if (!n.engine.is_null() || n.retries_attempt >= 0) {
    Json e = n.engine.is_null() ? Json::object() : n.engine;
    if (n.retries_attempt >= 0) e["attempt"] = n.retries_attempt;
    j["tether"] = e;
  }
  return j;
}

NodeStatus node_from_json(const Json& j) {
  NodeStatus n;
  n.id = get_str(j, "id");
  n.name = get_str(j, "name");
  n.display_name = get_str(j, "displayName");
  n.type = get_str(j, "type");
  n.template_name = get_str(j, "templateName");
  if (j.contains("templateRef")) n.template_ref = j["templateRef"];
  n.template_scope = get_str(j, "templateScope");
  n.phase = get_str(j, "phase");
  n.boundary_id = get_str(j, "boundaryID");
  n.message = get_str(j, "message");
  n.started_at = get_time(j, "startedAt");
  n.finished_at = get_time(j, "finishedAt");
  n.progress = get_str(j, "progress");
  if (j.contains("inputs")) n.inputs = j["inputs"];
  if (j.contains("outputs")) n.outputs = j["outputs"];
  n.children = get_list(j, "children");
  n.outbound_nodes = get_list(j, "outboundNodes");
  n.host_node_name = get_str(j, "hostNodeName");
  n.daemoned = j.contains("daemoned") && j["daemoned"].is_boolean() && j["daemoned"].get<bool>();
  n.pod_ip = get_str(j, "podIP");
  if (j.contains("memoizationStatus")) n.memoization_status_json = j["memoizationStatus"].dump();
  if (j.contains("nodeFlag")) n.node_flag = j["nodeFlag"];
  if (j.contains("tether")) {
    n.engine = j["tether"];
    if (n.engine.contains("attempt") && n.engine["attempt"].is_number_integer()) {
      n.retries_attempt = n.engine["attempt"].get<int>();
      n.engine.erase("attempt");
      if (n.engine.empty()) n.engine = nullptr;
    }
  }
  return n;
}

std::string node_id(const std::string& workflow_name, const std::string& node_name) {
  if (node_name == workflow_name) return workflow_name;
  // FNV-1a 32-bit, as Go's hash/fnv New32a used by Argo.
  return workflow_name + "-" + std::to_string(fnv32a(node_name));
}


std::string pod_name(const std::string& workflow_name, const std::string& node_name,
                     const std::string& template_name) {
  if (workflow_name == node_name) return workflow_name;
  std::string prefix = workflow_name;
  if (!template_name.empty()) prefix += "-" + template_name;
  // Kubernetes names are at most 253 characters; the hash takes up to 10 of them.
  if (prefix.size() > 253 - 10 - 1) prefix.resize(253 - 10 - 1);
  return prefix + "-" + std::to_string(fnv32a(node_name));
}
}  // namespace tether::plan
