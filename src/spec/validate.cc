#include "spec/validate.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <cctype>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "base/strings.h"
#include "expr/depends.h"
#include "expr/expr_lang.h"
#include "expr/govaluate.h"
#include "expr/template.h"
#include "spec/cron.h"
#include "spec/node.h"

namespace tether::spec {

// ---------------------------------------------------------------------------------------------
// Context.

void ValidateContext::add(const Document& doc) {
  if (std::holds_alternative<WorkflowTemplate>(doc.object))
    templates_[doc.name()] = std::make_shared<const Document>(doc);
  else if (std::holds_alternative<ClusterWorkflowTemplate>(doc.object))
    cluster_templates_[doc.name()] = std::make_shared<const Document>(doc);
}

const Document* ValidateContext::find(bool cluster_scope, const std::string& name) const {
  const auto& local = cluster_scope ? cluster_templates_ : templates_;
  if (auto it = local.find(name); it != local.end()) return it->second.get();
  if (!lookup_) return nullptr;
  std::string kind = cluster_scope ? "ClusterWorkflowTemplate" : "WorkflowTemplate";
  std::string key = kind + "/" + name;
  if (auto it = looked_up_.find(key); it != looked_up_.end()) return it->second.get();
  auto found = lookup_(kind, name);
  auto& slot = looked_up_[key];
  if (found && found->workflow_spec()) slot = std::make_shared<const Document>(std::move(*found));
  return slot.get();
}

// ---------------------------------------------------------------------------------------------
// Names.

namespace {

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

constexpr size_t kMaxFieldName = 128;

}  // namespace

std::optional<std::string> check_field_name(std::string_view name) {
  std::vector<std::string> errs;
  if (name.size() > kMaxFieldName) errs.push_back(fmt::format("must be no more than {} characters", kMaxFieldName));
  bool ok = !name.empty() && is_alnum(name[0]);
  for (char c : name) ok = ok && (is_alnum(c) || c == '-');
  if (!ok)
    errs.push_back(
        "name must consist of alpha-numeric characters or '-', and must start with an alpha-numeric character (e.g. "
        "My-name1-2, 123-NAME)");
  if (errs.empty()) return std::nullopt;
  return join(errs, ";");
}

std::optional<std::string> check_param_name(std::string_view name) {
  bool ok = !name.empty();
  for (char c : name) ok = ok && (is_alnum(c) || c == '-' || c == '_');
  if (ok) return std::nullopt;
  return std::string(
      "Parameter/Artifact name must consist of alpha-numeric characters, '_' or '-' e.g. my_param_1, MY-PARAM-1");
}

namespace {

// ---------------------------------------------------------------------------------------------
// Small helpers.

Error fail(const SourcePos& pos, std::string message) { return invalid(std::move(message), pos); }

// Argo wraps errors as they travel up: "templates.main.steps[0].a " + inner.
template <typename T>
Result<T> prefixed(Result<T> s, std::string_view prefix, std::string_view sep = " ") {
  if (s.ok()) return s;
  Error e = s.take_error();
  e.message = fmt::format("{}{}{}", prefix, sep, e.message);
  return e;
}

// Go's %q for the strings we print.
std::string go_quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// {{a.b-c.d}}: a whole value that is one simple parameter reference (Argo's isParameter).
bool is_parameter(std::string_view s) {
  size_t open = s.find("{{");
  while (open != std::string_view::npos) {
    size_t close = s.find("}}", open);
    if (close == std::string_view::npos) return false;
    std::string_view body = s.substr(open + 2, close - open - 2);
    bool ok = !body.empty() && body[0] != '.';
    for (char c : body) ok = ok && (is_alnum(c) || c == '-' || c == '_' || c == '.');
    if (ok) return true;
    open = s.find("{{", open + 2);
  }
  return false;
}

bool has_tag(std::string_view s) { return s.find("{{") != std::string_view::npos; }

const char* argo_type_name(const Template& t) {
  static const std::map<std::string_view, const char*> kNames = {
      {"container", "Container"}, {"containerSet", "ContainerSet"}, {"steps", "Steps"}, {"script", "Script"},
      {"resource", "Resource"},   {"dag", "DAG"},                   {"suspend", "Suspend"}, {"data", "Data"},
      {"http", "HTTP"},           {"plugin", "Plugin"},
  };
  auto it = kNames.find(t.kind_name());
  return it == kNames.end() ? "Unknown" : it->second;
}

bool is_leaf(const Template& t) {
  return !(t.as<StepsTemplate>() || t.as<DagTemplate>() || t.as<SuspendTemplate>() ||
           std::holds_alternative<std::monostate>(t.body));
}

bool is_pod_type(const Template& t) {
  return t.as<ContainerTemplate>() || t.as<ContainerSetTemplate>() || t.as<ScriptTemplate>() ||
         t.as<ResourceTemplate>() || t.as<DataTemplate>();
}

bool has_container_named(const Template& t, std::string_view name) {
  if (auto* cs = t.as<ContainerSetTemplate>())
    for (const auto& c : cs->containers)
      if (c.name == name) return true;
  return false;
}

bool has_output(const Template& t) {
  return t.as<ContainerTemplate>() || has_container_named(t, "main") || t.as<ScriptTemplate>() ||
         t.as<DataTemplate>() || t.as<HttpTemplate>() || t.as<PluginTemplate>();
}

bool has_location(const Artifact& a) { return !a.location.kind().empty(); }

const Json& child(const Json& j, std::string_view key) {
  static const Json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(std::string(key));
  return it == j.end() ? kNull : *it;
}
const Json& child(const Json& j, size_t i) {
  static const Json kNull;
  return j.is_array() && i < j.size() ? j[i] : kNull;
}

// ---------------------------------------------------------------------------------------------
// Variable scopes.

constexpr std::string_view kValidPrefixes[] = {"item.", "steps.", "inputs.", "outputs.", "pod.", "workflow.", "tasks."};

// Names a tag may use here; `any_item` stands for withParam's unknown item shape.
struct Scope {
  std::set<std::string> names;
  bool any_item = false;
  bool any_workflow_output_parameter = false;
  bool any_workflow_output_artifact = false;

