// DAG templates: tasks run when their `depends` (or `dependencies`) hold; the DAG's phase
// comes from its target tasks (Argo's executeDAG / executeDAGTask / assessDAGPhase).
#include <algorithm>
#include <deque>
#include <set>

#include "base/strings.h"
#include "expr/depends.h"
#include "expr/govaluate.h"
#include "plan/walk.h"

namespace tether::plan {

namespace {

bool strictly_completed(const std::string& p) {
  return p == phase::kSucceeded || p == phase::kFailed || p == phase::kError;
}

}  // namespace

struct DagRun {
  Planner::Walk& w;
  std::string name;      // the DAG node's name
  std::string boundary;  // its ID
  const Json& tmpl;
  const TmplCtx& ctx;
  bool on_exit;
  int parallelism;  // of the DAG template: at most this many children unfinished
  std::map<std::string, const Json*> tasks;
  std::set<std::string> visited;

  const Json* task(const std::string& t) const {
    auto it = tasks.find(t);
    return it == tasks.end() ? nullptr : it->second;
  }
  std::string task_node_name(const std::string& t) const { return name + "." + t; }
  NodeStatus* task_node(const std::string& t) { return w.node(task_node_name(t)); }

  std::string depends_logic(const Json& t) const {
    if (!jstr(t, "depends").empty()) return jstr(t, "depends");
    std::vector<std::string> deps;
    const Json& d = jget(t, "dependencies");
    if (d.is_array())
      for (const auto& x : d) deps.push_back(value_text(x));
    return deps.empty() ? std::string() : expr::dependencies_to_depends(deps);
  }

  std::vector<std::string> dependencies(const Json& t) const {
    std::string logic = depends_logic(t);
    if (logic.empty()) return {};
    auto parsed = expr::parse_depends(logic);
    return parsed.ok() ? parsed->task_names() : std::vector<std::string>{};
  }

  std::vector<std::string> leaf_tasks() const {
    std::set<std::string> depended;
    for (const auto& [n, t] : tasks)
      for (const auto& d : dependencies(*t)) depended.insert(d);
    std::vector<std::string> out;
    const Json& list = jget(jget(tmpl, "dag"), "tasks");
    for (const auto& t : list)
      if (!depended.count(jstr(t, "name"))) out.push_back(jstr(t, "name"));
    return out;
  }

  // Every task this one depends on, transitively (Argo's GetTaskAncestry).
  void ancestors(const std::string& t, std::vector<std::string>& out, std::set<std::string>& seen) const {
    const Json* tj = task(t);
    if (!tj) return;
    for (const auto& d : dependencies(*tj)) {
      if (seen.count(d)) continue;
      seen.insert(d);
      ancestors(d, out, seen);
      out.push_back(d);
    }
  }

  Scope scope_for(const std::string& t) {
    Scope s = w.create_scope(tmpl);
    std::vector<std::string> anc;
    std::set<std::string> seen;
    ancestors(t, anc, seen);
    for (const auto& a : anc) {
      NodeStatus* an = task_node(a);
      if (!an) continue;
      add_task_to_scope(s, a, *an);
      if (const Json* aj = task(a)) w.add_skipped_outputs_to_scope(s, "tasks", a, *an, *aj, ctx, false);
    }
    return s;
  }

  void add_task_to_scope(Scope& s, const std::string& t, const NodeStatus& n) {
    if (n.type == node_type::kTaskGroup) {
      w.add_aggregate_to_scope(s, "tasks", t, w.loop_children(boundary, n.name, false));
    }
    w.add_node_to_scope(s, "tasks", t, n);
  }

  void connect(const std::string& t, const std::string& child, const NodeStatus* group) {
    std::vector<std::string> deps = dependencies(*task(t));
    if (deps.empty() || group) {
      w.add_child(group ? group->name : name, child);
      return;
    }
    for (const auto& d : deps) {
      NodeStatus* dn = task_node(d);
      if (!dn) continue;
      for (const auto& o : w.outbound_nodes(dn->id))
        if (const NodeStatus* on = w.get(o)) w.add_child(on->name, child);
    }
  }

  void error_node(const std::string& t, const std::string& node_name, const std::string& msg) {
    if (!w.node(node_name))
      w.init_node(node_name, node_type::kSkipped, *task(t), ctx.scope, boundary, phase::kError, msg);
    connect(t, node_name, nullptr);
  }

