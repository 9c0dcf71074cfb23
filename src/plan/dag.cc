// DAG templates: tasks run when their `depends` (or `dependencies`) hold; the DAG's phase
// comes from its target tasks (Argo's executeDAG / executeDAGTask / assessDAGPhase).
#include <algorithm>
#include <deque>
#include <memory>
#include <optional>
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

// What a DAG's tasks depend on and which tasks' variables they read: fixed for the DAG
// node's lifetime, so parsed once per node rather than on every walk (a walk visits every
// task, and a 1,000-task DAG is walked once per step that ends).
struct DagShape {
  struct Task {
    bool has_logic = false;                   // depends or dependencies
    std::optional<expr::DependsExpr> parsed;  // unset: no logic, or it does not parse
    std::string logic;                        // when it does not parse: its text, for the message
    std::string parse_error;
    // The task names the logic references.
    const std::vector<std::string>& deps() const {
      static const std::vector<std::string> kNone;
      return parsed ? parsed->task_names() : kNone;
    }
    bool has_hooks = false;                  // lifecycle hooks other than exit
    bool has_exit_hook = false;
    bool continue_on_error = false;          // continueOn, which its dependents read
    bool continue_on_failed = false;
    // The tasks whose variables (tasks.X...) its fields mention; unset: it may read any,
    // as an expression over the whole `tasks` map would.
    std::optional<std::set<std::string>> reads;
    std::string name;
    std::vector<int> dep_index;  // of each of deps in tasks; -1 for a name no task has
    std::string node_id;         // of its node, "<dag node>.<task>"
  };
  std::vector<Task> tasks;              // in dag.tasks order
  // Per task, how many of its first dependencies were found finished, with no hooks left to
  // run, on an earlier walk. Nodes never go back to unfinished while this planner lives (a
  // retried run gets a new one), so a later walk starts looking after them: a task waiting
  // on a layer of a hundred would otherwise look at all the finished ones again every turn.
  mutable std::vector<size_t> settled;
  // Per task, its node once it has one (nodes are never erased while a planner lives, and a
  // std::map keeps their addresses), or known to have none: a task's node is only ever made
  // by this DAG's own walk, which records it here (DagRun::refresh). A walk descends through
  // every task still waiting, so a chain of a thousand would otherwise cost a thousand
  // lookups per turn.
  mutable std::vector<NodeStatus*> node_ptr;
  mutable std::vector<char> node_known;
  std::map<std::string, size_t> index;  // by name
  std::vector<std::string> leaves;      // tasks no other task depends on, in declaration order
};