  void add(std::string name) { names.insert(std::move(name)); }
  bool has(const std::string& name) const { return names.count(name) > 0; }
};

// The scope-independent names of one workflow ({{workflow.name}}, its parameters, ...).
struct Globals {
  std::set<std::string> names;
  bool template_validation = false;  // validating a WorkflowTemplate on its own
  bool any_workflow_output_artifact = false;  // an exit handler may read parametrized global artifacts
};

bool tag_allowed(const std::string& tag, const Scope& scope, const Globals& globals) {
  bool known_root = false;
  for (auto p : kValidPrefixes) known_root = known_root || starts_with(tag, p);
  if (!known_root) return true;  // another tool's variable: left alone, as Argo does
  if (scope.has(tag) || globals.names.count(tag)) return true;
  if (scope.any_item && (tag == "item" || starts_with(tag, "item."))) return true;
  if (scope.any_workflow_output_parameter && starts_with(tag, "workflow.outputs.parameters.")) return true;
  if ((scope.any_workflow_output_artifact || globals.any_workflow_output_artifact) && starts_with(tag, "workflow.outputs.artifacts.")) return true;
  static constexpr std::string_view kRuntime[] = {"outputs.", "workflow.creationTimestamp", "workflow.scheduledTime",
                                                  "workflow.duration", "tasks.name", "steps.name", "node.name"};
  for (auto p : kRuntime)
    if (starts_with(tag, p)) return true;
  return globals.template_validation && starts_with(tag, "workflow.parameters");
}

// Every string in `value` (Argo marshals the object to JSON and scans the text).
void for_each_string(const Json& value, const std::function<void(const std::string&)>& fn) {
  if (value.is_string()) {
    fn(value.get_ref<const std::string&>());
  } else if (value.is_object()) {
    for (const auto& [k, v] : value.items()) {
      fn(k);
      for_each_string(v, fn);
    }
  } else if (value.is_array()) {
    for (const auto& v : value) for_each_string(v, fn);
  }
}

// resolveAllVariables: every simple tag must be known here; expression tags must parse.
Status resolve_all(const Json& value, const Scope& scope, const Globals& globals, const SourcePos& pos) {
  Status result;
  for_each_string(value, [&](const std::string& s) {
    if (!result.ok() || !has_tag(s)) return;
    auto tags = expr::find_tags(s);
    if (!tags.ok()) {
      result = fail(pos, tags.error().message);
      return;
    }
    for (const auto& tag : *tags) {
      if (tag.kind == expr::Tag::Kind::kExpression) {
        auto ast = expr::parse_expr(tag.body);
        if (!ast.ok()) {
          // expr-lang adds the source line and a caret; one line reads better in lint output.
          std::string message = ast.error().message.substr(0, ast.error().message.find('\n'));
          result = fail(pos, fmt::format("failed to parse expression {{{{{}}}}}: {}", tag.raw, message));
          return;
        }
        continue;
      }
      if (!tag_allowed(tag.body, scope, globals)) {
        result = fail(pos, fmt::format("failed to resolve {{{{{}}}}}", tag.raw));
        return;
      }
    }
  });
  return result;
}

// An expr-lang expression that runs over a fixed environment (`roots`): it must parse and
// read nothing else, as expr.Compile with expr.Env reports ("unknown name x"). Text with
// `{{...}}` tags is checked at run time, once they are replaced.
Status check_expr_over(const std::string& expression, const std::set<std::string>& roots, const SourcePos& pos,
                       const std::string& at) {
  if (expression.find("{{") != std::string::npos) return ok_status();
  auto ast = expr::parse_expr(expression);
  if (!ast.ok()) return fail(pos, at + ": " + ast.error().message);
  for (const auto& id : ast->identifiers()) {
    std::string root = id.substr(0, id.find('.'));
    if (!roots.count(root)) return fail(pos, fmt::format("{}: unknown name {}", at, root));
  }
  return ok_status();
}

// What the agent needs to send an http template's request, checked before a run starts
// rather than failing the node: a URL, named headers, a successCondition over `request`
// and `response`.
Status check_http(const std::string& name, const HttpTemplate& h) {
  std::string at = "templates." + name + ".http";
  if (h.url.empty()) return fail(h.pos, at + ".url is required");
  for (size_t i = 0; i < h.headers.size(); ++i) {
    const HttpHeader& hd = h.headers[i];
    if (hd.name.empty()) return fail(hd.pos, fmt::format("{}.headers[{}].name is required", at, i));
  }
  if (!h.success_condition.empty())
    TRY_STATUS(check_expr_over(h.success_condition, {"request", "response"}, h.pos, at + ".successCondition"));
  return ok_status();
}

// A data template needs a source (Argo's "no valid source is used for data template" at
// run time), and each transformation is an expr-lang expression over `data` (an empty one
// is skipped, as Argo does).
Status check_data(const std::string& name, const DataTemplate& d) {
  std::string at = "templates." + name + ".data";
  if (!d.artifact_paths)
    return fail(d.source_pos.known() ? d.source_pos : d.pos,
                at + ".source: no valid source is used for data template (source.artifactPaths is required)");
  for (size_t i = 0; i < d.transformation.size(); ++i) {
    const TransformationStep& step = d.transformation[i];
    std::string where = fmt::format("{}.transformation[{}].expression", at, i);
    if (!step.expression.empty()) TRY_STATUS(check_expr_over(step.expression, {"data"}, step.pos, where));
  }
  return ok_status();
}

// `when` after substitution must be a govaluate expression; tags stand in as a word.
Status check_when_text(const std::string& when, const SourcePos& pos) {
  if (when.empty()) return ok_status();
  auto tags = expr::find_tags(when);
  if (!tags.ok()) return fail(pos, tags.error().message);
  std::string text;
  size_t at = 0;
  for (const auto& t : *tags) {
    text += when.substr(at, t.begin - at);
    text += "0";
    at = t.end;
  }
  text += when.substr(at);
  Status s = expr::check_when(text);
  if (!s.ok()) return fail(pos, s.error().message);
  return ok_status();
}

// validateWorkflowFieldNames: each name present, well-formed and unique; the message is
// the suffix Argo appends to the list's path ("[0].name is required").
template <typename T>
Status check_names(const std::vector<T>& items, bool param_rules) {
  std::set<std::string> seen;
  for (size_t i = 0; i < items.size(); ++i) {
    const auto& name = items[i].name;
    const SourcePos& pos = items[i].pos;
    if (name.empty()) return fail(pos, fmt::format("[{}].name is required", i));
    auto bad = param_rules ? check_param_name(name) : check_field_name(name);
    if (bad) return fail(pos, fmt::format("[{}].name: '{}' is invalid: {}", i, name, *bad));
    if (!seen.insert(name).second) return fail(pos, fmt::format("[{}].name '{}' is not unique", i, name));
  }
  return ok_status();
}

// validateArguments: names, and values for every parameter.
Status check_arguments(const std::string& prefix, const Arguments& args, bool allow_empty_values) {
  TRY_STATUS(prefixed(check_names(args.parameters, true), prefix + "parameters", ""));
  TRY_STATUS(prefixed(check_names(args.artifacts, true), prefix + "artifacts", ""));
  for (const auto& p : args.parameters) {
    std::string at = prefix + p.name;
    if (!p.value && !p.value_from && !allow_empty_values)
      return fail(p.pos, fmt::format("{0}.value or {0}.valueFrom is required", at));
    if (p.value_from) {
      const ValueFrom& vf = *p.value_from;
      bool allowed = vf.config_map_key_ref || !vf.event.empty() || vf.supplied;
      bool forbidden = !vf.path.empty() || !vf.json_path.empty() || !vf.parameter.empty() || !vf.expression.empty();
      if (!allowed || forbidden)
        return fail(p.pos, fmt::format("{}.valueFrom only allows: default, configMapKeyRef and supplied", at));
    }
    if (!p.enum_values.empty()) {
      if (!p.value) {
        if (allow_empty_values) return ok_status();
        return fail(p.pos, fmt::format("{}.value is required", at));
      }
      if (std::find(p.enum_values.begin(), p.enum_values.end(), *p.value) == p.enum_values.end())
        return fail(p.pos, fmt::format("{0}.value should be present in {0}.enum list", at));
    }
  }
  for (const auto& a : args.artifacts) {
    std::string at = prefix + a.name;
    if (a.from.empty() && !has_location(a))
      return fail(a.pos, fmt::format("{}.from, artifact location, or key is required", at));
    if (!a.from.empty() && !a.from_expression.empty())
      return fail(a.pos, fmt::format("{} shouldn't have both `from` and `fromExpression` in Artifact", at));
  }
  return ok_status();
}

// Argo's addItemsToScope: at most one loop kind, and the names `item` takes.
Status add_items(const std::optional<Json>& items, const std::string& param, const std::optional<Sequence>& seq,
                 Scope& scope, const SourcePos& pos) {
  bool with_items = items && !items->empty();
  int defined = int(with_items) + int(!param.empty()) + int(seq.has_value());
  if (defined > 1) return fail(pos, "only one of withItems, withParam, withSequence can be specified");
  if (with_items) {
    for (const auto& item : *items) {
      if (item.is_array()) {
        for (size_t i = 0; i < item.size(); ++i) scope.add(fmt::format("item.[{}]", i));
      } else if (item.is_object()) {
        for (const auto& [k, v] : item.items()) scope.add("item." + k);
      } else if (item.is_null()) {
        return fail(pos, "unsupported withItems type: null");
      } else {
        scope.add("item");
      }
    }
  } else if (!param.empty()) {
    scope.add("item");
    scope.any_item = true;
  } else if (seq) {
    if (seq->count && seq->end) return fail(seq->pos, "only one of count or end can be defined in withSequence");
    scope.add("item");
  }
  return ok_status();
}

bool is_loop(const std::optional<Json>& items, const std::string& param, const std::optional<Sequence>& seq) {
  return (items && !items->empty()) || !param.empty() || seq.has_value();
}

// The retry policy is Argo's check; the limit and backoff checks catch at lint time what
// Argo only finds when the first retry is due.
Status check_retry_strategy(const RetryStrategy& rs, const std::string& tmpl) {
  static const std::set<std::string> kPolicies = {"Always", "OnError", "OnFailure", "OnTransientError", ""};
  if (!kPolicies.count(rs.retry_policy))
    return fail(rs.pos, fmt::format("{} is not a valid RetryPolicy", rs.retry_policy));
  std::string at = fmt::format("templates.{}.retryStrategy", tmpl);
  if (rs.limit) {
    auto limit = rs.limit->to_int();
    if (!limit.ok() && !has_tag(rs.limit->str_value))
      return fail(rs.limit->pos, fmt::format("{}.limit must be an integer or an argo variable, not {}", at,
                                             go_quote(rs.limit->str_value)));
    if (limit.ok() && *limit < 0) return fail(rs.limit->pos, fmt::format("{}.limit must be >= 0", at));
  }
  if (const auto& b = rs.backoff) {
    const std::pair<const char*, const std::string*> durations[] = {
        {"duration", &b->duration}, {"maxDuration", &b->max_duration}, {"cap", &b->cap}};
    for (const auto& [key, text] : durations) {
      if (text->empty() || has_tag(*text)) continue;
      auto d = parse_duration_ms(*text, true);
      if (!d.ok()) return fail(b->pos, fmt::format("{}.backoff.{}: {}", at, key, d.error().message));
    }
    if (b->factor) {
      auto f = b->factor->to_int();
      if (f.ok() && *f < 0) return fail(b->factor->pos, fmt::format("{}.backoff.factor must be >= 0", at));
    }
  }
  return ok_status();
}

// ---------------------------------------------------------------------------------------------
// Template resolution.

// Where a template's local names resolve: the workflow's own spec or a WorkflowTemplate's.
struct Base {
  const WorkflowSpec* spec = nullptr;
  const Json* raw_spec = nullptr;
  std::string id;  // "" for the document itself, else "Kind/name"
};

// Something that calls a template: a step, a task, a hook, the entrypoint, onExit.
struct Holder {
  SourcePos pos;
  std::string template_name;
  const TemplateRef* template_ref = nullptr;
  const Template* inline_template = nullptr;
  const Json* inline_raw = nullptr;
};

template <typename S>
Holder holder_of(const S& s, const Json& raw) {
  return Holder{s.pos, s.template_name, s.template_ref ? &*s.template_ref : nullptr, s.inline_template.get(),
                &child(raw, "inline")};
}

// What a caller passes; `fake` supplies every input (Argo's FakeArguments).
struct Args {
  const Arguments* args = nullptr;
  bool fake = false;
  const Parameter* parameter(const std::string& name) const {
    if (args)
      for (const auto& p : args->parameters)
        if (p.name == name) return &p;
    return nullptr;
  }
  const Artifact* artifact(const std::string& name) const {
    if (args)
      for (const auto& a : args->artifacts)
        if (a.name == name) return &a;
    return nullptr;
  }
};
const Args kFakeArgs{nullptr, true};

struct Resolved {
  const Template* tmpl = nullptr;
  const Json* raw = nullptr;
  Base base;
};

class Validator {
 public:
  Validator(const ValidateContext& ctx, bool template_validation) : ctx_(ctx) {
    globals_.template_validation = template_validation;
  }