  // Runs the task's exit hook once the task completed; true when there is nothing left to wait for.
  bool exit_hook_done(const std::string& t, NodeStatus& n) {
    Json hook = exit_hook_of(*task(t));
    if (hook.is_null() || !strictly_completed(n.phase)) return true;
    Scope s = scope_for(t);
    Exec e = w.run_on_exit(hook, n, boundary, ctx, "tasks", t, s);
    return e.error.empty() && e.node && phase_fulfilled(e.node->phase);
  }

  void execute(const std::string& t) {
    if (visited.count(t) || !task(t)) return;
    visited.insert(t);
    const Json& tj = *task(t);
    std::string node_name = task_node_name(t);
    NodeStatus* n = task_node(t);
    if (n && (phase_fulfilled(n->phase) || n->phase == phase::kRunning)) {
      Scope s = scope_for(t);
      s.vars["tasks." + t + ".status"] = n->phase;
      bool hooks_done = true;
      Exec h = w.run_hooks(jget(tj, "hooks"), n->name, boundary, ctx, s.vars, &hooks_done);
      if (!h.error.empty()) w.mark(n->name, phase::kError, h.error);
      if (!hooks_done) return;
    }
    if (n && phase_fulfilled(n->phase)) {
      exit_hook_done(t, *n);
      return;
    }
    NodeStatus* group = n && n->type == node_type::kTaskGroup ? n : nullptr;
    std::string logic = depends_logic(tj);
    if (!logic.empty() && !n) {
      auto parsed = expr::parse_depends(logic);
      if (!parsed.ok()) {
        error_node(t, node_name, "unable to evaluate expression '" + logic + "': " + parsed.error().message);
        return;
      }
      for (const auto& d : parsed->task_names()) execute(d);
      for (const auto& d : parsed->task_names()) {
        NodeStatus* dn = task_node(d);
        if (!dn || !phase_fulfilled(dn->phase)) return;
        const NodeStatus* exit = w.node(dn->name + ".onExit");
        if (!exit_hook_of(*task(d)).is_null() && strictly_completed(dn->phase) && (!exit || !phase_fulfilled(exit->phase)))
          return;
      }
      bool go = parsed->eval([&](const std::string& d) {
        expr::TaskState s;
        const NodeStatus* dn = task_node(d);
        if (!dn) return s;
        s.phase = dn->phase;
        if (dn->type == node_type::kTaskGroup) {
          s.is_loop_parent = true;
          for (const auto& c : dn->children)
            if (const NodeStatus* cn = w.get(c)) s.child_phases.push_back(cn->phase);
        }
        if (const Json* dj = task(d)) {
          const Json& co = jget(*dj, "continueOn");
          s.continue_on_error = co.is_object() && co.value("error", false);
          s.continue_on_failed = co.is_object() && co.value("failed", false);
        }
        return s;
      });
      if (!go) {
        w.init_node(node_name, node_type::kSkipped, tj, ctx.scope, boundary, phase::kOmitted,
                    "omitted: depends condition not met");
        connect(t, node_name, nullptr);
        return;
      }
    }

    // Resolve references to the dependencies' outputs, then expand loops.
    Scope s = scope_for(t);
    Vars vars = w.globals();
    for (const auto& [k, v] : s.vars) vars[k] = v;
    Json resolved = tj;
    resolved.erase("hooks");
    Json args = jget(resolved, "arguments");
    resolved.erase("arguments");
    auto rargs = w.resolve_arguments(args, s);
    if (!rargs.ok()) {
      error_node(t, node_name, rargs.error().message);
      return;
    }
    if (auto st = substitute_json(resolved, vars); !st.ok()) {
      error_node(t, node_name, st.error().message);
      return;
    }
    resolved["arguments"] = *rargs;
    if (tj.contains("hooks")) resolved["hooks"] = tj["hooks"];

    std::vector<Json> expanded;
    bool loop = has_loop(tj);
    if (loop) {
      auto items = expand_items(resolved);
      if (!items.ok()) {
        error_node(t, node_name, items.error().message);
        return;
      }
      Json base = resolved;
      base.erase("withItems");
      base.erase("withParam");
      base.erase("withSequence");
      for (size_t i = 0; i < items->size(); ++i) {
        std::string item_name = loop_name(t, i, (*items)[i]);
        const NodeStatus* ex = w.node(task_node_name(item_name));
        if (ex && (phase_fulfilled(ex->phase) || ex->type == node_type::kPod)) {
          expanded.push_back({{"name", item_name}});  // nothing to substitute: it exists
          continue;
        }
        Json one = base;
        auto keys = item_vars((*items)[i], vars);
        auto st = substitute_json(one, vars);
        for (const auto& k : keys) vars.erase(k);
        if (!st.ok()) {
          error_node(t, node_name, st.error().message);
          return;
        }
        one["name"] = item_name;
        expanded.push_back(one);
      }
      if (expanded.empty()) {
        if (!w.node(node_name)) {
          w.init_node(node_name, node_type::kSkipped, tj, ctx.scope, boundary, phase::kSkipped, "Skipped, empty params");
          connect(t, node_name, nullptr);
        }
      } else if (!group) {
        connect(t, node_name, nullptr);
        group = &w.init_node(node_name, node_type::kTaskGroup, tj, ctx.scope, boundary, phase::kRunning);
      }
    } else {
      expanded.push_back(resolved);
    }

    for (auto& one : expanded) {
      std::string child_name = task_node_name(jstr(one, "name"));
      NodeStatus* cn = w.node(child_name);
      if (!cn) {
        connect(t, child_name, group ? w.node(node_name) : nullptr);
        std::string when = jstr(one, "when");
        auto go = expr::eval_when(when);
        if (!go.ok()) {
          w.init_node(child_name, node_type::kSkipped, tj, ctx.scope, boundary, phase::kError, go.error().message);
          continue;
        }
        if (!*go) {
          w.init_node(child_name, node_type::kSkipped, tj, ctx.scope, boundary, phase::kSkipped,
                      "when '" + when + "' evaluated false");
          continue;
        }
      }
      Exec e = w.execute_template(child_name, one, jget(one, "arguments"), ctx,
                                  {boundary, on_exit, false, "", parallelism});
      if (!e.error.empty()) {
        w.mark(child_name, phase::kError, "task '" + child_name + "' errored: " + e.error);
        return;
      }
      if (!e.node) return;
      if (strictly_completed(e.node->phase) && !group && !exit_hook_done(t, *e.node)) return;
    }

    if (group) {
      std::string gp = phase::kSucceeded;
      for (const auto& one : expanded) {
        const NodeStatus* c = w.node(task_node_name(jstr(one, "name")));
        if (!c || !phase_fulfilled(c->phase)) return;
        if (phase_failed_or_error(c->phase)) gp = c->phase;
      }
      NodeStatus* g = w.mark(node_name, gp);
      if (g) exit_hook_done(t, *g);
    }
  }

