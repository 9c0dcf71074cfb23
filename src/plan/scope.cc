// Variables in scope (Argo's wfScope), outputs of leaves, steps and DAGs, loop items.
#include <algorithm>

#include "base/strings.h"
#include "expr/expr_lang.h"
#include "expr/template.h"
#include "plan/walk.h"

namespace tether::plan {

std::string jstr(const Json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

const Json& jget(const Json& j, const char* key) {
  static const Json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string value_text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return expr::go_json(v);
}

Result<std::string> substitute_str(const std::string& s, const Vars& vars, bool allow_unresolved) {
  if (s.find("{{") == std::string::npos) return s;
  return expr::substitute(s, vars, allow_unresolved);
}

Status substitute_json(Json& j, const Vars& vars, bool allow_unresolved) {
  if (j.is_string()) {
    j = TRY(substitute_str(j.get<std::string>(), vars, allow_unresolved));
  } else if (j.is_array() || j.is_object()) {
    for (auto& v : j) TRY_STATUS(substitute_json(v, vars, allow_unresolved));
  }
  return ok_status();
}

// Go's fmt %v of a decoded JSON value: maps as map[k:v ...] with sorted keys, lists as [a b].
std::string go_value(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    std::vector<std::string> parts;
    for (const auto& x : v) parts.push_back(go_value(x));
    return "[" + join(parts, " ") + "]";
  }
  if (v.is_object()) {
    std::vector<std::string> parts;
    for (auto it = v.begin(); it != v.end(); ++it) parts.push_back(it.key() + ":" + go_value(it.value()));
    return "map[" + join(parts, " ") + "]";
  }
  return expr::go_json(v);
}

// A parameter's valueFrom.configMapKeyRef, falling back to valueFrom.default as Argo does.
Result<std::string> config_map_value(const Json& param, const ConfigMapSource& source) {
  const Json& vf = jget(param, "valueFrom");
  const Json& ref = jget(vf, "configMapKeyRef");
  Result<std::string> v = source ? source(jstr(ref, "name"), jstr(ref, "key"))
                                 : Result<std::string>(not_found("no ConfigMap store"));
  if (v.ok()) return v;
  if (vf.contains("default") && v.error().code == ErrorCode::kNotFound) return value_text(vf["default"]);
  return invalid("unable to retrieve inputs.parameters." + jstr(param, "name") + " from ConfigMap: " +
                 v.error().message);
}

// Go's time.ParseDuration for the forms retry backoff uses; a bare number is seconds.
std::optional<double> parse_duration_seconds(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  double bare = std::strtod(s.c_str(), &end);
  if (end && *end == '\0') return bare;
  double total = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && (isdigit(static_cast<unsigned char>(s[j])) || s[j] == '.')) ++j;
    if (j == i) return std::nullopt;
    double v = std::strtod(s.substr(i, j - i).c_str(), nullptr);
    size_t k = j;
    while (k < s.size() && isalpha(static_cast<unsigned char>(s[k]))) ++k;
    std::string unit = s.substr(j, k - j);
    static const std::map<std::string, double> units = {{"ns", 1e-9}, {"us", 1e-6}, {"ms", 1e-3},
                                                         {"s", 1},     {"m", 60},    {"h", 3600}};
    auto u = units.find(unit);
    if (u == units.end()) return std::nullopt;
    total += v * u->second;
    i = k;
  }
  return total;
}

int template_parallelism(const Json& tmpl) {
  const Json& p = jget(tmpl, "parallelism");
  if (p.is_number_integer()) return p.get<int>();
  if (p.is_string()) return std::atoi(p.get<std::string>().c_str());
  return 0;
}

bool continues_on(const Json& holder, const std::string& ph) {
  const Json& c = jget(holder, "continueOn");
  if (!c.is_object()) return false;
  if (ph == phase::kFailed) return c.value("failed", false);
  if (ph == phase::kError) return c.value("error", false);
  return false;
}

Json exit_hook_of(const Json& holder) {
  const Json& hooks = jget(holder, "hooks");
  if (jget(hooks, "exit").is_object()) return hooks["exit"];
  if (!jstr(holder, "onExit").empty()) return {{"template", holder["onExit"]}};
  return nullptr;
}