  Status workflow(const ObjectMeta& meta, const WorkflowSpec& spec, const Json& raw_spec, bool lint,
                  bool ignore_entrypoint);

 private:
  Result<Resolved> resolve(const Holder& h, const Base& base);
  Result<Resolved> validate_holder(const Holder& h, const Base& base, const Args& args);
  Status validate_template(const Template& t, const Json& raw, const Base& base, const Args& args);
  Status process_args(const Template& t, const Args& args);
  SourcePos caller_;  // the step or task whose arguments are being checked
  Status validate_steps(const Template& t, const Json& raw, const Base& base, Scope& scope);
  Status validate_dag(const Template& t, const Json& raw, const Base& base, Scope& scope);
  Status validate_leaf(const Template& t, const Json& raw, const Base& base, const Scope& scope);
  Status validate_outputs(const Template& t, const Json& raw, const Scope& scope);
  Status validate_hooks(const LifecycleHooks& hooks, const std::string& where, const Base& base);
  void add_outputs(const Template* t, const std::string& prefix, const std::string& name, Scope& scope,
                   bool aggregate, bool ancestor);

  const ValidateContext& ctx_;
  Globals globals_;
  std::set<std::string> validated_;
};

// ---------------------------------------------------------------------------------------------

Result<Resolved> Validator::resolve(const Holder& h, const Base& base) {
  if (h.template_ref) {
    const TemplateRef& ref = *h.template_ref;
    if (!h.template_name.empty()) return fail(h.pos, "template name cannot be specified with templateRef");
    if (ref.name.empty()) return fail(ref.pos, "resource name is required");
    if (ref.template_name.empty()) return fail(ref.pos, "template name is required");
    if (has_tag(ref.name) || has_tag(ref.template_name)) return Resolved{};  // resolved at runtime
    const Document* doc = ctx_.find(ref.cluster_scope, ref.name);
    const WorkflowSpec* spec = doc ? doc->workflow_spec() : nullptr;
    const Template* t = spec ? spec->find_template(ref.template_name) : nullptr;
    if (!t) return fail(ref.pos, fmt::format("template reference {}.{} not found", ref.name, ref.template_name));
    const Json& raw_spec = child(doc->raw, "spec");
    size_t index = static_cast<size_t>(t - spec->templates.data());
    Base b{spec, &raw_spec, doc->kind + "/" + ref.name};
    return Resolved{t, &child(child(raw_spec, "templates"), index), b};
  }
  if (h.inline_template) return Resolved{h.inline_template, h.inline_raw, base};
  if (!h.template_name.empty()) {
    const Template* t = base.spec->find_template(h.template_name);
    if (!t) return fail(h.pos, fmt::format("template name '{}' undefined", h.template_name));
    size_t index = static_cast<size_t>(t - base.spec->templates.data());
    return Resolved{t, &child(child(*base.raw_spec, "templates"), index), base};
  }
  return fail(h.pos, "failed to get a template");
}

Result<Resolved> Validator::validate_holder(const Holder& h, const Base& base, const Args& args) {
  Resolved r = TRY(resolve(h, base));
  if (!r.tmpl) return r;
  if (const auto& rs = r.tmpl->retry_strategy) TRY_STATUS(check_retry_strategy(*rs, r.tmpl->name));
  SourcePos saved = caller_;
  caller_ = args.fake ? SourcePos{} : h.pos;
  Status s = validate_template(*r.tmpl, *r.raw, r.base, args);
  caller_ = saved;
  TRY_STATUS(std::move(s));
  return r;
}

// ProcessArgs: every input gets a value from the caller, its default, or a ConfigMap.
Status Validator::process_args(const Template& t, const Args& args) {
  for (const auto& in : t.inputs.parameters) {
    bool has_value = in.value || in.default_value;
    bool from_config_map = in.value_from && in.value_from->config_map_key_ref;
    if (args.fake) continue;
    if (const Parameter* arg = args.parameter(in.name)) {
      has_value = arg->value.has_value();
      from_config_map = !has_value && arg->value_from && arg->value_from->config_map_key_ref;
    }
    if (!from_config_map && !has_value)
      return fail(caller_.known() ? caller_ : in.pos, fmt::format("inputs.parameters.{} was not supplied", in.name));
  }
  for (const auto& in : t.inputs.artifacts) {
    if (args.fake || in.optional || has_location(in)) continue;
    if (!args.artifact(in.name))
      return fail(caller_.known() ? caller_ : in.pos, fmt::format("inputs.artifacts.{} was not supplied", in.name));
  }
  return ok_status();
}

Status Validator::validate_template(const Template& t, const Json& raw, const Base& base, const Args& args) {
  const std::string name = t.name;
  if (std::holds_alternative<std::monostate>(t.body))
    return fail(t.pos, fmt::format("templates.{} template type unspecified. choose one of: container, containerSet, "
                                   "steps, script, resource, dag, suspend, template, template ref",
                                   name));
  if (!t.pod_resources.is_null() && (t.as<HttpTemplate>() || t.as<PluginTemplate>()))
    return fail(t.pos, fmt::format("templates.{}.podResources is not supported for {} templates", name,
                                   argo_type_name(t)));

  // validateInputs
  Scope scope;
  TRY_STATUS(prefixed(check_names(t.inputs.parameters, true), "templates." + name + ".inputs.parameters", ""));
  TRY_STATUS(prefixed(check_names(t.inputs.artifacts, true), "templates." + name + ".inputs.artifacts", ""));
  for (const auto& p : t.inputs.parameters) scope.add("inputs.parameters." + p.name);
  if (!t.inputs.parameters.empty()) scope.add("inputs.parameters");
  for (const auto& a : t.inputs.artifacts) {
    std::string ref = "inputs.artifacts." + a.name;
    scope.add(ref);
    if (is_leaf(t)) {
      if (a.path.empty())
        return fail(a.pos, fmt::format("error in templates.{}.{}: Artifact '{}' did not specify a path", name, ref, a.name));
      scope.add(ref + ".path");
    } else if (!a.path.empty()) {
      return fail(a.pos, fmt::format("templates.{}.{}.path only valid in container/script templates", name, ref));
    }
    if (!a.from.empty()) return fail(a.pos, fmt::format("templates.{}.{}.from not valid in inputs", name, ref));
    if (!a.location.git.is_null() && !a.location.git.contains("repo"))
      return fail(a.pos, fmt::format("templates.{}.{}.git.repo is required", name, ref));
  }
  for (const auto& c : t.init_containers)
    if (c.name.empty()) return fail(c.pos, "initContainers must all have container name");
  if (is_pod_type(t)) scope.add("pod.name");
  if (is_leaf(t)) {
    for (const auto& a : t.outputs.artifacts)
      if (!a.path.empty()) scope.add("outputs.artifacts." + a.name + ".path");
    for (const auto& p : t.outputs.parameters)
      if (p.value_from && !p.value_from->path.empty()) scope.add("outputs.parameters." + p.name + ".path");
  }

  TRY_STATUS(prefixed(process_args(t, args), "templates." + name));

  if (!t.timeout.empty()) {
    if (!is_leaf(t)) return fail(t.pos, fmt::format("{} template doesn't support timeout field", argo_type_name(t)));
    if (IntOrString::of(t.timeout).to_int().ok())
      return fail(t.pos, fmt::format("{} has invalid duration format in timeout", name));
  }
  if (!t.pending_timeout.empty() && !is_leaf(t))
    return fail(t.pos, fmt::format("{} template doesn't support pendingTimeout field", argo_type_name(t)));

  // The body is checked once per template; the inputs above once per caller.
  std::string id = base.id + "/" + (name.empty() ? fmt::format("inline@{}", static_cast<const void*>(&t)) : name);
  if (!validated_.insert(id).second) return ok_status();

  if (t.as<StepsTemplate>()) {
    TRY_STATUS(validate_steps(t, raw, base, scope));
  } else if (t.as<DagTemplate>()) {
    TRY_STATUS(validate_dag(t, raw, base, scope));
  } else {
    TRY_STATUS(validate_leaf(t, raw, base, scope));
  }
  TRY_STATUS(validate_outputs(t, raw, scope));
  if (t.archive_location && !t.archive_location->git.is_null() && !t.archive_location->git.contains("repo"))
    return fail(t.archive_location->pos, fmt::format("templates.{}.archiveLocation.git.repo is required", name));
  if (t.metrics.is_object()) {
    for (const auto& m : child(t.metrics, "prometheus")) {
      std::string metric = child(m, "name").is_string() ? child(m, "name").get<std::string>() : "";
      bool valid = !metric.empty() && !(metric[0] >= '0' && metric[0] <= '9');
      for (char c : metric) valid = valid && (is_alnum(c) || c == '_');
      if (!valid)
        return fail(t.pos, fmt::format("templates.{} metric name '{}' is invalid. Metric names must contain "
                                       "alphanumeric characters or '_'",
                                       name, metric));
      const Json& help = child(m, "help");
      if (!help.is_string() || help.get<std::string>().empty())
        return fail(t.pos, fmt::format("templates.{} metric '{}' must contain a help string under 'help: ' field",
                                       name, metric));
    }
  }
  return ok_status();
}

void Validator::add_outputs(const Template* t, const std::string& prefix, const std::string& name, Scope& scope,
                            bool aggregate, bool ancestor) {
  std::string ref = prefix + name;
  for (const char* key : {".id", ".startedAt", ".finishedAt", ".hostNodeName"}) scope.add(ref + key);
  if (!t) return;
  if (t->daemon.value_or(false)) scope.add(ref + ".ip");
  if (has_output(*t)) {
    scope.add(ref + ".outputs.result");
    scope.add(ref + ".exitCode");
  }
  for (const auto& p : t->outputs.parameters) {
    scope.add(ref + ".outputs.parameters." + p.name);
    if (p.global_name.empty()) continue;
    if (is_parameter(p.global_name)) {
      scope.any_workflow_output_parameter = true;
    } else {
      globals_.names.insert("workflow.outputs.parameters." + p.global_name);
    }
  }
  for (const auto& a : t->outputs.artifacts) {
    scope.add(ref + ".outputs.artifacts." + a.name);
    if (a.global_name.empty()) continue;
    if (is_parameter(a.global_name)) {
      scope.any_workflow_output_artifact = true;
    } else {
      globals_.names.insert("workflow.outputs.artifacts." + a.global_name);
    }
  }
  if (aggregate) {
    if (t->as<ScriptTemplate>() || t->as<ContainerSetTemplate>()) {
      scope.add(ref + ".outputs.result");
      scope.add(ref + ".exitCode");
    }
    scope.add(ref + ".outputs.parameters");
  }
  if (ancestor) scope.add(ref + ".status");
}

Status Validator::validate_hooks(const LifecycleHooks& hooks, const std::string& where, const Base& base) {
  for (const auto& [hook_name, hook] : hooks) {
    if (hook_name != "exit" && hook.expression.empty())
      return fail(hook.pos, fmt::format("{}.{} Expression required", where, hook_name));
    Holder h{hook.pos, hook.template_name, hook.template_ref ? &*hook.template_ref : nullptr, nullptr, nullptr};
    TRY_STATUS(prefixed(resolve(h, base), fmt::format("{}.{}", where, hook_name)));
  }
  return ok_status();
}

Status Validator::validate_steps(const Template& t, const Json& raw, const Base& base, Scope& scope) {
  const StepsTemplate& st = *t.as<StepsTemplate>();
  const std::string& name = t.name;
  if (t.active_deadline_seconds)
    return fail(t.pos, fmt::format("templates.{}.activeDeadlineSeconds is only valid for leaf templates", name));
  std::set<std::string> step_names;
  const Json& raw_groups = child(raw, "steps");
  for (size_t i = 0; i < st.steps.size(); ++i) {
    // Outputs of this group become visible to the groups after it.
    std::vector<std::function<void()>> publish;
    for (size_t j = 0; j < st.steps[i].size(); ++j) {
      const WorkflowStep& step = st.steps[i][j];
      const Json& raw_step = child(child(raw_groups, i), j);
      std::string at = fmt::format("templates.{}.steps[{}]", name, i);
      if (step.name.empty()) return fail(step.pos, at + ".name is required");
      if (!step_names.insert(step.name).second)
        return fail(step.pos, fmt::format("{}.name '{}' is not unique", at, step.name));
      if (auto bad = check_field_name(step.name); bad && !has_tag(step.name))
        return fail(step.pos, fmt::format("{}.name '{}' is invalid: {}", at, step.name, *bad));
      std::string here = at + "." + step.name;
      scope.add("steps." + step.name + ".status");
      Scope step_scope = scope;
      TRY_STATUS(prefixed(add_items(step.with_items, step.with_param, step.with_sequence, step_scope, step.pos), here));
      TRY_STATUS(check_arguments(here + ".arguments.", step.arguments, false));
      Holder h = holder_of(step, raw_step);
      Resolved r = TRY(prefixed(validate_holder(h, base, kFakeArgs), here));
      TRY_STATUS(validate_hooks(step.hooks, here, base));
      if (!step.on_exit.empty())
        TRY_STATUS(prefixed(resolve(Holder{step.pos, step.on_exit}, base), here + ".onExit"));
      if (step.hooks.count("exit")) add_outputs(r.tmpl, "steps.", step.name, step_scope, false, false);
      if (step.inline_template)
        for (const auto& p : step.inline_template->inputs.parameters) step_scope.add("inputs.parameters." + p.name);
      TRY_STATUS(prefixed(resolve_all(raw_step, step_scope, globals_, step.pos), "templates." + name + ".steps"));
      TRY_STATUS(prefixed(check_when_text(step.when, step.pos), here));
      bool aggregate = (step.with_items && !step.with_items->empty()) || !step.with_param.empty();
      publish.push_back([this, tmpl = r.tmpl, step_name = step.name, &scope, aggregate] {
        add_outputs(tmpl, "steps.", step_name, scope, aggregate, false);
      });
      TRY_STATUS(prefixed(validate_holder(h, base, Args{&step.arguments, false}), here));
    }
    for (auto& p : publish) p();
  }
  return ok_status();
}

struct DagInfo {
  std::map<std::string, const DagTask*> tasks;
  std::map<std::string, std::vector<std::string>> deps;  // task -> tasks it names
};

// GetTaskAncestry: every task reachable through dependencies.
// The task names a task's text refers to as "tasks.NAME"; nullopt when it may name tasks
// in another way (tasks['NAME'] in an expression), so that every ancestor must be in scope.
// Putting only the named ancestors' outputs in scope keeps a wide DAG's validation linear:
// a task of the tenth layer of a hundred has nine hundred ancestors.
std::optional<std::set<std::string>> tasks_referenced(const Json& raw_task) {
  // String by string rather than over the task written out: after a layer of hundreds a
  // task is mostly dependency names, which never hold a '.' or a '['.
  bool any = false;
  std::set<std::string> names;
  for_each_string(raw_task, [&](const std::string& text) {
    if (any) return;
    if (text.find("tasks[") != std::string::npos) {
      any = true;
      return;
    }
    for (size_t at = text.find("tasks."); at != std::string::npos; at = text.find("tasks.", at + 6)) {
      size_t end = at + 6;
      while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '-' ||
                                   text[end] == '_'))
        ++end;
      names.insert(text.substr(at + 6, end - at - 6));
    }
  });
  if (any) return std::nullopt;
  return names;
}