  // Argo's assessDAGPhase: walk from the DAG's children carrying each branch's last
  // completed phase, so an omitted target inherits its branch's failure.
  std::string assess(const std::vector<std::string>& targets) {
    std::map<std::string, std::string> target_phase;
    for (const auto& t : targets) target_phase[w.id_of(task_node_name(t))] = "";
    const NodeStatus* b = w.get(boundary);
    std::deque<std::pair<std::string, std::string>> queue;
    std::set<std::pair<std::string, std::string>> seen;
    auto push = [&](const std::vector<std::string>& ids, const std::string& ph) {
      for (const auto& id : ids)
        if (seen.insert({id, ph}).second) queue.emplace_back(id, ph);
    };
    push(b->children, phase::kSucceeded);
    while (!queue.empty()) {
      auto [id, branch] = queue.front();
      queue.pop_front();
      const NodeStatus* n = w.get(id);
      if (!n) return phase::kRunning;
      if (!phase_fulfilled(n->phase)) {
        if (n->type != node_type::kTaskGroup || n->children.empty()) return phase::kRunning;
        std::string gp = phase::kSucceeded;
        for (const auto& c : n->children) {
          const NodeStatus* cn = w.get(c);
          if (!cn || !phase_fulfilled(cn->phase)) return phase::kRunning;
          if (phase_failed_or_error(cn->phase)) gp = cn->phase;
        }
        branch = gp;
      } else if (strictly_completed(n->phase)) {
        branch = n->phase;
      }
      auto tp = target_phase.find(id);
      if (tp != target_phase.end() && !phase_failed_or_error(tp->second)) tp->second = branch;
      if (n->type == node_type::kRetry) {
        for (const auto& c : n->children)
          if (const NodeStatus* cn = w.get(c)) push(cn->children, branch);
      } else {
        push(n->children, branch);
      }
    }
    const Json& dag = jget(tmpl, "dag");
    bool fail_fast = !jget(dag, "failFast").is_boolean() || dag["failFast"].get<bool>();
    std::string result = phase::kSucceeded;
    for (const auto& t : targets) {
      const std::string& bp = target_phase[w.id_of(task_node_name(t))];
      if (bp.empty()) {
        result = phase::kRunning;
        if (!fail_fast) break;
      } else if (phase_failed_or_error(bp)) {
        if (const Json* tj = task(t); tj && continues_on(*tj, bp)) continue;
        result = bp;
        if (fail_fast) break;
      }
    }
    return result;
  }