bool has_loop(const Json& holder) {
  return (jget(holder, "withItems").is_array()) || !jstr(holder, "withParam").empty() ||
         jget(holder, "withSequence").is_object();
}

std::string loop_name(const std::string& name, size_t index, const Json& item) {
  std::string desc;
  if (item.is_object()) {
    std::vector<std::string> vals;
    for (auto it = item.begin(); it != item.end(); ++it) vals.push_back(it.key() + ":" + go_value(it.value()));
    std::sort(vals.begin(), vals.end());
    desc = join(vals, ",");
  } else {
    desc = go_value(item);
  }
  desc = replace_all(replace_all(desc, "(", ""), ")", "");
  return name + "(" + std::to_string(index) + ":" + desc + ")";
}

std::vector<std::string> item_vars(const Json& item, Vars& vars) {
  std::vector<std::string> keys{"item"};
  if (item.is_object()) {
    for (auto it = item.begin(); it != item.end(); ++it) {
      keys.push_back("item." + it.key());
      vars[keys.back()] = go_value(it.value());
    }
    vars["item"] = to_go_json(item);
  } else if (item.is_array()) {
    vars["item"] = to_go_json(item);
  } else {
    vars["item"] = go_value(item);
  }
  return keys;
}

namespace {

Result<int64_t> seq_int(const Json& v, const char* field) {
  std::string s = value_text(v);
  char* end = nullptr;
  long long x = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || !end || *end != '\0') return invalid(fmt::format("strconv.Atoi: parsing \"{}\": invalid syntax", s));
  (void)field;
  return static_cast<int64_t>(x);
}

// A printf format with one integer verb (%d, %02d, %x ...), as Go's fmt.Sprintf formats it.
std::string format_seq(const std::string& format, int64_t i) {
  if (format.empty()) return std::to_string(i);
  std::string out;
  for (size_t k = 0; k < format.size(); ++k) {
    if (format[k] != '%') {
      out += format[k];
      continue;
    }
    size_t j = k + 1;
    while (j < format.size() && std::string("0123456789-+ #").find(format[j]) != std::string::npos) ++j;
    if (j >= format.size()) {
      out += format.substr(k);
      break;
    }
    char verb = format[j];
    if (verb == '%') {
      out += '%';
    } else {
      std::string spec = format.substr(k, j - k) + "ll" + (verb == 'v' ? 'd' : verb);
      if (std::string("dioxXb").find(verb) == std::string::npos && verb != 'v') spec = format.substr(k, j - k) + "lld";
      char buf[64];
      snprintf(buf, sizeof buf, spec.c_str(), static_cast<long long>(i));
      out += buf;
    }
    k = j;
  }
  return out;
}

}  // namespace

Result<std::vector<Json>> expand_items(const Json& holder) {
  std::vector<Json> items;
  if (jget(holder, "withItems").is_array()) {
    for (const auto& x : holder["withItems"]) items.push_back(x);
    return items;
  }
  if (!jstr(holder, "withParam").empty()) {
    std::string text = jstr(holder, "withParam");
    auto parsed = parse_json(text, "withParam");
    if (!parsed.ok() || !parsed->is_array()) {
      std::string why = parsed.ok() ? "json: cannot unmarshal " + std::string(parsed->type_name()) +
                                          " into Go value of type []v1alpha1.Item"
                                    : parsed.error().message;
      return invalid("withParam value could not be parsed as a JSON list: " + std::string(trim(text)) + ": " + why);
    }
    for (const auto& x : *parsed) items.push_back(x);
    return items;
  }
  const Json& seq = jget(holder, "withSequence");
  if (seq.is_object()) {
    int64_t start = 0, end = 0;
    if (seq.contains("start")) start = TRY(seq_int(seq["start"], "start"));
    if (seq.contains("end")) {
      end = TRY(seq_int(seq["end"], "end"));
    } else if (seq.contains("count")) {
      int64_t count = TRY(seq_int(seq["count"], "count"));
      if (count == 0) return items;
      end = start + count - 1;
    } else {
      return invalid("neither end nor count was specified in withSequence");
    }
    std::string format = jstr(seq, "format");
    if (start <= end)
      for (int64_t i = start; i <= end; ++i) items.push_back(format_seq(format, i));
    else
      for (int64_t i = start; i >= end; --i) items.push_back(format_seq(format, i));
  }
  return items;
}