// Every task reachable through dependencies, for each task, as bit sets over the tasks'
// indices: a wide DAG has tasks with hundreds of ancestors, and sets of names made its
// validation quadratic in string compares.
struct Ancestry {
  std::vector<std::string> names;
  std::unordered_map<std::string, size_t> index;
  std::vector<std::vector<uint64_t>> of;  // of[task]: bit per ancestor

  explicit Ancestry(const DagInfo& dag) {
    for (const auto& [name, task] : dag.tasks) {
      index[name] = names.size();
      names.push_back(name);
    }
    const size_t words = (names.size() + 63) / 64;
    of.assign(names.size(), std::vector<uint64_t>(words, 0));
    std::vector<int> state(names.size(), 0);  // 0 new, 1 on the stack, 2 done
    for (size_t root = 0; root < names.size(); ++root) {
      std::vector<size_t> stack = {root};
      while (!stack.empty()) {
        size_t t = stack.back();
        if (state[t] == 2) {
          stack.pop_back();
          continue;
        }
        static const std::vector<std::string> kNone;
        auto found = dag.deps.find(names[t]);
        const std::vector<std::string>& deps = found != dag.deps.end() ? found->second : kNone;
        if (state[t] == 0) {
          state[t] = 1;
          for (const auto& d : deps)
            if (auto it = index.find(d); it != index.end() && state[it->second] == 0) stack.push_back(it->second);
          continue;
        }
        for (const auto& d : deps) {  // every dependency is done (a cycle was refused before)
          auto it = index.find(d);
          if (it == index.end()) continue;
          of[t][it->second / 64] |= uint64_t{1} << (it->second % 64);
          for (size_t w = 0; w < words; ++w) of[t][w] |= of[it->second][w];
        }
        state[t] = 2;
        stack.pop_back();
      }
    }
  }