  void update_outbound(const std::vector<std::string>& targets) {
    std::vector<std::string> out;
    for (const auto& t : targets) {
      NodeStatus* tn = task_node(t);
      if (!tn) continue;
      auto o = w.outbound_nodes(tn->id);
      out.insert(out.end(), o.begin(), o.end());
    }
    NodeStatus* n = w.node(name);
    if (n->outbound_nodes != out) {
      n->outbound_nodes = out;
      w.touch(*n);
    }
  }
};

Exec Planner::Walk::execute_dag(const std::string& name, const Json& tmpl, const Json& holder, const TmplCtx& ctx,
                                const ExecOpts& opts) {
  NodeStatus* n = node(name);
  if (!n) {
    n = &init_node(name, node_type::kDag, holder, opts.template_scope, opts.boundary_id, phase::kRunning);
    const Json& in = jget(tmpl, "inputs");
    if (!jget(in, "parameters").empty() || !jget(in, "artifacts").empty()) n->inputs = in;
    if (opts.hooked) n->node_flag = {{"hooked", true}};
  }
  DagRun d{*this, name, n->id, tmpl, ctx, opts.on_exit, template_parallelism(tmpl), {}, {}};
  const Json& list = jget(jget(tmpl, "dag"), "tasks");
  if (list.is_array())
    for (const auto& t : list) d.tasks[jstr(t, "name")] = &t;
  std::vector<std::string> targets;
  std::string target = jstr(jget(tmpl, "dag"), "target");
  if (target.empty()) targets = d.leaf_tasks();
  else
    for (const auto& t : split(target, ' '))
      if (!t.empty()) targets.push_back(t);

  bool exits_done = true;
  for (const auto& t : targets) {
    d.execute(t);
    NodeStatus* tn = d.task_node(t);
    if (tn && strictly_completed(tn->phase)) {
      const NodeStatus* exit = node(tn->name + ".onExit");
      if (exit && !phase_fulfilled(exit->phase)) exits_done = false;
    }
  }
  std::string ph = (shutting_down() && exits_done && !opts.on_exit) ? std::string(phase::kFailed) : d.assess(targets);
  if (ph == phase::kRunning) return {node(name), ""};
  if (ph == phase::kError || ph == phase::kFailed) {
    d.update_outbound(targets);
    return {mark(name, ph), ""};
  }
  Scope scope = create_scope(tmpl);
  for (const auto& [tname, tj] : d.tasks) {
    NodeStatus* tn = d.task_node(tname);
    if (!tn) continue;
    d.add_task_to_scope(scope, tname, *tn);
    add_skipped_outputs_to_scope(scope, "tasks", tname, *tn, *tj, ctx, false);
    add_global_outputs(tn->outputs);
  }
  auto outputs = template_outputs_from_scope(tmpl, scope);
  if (!outputs.ok()) return {mark(name, phase::kError, outputs.error().message), ""};
  n = node(name);
  if (!outputs->is_null()) {
    n->outputs = *outputs;
    add_global_outputs(n->outputs);
    touch(*n);
  }
  d.update_outbound(targets);
  return {mark(name, phase::kSucceeded), ""};
}

}  // namespace tether::plan