// ---------------------------------------------------------------------------------------------

Scope Planner::Walk::create_scope(const Json& tmpl) const {
  Scope s;
  const Json& params = jget(jget(tmpl, "inputs"), "parameters");
  if (params.is_array())
    for (const auto& p : params) s.vars["inputs.parameters." + jstr(p, "name")] = value_text(jget(p, "value"));
  const Json& arts = jget(jget(tmpl, "inputs"), "artifacts");
  if (arts.is_array())
    for (const auto& a : arts) s.artifacts["inputs.artifacts." + jstr(a, "name")] = a;
  return s;
}

void Planner::Walk::add_node_to_scope(Scope& s, const std::string& prefix, const std::string& name,
                                      const NodeStatus& in) const {
  const NodeStatus* n = &in;
  if (n->type == node_type::kRetry && !n->children.empty())
    if (const NodeStatus* last = get(n->children.back())) n = last;
  std::string k = prefix + "." + name;
  s.vars[k + ".id"] = n->id;
  if (n->started_at) s.vars[k + ".startedAt"] = format_rfc3339(*n->started_at);
  if (n->finished_at) s.vars[k + ".finishedAt"] = format_rfc3339(*n->finished_at);
  s.vars[k + ".status"] = n->phase;
  if (!n->host_node_name.empty()) s.vars[k + ".hostNodeName"] = n->host_node_name;
  if (!n->pod_ip.empty()) s.vars[k + ".ip"] = n->pod_ip;
  const Json& out = n->outputs;
  if (!out.is_object()) return;
  if (out.contains("result")) s.vars[k + ".outputs.result"] = value_text(out["result"]);
  if (out.contains("exitCode")) s.vars[k + ".exitCode"] = value_text(out["exitCode"]);
  const Json& params = jget(out, "parameters");
  if (params.is_array())
    for (const auto& p : params)
      if (p.contains("value")) s.vars[k + ".outputs.parameters." + jstr(p, "name")] = value_text(p["value"]);
  const Json& arts = jget(out, "artifacts");
  if (arts.is_array())
    for (const auto& a : arts) s.artifacts[k + ".outputs.artifacts." + jstr(a, "name")] = a;
}

namespace {

int loop_index(const std::string& name) {
  size_t open = name.rfind('(');
  if (open == std::string::npos) return 0;
  return std::atoi(name.c_str() + open + 1);
}

// Argo's wfv1.Item decoding of a child's result: JSON when it parses, else the text.
Json result_item(const std::string& text) {
  auto parsed = parse_json(text);
  return parsed.ok() ? *parsed : Json(text);
}

// Argo's aggregatedJSONValueList: a list of the values as JSON when every value is a JSON
// object or list, else a list of the strings.
std::string aggregated_list(const std::vector<std::string>& values) {
  Json parsed = Json::array();
  bool all = true;
  for (const auto& v : values) {
    auto p = parse_json(v);
    if (!p.ok() || !(p->is_object() || p->is_array())) {
      all = false;
      break;
    }
    parsed.push_back(*p);
  }
  if (all) return to_go_json(parsed);
  Json strs = Json::array();
  for (const auto& v : values) strs.push_back(v);
  return to_go_json(strs);
}

}  // namespace