  bool is_ancestor(const std::string& task, const std::string& other) const {
    auto t = index.find(task), o = index.find(other);
    return t != index.end() && o != index.end() && (of[t->second][o->second / 64] >> (o->second % 64)) & 1;
  }
};

// Argo's topological sort, for its messages: unknown dependency, cycle.
Status sort_tasks(const DagTemplate& dag, const DagInfo& info) {
  // By index: the dependencies of a DAG of layers number a hundred per task.
  std::unordered_map<std::string_view, size_t> index;
  for (const auto& t : dag.tasks)
    if (!index.emplace(t.name, index.size()).second) return invalid(fmt::format("duplicated nodeName {}", t.name), t.pos);
  std::vector<int> prior(dag.tasks.size(), 0);
  std::vector<std::vector<size_t>> next(dag.tasks.size());
  for (size_t i = 0; i < dag.tasks.size(); ++i) {
    const auto& deps = info.deps.at(dag.tasks[i].name);
    prior[i] = static_cast<int>(deps.size());
    for (const auto& d : deps) {
      auto it = index.find(d);
      if (it == index.end()) return invalid(fmt::format("invalid dependency {}", d), dag.tasks[i].pos);
      next[it->second].push_back(i);
    }
  }
  std::vector<size_t> queue;
  for (size_t i = 0; i < prior.size(); ++i)
    if (prior[i] == 0) queue.push_back(i);
  for (size_t head = 0; head < queue.size(); ++head)
    for (size_t n : next[queue[head]])
      if (--prior[n] == 0) queue.push_back(n);
  if (queue.size() != dag.tasks.size()) return invalid("graph with cycle", dag.pos);
  return ok_status();
}

