// One walk of a run: the workflow level, template execution, retries and leaves.
#include <algorithm>
#include <cmath>
#include <ctime>

#include "base/strings.h"
#include "expr/expr_lang.h"
#include "expr/template.h"
#include "plan/walk.h"

namespace tether::plan {

NodeStatus* RunState::by_name(const std::string& run_name, const std::string& node_name) {
  auto it = nodes.find(node_id(run_name, node_name));
  return it == nodes.end() ? nullptr : &it->second;
}

const NodeStatus* RunState::get(const std::string& id) const {
  auto it = nodes.find(id);
  return it == nodes.end() ? nullptr : &it->second;
}

std::string artifact_key(const std::string& workflow_name, const std::string& pod_name,
                         const std::string& artifact_name, bool archived) {
  return workflow_name + "/" + pod_name + "/" + artifact_name + (archived ? ".tgz" : "");
}

Planner::Planner(RunSpec spec, RunState& state) : spec_(std::move(spec)), state_(state) {
  for (const auto& [id, n] : state_.nodes) {
    has_containers_ = has_containers_ || n.type == node_type::kContainer;
    has_daemons_ = has_daemons_ || n.daemoned;
  }
}
Planner::~Planner() = default;

const Json& Planner::leaf_template(const NodeStatus& n) {
  static const Json kNull;
  if (!n.engine.is_object()) return kNull;
  auto it = n.engine.find("template");
  return it == n.engine.end() ? kNull : *it;
}

namespace {

// Argo's transient errors (util/errors): failures of the platform, not of the step, that
// retryPolicy OnTransientError retries.
bool is_transient_error(const std::string& message) {
  static const char* const kTransient[] = {
      "connection reset by peer", "connection refused", "i/o timeout", "net/http: TLS handshake timeout",
      "the object has been modified", "exceeded quota", "etcdserver: leader changed", "http2: client connection lost",
      "unexpected EOF", "no such host", "Client.Timeout exceeded", "lost"};
  for (const char* t : kTransient)
    if (message.find(t) != std::string::npos) return true;
  return false;
}

int int_of(const Json& v, int fallback) {
  if (v.is_number_integer()) return v.get<int>();
  if (!v.is_string()) return fallback;
  const std::string s = v.get<std::string>();
  char* end = nullptr;
  long x = std::strtol(s.c_str(), &end, 10);
  return !s.empty() && end && *end == '\0' ? static_cast<int>(x) : fallback;
}

// Argo merges a WorkflowTemplate referenced by spec.workflowTemplateRef under the
// workflow's own spec: the workflow's fields win, arguments are merged by name.
Json merge_arguments(const Json& base, const Json& over) {
  Json out = base.is_object() ? base : Json::object();
  for (const char* kind : {"parameters", "artifacts"}) {
    const Json& o = jget(over, kind);
    if (!o.is_array()) continue;
    Json list = jget(out, kind).is_array() ? out[kind] : Json::array();
    for (const auto& item : o) {
      auto it = std::find_if(list.begin(), list.end(),
                             [&](const Json& x) { return jstr(x, "name") == jstr(item, "name"); });
      if (it != list.end()) *it = item;
      else list.push_back(item);
    }
    out[kind] = list;
  }
  return out;
}

std::string strftime_utc(const char* fmt, WallTime t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, fmt, &tm);
  return std::string(buf, n);
}

// Argo's strftime subset for workflow.creationTimestamp.<c>.
void add_creation_timestamp(Vars& v, WallTime t) {
  std::string base = "workflow.creationTimestamp";
  v[base] = format_rfc3339(t);
  v[base + ".RFC3339"] = format_rfc3339(t);
  v[base + ".s"] = std::to_string(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
  for (char c : std::string("BbmAadHIMSYyp")) v[base + "." + c] = strftime_utc((std::string("%") + c).c_str(), t);
  v[base + ".Z"] = "UTC";
  v[base + ".z"] = "+0000";
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  v[base + ".L"] = fmt::format(".{:03d}", ms);
}

const std::map<std::string, std::string>& workflow_phase_of_node() {
  static const std::map<std::string, std::string> m = {
      {phase::kPending, "Pending"},      {phase::kRunning, "Running"},   {phase::kSucceeded, "Succeeded"},
      {phase::kSkipped, "Succeeded"},    {phase::kFailed, "Failed"},     {phase::kError, "Error"},
      {phase::kOmitted, "Succeeded"},
  };
  return m;
}

}  // namespace

namespace {

bool mentions_result(const Json& j) {
  if (j.is_string()) {
    const std::string& t = j.get_ref<const std::string&>();
    return t.find("outputs.result") != std::string::npos || t.find("outputs['result']") != std::string::npos ||
           t.find("outputs[\"result\"]") != std::string::npos;
  }
  if (j.is_object() || j.is_array())
    for (const auto& v : j)
      if (mentions_result(v)) return true;
  return false;
}

}  // namespace

const Json& Planner::exec_spec() const {
  if (merged_spec_) return *merged_spec_;
  static const Json kEmpty = Json::object();
  const Json& own = jget(spec_.workflow, "spec");
  return own.is_object() ? own : kEmpty;
}

Status Planner::prepare() {
  merged_spec_.reset();
  const Json& ref = jget(exec_spec(), "workflowTemplateRef");
  const bool from_template = ref.is_object();
  if (from_template) {
    if (!spec_.templates) return not_found("workflowTemplateRef: no template store to resolve it");
    bool cluster = jget(ref, "clusterScope").is_boolean() && ref["clusterScope"].get<bool>();
    Json obj = TRY(spec_.templates(cluster, jstr(ref, "name")));
    Json merged = jget(obj, "spec").is_object() ? obj["spec"] : Json::object();
    const Json& own = exec_spec();
    for (auto it = own.begin(); it != own.end(); ++it) {
      if (it.key() == "workflowTemplateRef") continue;
      if (it.key() == "arguments") merged["arguments"] = merge_arguments(jget(merged, "arguments"), it.value());
      else merged[it.key()] = it.value();
    }
    merged_spec_ = std::move(merged);
  }
  if (!spec_.entrypoint.empty()) {
    if (!merged_spec_) merged_spec_ = exec_spec();
    (*merged_spec_)["entrypoint"] = spec_.entrypoint;
  }
  // Argo captures a step's stdout as outputs.result only when something reads it. Its
  // strings are looked through in place: a DAG of a thousand tasks is a large document to
  // write out as text twice. (Without a template reference the effective spec is the workflow's.)
  capture_result_ = mentions_result(spec_.workflow) || (from_template && mentions_result(exec_spec()));
  return ok_status();
}

Result<Turn> Planner::advance(WallTime now) {
  prepare_if_needed();
  Walk w(*this, now);
  return w.run();
}

void Planner::start_leaf(const std::string& id, WallTime at) {
  auto it = state_.nodes.find(id);
  if (it == state_.nodes.end()) return;
  NodeStatus& n = it->second;
  n.phase = phase::kRunning;
  if (!n.started_at) n.started_at = at;
  state_.changed.insert(id);
  // Every container of a containerSet runs (or waits for its dependencies) with the pod.
  if (has_containers_)
    for (auto& [cid, c] : state_.nodes)
      if (c.type == node_type::kContainer && c.boundary_id == id && c.phase == phase::kPending) {
        c.phase = phase::kRunning;
        c.started_at = at;
        state_.changed.insert(cid);
      }
}

void Planner::daemon_ready(const std::string& id) {
  auto it = state_.nodes.find(id);
  if (it == state_.nodes.end() || phase_fulfilled(it->second.phase)) return;
  NodeStatus& n = it->second;
  n.phase = phase::kRunning;
  n.daemoned = true;
  has_daemons_ = true;
  n.pod_ip = "127.0.0.1";  // host processes share the host's network
  state_.changed.insert(id);
}

std::vector<std::string> Planner::daemons_to_stop() const {
  std::vector<std::string> out;
  if (!has_daemons_) return out;
  const NodeStatus* root = state_.get(node_id(spec_.name, spec_.name));
  bool run_over = root && fulfilled(*root);
  for (const auto& [id, n] : state_.nodes) {
    if (!n.daemoned || phase_fulfilled(n.phase) || !node_type::is_leaf(n.type)) continue;
    const NodeStatus* scope = n.boundary_id.empty() ? nullptr : state_.get(n.boundary_id);
    if (run_over || (scope && phase_fulfilled(scope->phase))) out.push_back(id);
  }
  return out;
}

void Planner::shutdown(const std::string& strategy) {
  shutdown_ = strategy;
}

// ---------------------------------------------------------------------------------------------

// The variables that stay the same for the whole life of a planner: computed on its first
// walk, not on every one (a 1,000-step run walks a thousand times).
Vars Planner::Walk::base_globals(const Planner& p) {
  Vars g;
  const RunSpec& s = p.spec_;
  const Json& meta = jget(s.workflow, "metadata");
  const Json& spec = p.exec_spec();
  g["workflow.name"] = s.name;
  g["workflow.namespace"] = s.namespace_;
  g["workflow.uid"] = s.uid;
  g["workflow.mainEntrypoint"] = jstr(spec, "entrypoint");
  g["workflow.serviceAccountName"] = jstr(spec, "serviceAccountName");
  if (jget(spec, "priority").is_number_integer()) g["workflow.priority"] = std::to_string(spec["priority"].get<int>());
  add_creation_timestamp(g, s.created_at);
  // A CronWorkflow's run carries its scheduled time as an annotation, as in Argo.
  const Json& scheduled = jget(jget(meta, "annotations"), "workflows.argoproj.io/scheduled-time");
  if (scheduled.is_string()) g["workflow.scheduledTime"] = scheduled.get<std::string>();
  const Json& params = jget(jget(spec, "arguments"), "parameters");
  Json plist = params.is_array() ? params : Json::array();
  g["workflow.parameters"] = to_go_json(plist);
  g["workflow.parameters.json"] = to_go_json(plist);
  for (const auto& prm : plist) {
    std::string key = "workflow.parameters." + jstr(prm, "name");
    if (prm.contains("value")) {
      g[key] = value_text(prm["value"]);
    } else if (jget(jget(prm, "valueFrom"), "configMapKeyRef").is_object()) {
      auto v = config_map_value(prm, s.config_maps);
      if (v.ok()) g[key] = *v;
    } else if (jget(prm, "valueFrom").contains("default")) {
      g[key] = value_text(prm["valueFrom"]["default"]);
    }
  }
  for (const char* kind : {"labels", "annotations"}) {
    const Json& m = jget(meta, kind);
    Json obj = m.is_object() ? m : Json::object();
    g[std::string("workflow.") + kind] = to_go_json(obj);
    g[std::string("workflow.") + kind + ".json"] = to_go_json(obj);
    for (auto it = obj.begin(); it != obj.end(); ++it)
      g[std::string("workflow.") + kind + "." + it.key()] = value_text(it.value());
  }
  return g;
}

Planner::Walk::Walk(Planner& p, WallTime now) : p_(p), now_(now) {
  if (!p.base_globals_) p.base_globals_ = base_globals(p);
  globals_ = *p.base_globals_;
  const Json& gparams = jget(p.state_.outputs, "parameters");
  if (gparams.is_array())
    for (const auto& prm : gparams)
      if (prm.contains("value")) globals_["workflow.outputs.parameters." + jstr(prm, "name")] = value_text(prm["value"]);
  WallTime start = p.state_.started_at.value_or(now);
  double secs = std::chrono::duration<double>(now - start).count();
  globals_["workflow.duration"] = fmt::format("{:.6f}", secs);
  globals_["workflow.status"] = p.state_.phase.empty() ? std::string("Running") : p.state_.phase;
}

Result<Turn> Planner::Walk::run() {
  RunState& st = p_.state_;
  const std::string& wf = p_.spec_.name;
  if (st.phase == "Succeeded" || st.phase == "Failed" || st.phase == "Error") {
    turn_.finished = true;
    return turn_;
  }
  auto finish = [&](const std::string& phase, const std::string& message) {
    st.phase = phase;
    st.message = message;
    st.finished_at = now_;
    st.run_changed = true;
    turn_.finished = true;
  };
  if (st.phase.empty() || st.phase == "Pending") {
    st.phase = "Running";
    if (!st.started_at) st.started_at = now_;
    st.run_changed = true;
  }
  if (!p_.prepare_status_.ok()) {
    finish("Error", p_.prepare_status_.error().str());
    return turn_;
  }
  if (auto secs = int_of(jget(p_.exec_spec(), "activeDeadlineSeconds"), 0); secs > 0 && st.started_at) {
    WallTime deadline = *st.started_at + std::chrono::seconds(secs);
    if (now_ >= deadline) p_.deadline_exceeded_ = true;
    else if (!turn_.wake_at || deadline < *turn_.wake_at) turn_.wake_at = deadline;
  }

  // A containerSet pod that ended without running (a shutdown, a deadline) takes its
  // Container nodes with it.
  if (p_.has_containers_)
    for (const auto& [id, c] : st.nodes)
      if (c.type == node_type::kContainer && !phase_fulfilled(c.phase))
        if (const NodeStatus* pod = st.get(c.boundary_id); pod && phase_fulfilled(pod->phase))
          settle_containers(st, *pod, {});

  TmplCtx ctx{&p_.exec_spec(), "local/" + wf};
  Json holder = {{"template", jstr(p_.exec_spec(), "entrypoint")}};
  Exec root = execute_template(wf, holder, jget(p_.exec_spec(), "arguments"), ctx, {});
  if (!root.error.empty()) {
    finish("Error", "error in entry template execution: " + root.error);
    return turn_;
  }
  bool hooks_done = true;
  Exec hooked = run_hooks(jget(p_.exec_spec(), "hooks"), wf, "", ctx, {}, &hooks_done);
  if (!hooked.error.empty() && root.node) mark(wf, phase::kError, hooked.error);
  if (!hooks_done) return turn_;
  if (!root.node || !phase_fulfilled(root.node->phase)) return turn_;
  if (p_.shutdown_ == "Terminate") {
    // Terminate skips exit handlers; the message is Argo's.
    finish("Failed", "Stopped with strategy 'Terminate'");
    return turn_;
  }

  std::string wf_status = workflow_phase_of_node().at(root.node->phase);
  globals_["workflow.status"] = wf_status;
  Json failures = Json::array();
  for (const auto& [id, n] : st.nodes) {
    if (!phase_failed_or_error(n.phase)) continue;
    failures.push_back({{"displayName", n.display_name},
                        {"message", n.message},
                        {"templateName", n.template_name},
                        {"phase", n.phase},
                        {"podName", pod_name(wf, n.name, n.template_name)},
                        {"finishedAt", n.finished_at ? Json(format_rfc3339(*n.finished_at)) : Json(nullptr)}});
  }
  // Argo quotes the list once more so that its quotes survive its JSON-level substitution;
  // substituting per string, we insert that quoted form as is.
  globals_["workflow.failures"] = to_go_json(Json(to_go_json(failures)));

  NodeStatus* exit_node = nullptr;
  const Json& hooks = jget(p_.exec_spec(), "hooks");
  Json exit_hook;
  if (jget(hooks, "exit").is_object()) exit_hook = hooks["exit"];
  else if (!jstr(p_.exec_spec(), "onExit").empty()) exit_hook = {{"template", p_.exec_spec()["onExit"]}};
  if (exit_hook.is_object()) {
    Json h = Json::object();
    if (exit_hook.contains("template")) h["template"] = exit_hook["template"];
    if (exit_hook.contains("templateRef")) h["templateRef"] = exit_hook["templateRef"];
    Json args = jget(exit_hook, "arguments");
    if (args.is_object()) {
      auto subst = substitute_json(args, globals_);
      if (!subst.ok()) {
        finish("Error", "error in exit template execution : " + subst.error().message);
        return turn_;
      }
    }
    Exec e = execute_template(wf + ".onExit", h, args, ctx, {"", true, true, "", 0});
    if (!e.error.empty()) {
      finish("Error", "error in exit template execution : " + e.error);
      return turn_;
    }
    if (!e.node || !phase_fulfilled(e.node->phase)) return turn_;
    exit_node = e.node;
  }

  // The run ends once its daemons, stopped now that their scopes ended, are gone: a run
  // recorded as finished is never adopted again, and its daemons would be left running.
  for (const auto& [id, n] : st.nodes)
    if (n.daemoned && node_type::is_leaf(n.type) && !phase_fulfilled(n.phase)) return turn_;

  std::string message = root.node->message;
  if (phase_failed_or_error(root.node->phase) && !p_.shutdown_.empty())
    message = "Stopped with strategy '" + p_.shutdown_ + "'";
  if (wf_status == "Succeeded") {
    if (exit_node && phase_failed_or_error(exit_node->phase))
      finish(exit_node->phase == phase::kFailed ? "Failed" : "Error", exit_node->message);
    else
      finish("Succeeded", "");
  } else {
    finish(wf_status, message);
  }
  return turn_;
}

// ---------------------------------------------------------------------------------------------
// Nodes.

std::string display_name(const std::string& name, const std::string& boundary_name) {
  if (boundary_name.empty() || !starts_with(name, boundary_name)) return name;
  std::string d = name.substr(boundary_name.size());
  // Argo strips a leading "[N]." or "." (stepsOrDagSeparator).
  size_t i = 0;
  if (i < d.size() && d[i] == '[') {
    size_t j = i + 1;
    while (j < d.size() && isdigit(static_cast<unsigned char>(d[j]))) ++j;
    if (j > i + 1 && j < d.size() && d[j] == ']') i = j + 1;
  }
  if (i < d.size() && d[i] == '.') return d.substr(i + 1);
  return d;
}

NodeStatus& Planner::Walk::init_node(const std::string& name, const char* type, const Json& holder,
                                     const std::string& scope, const std::string& boundary,
                                     const std::string& ph, const std::string& message) {
  NodeStatus n;
  n.id = id_of(name);
  n.name = name;
  n.type = type;
  n.template_name = jstr(holder, "template");
  if (jget(holder, "templateRef").is_object()) n.template_ref = holder["templateRef"];
  n.template_scope = scope;
  n.boundary_id = boundary;
  n.phase = ph;
  n.message = message;
  n.started_at = now_;
  const NodeStatus* b = boundary.empty() ? nullptr : get(boundary);
  n.display_name = b ? display_name(name, b->name) : name;
  if (phase_fulfilled(ph)) n.finished_at = now_;
  auto& slot = p_.state_.nodes[n.id];
  slot = std::move(n);
  touch(slot);
  return slot;
}

NodeStatus* Planner::Walk::mark(const std::string& name, const std::string& ph, std::optional<std::string> message) {
  NodeStatus* n = node(name);
  if (!n) return nullptr;
  if (n->phase != ph) {
    n->phase = ph;
    touch(*n);
  }
  if (message && *message != n->message) {
    n->message = *message;
    touch(*n);
  }
  if (phase_fulfilled(n->phase) && !n->finished_at) {
    n->finished_at = now_;
    touch(*n);
  }
  return n;
}

void Planner::Walk::add_child(const std::string& parent, const std::string& child) {
  if (NodeStatus* p = node(parent)) add_child_id(*p, id_of(child));
}

void Planner::Walk::add_child_id(NodeStatus& parent, const std::string& child_id, bool child_is_new) {
  // IDs of one run share their prefix and differ in their last characters: compared from the
  // end, a node with a hundred children is checked in a hundred short comparisons.
  auto same = [&](const std::string& c) {
    return c.size() == child_id.size() && std::equal(c.rbegin(), c.rend(), child_id.rbegin());
  };
  if (!child_is_new && std::any_of(parent.children.begin(), parent.children.end(), same)) return;
  parent.children.push_back(child_id);
  touch(parent);
}

void Planner::Walk::each_outbound(const std::string& id, const std::function<void(const std::string&)>& f) const {
  const NodeStatus* n = get(id);
  if (!n) return;
  // Argo: the pod of a containerSet is left through its last containers, the Container nodes
  // nothing in the pod depends on.
  if ((node_type::is_leaf(n->type) || n->type == node_type::kContainer) && !n->children.empty()) {
    const NodeStatus* first = get(n->children.front());
    if (first && first->type == node_type::kContainer &&
        (n->type != node_type::kContainer || first->boundary_id == n->boundary_id)) {
      for (const auto& c : n->children) each_outbound(c, f);
      return;
    }
  }
  if (node_type::is_leaf(n->type) || n->type == node_type::kContainer || n->type == node_type::kSkipped ||
      n->type == node_type::kSuspend)
    return f(id);
  if (n->type == node_type::kTaskGroup) {
    if (n->children.empty()) return f(id);
    for (const auto& c : n->children) each_outbound(c, f);
    return;
  }
  if (n->type == node_type::kRetry) return f(n->children.empty() ? id : n->children.back());
  // Steps and DAG nodes: their recorded outbound nodes, else themselves.
  if (n->outbound_nodes.empty()) return f(id);
  for (const auto& o : n->outbound_nodes) f(o);
}

std::vector<std::string> Planner::Walk::outbound_nodes(const std::string& id) const {
  std::vector<std::string> out;
  each_outbound(id, [&](const std::string& o) { out.push_back(o); });
  return out;
}

bool Planner::Walk::children_fulfilled(const NodeStatus& n) const {
  for (const auto& c : n.children) {
    const NodeStatus* ch = get(c);
    if (!ch || !fulfilled(*ch)) return false;
  }
  return true;
}

std::vector<const NodeStatus*> Planner::Walk::loop_children(const std::string& boundary, const std::string& name,
                                                           bool without_skipped) const {
  std::vector<const NodeStatus*> out;
  for (const auto& [id, c] : p_.state_.nodes)
    if (c.boundary_id == boundary && starts_with(c.name, name + "(") &&
        !(without_skipped && c.type == node_type::kSkipped))
      out.push_back(&c);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Templates.

namespace {

// Argo's templateDefaults: the template's own values win; objects merge key by key.
void merge_defaults(const Json& defaults, Json& tmpl) {
  if (!defaults.is_object()) return;
  for (auto it = defaults.begin(); it != defaults.end(); ++it) {
    auto t = tmpl.find(it.key());
    if (t == tmpl.end() || t->is_null()) tmpl[it.key()] = it.value();
    else if (t->is_object() && it.value().is_object()) merge_defaults(it.value(), *t);
  }
}

const char* kind_of(const Json& tmpl) {
  static const char* kinds[] = {"container", "script", "steps", "dag", "suspend", "resource",
                                "http", "data", "plugin", "containerSet"};
  for (const char* k : kinds)
    if (tmpl.contains(k) && !tmpl[k].is_null()) return k;
  return "";
}

bool is_pod_kind(const std::string& k) {
  return k == "container" || k == "script" || k == "data" || k == "containerSet";
}
// An http template runs as a step too, but Argo gives it a node of its own type and no pod.
bool is_leaf_kind(const std::string& k) { return is_pod_kind(k) || k == "http"; }

const Json* find_template(const Json* spec, const std::string& name) {
  if (!spec) return nullptr;
  const Json& list = jget(*spec, "templates");
  if (!list.is_array()) return nullptr;
  for (const auto& t : list)
    if (jstr(t, "name") == name) return &t;
  return nullptr;
}

const Json* find_param(const Json& list, const std::string& name) {
  if (!list.is_array()) return nullptr;
  for (const auto& p : list)
    if (jstr(p, "name") == name) return &p;
  return nullptr;
}

// Argo's ProcessArgs: input parameters take their argument, else their default; an
// argument that purely referenced an absent optional counts as not supplied.
Result<Json> process_inputs(Json tmpl, const Json& args, const Vars& globals, const ConfigMapSource& cms) {
  Json& inputs = tmpl["inputs"];
  if (!inputs.is_object()) inputs = Json::object();
  Json& params = inputs["parameters"];
  if (params.is_array()) {
    for (auto& p : params) {
      std::string name = jstr(p, "name");
      // Values written in the template itself may use globals.
      for (const char* key : {"value", "default"})
        if (p.contains(key) && p[key].is_string()) p[key] = TRY(substitute_str(p[key].get<std::string>(), globals));
      if (!p.contains("value") && p.contains("default")) p["value"] = p["default"];
      const Json* arg = find_param(jget(args, "parameters"), name);
      if (arg && arg->contains("value")) {
        if (value_text((*arg)["value"]) == kAbsentOptional) {
          if (!p.contains("value") && !p.contains("valueFrom"))
            return invalid("inputs.parameters." + name +
                           ": argument references an absent optional (skipped/omitted node output with no default)");
        } else {
          p["value"] = (*arg)["value"];
        }
      } else if (arg && arg->contains("valueFrom")) {
        p["valueFrom"] = (*arg)["valueFrom"];
      }
      if (!p.contains("value") && jget(jget(p, "valueFrom"), "configMapKeyRef").is_object())
        p["value"] = TRY(config_map_value(p, cms));
      if (!p.contains("value")) return invalid("inputs.parameters." + name + " was not supplied");
      if (!p["value"].is_string()) p["value"] = value_text(p["value"]);
      const Json& en = jget(p, "enum");
      if (en.is_array() && !en.empty()) {
        bool found = false;
        std::vector<std::string> allowed;
        for (const auto& e : en) {
          allowed.push_back(value_text(e));
          if (value_text(e) == p["value"].get<std::string>()) found = true;
        }
        if (!found)
          return invalid("value '" + p["value"].get<std::string>() + "' is not valid for parameter '" + name +
                         "': enum values are " + join(allowed, ", "));
      }
    }
  }
  Json& arts = inputs["artifacts"];
  if (arts.is_array()) {
    for (auto& a : arts) {
      std::string name = jstr(a, "name");
      const Json* arg = find_param(jget(args, "artifacts"), name);
      bool has_location = a.contains("raw") || a.contains("local") || a.contains("s3") || a.contains("http") ||
                          a.contains("git") || a.contains("gcs") || a.contains("artifactory") || a.contains("oss") ||
                          a.contains("hdfs") || a.contains("azure");
      bool optional = jget(a, "optional").is_boolean() && a["optional"].get<bool>();
      if (!arg) {
        if (!optional && !has_location) return invalid("inputs.artifacts." + name + " was not supplied");
        continue;
      }
      Json merged = *arg;
      if (a.contains("path")) merged["path"] = a["path"];
      if (a.contains("mode")) merged["mode"] = a["mode"];
      if (optional) merged["optional"] = true;
      a = merged;
    }
  }
  return tmpl;
}

}  // namespace

Result<std::pair<Json, TmplCtx>> Planner::Walk::resolve_template(const Json& holder, const TmplCtx& ctx) {
  if (jget(holder, "inline").is_object()) return std::make_pair(holder["inline"], ctx);
  const Json& ref = jget(holder, "templateRef");
  if (ref.is_object()) {
    std::string name = jstr(ref, "name");
    bool cluster = jget(ref, "clusterScope").is_boolean() && ref["clusterScope"].get<bool>();
    std::string key = (cluster ? "cluster/" : "namespaced/") + name;
    auto& cache = p_.ref_cache_;
    auto it = cache.find(key);
    if (it == cache.end()) {
      if (!p_.spec_.templates) return not_found("workflow template '" + name + "' not found");
      auto obj = p_.spec_.templates(cluster, name);
      if (!obj.ok()) return obj.take_error();
      Json spec = jget(*obj, "spec");
      it = cache.emplace(key, spec).first;
    }
    TmplCtx nctx{&it->second, key};
    std::string tname = jstr(ref, "template");
    const Json* t = find_template(nctx.spec, tname);
    if (!t) return not_found("template " + tname + " not found in workflow template " + name);
    return std::make_pair(*t, nctx);
  }
  std::string tname = jstr(holder, "template");
  const Json* t = find_template(ctx.spec, tname);
  if (!t) return not_found("template " + tname + " not found");
  return std::make_pair(*t, ctx);
}

Exec Planner::Walk::execute_template(const std::string& name, const Json& holder, const Json& args,
                                     const TmplCtx& ctx, const ExecOpts& opts) {
  NodeStatus* existing = node(name);
  if (existing && phase_fulfilled(existing->phase)) return {existing, ""};
  if (existing && node_type::is_leaf(existing->type)) return existing_pod(*existing, opts);
  if (existing && (existing->type == node_type::kSteps || existing->type == node_type::kDag)) {
    auto cached = p_.processed_.find(name);
    if (cached != p_.processed_.end()) return execute_body(name, cached->second, holder, opts);
  }
  if (!existing && opts.parallel_limit > 0 && active_children(opts.boundary_id) >= opts.parallel_limit)
    return {};  // the boundary's parallelism is reached: created on a later turn

  auto error_node = [&](const std::string& msg) -> Exec {
    NodeStatus* n = node(name);
    if (n) {
      mark(name, phase::kError, msg);
    } else {
      n = &init_node(name, node_type::kSkipped, holder, ctx.scope, opts.boundary_id, phase::kError, msg);
    }
    return {n, msg};
  };

  auto resolved = resolve_template(holder, ctx);
  if (!resolved.ok()) return error_node(resolved.error().message);
  auto [tmpl, tctx] = std::move(*resolved);
  const Json& defaults = jget(p_.exec_spec(), "templateDefaults");
  merge_defaults(defaults, tmpl);
  std::string kind = kind_of(tmpl);
  std::string tname = jstr(tmpl, "name");

  Json retry = jget(tmpl, "retryStrategy");
  if (!retry.is_object() && is_pod_kind(kind)) retry = jget(p_.exec_spec(), "retryStrategy");

  Vars locals = globals_;
  locals["node.name"] = name;
  if (!jstr(holder, "name").empty()) {
    // Steps and tasks both carry a name; Argo exposes it as steps.name or tasks.name.
    locals["steps.name"] = holder["name"];
    locals["tasks.name"] = holder["name"];
  }
  if (is_pod_kind(kind) && !retry.is_object()) locals["pod.name"] = pod_name(p_.spec_.name, name, tname);

  auto processed = process_inputs(std::move(tmpl), args, globals_, p_.spec_.config_maps);
  if (!processed.ok()) return error_node(processed.error().message);
  Json ptmpl = std::move(*processed);

  // {{inputs.*}} and {{outputs.*.path}} of this template, then one substitution pass.
  auto add_template_vars = [](const Json& t, Vars& v) {
    const Json& params = jget(jget(t, "inputs"), "parameters");
    if (params.is_array()) {
      for (const auto& p : params)
        if (p.contains("value")) v["inputs.parameters." + jstr(p, "name")] = value_text(p["value"]);
      v["inputs.parameters"] = to_go_json(params);
    }
    const Json& arts = jget(jget(t, "inputs"), "artifacts");
    if (arts.is_array())
      for (const auto& a : arts)
        if (!jstr(a, "path").empty()) v["inputs.artifacts." + jstr(a, "name") + ".path"] = a["path"];
    const Json& oarts = jget(jget(t, "outputs"), "artifacts");
    if (oarts.is_array())
      for (const auto& a : oarts)
        if (!jstr(a, "path").empty()) v["outputs.artifacts." + jstr(a, "name") + ".path"] = a["path"];
    const Json& oparams = jget(jget(t, "outputs"), "parameters");
    if (oparams.is_array())
      for (const auto& p : oparams)
        if (!jstr(jget(p, "valueFrom"), "path").empty())
          v["outputs.parameters." + jstr(p, "name") + ".path"] = p["valueFrom"]["path"];
  };
  add_template_vars(ptmpl, locals);
  // The steps and tasks of a steps/dag template are substituted when they run, with their
  // own scope; substituting them now would expand {{item}} and friends too early.
  Json body;
  Json outputs_decl;
  if (kind == "steps" || kind == "dag") {
    body = std::move(ptmpl[kind]);
    ptmpl.erase(kind);
    if (ptmpl.contains("outputs")) {
      outputs_decl = std::move(ptmpl["outputs"]);
      ptmpl.erase("outputs");
    }
  }
  if (auto s = substitute_json(ptmpl, locals); !s.ok()) return error_node(s.error().message);
  if (!body.is_null()) {
    // dag.target names tasks, and may come from parameters.
    if (kind == "dag" && body.contains("target")) {
      if (auto s = substitute_json(body["target"], locals); !s.ok()) return error_node(s.error().message);
    }
    ptmpl[kind] = std::move(body);
  }
  if (!outputs_decl.is_null()) ptmpl["outputs"] = std::move(outputs_decl);

  // Retries: a Retry node whose children are the attempts name(0), name(1), ...
  std::string attempt_name = name;
  ExecOpts child_opts = opts;
  child_opts.template_scope = ctx.scope;
  if (retry.is_object()) {
    NodeStatus* rnode = node(name);
    if (!rnode) {
      rnode = &init_node(name, node_type::kRetry, holder, ctx.scope, opts.boundary_id, phase::kRunning);
      if (ptmpl.contains("inputs") && !jget(ptmpl["inputs"], "parameters").empty()) rnode->inputs = ptmpl["inputs"];
      if (opts.hooked) rnode->node_flag = {{"hooked", true}};
    }
    std::string rname = rnode->name;
    const NodeStatus* last = rnode->children.empty() ? nullptr : get(rnode->children.back());
    size_t attempts = rnode->children.size();
    if (last && !phase_fulfilled(last->phase)) {
      attempt_name = last->name;
      // Argo's processNodeRetries: the Retry node is daemoned while its attempt is.
      if (last->daemoned != rnode->daemoned) {
        rnode->daemoned = last->daemoned;
        rnode->pod_ip = last->pod_ip;
        touch(*rnode);
      }
    } else if (last) {
      if (rnode->daemoned) {
        rnode->daemoned = false;
        touch(*rnode);
      }
      std::string last_phase = last->phase;
      if (!phase_failed_or_error(last_phase)) {
        NodeStatus* r = mark(rname, phase::kSucceeded);
        r->outputs = last->outputs;
        touch(*r);
        return {r, ""};
      }
      if (shutting_down()) {
        return {mark(rname, last_phase, stop_message()), ""};
      }
      std::string policy = jstr(retry, "retryPolicy");
      // An expression without a policy means Always, as in Argo.
      if (policy.empty()) policy = jstr(retry, "expression").empty() ? "OnFailure" : "Always";
      bool transient = policy == "OnTransientError" && is_transient_error(last->message);
      bool on_failed = policy == "Always" || policy == "OnFailure" || transient;
      bool on_error = policy == "Always" || policy == "OnError" || transient;
      if ((last_phase == phase::kFailed && !on_failed) || (last_phase == phase::kError && !on_error))
        return {mark(rname, last_phase, last->message), ""};
      int limit = int_of(jget(retry, "limit"), -1);
      if (jget(retry, "limit").is_null()) limit = -1;
      if (limit >= 0 && static_cast<int>(attempts) > limit)
        return {mark(rname, last_phase, std::string("No more retries left")), ""};
      if (!jstr(retry, "expression").empty()) {
        // Argo's buildRetryStrategyLocalScope: the last attempt, as retries/lastRetry.*.
        Vars rv = globals_;
        rv["retries"] = std::to_string(attempts - 1);
        rv["lastRetry.exitCode"] = jget(last->outputs, "exitCode").is_string() ? last->outputs["exitCode"] : Json("-1");
        rv["lastRetry.status"] = last_phase;
        rv["lastRetry.duration"] =
            last->started_at && last->finished_at
                ? fmt::format("{}", std::chrono::duration<double>(*last->finished_at - *last->started_at).count())
                : std::string("0");
        rv["lastRetry.message"] = last->message;
        auto go = expr::eval_expr(jstr(retry, "expression"), expr::expression_env(rv));
        if (!go.ok()) return {mark(rname, phase::kError, go.error().message), go.error().message};
        if (!(go->is_boolean() && go->get<bool>()))
          return {mark(rname, last_phase, std::string("retryStrategy.expression evaluated to false")), ""};
      }
      const Json& backoff = jget(retry, "backoff");
      // maxDuration counts from the first attempt's start; once past it, no more attempts.
      if (auto max = parse_duration_seconds(jstr(backoff, "maxDuration")); max && backoff.is_object()) {
        const NodeStatus* first = get(rnode->children.front());
        if (first && first->started_at &&
            now_ > *first->started_at + std::chrono::microseconds(static_cast<int64_t>(*max * 1e6)))
          return {mark(rname, last_phase, std::string("Max duration limit exceeded")), ""};
      }
      if (backoff.is_object() && last->finished_at) {
        double base = parse_duration_seconds(jstr(backoff, "duration").empty() ? value_text(jget(backoff, "duration"))
                                                                       : jstr(backoff, "duration"))
                          .value_or(0);
        int factor = int_of(jget(backoff, "factor"), 0);
        double wait = base;
        if (factor > 0) wait = base * std::pow(factor, static_cast<double>(attempts) - 1);
        if (auto cap = parse_duration_seconds(jstr(backoff, "cap"))) wait = std::min(wait, *cap);
        auto until = *last->finished_at + std::chrono::microseconds(static_cast<int64_t>(wait * 1e6));
        if (now_ < until) {
          if (!turn_.wake_at || until < *turn_.wake_at) turn_.wake_at = until;
          return {rnode, ""};
        }
      }
      attempt_name = fmt::format("{}({})", rname, attempts);
      add_child(rname, attempt_name);
    } else {
      attempt_name = name + "(0)";
      add_child(name, attempt_name);
    }
    rnode = node(name);
    Vars rv = locals;
    size_t index = rnode->children.size() - 1;
    rv["retries"] = std::to_string(index);
    if (is_pod_kind(kind)) rv["pod.name"] = pod_name(p_.spec_.name, attempt_name, tname);
    const NodeStatus* prev = index > 0 ? get(rnode->children[index - 1]) : nullptr;
    rv["lastRetry.exitCode"] = prev && jget(prev->outputs, "exitCode").is_string() ? prev->outputs["exitCode"] : Json("0");
    rv["lastRetry.status"] = prev ? prev->phase : "";
    rv["lastRetry.duration"] =
        prev && prev->started_at && prev->finished_at
            ? fmt::format("{}", std::chrono::duration<double>(*prev->finished_at - *prev->started_at).count())
            : std::string("0");
    rv["lastRetry.message"] = prev ? prev->message : "";
    if (auto s = substitute_json(ptmpl, rv); !s.ok()) return error_node(s.error().message);
    child_opts.hooked = false;
  }

  Exec result;
  if (is_leaf_kind(kind)) {
    NodeStatus* n = node(attempt_name);
    if (!n) {
      const char* type = kind == "http" ? node_type::kHttp : node_type::kPod;
      n = &init_node(attempt_name, type, holder, ctx.scope, opts.boundary_id, phase::kPending);
      const Json& in = jget(ptmpl, "inputs");
      if ((in.contains("parameters") && !in["parameters"].empty()) ||
          (in.contains("artifacts") && !in["artifacts"].empty()))
        n->inputs = in;
      if (child_opts.hooked) n->node_flag = {{"hooked", true}};
      if (retry.is_object()) {
        n->node_flag = {{"retried", true}};
        n->retries_attempt = static_cast<int>(node(name)->children.size()) - 1;
      }
      n->engine = {{"template", ptmpl},
                   {"podName", pod_name(p_.spec_.name, attempt_name, tname)},
                   // The result is what an http or data template is for: Argo always records it.
                   {"captureResult", p_.capture_result_ || kind == "http" || kind == "data"}};
      if (kind == "containerSet") add_container_nodes(*n, holder, ctx.scope, jget(jget(ptmpl, "containerSet"), "containers"));
      // Argo's shutdown: Stop still runs exit handlers; Terminate runs nothing new.
      if (opts.on_exit) n->engine["onExit"] = true;
      if (shutting_down() && !(exit_handlers_run() && opts.on_exit)) {
        n->phase = phase::kFailed;
        n->message = stop_message();
        n->finished_at = now_;
      }
    }
    if (n->phase == phase::kPending && !jget(n->engine, "intent").is_boolean()) turn_.ready.push_back(n->id);
    result = {n, ""};
  } else if (kind == "steps" || kind == "dag") {
    if (retry.is_object()) {
      ProcessedTemplate once{std::move(ptmpl), tctx, kind == "dag", child_opts.template_scope};
      result = execute_body(attempt_name, once, holder, child_opts);
    } else {
      auto& slot = p_.processed_[name];
      slot = {std::move(ptmpl), tctx, kind == "dag", child_opts.template_scope};
      result = execute_body(attempt_name, slot, holder, child_opts);
    }
  } else if (kind == "suspend") {
    NodeStatus* n = node(attempt_name);
    if (!n) {
      n = &init_node(attempt_name, node_type::kSuspend, holder, ctx.scope, opts.boundary_id, phase::kRunning);
      // Argo's addRawOutputFields: supplied parameters start as their default.
      Json params = Json::array();
      const Json& decl = jget(jget(ptmpl, "outputs"), "parameters");
      if (decl.is_array())
        for (auto p : decl) {
          if (jget(p, "valueFrom").contains("default")) p["value"] = value_text(p["valueFrom"]["default"]);
          params.push_back(p);
        }
      if (!params.empty()) n->outputs = {{"parameters", params}};
    }
    std::string dur = value_text(jget(jget(ptmpl, "suspend"), "duration"));
    if (jget(jget(ptmpl, "suspend"), "duration").is_null()) dur.clear();
    if (shutting_down()) {
      mark(attempt_name, phase::kFailed, stop_message());
    } else if (!dur.empty()) {
      auto secs = parse_duration_seconds(dur);
      if (!secs) {
        mark(attempt_name, phase::kError, "invalid suspend duration '" + dur + "'");
      } else {
        auto until = *n->started_at + std::chrono::microseconds(static_cast<int64_t>(*secs * 1e6));
        if (now_ >= until) mark(attempt_name, phase::kSucceeded);
        else if (!turn_.wake_at || until < *turn_.wake_at) turn_.wake_at = until;
      }
    }
    result = {node(attempt_name), ""};
  } else {
    std::string k = kind.empty() ? "unknown" : kind;
    return error_node("template '" + tname + "' of type " + k + " is not supported by tether");
  }
  if (!result.error.empty()) return result;

  if (retry.is_object() && result.node && phase_fulfilled(result.node->phase)) {
    // The attempt ended: decide about the Retry node on the next walk, where the logic above runs.
    return execute_template(name, holder, args, ctx, opts);
  }
  if (retry.is_object()) return {node(name), ""};
  return result;
}

// A steps or DAG template's body, from its template as processed when its node was created:
// its inputs and fields do not change while it runs, and processing a template copies it
// whole, which for a DAG of a thousand tasks dominated every walk.
Exec Planner::Walk::execute_body(const std::string& name, const ProcessedTemplate& t, const Json& holder,
                                 const ExecOpts& opts) {
  ExecOpts child_opts = opts;
  child_opts.template_scope = t.caller_scope;
  Exec e = t.dag ? execute_dag(name, t.tmpl, holder, t.ctx, child_opts)
                 : execute_steps(name, t.tmpl, holder, t.ctx, child_opts);
  if (e.node && phase_fulfilled(e.node->phase)) p_.processed_.erase(name);
  return e;
}

// Argo's executeContainerSet: a Container node "<pod node>.<container>" per container, inside
// the pod node's boundary; a container without dependencies is a child of the pod node, one
// with dependencies a child of each of them.
void Planner::Walk::add_container_nodes(NodeStatus& pod, const Json& holder, const std::string& scope,
                                        const Json& containers) {
  if (!containers.is_array()) return;
  const std::string pod_name = pod.name, pod_id = pod.id;
  p_.has_containers_ = true;
  for (const auto& c : containers)
    if (!node(pod_name + "." + jstr(c, "name")))
      init_node(pod_name + "." + jstr(c, "name"), node_type::kContainer, holder, scope, pod_id, phase::kPending);
  for (const auto& c : containers) {
    const std::string child = pod_name + "." + jstr(c, "name");
    const Json& deps = jget(c, "dependencies");
    if (!deps.is_array() || deps.empty()) add_child(pod_name, child);
    else
      for (const auto& d : deps)
        if (d.is_string()) add_child(pod_name + "." + d.get<std::string>(), child);
  }
}

// A leaf from an earlier walk: waiting to be started, running, or to be failed by a shutdown.
Exec Planner::Walk::existing_pod(NodeStatus& n, const ExecOpts& opts) {
  bool started = jget(n.engine, "intent").is_boolean();
  if (n.phase != phase::kPending || started) return {&n, ""};
  if (shutting_down() && !(exit_handlers_run() && opts.on_exit)) {
    mark(n.name, phase::kFailed, stop_message());
    return {&n, ""};
  }
  turn_.ready.push_back(n.id);
  return {&n, ""};
}

// Argo's countActiveChildren: unfinished pods and sub-workflows (steps, DAGs) in a boundary.
int Planner::Walk::active_children(const std::string& boundary) const {
  int n = 0;
  for (const auto& [id, c] : p_.state_.nodes)
    if (c.boundary_id == boundary && !phase_fulfilled(c.phase) &&
        (node_type::is_leaf(c.type) || c.type == node_type::kSteps || c.type == node_type::kDag))
      ++n;
  return n;
}

// Argo's lifecycle hooks other than exit: each runs once its expression holds, as
// "<parent>.hooks.<name>"; the parent counts as done only when its hooks are.
Exec Planner::Walk::run_hooks(const Json& hooks, const std::string& parent_name, const std::string& boundary,
                              const TmplCtx& ctx, const Vars& vars, bool* completed) {
  *completed = true;
  if (!hooks.is_object()) return {};
  for (auto it = hooks.begin(); it != hooks.end(); ++it) {
    if (it.key() == "exit") continue;
    const Json& hook = it.value();
    std::string hook_name = parent_name + ".hooks." + it.key();
    std::string expression = jstr(hook, "expression");
    if (expression.empty()) return {nullptr, "Expression required for hook " + hook_name};
    Vars all = globals_;
    for (const auto& [k, v] : vars) all[k] = v;
    auto go = expr::eval_expr(expression, expr::expression_env(all));
    if (!go.ok()) return {nullptr, go.error().message};
    if (!(go->is_boolean() && go->get<bool>()) && !node(hook_name)) continue;
    Json h = Json::object();
    if (hook.contains("template")) h["template"] = hook["template"];
    if (hook.contains("templateRef")) h["templateRef"] = hook["templateRef"];
    Json args = jget(hook, "arguments");
    if (args.is_object()) {
      Scope s;
      s.vars = vars;
      auto r = resolve_arguments(args, s);
      if (!r.ok()) return {nullptr, r.error().message};
      args = *r;
    }
    Exec e = execute_template(hook_name, h, args, ctx, {boundary, false, true, "", 0});
    if (!e.error.empty()) return e;
    add_child(parent_name, hook_name);
    if (!e.node || !phase_fulfilled(e.node->phase)) *completed = false;
  }
  return {};
}

// Argo's runOnExitNode for a step's or task's exit hook.
Exec Planner::Walk::run_on_exit(const Json& hook, NodeStatus& parent, const std::string& boundary,
                                const TmplCtx& ctx, const std::string& ref_prefix, const std::string& ref_name,
                                const Scope& scope) {
  if (!hook.is_object() || p_.shutdown_ == "Terminate") return {};
  std::string parent_name = parent.name;
  const NodeStatus* src = &parent;
  if (parent.type == node_type::kRetry && !parent.children.empty()) {
    if (const NodeStatus* last = get(parent.children.back())) src = last;
  }
  Scope s = scope;
  s.vars[ref_prefix + "." + ref_name + ".status"] = parent.phase;
  if (src->outputs.is_object()) {
    const Json& params = jget(src->outputs, "parameters");
    if (params.is_array())
      for (const auto& p : params)
        s.vars[ref_prefix + "." + ref_name + ".outputs.parameters." + jstr(p, "name")] = value_text(jget(p, "value"));
    if (src->outputs.contains("result")) s.vars[ref_prefix + "." + ref_name + ".outputs.result"] = src->outputs["result"];
    const Json& arts = jget(src->outputs, "artifacts");
    if (arts.is_array())
      for (const auto& a : arts) s.artifacts[ref_prefix + "." + ref_name + ".outputs.artifacts." + jstr(a, "name")] = a;
  }
  Json args = jget(hook, "arguments");
  if (args.is_object()) {
    auto r = resolve_arguments(args, s);
    if (!r.ok()) return {&parent, r.error().message};
    args = *r;
  }
  Json h = Json::object();
  if (hook.contains("template")) h["template"] = hook["template"];
  if (hook.contains("templateRef")) h["templateRef"] = hook["templateRef"];
  Exec e = execute_template(parent_name + ".onExit", h, args, ctx, {boundary, true, true, "", 0});
  add_child(parent_name, parent_name + ".onExit");
  return e;
}

}  // namespace tether::plan