void Planner::Walk::add_aggregate_to_scope(Scope& s, const std::string& prefix, const std::string& name,
                                           std::vector<const NodeStatus*> children) const {
  if (children.empty()) return;
  children.erase(std::remove_if(children.begin(), children.end(),
                                [](const NodeStatus* c) {
                                  return c->node_flag.is_object() &&
                                         (c->node_flag.value("hooked", false) || c->node_flag.value("retried", false));
                                }),
                 children.end());
  std::stable_sort(children.begin(), children.end(),
                   [](const NodeStatus* a, const NodeStatus* b) { return loop_index(a->name) < loop_index(b->name); });
  Json params = Json::array();
  Json results = Json::array();
  std::map<std::string, std::vector<std::string>> by_name;
  for (const NodeStatus* c : children) {
    const NodeStatus* n = c;
    if (n->type == node_type::kRetry && !n->children.empty())
      if (const NodeStatus* last = get(n->children.back())) n = last;
    if (!n->outputs.is_object() || c->phase != phase::kSucceeded) continue;
    const Json& ps = jget(n->outputs, "parameters");
    if (ps.is_array() && !ps.empty()) {
      Json m = Json::object();
      for (const auto& p : ps) {
        m[jstr(p, "name")] = value_text(jget(p, "value"));
        by_name[jstr(p, "name")].push_back(value_text(jget(p, "value")));
      }
      params.push_back(m);
    }
    if (n->outputs.contains("result")) results.push_back(result_item(value_text(n->outputs["result"])));
  }
  std::string k = prefix + "." + name;
  s.vars[k + ".outputs.result"] = to_go_json(results);
  s.vars[k + ".outputs.parameters"] = to_go_json(params);
  for (const auto& [pname, values] : by_name) s.vars[k + ".outputs.parameters." + pname] = aggregated_list(values);
}

void Planner::Walk::add_skipped_outputs_to_scope(Scope& s, const std::string& prefix, const std::string& name,
                                                 const NodeStatus& n, const Json& holder, const TmplCtx& ctx,
                                                 bool artifacts) {
  if (n.outputs.is_object()) return;
  if (n.phase != phase::kSkipped && n.phase != phase::kOmitted) return;
  auto resolved = resolve_template(holder, ctx);
  if (!resolved.ok()) return;
  const Json& outs = jget(resolved->first, "outputs");
  std::string k = prefix + "." + name + ".outputs.";
  const Json& params = jget(outs, "parameters");
  if (params.is_array()) {
    for (const auto& p : params) {
      const Json& vf = jget(p, "valueFrom");
      std::string key = k + "parameters." + jstr(p, "name");
      if (vf.contains("default")) {
        s.vars[key] = value_text(vf["default"]);
      } else {
        s.vars.erase(key);
        s.absent.insert(key);
      }
    }
  }
  const Json& arts = jget(outs, "artifacts");
  if (artifacts && arts.is_array())
    for (const auto& a : arts) s.artifacts[k + "artifacts." + jstr(a, "name")] = Json::object();
}

void Planner::Walk::add_global_outputs(const Json& outputs) {
  record_global_outputs(p_.state_, outputs);
  const Json& params = jget(outputs, "parameters");
  if (params.is_array())
    for (const auto& p : params)
      if (!jstr(p, "globalName").empty() && p.contains("value"))
        globals_["workflow.outputs.parameters." + jstr(p, "globalName")] = value_text(p["value"]);
}

namespace {

// The expression environment: the variables and the artifacts in scope as nested objects.
Json nested_env(const Vars& vars, const std::map<std::string, Json>& artifacts) {
  Vars all = vars;
  for (const auto& [k, v] : artifacts) all[k] = v;
  return expr::expression_env(all);
}

std::string tag_key(const std::string& ref) {
  std::string_view t = trim(ref);
  if (!starts_with(t, "{{") || !ends_with(t, "}}")) return {};
  return std::string(trim(t.substr(2, t.size() - 4)));
}

}  // namespace