Status Validator::validate_dag(const Template& t, const Json& raw, const Base& base, Scope& scope) {
  const DagTemplate& dag = *t.as<DagTemplate>();
  const std::string& name = t.name;
  if (t.active_deadline_seconds)
    return fail(t.pos, fmt::format("templates.{}.activeDeadlineSeconds is only valid for leaf templates", name));
  if (dag.tasks.empty()) return fail(dag.pos, fmt::format("templates.{} must have at least one task", name));
  bool using_depends = false;
  DagInfo info;
  for (const auto& task : dag.tasks) {
    using_depends = using_depends || !task.depends.empty();
    info.tasks[task.name] = &task;
  }
  for (const auto& task : dag.tasks) {
    auto& deps = info.deps[task.name];
    if (!task.depends.empty()) {
      auto parsed = expr::parse_depends(task.depends);
      if (!parsed.ok())
        return fail(task.pos, fmt::format("templates.{}.tasks.{} {}", name, task.name, parsed.error().message));
      deps = parsed->task_names();
    } else {
      std::unordered_set<std::string> seen;
      for (const auto& d : task.dependencies)
        if (seen.insert(d).second) deps.push_back(d);
    }
  }
  TRY_STATUS(prefixed(sort_tasks(dag, info), fmt::format("templates.{} sorting failed:", name)));
  TRY_STATUS(prefixed(check_names(dag.tasks, false), fmt::format("templates.{}.tasks", name), ""));

  const Json& raw_tasks = child(child(raw, "dag"), "tasks");
  std::map<std::string, const Template*> resolved;
  for (const auto& task : dag.tasks) {
    std::string here = fmt::format("templates.{}.tasks.{}", name, task.name);
    if ((using_depends || !task.dependencies.empty()) && task.name[0] >= '0' && task.name[0] <= '9')
      return fail(task.pos, fmt::format("{} name cannot begin with a digit when using either 'depends' or "
                                        "'dependencies'",
                                        here));
    if (using_depends && !task.dependencies.empty())
      return fail(task.pos, fmt::format("templates.{} cannot use both 'depends' and 'dependencies' in the same DAG "
                                        "template",
                                        name));
    if (using_depends && task.continue_on)
      return fail(task.pos, fmt::format("templates.{} cannot use 'continueOn' when using 'depends'. Instead use "
                                        "'dep-task.Failed'/'dep-task.Errored'",
                                        name));
    size_t index = static_cast<size_t>(&task - dag.tasks.data());
    Resolved r = TRY(prefixed(validate_holder(holder_of(task, child(raw_tasks, index)), base, kFakeArgs), here));
    resolved[task.name] = r.tmpl;
    if (!task.depends.empty()) {
      auto parsed = expr::parse_depends(task.depends);
      for (const auto& dep : parsed->item_dependencies()) {
        const DagTask* d = info.tasks.at(dep);
        if (!is_loop(d->with_items, d->with_param, d->with_sequence))
          return fail(task.pos, fmt::format("{} dependency '{}' uses an items-based condition such as .AnySucceeded "
                                            "or .AllFailed but does not contain any items",
                                            here, dep));
      }
    }
  }

  std::string target_text = dag.target;
  TRY_STATUS(prefixed(resolve_all(Json(dag.target), scope, globals_, dag.pos), "templates." + name + ".targets"));
  if (!dag.target.empty())
    for (const auto& target : split(dag.target, ' ')) {
      if (is_parameter(target)) continue;
      if (!info.tasks.count(target))
        return fail(dag.pos, fmt::format("templates.{}.targets: target '{}' is not defined", name, target));
    }

  const Ancestry ancestry(info);
  for (const auto& task : dag.tasks) {
    std::string here = fmt::format("templates.{}.tasks.{}", name, task.name);
    size_t index = static_cast<size_t>(&task - dag.tasks.data());
    const Json& raw_task = child(raw_tasks, index);
    Scope task_scope = scope;
    if (!task.hooks.empty()) task_scope.add("tasks." + task.name + ".status");
    if (task.hooks.count("exit")) add_outputs(resolved[task.name], "tasks.", task.name, task_scope, false, false);
    auto referenced = tasks_referenced(raw_task);
    for (const auto& a : referenced ? std::vector<std::string>(referenced->begin(), referenced->end())
                                    : ancestry.names) {
      if (!ancestry.is_ancestor(task.name, a)) continue;
      const DagTask* at = info.tasks.at(a);
      bool aggregate = (at->with_items && !at->with_items->empty()) || !at->with_param.empty();
      add_outputs(resolved[a], "tasks.", a, task_scope, aggregate, true);
    }
    if (task.inline_template)
      for (const auto& p : task.inline_template->inputs.parameters) task_scope.add("inputs.parameters." + p.name);
    TRY_STATUS(prefixed(add_items(task.with_items, task.with_param, task.with_sequence, task_scope, task.pos), here));
    // Arguments naming a task that is not an ancestor get Argo's dedicated message.
    for (const auto& p : task.arguments.parameters)
      if (p.value && starts_with(*p.value, "{{tasks.")) {
        auto parts = split(*p.value, '.');
        if (parts.size() > 1 && !ancestry.is_ancestor(task.name, parts[1]))
          return fail(p.pos, fmt::format("{} missing dependency '{}' for parameter '{}'", here, parts[1], p.name));
      }
    for (const auto& a : task.arguments.artifacts)
      if (starts_with(a.from, "{{tasks.")) {
        auto parts = split(a.from, '.');
        if (parts.size() > 1 && !ancestry.is_ancestor(task.name, parts[1]))
          return fail(a.pos, fmt::format("{} missing dependency '{}' for artifact '{}'", here, parts[1], a.name));
      }
    TRY_STATUS(prefixed(resolve_all(raw_task, task_scope, globals_, task.pos), here));
    TRY_STATUS(prefixed(check_when_text(task.when, task.pos), here));
    TRY_STATUS(check_arguments(here + ".arguments.", task.arguments, false));
    TRY_STATUS(validate_hooks(task.hooks, here, base));
    if (!task.on_exit.empty())
      TRY_STATUS(prefixed(resolve(Holder{task.pos, task.on_exit}, base), here + ".onExit"));
    TRY_STATUS(prefixed(validate_holder(holder_of(task, raw_task), base, Args{&task.arguments, false}), here));
  }
  // Outputs of a DAG template may name any of its tasks.
  for (const auto& task : dag.tasks) add_outputs(resolved[task.name], "tasks.", task.name, scope, false, false);
  return ok_status();
}

// Kubernetes container names Argo reserves for itself.
bool reserved_container_name(const std::string& n) { return n == "wait" || n == "init"; }

Status check_image(const Template& t, const Container& c, const char* kind, const Base& base) {
  const std::string& name = t.name;
  if (!c.image.empty() && c.image[0] == '-')
    return fail(c.pos, fmt::format("templates.{}.{}.image {} must not start with '-'", name, kind, go_quote(c.image)));
  if (!c.image.empty()) return ok_status();
  const Template* defaults = base.spec ? base.spec->template_defaults.get() : nullptr;
  const Container* dc = defaults ? defaults->container() : nullptr;
  bool same_kind = defaults && std::string_view(defaults->kind_name()) == kind;
  if (!dc || !same_kind || dc->image.empty())
    return fail(c.pos, fmt::format("templates.{}.{}.image may not be empty", name, kind));
  return ok_status();
}

Status Validator::validate_leaf(const Template& t, const Json& raw, const Base& base, const Scope& scope) {
  const std::string& name = t.name;
  TRY_STATUS(prefixed(resolve_all(raw, scope, globals_, t.pos), "templates." + name + ":"));
  if (auto* c = t.as<ContainerTemplate>()) {
    std::map<std::string, std::string> mounts;
    for (size_t i = 0; i < c->volume_mounts.size(); ++i) {
      const auto& m = c->volume_mounts[i];
      if (auto it = mounts.find(m.mount_path); it != mounts.end())
        return fail(m.pos, fmt::format("templates.{}.container.volumeMounts[{}].mountPath '{}' already mounted in {}",
                                       name, i, m.mount_path, it->second));
      mounts[m.mount_path] = "container.volumeMounts." + m.name;
    }
    for (size_t i = 0; i < t.inputs.artifacts.size(); ++i) {
      const auto& a = t.inputs.artifacts[i];
      if (auto it = mounts.find(a.path); it != mounts.end())
        return fail(a.pos, fmt::format("templates.{}.inputs.artifacts[{}].path '{}' already mounted in {}", name, i,
                                       a.path, it->second));
      mounts[a.path] = "inputs.artifacts." + a.name;
    }
    TRY_STATUS(check_image(t, *c, "container", base));
  }
  if (auto* cs = t.as<ContainerSetTemplate>()) {
    if (cs->containers.empty())
      return fail(cs->pos, fmt::format("templates.{}.containerSet.containers must have at least one container", name));
    std::set<std::string> names;
    for (const auto& c : cs->containers) {
      if (!names.insert(c.name).second)
        return fail(c.pos, fmt::format("templates.{}.containerSet.containers[].name must be unique: {}", name, c.name));
      if (reserved_container_name(c.name))
        return fail(c.pos, fmt::format("templates.{}.containerSet.containers: \"{}\" is a reserved Argo container name",
                                       name, c.name));
    }
    for (const auto& c : cs->containers)
      for (const auto& d : c.dependencies)
        if (!names.count(d))
          return fail(c.pos, fmt::format("templates.{}.containerSet.containers.{} dependency \"{}\" not found", name,
                                         c.name, d));
    bool io = !t.inputs.artifacts.empty() || !t.outputs.parameters.empty() || !t.outputs.artifacts.empty();
    if (io && !names.count("main"))
      return fail(cs->pos, fmt::format("templates.{}.containerSet.containers must have a container named \"main\" for "
                                       "input or output",
                                       name));
  }
  for (const auto& s : t.sidecars)
    if (reserved_container_name(s.name))
      return fail(s.pos, fmt::format("templates.{}.sidecars: \"{}\" is a reserved Argo container name", name, s.name));
  if (auto* r = t.as<ResourceTemplate>()) {
    static const std::set<std::string> kActions = {"get", "create", "apply", "delete", "replace", "patch"};
    if (!has_tag(r->action) && !kActions.count(r->action))
      return fail(r->pos, fmt::format("templates.{}.resource.action must be one of: get, create, apply, delete, "
                                      "replace, patch",
                                      name));
    if (r->action != "delete" && r->action != "get") {
      if (r->manifest.empty() && !r->manifest_from)
        return fail(r->pos, fmt::format("either templates.{0}.resource.manifest or templates.{0}.resource.manifestFrom "
                                        "must be specified",
                                        name));
      if (!r->manifest.empty() && r->manifest_from)
        return fail(r->pos, "shouldn't have both `manifest` and `manifestFrom` specified in `Manifest` for resource "
                            "template");
      if (r->manifest_from) {
        const std::string& art = r->manifest_from->artifact.name;
        bool found = std::any_of(t.inputs.artifacts.begin(), t.inputs.artifacts.end(),
                                 [&](const Artifact& a) { return a.name == art; });
        if (!found)
          return fail(r->pos, fmt::format("artifact {} in `manifestFrom` refer to a non-exist artifact", art));
      }
      if (!r->manifest.empty()) {
        // Tags are substituted before the manifest is parsed; a word stands in for each.
        std::string text = r->manifest;
        auto tags = expr::find_tags(text);
        if (tags.ok())
          for (auto it = tags->rbegin(); it != tags->rend(); ++it)
            text.replace(it->begin, it->end - it->begin, "placeholder");
        ParseOptions opts;
        opts.allow_duplicate_keys = true;
        if (!parse_yaml(text, "manifest", opts).ok())
          return fail(r->pos, fmt::format("templates.{}.resource.manifest must be a valid yaml", name));
      }
    }
  }
  if (auto* h = t.as<HttpTemplate>()) TRY_STATUS(check_http(name, *h));
  if (auto* d = t.as<DataTemplate>()) TRY_STATUS(check_data(name, *d));
  if (auto* s = t.as<ScriptTemplate>()) TRY_STATUS(check_image(t, *s, "script", base));
  if (const auto& ads = t.active_deadline_seconds) {
    bool valid = ads->is_int ? true : (ads->to_int().ok() || is_parameter(ads->str_value));
    auto i = ads->to_int();
    if (!valid || (i.ok() && *i < 0))
      return fail(ads->pos, fmt::format("templates.{}.activeDeadlineSeconds must be a positive integer > 0 or an argo "
                                        "variable",
                                        name));
  }
  if (t.parallelism)
    return fail(t.pos, fmt::format("templates.{}.parallelism is only valid for steps and dag templates", name));
  return ok_status();
}