namespace {

bool name_char(char c) { return isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'; }

// The task names after every "tasks." / "tasks['" in a task's JSON text.
std::optional<std::set<std::string>> task_reads(const std::string& text) {
  std::set<std::string> names;
  for (size_t i = text.find("tasks"); i != std::string::npos; i = text.find("tasks", i + 5)) {
    size_t j = i + 5;
    if (j >= text.size()) return std::nullopt;
    if (text[j] == '.') {
      size_t k = j + 1;
      while (k < text.size() && name_char(text[k])) ++k;
      names.insert(text.substr(j + 1, k - j - 1));
    } else if (text[j] == '[' && j + 1 < text.size() && (text[j + 1] == '\'' || text[j + 1] == '\\')) {
      size_t k = j + 2;
      if (text[j + 1] == '\\') ++k;  // tasks[\"name\"] inside JSON text
      size_t from = k;
      while (k < text.size() && name_char(text[k])) ++k;
      names.insert(text.substr(from, k - from));
    } else if (i > 0 && name_char(text[i - 1])) {
      continue;  // part of another word
    } else if (!name_char(text[j])) {
      return std::nullopt;  // the tasks map as a whole
    }
  }
  return names;
}

std::shared_ptr<const DagShape> make_shape(const Json& tmpl, const std::string& workflow,
                                           const std::string& dag_node) {
  auto shape = std::make_shared<DagShape>();
  const Json& list = jget(jget(tmpl, "dag"), "tasks");
  if (!list.is_array()) return shape;
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& t = list[i];
    DagShape::Task task;
    task.name = jstr(t, "name");
    task.node_id = node_id(workflow, dag_node + "." + task.name);
    if (const std::string depends = jstr(t, "depends"); !depends.empty()) {
      task.has_logic = true;
      auto parsed = expr::parse_depends(depends);
      if (parsed.ok()) {
        task.parsed = std::move(*parsed);
      } else {
        task.logic = depends;
        task.parse_error = parsed.error().message;
      }
    } else if (const Json& d = jget(t, "dependencies"); d.is_array() && !d.empty()) {
      task.has_logic = true;
      auto names = [&d] {
        std::vector<std::string> v;
        v.reserve(d.size());
        for (const auto& x : d) v.push_back(value_text(x));
        return v;
      };
      auto parsed = expr::dependencies_expr(names());
      if (parsed.ok()) {
        task.parsed = std::move(*parsed);
      } else {
        task.logic = expr::dependencies_to_depends(names());
        task.parse_error = parsed.error().message;
      }
    }
    const Json& hooks = jget(t, "hooks");
    if (hooks.is_object())
      for (auto it = hooks.begin(); it != hooks.end(); ++it)
        (it.key() == "exit" ? task.has_exit_hook : task.has_hooks) = true;
    if (!jstr(t, "onExit").empty()) task.has_exit_hook = true;
    const Json& co = jget(t, "continueOn");
    task.continue_on_error = co.is_object() && co.value("error", false);
    task.continue_on_failed = co.is_object() && co.value("failed", false);
    // Its dependency names are no variable references, and after a layer of hundreds they
    // are most of the task's text.
    std::string text;
    if (t.is_object())
      for (auto it = t.begin(); it != t.end(); ++it)
        if (it.key() != "dependencies" && it.key() != "depends") text += "\"" + it.key() + "\":" + it.value().dump() + ",";
    task.reads = task_reads(text);
    shape->index.emplace(task.name, shape->tasks.size());
    shape->tasks.push_back(std::move(task));
  }
  // A task no other task depends on is a leaf (targets default to the leaves).
  std::vector<char> depended(shape->tasks.size(), 0);
  for (auto& task : shape->tasks)
    for (const auto& d : task.deps()) {
      auto it = shape->index.find(d);
      int at = it == shape->index.end() ? -1 : static_cast<int>(it->second);
      task.dep_index.push_back(at);
      if (at >= 0) depended[static_cast<size_t>(at)] = 1;
    }
  for (size_t i = 0; i < shape->tasks.size(); ++i)
    if (!depended[i]) shape->leaves.push_back(shape->tasks[i].name);
  shape->settled.assign(shape->tasks.size(), 0);
  shape->node_ptr.assign(shape->tasks.size(), nullptr);
  shape->node_known.assign(shape->tasks.size(), 0);
  return shape;
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
  const DagShape& shape;
  const Json& list;  // dag.tasks
  std::vector<char> visited = std::vector<char>(shape.tasks.size(), 0);
  // A node of this DAG seen unfinished during the walk: if it still is when the walk ends,
  // the DAG is Running, and assess() need not look through every node of the run to say so.
  const NodeStatus* busy = nullptr;

  const DagShape::Task* info(const std::string& t) const {
    auto it = shape.index.find(t);
    return it == shape.index.end() ? nullptr : &shape.tasks[it->second];
  }
  const Json* task(const std::string& t) const {
    auto it = shape.index.find(t);
    return it == shape.index.end() ? nullptr : &list[it->second];
  }
  NodeStatus* node_at(size_t i) {
    if (!shape.node_known[i]) refresh(i);
    return shape.node_ptr[i];
  }
  // After anything that may have made task i's node.
  void refresh(size_t i) {
    shape.node_ptr[i] = const_cast<NodeStatus*>(w.get(shape.tasks[i].node_id));
    shape.node_known[i] = 1;
    note_busy(shape.node_ptr[i]);
  }
  void refresh(const std::string& t) {
    auto it = shape.index.find(t);
    if (it != shape.index.end()) refresh(it->second);
  }
  void note_busy(const NodeStatus* n) {
    if (n && n->type != node_type::kTaskGroup && !fulfilled(*n)) busy = n;
  }
  std::string task_node_name(const std::string& t) const { return name + "." + t; }
  NodeStatus* task_node(const std::string& t) {
    auto it = shape.index.find(t);
    return it != shape.index.end() ? node_at(it->second) : w.node(task_node_name(t));
  }

  const std::vector<std::string>& dependencies(const std::string& t) const {
    static const std::vector<std::string> kNone;
    const DagShape::Task* i = info(t);
    return i ? i->deps() : kNone;
  }

  // Every task this one depends on, transitively (Argo's GetTaskAncestry).
  void ancestors(const std::string& t, std::vector<std::string>& out, std::set<std::string>& seen) const {
    for (const auto& d : dependencies(t)) {
      if (seen.count(d)) continue;
      seen.insert(d);
      ancestors(d, out, seen);
      out.push_back(d);
    }
  }

  // The variables of the ancestors this task reads (Argo puts every ancestor in scope; the
  // ones a task never mentions cannot change what it resolves to).
  Scope scope_for(const std::string& t) {
    Scope s = w.create_scope(tmpl);
    const DagShape::Task* ti = info(t);
    if (ti && ti->reads && ti->reads->empty()) return s;
    std::vector<std::string> anc;
    std::set<std::string> seen;
    ancestors(t, anc, seen);
    for (const auto& a : anc) {
      if (ti && ti->reads && !ti->reads->count(a)) continue;
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

  // child_is_new: its node was made just now (see Walk::add_child_id).
  void connect(const std::string& t, const std::string& child, const NodeStatus* group, bool child_is_new = false) {
    auto at = shape.index.find(t);
    if (at == shape.index.end() || shape.tasks[at->second].deps().empty() || group) {
      w.add_child(group ? group->name : name, child);
      return;
    }
    const DagShape::Task& ti = shape.tasks[at->second];
    const std::string cid = w.id_of(child);
    for (size_t k = 0; k < ti.deps().size(); ++k) {
      int d = ti.dep_index[k];
      NodeStatus* dn = d >= 0 ? node_at(static_cast<size_t>(d)) : task_node(ti.deps()[k]);
      if (!dn) continue;
      w.each_outbound(dn->id, [&](const std::string& o) {
        if (const NodeStatus* on = w.get(o)) w.add_child_id(const_cast<NodeStatus&>(*on), cid, child_is_new);
      });
    }
  }

  void error_node(const std::string& t, const std::string& node_name, const std::string& msg) {
    if (!w.node(node_name))
      w.init_node(node_name, node_type::kSkipped, *task(t), ctx.scope, boundary, phase::kError, msg);
    refresh(t);
    connect(t, node_name, nullptr);
  }

  // Runs the task's exit hook once the task completed; true when there is nothing left to wait for.
  bool exit_hook_done(const std::string& t, NodeStatus& n) {
    if (!info(t)->has_exit_hook || !strictly_completed(n.phase)) return true;
    Json hook = exit_hook_of(*task(t));
    if (hook.is_null()) return true;
    Scope s = scope_for(t);
    Exec e = w.run_on_exit(hook, n, boundary, ctx, "tasks", t, s);
    return e.error.empty() && e.node && phase_fulfilled(e.node->phase);
  }

  // Argo's executeDAGTask, which recurses into a task's dependencies before deciding the
  // task. The recursion is unrolled onto a stack: a chain of thousands of tasks would
  // otherwise recurse as deep on the first walk.
  void execute(const std::string& target) {
    auto root = shape.index.find(target);
    if (root == shape.index.end()) return;
    std::vector<std::pair<size_t, bool>> stack{{root->second, false}};  // task, its dependencies done
    while (!stack.empty()) {
      auto [i, deps_done] = stack.back();
      stack.pop_back();
      if (deps_done) {
        decide(i);
        continue;
      }
      if (visited[i]) continue;
      visited[i] = 1;
      if (!needs_dependencies(i)) continue;
      stack.emplace_back(i, true);
      // Settled dependencies have nothing left to do: they are not visited again.
      const auto& deps = shape.tasks[i].dep_index;
      for (size_t k = deps.size(); k > shape.settled[i]; --k)
        if (deps[k - 1] >= 0) stack.emplace_back(static_cast<size_t>(deps[k - 1]), false);
    }
  }

  // The part of a task's turn before its dependencies are looked at. True when the task has
  // no node yet and depends on others: they are executed first, then decide().
  bool needs_dependencies(size_t i) {
    const DagShape::Task& ti = shape.tasks[i];
    const std::string& t = ti.name;
    NodeStatus* n = node_at(i);
    note_busy(n);
    if (ti.has_hooks && n && (phase_fulfilled(n->phase) || n->phase == phase::kRunning)) {
      Scope s = scope_for(t);
      s.vars["tasks." + t + ".status"] = n->phase;
      bool hooks_done = true;
      Exec h = w.run_hooks(jget(list[i], "hooks"), n->name, boundary, ctx, s.vars, &hooks_done);
      if (!h.error.empty()) w.mark(n->name, phase::kError, h.error);
      if (!hooks_done) return false;
    }
    if (n && phase_fulfilled(n->phase)) {
      exit_hook_done(t, *n);
      return false;
    }
    // A step that is waiting or running needs no substitution: its template is in its node.
    if (n && node_type::is_leaf(n->type)) {
      w.existing_pod(*n, {boundary, on_exit, false, "", parallelism});
      return false;
    }
    if (ti.has_logic && !n) {
      if (ti.parsed) return true;
      error_node(t, task_node_name(t), "unable to evaluate expression '" + ti.logic + "': " + ti.parse_error);
      return false;
    }
    run(t, n && n->type == node_type::kTaskGroup ? n : nullptr);
    refresh(i);
    return false;
  }

  // A task without a node whose dependencies were executed: once they are all done, its
  // depends logic says whether it runs or is Omitted.
  void decide(size_t i) {
    const DagShape::Task& ti = shape.tasks[i];
    size_t& settled = shape.settled[i];
    for (size_t k = settled; k < ti.dep_index.size(); ++k) {
      int d = ti.dep_index[k];
      NodeStatus* dn = d >= 0 ? node_at(static_cast<size_t>(d)) : nullptr;
      if (!dn || !fulfilled(*dn)) return;
      const DagShape::Task& dt = shape.tasks[d];
      if (dt.has_exit_hook && strictly_completed(dn->phase)) {
        const NodeStatus* exit = w.node(dn->name + ".onExit");
        if (!exit_hook_of(list[d]).is_null() && (!exit || !phase_fulfilled(exit->phase))) return;
      }
      // A daemon that is up counts as fulfilled but still has its turns to come (its stop):
      // only what has ended is settled.
      if (k == settled && phase_fulfilled(dn->phase) && !dt.has_hooks && !dt.has_exit_hook) ++settled;
    }
    // By index: a task after a layer of a hundred evaluates a hundred names.
    bool go = ti.parsed->eval_at([&](size_t k) {
      expr::TaskState s;
      int d = ti.dep_index[k];
      const NodeStatus* dn = d >= 0 ? node_at(static_cast<size_t>(d)) : task_node(ti.deps()[k]);
      if (!dn) return s;
      s.phase = dn->phase;
      s.daemoned = dn->daemoned && dn->phase != phase::kPending;
      if (dn->type == node_type::kTaskGroup) {
        s.is_loop_parent = true;
        for (const auto& c : dn->children)
          if (const NodeStatus* cn = w.get(c)) s.child_phases.push_back(cn->phase);
      }
      if (d >= 0) {
        s.continue_on_error = shape.tasks[static_cast<size_t>(d)].continue_on_error;
        s.continue_on_failed = shape.tasks[static_cast<size_t>(d)].continue_on_failed;
      }
      return s;
    });
    const std::string& t = ti.name;
    if (!go) {
      std::string node_name = task_node_name(t);
      w.init_node(node_name, node_type::kSkipped, list[i], ctx.scope, boundary, phase::kOmitted,
                  "omitted: depends condition not met");
      refresh(i);
      connect(t, node_name, nullptr, true);
      return;
    }
    run(t, nullptr);
    refresh(i);
  }

  // A task whose dependencies allow it: its node (or its loop's), and its template's turn.
  void run(const std::string& t, NodeStatus* group) {
    const Json& tj = *task(t);
    std::string node_name = task_node_name(t);
    // Resolve references to the dependencies' outputs, then expand loops.
    Scope s = scope_for(t);
    Vars vars = w.globals();
    for (const auto& [k, v] : s.vars) vars[k] = v;
    // The task without what is not substituted here: its hooks and arguments (handled on
    // their own) and its dependency names (read from the shape; after a layer of a hundred
    // they are most of the task, and copying and scanning them per task showed).
    Json resolved = Json::object();
    if (tj.is_object())
      for (auto it = tj.begin(); it != tj.end(); ++it)
        if (it.key() != "hooks" && it.key() != "arguments" && it.key() != "dependencies" && it.key() != "depends")
          resolved[it.key()] = it.value();
    Json args = jget(tj, "arguments");
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
        if (ex && (phase_fulfilled(ex->phase) || node_type::is_leaf(ex->type))) {
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
          connect(t, node_name, nullptr, true);
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
        connect(t, child_name, group ? w.node(node_name) : nullptr, true);
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
        if (!c || !fulfilled(*c)) return;
        if (phase_failed_or_error(c->phase)) gp = c->phase;
      }
      NodeStatus* g = w.mark(node_name, gp);
      if (g) exit_hook_done(t, *g);
    }
  }

  // Argo's assessDAGPhase: walk from the DAG's children carrying each branch's last
  // completed phase, so an omitted target inherits its branch's failure.
  std::string assess(const std::vector<std::string>& targets) {
    // Every node of the DAG is reachable from its children, so one that has not finished
    // means the walk below would stop at it: skip the walk, which costs a visit per edge.
    if (busy && busy->boundary_id == boundary && busy->type != node_type::kTaskGroup && !fulfilled(*busy))
      return phase::kRunning;
    for (const auto& [id, c] : w.nodes())
      if (c.boundary_id == boundary && c.type != node_type::kTaskGroup && !fulfilled(c))
        return phase::kRunning;
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
      if (!fulfilled(*n)) {
        if (n->type != node_type::kTaskGroup || n->children.empty()) return phase::kRunning;
        std::string gp = phase::kSucceeded;
        for (const auto& c : n->children) {
          const NodeStatus* cn = w.get(c);
          if (!cn || !fulfilled(*cn)) return phase::kRunning;
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
  auto& shape = p_.dag_shapes_[name];
  if (!shape) shape = make_shape(tmpl, p_.spec_.name, name);
  DagRun d{*this, name, n->id, tmpl, ctx, opts.on_exit, template_parallelism(tmpl), *shape,
           jget(jget(tmpl, "dag"), "tasks")};
  std::vector<std::string> targets;
  std::string target = jstr(jget(tmpl, "dag"), "target");
  if (target.empty()) targets = shape->leaves;
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
  for (const auto& [tname, i] : d.shape.index) {
    NodeStatus* tn = d.node_at(i);
    if (!tn) continue;
    d.add_task_to_scope(scope, tname, *tn);
    add_skipped_outputs_to_scope(scope, "tasks", tname, *tn, d.list[i], ctx, false);
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
