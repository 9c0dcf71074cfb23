// Steps templates: groups run one after another, the steps of a group in parallel
// (Argo's executeSteps / executeStepGroup).
#include <deque>

#include "base/strings.h"
#include "expr/govaluate.h"
#include "plan/walk.h"

namespace tether::plan {


struct StepsRun {
  Planner::Walk& w;
  std::string name;
  const TmplCtx& ctx;
  Scope scope;
  std::string boundary;
  bool on_exit;
  int parallelism;  // of the steps template: at most this many children unfinished

  // One step group; returns the group node.
  NodeStatus* group(const Json& steps, const std::string& sg_name) {
    NodeStatus* sg = w.node(sg_name);
    if (phase_fulfilled(sg->phase) && w.children_fulfilled(*sg)) return sg;

    // Steps after substitution and loop expansion. A loop child that already exists and
    // needs nothing more keeps the unsubstituted step: re-substituting a thousand items on
    // every walk would dominate the walk.
    struct Entry {
      std::string name;
      const Json* step;
      bool existing;
    };
    std::deque<Json> storage;
    std::vector<Entry> expanded;
    std::map<std::string, const Json*> by_child;
    auto add = [&](Json step, const std::string& name) {
      storage.push_back(std::move(step));
      expanded.push_back({name, &storage.back(), false});
    };
    Vars vars = w.globals();
    for (const auto& [k, v] : scope.vars) vars[k] = v;
    for (const auto& raw : steps) {
      std::string step_name = jstr(raw, "name");
      std::string child_name = sg_name + "." + step_name;
      if (!has_loop(raw)) {
        // A step whose node exists and is waiting, running or done was resolved when it was
        // created; its template lives in its node.
        const NodeStatus* ex = w.node(child_name);
        if (ex && (phase_fulfilled(ex->phase) || node_type::is_leaf(ex->type))) {
          expanded.push_back({step_name, &raw, true});
          continue;
        }
      }
      Json step = raw;
      Json hooks = jget(step, "hooks");
      step.erase("hooks");
      // The when of a step is looked at first: a step that will not run needs nothing else.
      if (!jstr(step, "when").empty()) {
        auto when = substitute_str(jstr(step, "when"), vars);
        if (!when.ok()) return w.mark(sg_name, phase::kError, when.error().message);
        if (!has_loop(step)) {
          auto go = expr::eval_when(*when);
          if (go.ok() && !*go) {
            step["when"] = *when;
            add(std::move(step), step_name);
            continue;
          }
        }
      }
      Json args = jget(step, "arguments");
      step.erase("arguments");
      auto resolved_args = w.resolve_arguments(args, scope);
      if (!resolved_args.ok())
        return w.mark(sg_name, phase::kError, "failed to resolve references: " + resolved_args.error().message);
      Json items_src;
      if (step.contains("withItems")) {
        items_src = step["withItems"];
        step.erase("withItems");
      }
      if (auto s = substitute_json(step, vars); !s.ok()) return w.mark(sg_name, phase::kError, s.error().message);
      step["arguments"] = *resolved_args;
      if (!items_src.is_null()) {
        if (auto s = substitute_json(items_src, vars); !s.ok()) return w.mark(sg_name, phase::kError, s.error().message);
        step["withItems"] = items_src;
      }
      if (!hooks.is_null()) step["hooks"] = hooks;
      if (!has_loop(step)) {
        add(std::move(step), step_name);
        continue;
      }
      auto items = expand_items(step);
      if (!items.ok()) {
        auto go = expr::eval_when(jstr(step, "when"));
        if (!go.ok() || *go) return w.mark(sg_name, phase::kError, items.error().message);
        items = std::vector<Json>{};
      }
      if (items->empty() && !w.node(child_name)) {
        w.init_node(child_name, node_type::kSkipped, step, ctx.scope, boundary, phase::kSkipped, "Skipped, empty params");
        w.add_child(sg_name, child_name);
      }
      Json base = step;
      base.erase("withItems");
      base.erase("withParam");
      base.erase("withSequence");
      storage.push_back(base);
      const Json* base_ptr = &storage.back();
      for (size_t i = 0; i < items->size(); ++i) {
        std::string item_name = loop_name(step_name, i, (*items)[i]);
        const NodeStatus* ex = w.node(sg_name + "." + item_name);
        if (ex && (phase_fulfilled(ex->phase) || node_type::is_leaf(ex->type))) {
          expanded.push_back({item_name, base_ptr, true});
          continue;
        }
        Json one = base;
        auto keys = item_vars((*items)[i], vars);
        auto st = substitute_json(one, vars);
        for (const auto& k : keys) vars.erase(k);
        if (!st.ok()) return w.mark(sg_name, phase::kError, st.error().message);
        one["name"] = item_name;
        add(std::move(one), item_name);
      }
    }

    size_t waiting = 0;  // steps held back by the template's parallelism
    for (const auto& entry : expanded) {
      const Json& step = *entry.step;
      std::string child_name = sg_name + "." + entry.name;
      by_child[child_name] = entry.step;
      NodeStatus* existed = w.node(child_name);
      if (!entry.existing) {
        std::string when = jstr(step, "when");
        auto go = expr::eval_when(when);
        if (!go.ok()) {
          if (!existed) {
            w.init_node(child_name, node_type::kSkipped, step, ctx.scope, boundary, phase::kError, go.error().message);
            w.add_child(sg_name, child_name);
          }
          return w.mark(sg_name, phase::kError, go.error().message);
        }
        if (!*go) {
          if (!existed) {
            w.init_node(child_name, node_type::kSkipped, step, ctx.scope, boundary, phase::kSkipped,
                        "when '" + when + "' evaluated false");
            w.add_child(sg_name, child_name);
          }
          continue;
        }
      }
      Exec e = w.execute_template(child_name, step, jget(step, "arguments"), ctx,
                                  {boundary, on_exit, false, "", parallelism});
      if (!e.node && e.error.empty()) ++waiting;
      if (!e.error.empty()) {
        w.add_child(sg_name, child_name);
        return w.mark(sg_name, phase::kError,
                      "step group deemed errored due to child " + child_name + " error: " + e.error);
      }
      if (e.node && !existed) w.add_child(sg_name, child_name);
    }

    sg = w.node(sg_name);
    bool completed = waiting == 0;
    std::vector<std::string> children = sg->children;
    for (const auto& cid : children) {
      NodeStatus* child = const_cast<NodeStatus*>(w.get(cid));
      if (!child) continue;
      bool fulfilled = plan::fulfilled(*child);
      if (!fulfilled) completed = false;
      auto st = by_child.find(child->name);
      if (st == by_child.end()) continue;
      const Json& step = *st->second;
      std::string step_name = jstr(step, "name");
      if (jget(step, "hooks").is_object()) {
        Vars hv = scope.vars;
        hv["steps." + step_name + ".status"] = child->phase;
        bool hooks_done = true;
        Exec h = w.run_hooks(step["hooks"], child->name, boundary, ctx, hv, &hooks_done);
        if (!h.error.empty()) return w.mark(sg_name, phase::kError, h.error);
        if (!hooks_done) {
          completed = false;
          continue;
        }
      }
      Json hook = exit_hook_of(step);
      if (fulfilled && !hook.is_null() && child->phase != phase::kSkipped && child->phase != phase::kOmitted) {
        Exec e = w.run_on_exit(hook, *child, boundary, ctx, "steps", step_name, scope);
        if (!e.error.empty()) return w.mark(sg_name, phase::kError, e.error);
        if (!e.node || !phase_fulfilled(e.node->phase)) completed = false;
      }
    }
    sg = w.node(sg_name);
    if (!completed) {
      if (phase_fulfilled(sg->phase)) return w.mark(sg_name, phase::kRunning);
      return sg;
    }
    for (const auto& cid : sg->children) {
      const NodeStatus* child = w.get(cid);
      if (!child) continue;
      auto st = by_child.find(child->name);
      if (phase_failed_or_error(child->phase) && !(st != by_child.end() && continues_on(*st->second, child->phase)))
        return w.mark(sg_name, phase::kFailed, "child '" + cid + "' failed");
    }
    return w.mark(sg_name, phase::kSucceeded);
  }

