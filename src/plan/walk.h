// Internals of the planner: one walk of a run from its root (Argo's operate()). Split over
// walk.cc (templates, retries, leaves, the workflow), steps.cc, dag.cc and scope.cc.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "plan/planner.h"

namespace tether::plan {

using Vars = std::map<std::string, Json>;

// Where template names resolve: the workflow's own templates, or those of the
// (Cluster)WorkflowTemplate a templateRef led into.
struct TmplCtx {
  const Json* spec = nullptr;  // a spec with "templates"
  std::string scope;           // Argo's templateScope: "local/<wf>", "namespaced/<name>", "cluster/<name>"
};

// The variables visible to the steps or tasks of one template (Argo's wfScope).
struct Scope {
  Vars vars;
  std::set<std::string> absent;  // keys of skipped producers' outputs with no default
  std::map<std::string, Json> artifacts;  // "steps.x.outputs.artifacts.y" -> Artifact JSON
};

struct ExecOpts {
  std::string boundary_id;
  bool on_exit = false;
  bool hooked = false;
  std::string template_scope;  // the caller's scope, recorded on the node (Argo's templateScope)
  int parallel_limit = 0;      // parallelism of the boundary's template (0: none)
};

// A steps or DAG template as processed for its node (inputs applied, fields substituted).
struct ProcessedTemplate {
  Json tmpl;
  TmplCtx ctx;
  bool dag = false;
  std::string caller_scope;  // recorded on its children (Argo's templateScope)
};

// What executing a template produced: the node (nullptr when none was created) and the
// error that made it an Error node, if any.
struct Exec {
  NodeStatus* node = nullptr;
  std::string error;
};

// Argo's sentinel for an argument that purely references an absent optional output.
inline constexpr const char* kAbsentOptional = "__argo-internal.absent-optional-output__";

class Planner::Walk {
 public:
  Walk(Planner& p, WallTime now);
  Result<Turn> run();

  // walk.cc
  Exec execute_template(const std::string& name, const Json& holder, const Json& args, const TmplCtx& ctx,
                        const ExecOpts& opts);
  Exec existing_pod(NodeStatus& n, const ExecOpts& opts);
  void add_container_nodes(NodeStatus& pod, const Json& holder, const std::string& scope, const Json& containers);
  int active_children(const std::string& boundary) const;
  NodeStatus& init_node(const std::string& name, const char* type, const Json& holder, const std::string& scope,
                        const std::string& boundary, const std::string& phase, const std::string& message = "");
  NodeStatus* mark(const std::string& name, const std::string& phase, std::optional<std::string> message = {});
  void add_child(const std::string& parent, const std::string& child);
  // child_is_new: the child was made in this walk, so no parent can have it yet.
  void add_child_id(NodeStatus& parent, const std::string& child_id, bool child_is_new = false);
  NodeStatus* node(const std::string& name) { return p_.state_.by_name(p_.spec_.name, name); }
  const NodeStatus* get(const std::string& id) const { return p_.state_.get(id); }
  const NodeMap& nodes() const { return p_.state_.nodes; }
  std::string id_of(const std::string& name) const { return node_id(p_.spec_.name, name); }
  void touch(const NodeStatus& n) { p_.state_.changed.insert(n.id); }
  std::vector<std::string> outbound_nodes(const std::string& id) const;
  // The same, each handed to f rather than collected (connecting a task after a layer of a
  // hundred visits a hundred of them).
  void each_outbound(const std::string& id, const std::function<void(const std::string&)>& f) const;
  bool children_fulfilled(const NodeStatus& n) const;
  // The expanded loop children "name(i:...)" of a step or task within a boundary.
  std::vector<const NodeStatus*> loop_children(const std::string& boundary, const std::string& name,
                                               bool without_skipped) const;
  Exec run_on_exit(const Json& hook, NodeStatus& parent, const std::string& boundary, const TmplCtx& ctx,
                   const std::string& ref_prefix, const std::string& ref_name, const Scope& scope);
  Exec run_hooks(const Json& hooks, const std::string& parent_name, const std::string& boundary, const TmplCtx& ctx,
                 const Vars& vars, bool* completed);
  Result<std::pair<Json, TmplCtx>> resolve_template(const Json& holder, const TmplCtx& ctx);
  const Vars& globals() const { return globals_; }
  static Vars base_globals(const Planner& p);
  // A stop, a terminate or the workflow's activeDeadlineSeconds: nothing new starts.
  bool shutting_down() const { return !p_.shutdown_.empty() || p_.deadline_exceeded_; }
  // Only a terminate keeps exit handlers from running.
  bool exit_handlers_run() const { return p_.shutdown_ != "Terminate"; }
  // What a node that a shutdown ends says (Argo's words).
  std::string stop_message() const {
    return p_.shutdown_.empty() ? std::string("Step exceeded its deadline")
                                : "Stopped with strategy '" + p_.shutdown_ + "'";
  }