Status check_output_parameter(const std::string& ref, const Parameter& p) {
  if (p.value_from && p.value) return fail(p.pos, ref + " has both valueFrom and value specified, choose one");
  if (p.value) return ok_status();
  if (!p.value_from) return fail(p.pos, ref + " does not have valueFrom or value specified");
  const ValueFrom& vf = *p.value_from;
  int kinds = 0;
  for (const std::string* v : {&vf.path, &vf.jq_filter, &vf.json_path, &vf.parameter, &vf.expression})
    kinds += !v->empty();
  kinds += vf.supplied.has_value();
  if (kinds == 0)
    return fail(p.pos, "valueFrom type unspecified. choose one of: path, jqFilter, jsonPath, parameter, raw, expression");
  if (kinds > 1) return fail(p.pos, "multiple valueFrom types specified. choose one of: path, jqFilter, jsonPath, parameter, raw");
  return ok_status();
}

Status Validator::validate_outputs(const Template& t, const Json& raw, const Scope& scope) {
  const std::string& name = t.name;
  TRY_STATUS(prefixed(check_names(t.outputs.parameters, true), "templates." + name + ".outputs.parameters"));
  TRY_STATUS(prefixed(check_names(t.outputs.artifacts, true), "templates." + name + ".outputs.artifacts"));
  TRY_STATUS(prefixed(resolve_all(child(raw, "outputs"), scope, globals_, t.outputs.pos),
                      "templates." + name + ".outputs"));
  for (const auto& a : t.outputs.artifacts) {
    std::string ref = "outputs.artifacts." + a.name;
    if (is_leaf(t) && a.path.empty())
      return fail(a.pos, fmt::format("error in templates.{}.{}: Artifact '{}' did not specify a path", name, ref, a.name));
    if (!is_leaf(t) && !a.path.empty())
      return fail(a.pos, fmt::format("templates.{}.{}.path only valid in container/script templates", name, ref));
    if (!a.global_name.empty() && !is_parameter(a.global_name))
      if (auto bad = check_param_name(a.global_name))
        return fail(a.pos, fmt::format("templates.{}.{}.globalName: {}", name, ref, *bad));
  }
  for (const auto& p : t.outputs.parameters) {
    std::string ref = fmt::format("templates.{}.outputs.parameters.{}", name, p.name);
    TRY_STATUS(check_output_parameter(ref, p));
    if (p.value_from) {
      const ValueFrom& vf = *p.value_from;
      const char* type = argo_type_name(t);
      if (t.as<ContainerTemplate>() || t.as<ContainerSetTemplate>() || t.as<ScriptTemplate>()) {
        if (vf.path.empty()) return fail(p.pos, fmt::format("{}.path must be specified for {} templates", ref, type));
      } else if (t.as<ResourceTemplate>()) {
        if (vf.jq_filter.empty() && vf.json_path.empty())
          return fail(p.pos, fmt::format("{} .jqFilter or jsonPath must be specified for {} templates", ref, type));
      } else if (t.as<DagTemplate>() || t.as<StepsTemplate>()) {
        if (vf.parameter.empty() && vf.expression.empty())
          return fail(p.pos, fmt::format("{}.parameter or expression must be specified for {} templates", ref, type));
        if (!vf.parameter.empty() && !vf.expression.empty())
          return fail(p.pos, fmt::format("{} shouldn't have both `from` and `expression` specified in `ValueFrom` for "
                                         "{} templates",
                                         ref, type));
      }
    }
    if (!p.global_name.empty() && !is_parameter(p.global_name))
      if (auto bad = check_param_name(p.global_name)) return fail(p.pos, fmt::format("{}.globalName: {}", ref, *bad));
  }
  return ok_status();
}

// ---------------------------------------------------------------------------------------------
// The workflow level.