  void update_outbound(size_t groups) {
    const NodeStatus* last = nullptr;
    for (size_t i = groups; i-- > 0;)
      if ((last = w.node(fmt::format("{}[{}]", name, i)))) break;
    if (!last) return;
    std::vector<std::string> out;
    for (const auto& c : last->children) {
      auto o = w.outbound_nodes(c);
      out.insert(out.end(), o.begin(), o.end());
    }
    NodeStatus* n = w.node(name);
    if (n->outbound_nodes != out) {
      n->outbound_nodes = out;
      w.touch(*n);
    }
  }
};

Exec Planner::Walk::execute_steps(const std::string& name, const Json& tmpl, const Json& holder, const TmplCtx& ctx,
                                  const ExecOpts& opts) {
  NodeStatus* n = node(name);
  if (!n) {
    n = &init_node(name, node_type::kSteps, holder, opts.template_scope, opts.boundary_id, phase::kRunning);
    const Json& in = jget(tmpl, "inputs");
    if (!jget(in, "parameters").empty() || !jget(in, "artifacts").empty()) n->inputs = in;
    if (opts.hooked) n->node_flag = {{"hooked", true}};
  }
  StepsRun run{*this, name, ctx, create_scope(tmpl), n->id, opts.on_exit, template_parallelism(tmpl)};
  const Json& groups = jget(tmpl, "steps");
  size_t count = groups.is_array() ? groups.size() : 0;
  for (size_t i = 0; i < count; ++i) {
    std::string sg_name = fmt::format("{}[{}]", name, i);
    NodeStatus* sg = node(sg_name);
    if (!sg) init_node(sg_name, node_type::kStepGroup, Json::object(), ctx.scope, run.boundary, phase::kRunning);
    else if (!phase_fulfilled(sg->phase)) mark(sg_name, phase::kRunning);
    if (i == 0) {
      add_child(name, sg_name);
    } else {
      std::string prev = fmt::format("{}[{}]", name, i - 1);
      const NodeStatus* p = node(prev);
      if (p->children.empty()) {
        add_child(prev, sg_name);
      } else {
        std::vector<std::string> kids = p->children;
        for (const auto& c : kids)
          for (const auto& o : outbound_nodes(c))
            if (const NodeStatus* on = get(o)) add_child(on->name, sg_name);
      }
    }
    const Json& group = groups[i];
    const Json& steps = group.is_array() ? group : jget(group, "steps");
    sg = run.group(steps.is_array() ? steps : Json::array(), sg_name);
    if (!phase_fulfilled(sg->phase)) return {node(name), ""};
    if (phase_failed_or_error(sg->phase)) {
      run.update_outbound(count);
      std::string msg = sg->message;
      return {mark(name, phase::kFailed, msg), ""};
    }
    // The outputs of this group's steps are visible to later groups.
    for (const auto& step : steps) {
      std::string step_name = jstr(step, "name");
      std::string child_name = sg_name + "." + step_name;
      const NodeStatus* child = node(child_name);
      if (!child) {
        add_aggregate_to_scope(run.scope, "steps", step_name, loop_children(run.boundary, child_name, true));
        add_node_to_scope(run.scope, "steps", step_name, *node(sg_name));
      } else {
        add_node_to_scope(run.scope, "steps", step_name, *child);
        add_skipped_outputs_to_scope(run.scope, "steps", step_name, *child, step, ctx, true);
      }
    }
  }
  run.update_outbound(count);
  auto outputs = template_outputs_from_scope(tmpl, run.scope);
  if (!outputs.ok()) return {mark(name, phase::kError, outputs.error().message), ""};
  n = node(name);
  if (!outputs->is_null()) {
    n->outputs = *outputs;
    add_global_outputs(n->outputs);
    touch(*n);
  }
  return {mark(name, phase::kSucceeded), ""};
}

}  // namespace tether::plan