Result<Json> Planner::Walk::resolve_arguments(const Json& in, const Scope& s) const {
  Json args = in.is_object() ? in : Json::object();
  Vars vars = globals_;
  for (const auto& [k, v] : s.vars) vars[k] = v;
  Json& params = args["parameters"];
  if (params.is_array()) {
    for (auto& p : params) {
      if (!p.contains("value") || !p["value"].is_string()) continue;
      std::string key = tag_key(p["value"].get<std::string>());
      if (!key.empty() && s.absent.count(key)) p["value"] = kAbsentOptional;
    }
  } else {
    args.erase("parameters");
  }
  Json arts = jget(args, "artifacts");
  args.erase("artifacts");
  TRY_STATUS(substitute_json(args, vars));
  if (!arts.is_array()) return args;
  Json out = Json::array();
  for (auto a : arts) {
    std::string from = jstr(a, "from");
    std::string from_expr = jstr(a, "fromExpression");
    bool optional = jget(a, "optional").is_boolean() && a["optional"].get<bool>();
    if (from.empty() && from_expr.empty()) {
      TRY_STATUS(substitute_json(a, vars));
      out.push_back(a);
      continue;
    }
    Json found;
    if (!from.empty()) {
      std::string key = tag_key(from);
      auto it = s.artifacts.find(key);
      if (it != s.artifacts.end()) {
        found = it->second;
      } else if (starts_with(key, "workflow.outputs.artifacts.")) {
        const Json& g = jget(p_.state_.outputs, "artifacts");
        if (g.is_array())
          for (const auto& x : g)
            if ("workflow.outputs.artifacts." + jstr(x, "name") == key) found = x;
      }
    } else {
      auto r = expr::eval_expr(from_expr, nested_env(vars, s.artifacts));
      if (r.ok() && r->is_object()) found = *r;
    }
    if (!found.is_object() || found.empty()) {
      if (optional) continue;
      return invalid("unable to resolve references: Unable to resolve: " + (from.empty() ? from_expr : from));
    }
    Json resolved = found;
    resolved["name"] = jstr(a, "name");
    resolved.erase("globalName");
    if (a.contains("subPath")) resolved["subPath"] = TRY(substitute_str(jstr(a, "subPath"), vars));
    if (optional) resolved["optional"] = true;
    out.push_back(resolved);
  }
  args["artifacts"] = out;
  return args;
}

Result<Json> Planner::Walk::template_outputs_from_scope(const Json& tmpl, const Scope& s) const {
  const Json& outs = jget(tmpl, "outputs");
  if (!outs.is_object()) return Json();
  Vars vars = globals_;
  for (const auto& [k, v] : s.vars) vars[k] = v;
  Json result = Json::object();
  const Json& params = jget(outs, "parameters");
  if (params.is_array() && !params.empty()) {
    Json list = Json::array();
    for (const auto& p : params) {
      Json out = p;
      const Json& vf = jget(p, "valueFrom");
      if (!jstr(vf, "parameter").empty()) {
        std::string ref = jstr(vf, "parameter");
        std::string key = tag_key(ref);
        auto v = substitute_str(ref, vars, false);
        if (v.ok() && !s.absent.count(key)) out["value"] = *v;
        else if (vf.contains("default")) out["value"] = value_text(vf["default"]);
        else return invalid("Unable to resolve outputs from scope: " + ref);
      } else if (!jstr(vf, "expression").empty()) {
        auto v = expr::eval_expr(jstr(vf, "expression"), nested_env(vars, s.artifacts));
        if (v.ok()) out["value"] = value_text(*v);
        else if (vf.contains("default")) out["value"] = value_text(vf["default"]);
        else return invalid("Unable to resolve outputs from scope: " + v.error().message);
      } else if (p.contains("value")) {
        out["value"] = TRY(substitute_str(value_text(p["value"]), vars));
      }
      list.push_back(out);
    }
    result["parameters"] = list;
  }
  const Json& arts = jget(outs, "artifacts");
  if (arts.is_array() && !arts.empty()) {
    Json list = Json::array();
    for (const auto& a : arts) {
      std::string from = jstr(a, "from");
      std::string from_expr = jstr(a, "fromExpression");
      Json found;
      if (!from.empty()) {
        auto it = s.artifacts.find(tag_key(from));
        if (it != s.artifacts.end()) found = it->second;
      } else if (!from_expr.empty()) {
        auto r = expr::eval_expr(from_expr, nested_env(vars, s.artifacts));
        if (r.ok() && r->is_object()) found = *r;
      }
      bool optional = jget(a, "optional").is_boolean() && a["optional"].get<bool>();
      if (!found.is_object() || found.empty()) {
        if (optional || (from.empty() && from_expr.empty())) continue;
        return invalid("Unable to resolve outputs from scope: " + (from.empty() ? from_expr : from));
      }
      Json r = found;
      r["name"] = jstr(a, "name");
      if (a.contains("globalName")) r["globalName"] = a["globalName"];
      else r.erase("globalName");
      list.push_back(r);
    }
    if (!list.empty()) result["artifacts"] = list;
  }
  if (result.empty()) return Json();
  return result;
}