Status Validator::workflow(const ObjectMeta& meta, const WorkflowSpec& spec, const Json& raw_spec, bool lint,
                           bool ignore_entrypoint) {
  Base base{&spec, &raw_spec, ""};
  const WorkflowSpec* ref_spec = nullptr;
  const Document* ref_doc = nullptr;
  std::string entrypoint = spec.entrypoint;
  if (const auto& ref = spec.workflow_template_ref) {
    if (!spec.templates.empty())
      return fail(spec.pos, "Templates is invalid field in spec if workflow referred WorkflowTemplate reference");
    ref_doc = ctx_.find(ref->cluster_scope, ref->name);
    if (!ref_doc)
      return fail(ref->pos, fmt::format("{}.argoproj.io \"{}\" not found",
                                        ref->cluster_scope ? "clusterworkflowtemplates" : "workflowtemplates",
                                        ref->name));
    ref_spec = ref_doc->workflow_spec();
    if (entrypoint.empty()) entrypoint = ref_spec->entrypoint;
  }
  TRY_STATUS(prefixed(check_names(spec.templates, false), "spec.templates", ""));

  Arguments args = spec.arguments;
  if (ref_spec) {
    for (const auto& p : ref_spec->arguments.parameters)
      if (!Args{&args}.parameter(p.name)) args.parameters.push_back(p);
    for (const auto& a : ref_spec->arguments.artifacts)
      if (!Args{&args}.artifact(a.name)) args.artifacts.push_back(a);
  }
  bool allow_empty = lint || globals_.template_validation;
  TRY_STATUS(check_arguments("spec.arguments.", args, allow_empty));

  auto& g = globals_.names;
  for (const char* k : {"workflow.name", "workflow.namespace", "workflow.mainEntrypoint",
                        "workflow.serviceAccountName", "workflow.uid", "workflow.status", "workflow.annotations",
                        "workflow.annotations.json", "workflow.labels", "workflow.labels.json"})
    g.insert(k);
  if (!args.parameters.empty()) {
    g.insert("workflow.parameters");
    g.insert("workflow.parameters.json");
  }
  for (const auto& p : args.parameters)
    if (!p.name.empty()) g.insert("workflow.parameters." + p.name);
  auto add_keys = [&](const char* prefix, const Json& map) {
    if (map.is_object())
      for (const auto& [k, v] : map.items()) g.insert(prefix + k);
  };
  for (const auto& [k, v] : meta.annotations) g.insert("workflow.annotations." + k);
  for (const auto& [k, v] : meta.labels) g.insert("workflow.labels." + k);
  for (const WorkflowSpec* s : {&spec, ref_spec}) {
    if (!s) continue;
    add_keys("workflow.annotations.", child(s->workflow_metadata, "annotations"));
    add_keys("workflow.labels.", child(s->workflow_metadata, "labels"));
    add_keys("workflow.labels.", child(s->workflow_metadata, "labelsFrom"));
  }
  if (spec.priority) g.insert("workflow.priority");

  if (!ignore_entrypoint && entrypoint.empty()) return fail(spec.pos, "spec.entrypoint is required");

  Base ref_base;
  TemplateRef entry_ref;
  if (ref_spec) {
    ref_base = Base{ref_spec, &child(ref_doc->raw, "spec"), ref_doc->kind + "/" + ref_doc->name()};
    entry_ref = TemplateRef{spec.workflow_template_ref->pos, spec.workflow_template_ref->name, entrypoint,
                            spec.workflow_template_ref->cluster_scope};
  }
  auto holder_for = [&](const std::string& tmpl, const SourcePos& pos, TemplateRef& ref) {
    if (!ref_spec) return Holder{pos, tmpl};
    ref.template_name = tmpl;
    return Holder{pos, "", &ref};
  };
  if (!ignore_entrypoint) {
    Args entry_args = globals_.template_validation ? kFakeArgs : Args{&args, false};
    TRY_STATUS(validate_holder(holder_for(entrypoint, spec.pos, entry_ref), base, entry_args));
  }

  std::string on_exit = spec.on_exit;
  if (on_exit.empty() && ref_spec) on_exit = ref_spec->on_exit;
  if (!on_exit.empty()) {
    g.insert("workflow.failures");
    auto parametrized = [](const WorkflowSpec* s) {
      if (s)
        for (const auto& t : s->templates)
          for (const auto& a : t.outputs.artifacts)
            if (!a.global_name.empty() && is_parameter(a.global_name)) return true;
      return false;
    };
    if (parametrized(&spec) || parametrized(ref_spec)) globals_.any_workflow_output_artifact = true;
    TemplateRef exit_ref = entry_ref;
    TRY_STATUS(validate_holder(holder_for(on_exit, spec.pos, exit_ref), base, Args{&spec.arguments, false}));
  }
  for (const auto& [hook_name, hook] : spec.hooks)
    if (hook_name != "exit" && hook.expression.empty())
      return fail(hook.pos, fmt::format("hooks.{} Expression required", hook_name));
  TRY_STATUS(validate_hooks(spec.hooks, "hooks", base));

  if (spec.pod_gc) {
    static const std::set<std::string> kStrategies = {"", "OnPodCompletion", "OnPodSuccess", "OnWorkflowCompletion",
                                                      "OnWorkflowSuccess"};
    if (!kStrategies.count(spec.pod_gc->strategy))
      return fail(spec.pod_gc->pos, fmt::format("podGC.strategy unknown strategy '{}'", spec.pod_gc->strategy));
  }

  if (ref_spec) {
    for (const auto& t : ref_spec->templates) {
      TemplateRef r = entry_ref;
      r.template_name = t.name;
      TRY_STATUS(prefixed(validate_holder(Holder{spec.pos, "", &r}, base, kFakeArgs), "templates." + t.name));
    }
    return ok_status();
  }
  for (const auto& t : spec.templates)
    TRY_STATUS(prefixed(validate_holder(Holder{t.pos, t.name}, base, kFakeArgs), "templates." + t.name));
  return ok_status();
}

// ---------------------------------------------------------------------------------------------
// Object names.

// metadata.name as the Kubernetes API server checks it (RFC 1123 subdomain).
Status check_object_name(const ObjectMeta& meta, const char* what, size_t max_len) {
  if (meta.name.size() > max_len)
    return fail(meta.pos, fmt::format("{} name {} must not be more than {} characters long (currently {})", what,
                                      go_quote(meta.name), max_len, meta.name.size()));
  auto dns1123 = [](std::string_view s, bool prefix) {
    if (s.empty() || s.size() > 253) return s.empty() && prefix;
    for (size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
      bool edge = i == 0 || (i == s.size() - 1 && !prefix) || s[i - 1] == '.' || (i + 1 < s.size() && s[i + 1] == '.');
      if (!alnum && (edge || (c != '-' && c != '.'))) return false;
    }
    return true;
  };
  static const char* kRule =
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start "
      "and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
      "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
  if (!meta.name.empty() && !has_tag(meta.name) && !dns1123(meta.name, false))
    return fail(meta.pos, fmt::format("metadata.name: Invalid value: {}: {}", go_quote(meta.name), kRule));
  if (!meta.generate_name.empty() && !has_tag(meta.generate_name) && !dns1123(meta.generate_name, true))
    return fail(meta.pos, fmt::format("metadata.generateName: Invalid value: {}: {}", go_quote(meta.generate_name), kRule));
  return ok_status();
}

constexpr size_t kMaxObjectName = 63;
constexpr size_t kMaxCronName = 52;

Status validate_cron(const CronWorkflow& cron, const Json& raw, const ValidateContext& ctx) {
  TRY_STATUS(check_object_name(cron.metadata, "cron workflow", kMaxCronName));
  const CronWorkflowSpec& s = cron.spec;
  // Argo v3.6's ValidateCronWorkflow: one of the two, the single one read as a list of one.
  if (!s.schedule.empty() && !s.schedules.empty())
    return fail(s.pos, "cron workflow cant be configured with both Spec.Schedule and Spec.Schedules");
  std::vector<std::string> schedules = s.schedule.empty() ? s.schedules : std::vector<std::string>{s.schedule};
  if (schedules.empty()) return fail(s.pos, "cron workflow must have at least one schedule");
  for (const auto& schedule : schedules) {
    Status parsed = check_cron_schedule(schedule);
    if (!parsed.ok())
      return fail(s.pos, fmt::format("cron schedule {} is malformed: {}", schedule, parsed.error().message));
  }
  if (!s.timezone.empty() && !valid_timezone(s.timezone))
    return fail(s.pos, fmt::format("invalid timezone {}: unknown time zone {}", go_quote(s.timezone), s.timezone));
  static const std::set<std::string> kPolicies = {"Allow", "Forbid", "Replace", ""};
  if (!kPolicies.count(s.concurrency_policy))
    return fail(s.pos, fmt::format("'{}' is not a valid concurrencyPolicy", s.concurrency_policy));
  if (s.starting_deadline_seconds && *s.starting_deadline_seconds < 0)
    return fail(s.pos, "startingDeadlineSeconds must be positive");
  Validator v(ctx, false);
  ObjectMeta meta = cron.metadata;
  if (s.workflow_metadata) {
    for (const auto& [k, val] : s.workflow_metadata->labels) meta.labels[k] = val;
    for (const auto& [k, val] : s.workflow_metadata->annotations) meta.annotations[k] = val;
  }
  return prefixed(v.workflow(meta, s.workflow_spec, child(child(raw, "spec"), "workflowSpec"), false, false),
                  "cannot validate Workflow:");
}

Status validate_status(const Document& doc, const ValidateContext& ctx) {
  if (auto* w = std::get_if<Workflow>(&doc.object)) {
    TRY_STATUS(check_object_name(w->metadata, "workflow", kMaxObjectName));
    Validator v(ctx, false);
    return v.workflow(w->metadata, w->spec, child(doc.raw, "spec"), ctx.lint, false);
  }
  auto wftmpl = [&](const WorkflowTemplate& t, const char* what) -> Status {
    TRY_STATUS(check_object_name(t.metadata, what, kMaxObjectName));
    Validator v(ctx, true);
    return v.workflow(t.metadata, t.spec, child(doc.raw, "spec"), ctx.lint, t.spec.entrypoint.empty());
  };
  if (auto* t = std::get_if<WorkflowTemplate>(&doc.object)) return wftmpl(*t, "workflow template");
  if (auto* t = std::get_if<ClusterWorkflowTemplate>(&doc.object)) return wftmpl(*t, "cluster workflow template");
  if (auto* c = std::get_if<CronWorkflow>(&doc.object)) return validate_cron(*c, doc.raw, ctx);
  return ok_status();
}

}  // namespace

std::vector<Diagnostic> validate(const Document& doc, const ValidateContext& ctx) {
  Status s = validate_status(doc, ctx);
  if (s.ok()) return {};
  Error e = s.take_error();
  return {Diagnostic{e.pos.known() ? e.pos : doc.pos, e.message}};
}

}  // namespace tether::spec