  Exec execute_body(const std::string& name, const ProcessedTemplate& t, const Json& holder, const ExecOpts& opts);

  // steps.cc
  Exec execute_steps(const std::string& name, const Json& tmpl, const Json& holder, const TmplCtx& ctx,
                     const ExecOpts& opts);
  // dag.cc
  Exec execute_dag(const std::string& name, const Json& tmpl, const Json& holder, const TmplCtx& ctx,
                   const ExecOpts& opts);

  // scope.cc
  Scope create_scope(const Json& tmpl) const;
  void add_node_to_scope(Scope& s, const std::string& prefix, const std::string& name, const NodeStatus& n) const;
  void add_aggregate_to_scope(Scope& s, const std::string& prefix, const std::string& name,
                              std::vector<const NodeStatus*> children) const;
  void add_skipped_outputs_to_scope(Scope& s, const std::string& prefix, const std::string& name,
                                    const NodeStatus& n, const Json& holder, const TmplCtx& ctx, bool artifacts);
  void add_global_outputs(const Json& outputs);
  Result<Json> template_outputs_from_scope(const Json& tmpl, const Scope& s) const;
  Result<Json> resolve_arguments(const Json& args, const Scope& s) const;

  Planner& p_;
  WallTime now_;
  Turn turn_;
  Vars globals_;
};

// ---- helpers shared by the walk files (scope.cc) ----
std::string jstr(const Json& j, const char* key);
const Json& jget(const Json& j, const char* key);  // null when absent
// Substitutes every string of j (values, not keys) in one pass.
Status substitute_json(Json& j, const Vars& vars, bool allow_unresolved = true);
Result<std::string> substitute_str(const std::string& s, const Vars& vars, bool allow_unresolved = true);
// A value as Argo renders it into text: strings as is, other JSON compact.
std::string value_text(const Json& v);
// Loop items of a step or task: withItems, withParam (a JSON list), withSequence.
Result<std::vector<Json>> expand_items(const Json& holder);
// Argo's loop child name "name(i:desc)" and the item variables.
std::string loop_name(const std::string& name, size_t index, const Json& item);
// Sets the item variables in vars and returns their keys (to take them out again).
std::vector<std::string> item_vars(const Json& item, Vars& vars);
// Go's fmt %v of a JSON value (item descriptions).
std::string go_value(const Json& v);
bool has_loop(const Json& holder);
// A parameter's valueFrom.configMapKeyRef, falling back to valueFrom.default as Argo does.
Result<std::string> config_map_value(const Json& param, const ConfigMapSource& source);
// A steps or DAG template's parallelism (0: none).
int template_parallelism(const Json& tmpl);
// continueOn of a step or task covers this phase.
bool continues_on(const Json& holder, const std::string& ph);
// The exit hook of a step or task: hooks.exit, else onExit as a hook; null when none.
Json exit_hook_of(const Json& holder);
void record_global_outputs(RunState& st, const Json& outputs);
void settle_containers(RunState& st, const NodeStatus& pod, const std::vector<std::pair<std::string, int>>& exits);
std::string display_name(const std::string& name, const std::string& boundary_name);

}  // namespace tether::plan