// ---------------------------------------------------------------------------------------------
// A leaf's end.

namespace {

constexpr size_t kMaxResult = 256 * 1024;

std::string trim_one_newline(std::string s) {
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

}  // namespace

// Argo's addOutputsToGlobalScope: outputs with a globalName become workflow outputs.
void record_global_outputs(RunState& st, const Json& outputs) {
  auto upsert = [&](const char* kind, Json item) {
    if (!st.outputs.is_object()) st.outputs = Json::object();
    Json& list = st.outputs[kind];
    if (!list.is_array()) list = Json::array();
    for (auto& x : list)
      if (jstr(x, "name") == jstr(item, "name")) {
        x = item;
        st.run_changed = true;
        return;
      }
    list.push_back(item);
    st.run_changed = true;
  };
  const Json& params = jget(outputs, "parameters");
  if (params.is_array())
    for (const auto& p : params)
      if (!jstr(p, "globalName").empty() && p.contains("value"))
        upsert("parameters", {{"name", p["globalName"]}, {"value", p["value"]}});
  const Json& arts = jget(outputs, "artifacts");
  if (arts.is_array())
    for (const auto& a : arts)
      if (!jstr(a, "globalName").empty()) {
        Json item = a;
        item["name"] = a["globalName"];
        item.erase("globalName");
        upsert("artifacts", item);
      }
}

// A containerSet's Container nodes end as their containers did (Argo's assessNodeStatus);
// without a container's exit code (the pod never ran, or was lost) as the pod did.
void settle_containers(RunState& st, const NodeStatus& n, const std::vector<std::pair<std::string, int>>& exits) {
  for (auto& [cid, c] : st.nodes) {
    if (c.type != node_type::kContainer || c.boundary_id != n.id || phase_fulfilled(c.phase)) continue;
    const std::string cname = c.name.substr(n.name.size() + 1);
    auto ex = std::find_if(exits.begin(), exits.end(),
                           [&](const auto& e) { return e.first == cname; });
    if (ex != exits.end() && ex->second == 0) {
      c.phase = phase::kSucceeded;
    } else if (ex != exits.end() && ex->second > 0) {
      c.phase = phase::kFailed;
      c.message = fmt::format("{}: Error (exit code {})", cname, ex->second);
    } else if (n.phase == phase::kSucceeded) {
      c.phase = phase::kSucceeded;
    } else {
      c.phase = n.phase == phase::kError ? phase::kError : phase::kFailed;
      c.message = n.phase == phase::kError ? n.message : "Pod Failed whilst container running";
    }
    if (!c.started_at) c.started_at = n.started_at;
    c.finished_at = n.finished_at;
    st.changed.insert(cid);
  }
}

void Planner::finish_leaf(const std::string& id, const LeafResult& r) {
  auto it = state_.nodes.find(id);
  if (it == state_.nodes.end()) return;
  NodeStatus& n = it->second;
  if (phase_fulfilled(n.phase)) return;
  const Json& tmpl = leaf_template(n);
  if (r.started_at) n.started_at = r.started_at;
  n.finished_at = r.finished_at ? r.finished_at : n.started_at;
  using K = LeafResult::Kind;
  switch (r.kind) {
    case K::kExited:
      n.phase = r.exit_code == 0 ? phase::kSucceeded : phase::kFailed;
      n.message = r.exit_code == 0 ? "" : fmt::format("main: Error (exit code {})", r.exit_code);
      // A step's termination message: Argo appends a container's to the pod's message and
      // takes an HTTP request's verdict as the node's whole message.
      if (r.exit_code != 0 && !r.message.empty())
        n.message = n.type == node_type::kHttp || r.pod_message ? r.message : n.message + ": " + r.message;
      break;
    case K::kDeadline:
      n.phase = phase::kFailed;
      n.message = "Pod was active on the node longer than the specified deadline";
      break;
    case K::kStartFailed:
    case K::kLost:
      n.phase = phase::kError;
      n.message = r.message.empty() ? std::string("lost") : r.message;
      break;
    case K::kStopped:
      n.phase = phase::kFailed;
      n.message = r.message;
      break;
  }
  // Argo: a daemon whose scope ended is Succeeded however its process died; one that ended
  // on its own failed, even with status 0, since a daemon is meant to run until stopped.
  bool daemon = jget(tmpl, "daemon").is_boolean() && tmpl["daemon"].get<bool>();
  if (daemon && r.daemon_stopped) {
    n.phase = phase::kSucceeded;
    n.message.clear();
  } else if (daemon && r.kind == K::kExited && r.exit_code == 0) {
    n.phase = phase::kFailed;
  }
  n.daemoned = false;
  if (has_containers_) settle_containers(state_, n, r.container_exits);
  // Argo's killDaemonedChildren ends a daemoned Retry node with its attempt; the walk would
  // not visit it again once its scope ended.
  if (daemon && r.daemon_stopped)
    for (auto& [pid, parent] : state_.nodes)
      if (parent.type == node_type::kRetry && parent.daemoned && !parent.children.empty() &&
          parent.children.back() == id) {
        parent.daemoned = false;
        parent.phase = phase::kSucceeded;
        parent.finished_at = n.finished_at;
        state_.changed.insert(pid);
      }
  Json outputs = Json::object();
  bool http = n.type == node_type::kHttp;
  // A stopped daemon's status is the stop's signal, not how it did: Argo records none.
  if ((r.kind == K::kExited || r.kind == K::kDeadline) && !http && !(daemon && r.daemon_stopped))
    outputs["exitCode"] = std::to_string(r.exit_code);
  bool capture = jget(n.engine, "captureResult").is_boolean() ? n.engine["captureResult"].get<bool>() : true;
  if (capture && r.stdout_text && (r.kind == K::kExited)) {
    // An HTTP result is the response body as received.
    std::string out = http ? *r.stdout_text : trim_one_newline(*r.stdout_text);
    if (out.size() > kMaxResult) out = out.substr(out.size() - kMaxResult);
    outputs["result"] = out;
  }
  std::string save_error;
  const Json& params = jget(jget(tmpl, "outputs"), "parameters");
  if (params.is_array() && (r.kind == K::kExited || r.kind == K::kDeadline)) {
    Json list = Json::array();
    for (const auto& p : params) {
      Json out = p;
      const Json& vf = jget(p, "valueFrom");
      std::string path = jstr(vf, "path");
      if (!path.empty()) {
        auto f = r.parameter_files.find(jstr(p, "name"));
        if (f != r.parameter_files.end() && f->second) {
          out["value"] = trim_one_newline(*f->second);
        } else if (vf.contains("default")) {
          out["value"] = value_text(vf["default"]);
        } else {
          if (save_error.empty()) save_error = "open " + path + ": no such file or directory";
          continue;
        }
      } else if (vf.contains("default") && !out.contains("value")) {
        out["value"] = value_text(vf["default"]);
      }
      if (out.contains("value") && !out["value"].is_string()) out["value"] = value_text(out["value"]);
      list.push_back(out);
    }
    if (!list.empty()) outputs["parameters"] = list;
  }
  if (r.artifacts.is_array() && !r.artifacts.empty()) outputs["artifacts"] = r.artifacts;
  if (save_error.empty() && !r.artifact_error.empty()) save_error = r.artifact_error;
  if (!save_error.empty() && n.phase == phase::kSucceeded) {
    n.phase = phase::kError;
    n.message = save_error;
  }
  if (!outputs.empty()) n.outputs = outputs;
  record_global_outputs(state_, n.outputs);
  state_.changed.insert(id);
}

void Planner::finish_leaf_from_cache(const std::string& id, const Json& outputs, WallTime at) {
  auto it = state_.nodes.find(id);
  if (it == state_.nodes.end() || phase_fulfilled(it->second.phase)) return;
  NodeStatus& n = it->second;
  n.phase = phase::kSucceeded;
  n.started_at = n.finished_at = at;
  n.outputs = outputs;
  record_global_outputs(state_, n.outputs);
  state_.changed.insert(id);
}

}  // namespace tether::plan
