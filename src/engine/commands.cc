// Commands from the API and the CLI, and adopting unfinished runs after a restart.
#include <algorithm>
#include <csignal>
#include <functional>
#include <map>
#include <set>
#include <random>

#include "base/log.h"
#include "base/strings.h"
#include "engine/engine.h"

namespace tether::engine {

namespace {

std::mt19937_64& rng() {
  static std::mt19937_64 g{std::random_device{}()};
  return g;
}

// Kubernetes' generateName suffix: five characters from an alphabet without vowels
// and look-alikes.
std::string name_suffix() {
  static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::uniform_int_distribution<size_t> d(0, sizeof alphabet - 2);
  std::string s;
  for (int i = 0; i < 5; ++i) s += alphabet[d(rng())];
  return s;
}

std::string uuid_v4() {
  std::uniform_int_distribution<uint32_t> d;
  uint8_t b[16];
  for (int i = 0; i < 16; i += 4) {
    uint32_t x = d(rng());
    for (int k = 0; k < 4; ++k) b[i + k] = static_cast<uint8_t>(x >> (8 * k));
  }
  b[6] = static_cast<uint8_t>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<uint8_t>((b[8] & 0x3f) | 0x80);
  std::string s;
  static const char hex[] = "0123456789abcdef";
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    s += hex[b[i] >> 4];
    s += hex[b[i] & 15];
  }
  return s;
}

// Whether a string in j holds a NUL byte: no program can receive one, and C strings on the
// way would cut the value short without a word. *path gets where, built only when found
// (a large workflow has hundreds of thousands of strings).
bool has_nul(const Json& j, std::string* path) {
  if (j.is_string()) return j.get_ref<const std::string&>().find('\0') != std::string::npos;
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it)
      if (has_nul(*it, path)) {
        *path = it.key() + (path->empty() || path->front() == '[' ? "" : ".") + *path;
        return true;
      }
  } else if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i)
      if (has_nul(j[i], path)) {
        *path = "[" + std::to_string(i) + "]" + (path->empty() || path->front() == '[' ? "" : ".") + *path;
        return true;
      }
  }
  return false;
}

// Kubernetes' rule for namespaces (a DNS-1123 label), which Argo's API server enforces.
bool dns_label(const std::string& s) {
  if (s.empty() || s.size() > 63) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return s.front() != '-' && s.back() != '-';
}

plan::RunState carry_nodes(const std::vector<NodeRecord>& stored, const std::string& from, const std::string& to,
                           const std::function<bool(const plan::NodeStatus&)>& restart,
                           std::vector<std::string>& dropped);

std::string str_at(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

plan::TemplateSource Engine::template_source(const std::string& namespace_) {
  return [this, namespace_](bool cluster, const std::string& name) -> Result<Json> {
    const char* kind = cluster ? "ClusterWorkflowTemplate" : "WorkflowTemplate";
    auto obj = store_.get_object(kind, cluster ? std::string() : namespace_, name);
    if (!obj.ok()) return obj.take_error();
    if (!*obj) {
      return not_found(std::string(cluster ? "clusterworkflowtemplates" : "workflowtemplates") +
                       ".argoproj.io \"" + name + "\" not found");
    }
    return (*obj)->object;
  };
}

std::unique_ptr<Engine::ActiveRun> Engine::make_active(RunRecord record, plan::RunState state) {
  auto run = std::make_unique<ActiveRun>();
  plan::RunSpec spec;
  // The planner takes the document; the first commit stores it from there.
  spec.workflow = std::move(record.workflow);
  record.workflow = nullptr;
  run->workflow_unstored = true;
  spec.uid = record.uid;
  spec.name = record.name;
  spec.namespace_ = record.namespace_;
  if (!record.created_at.empty()) parse_rfc3339(record.created_at, &spec.created_at);
  spec.templates = template_source(record.namespace_);
  spec.config_maps = [this, ns = record.namespace_](const std::string& name, const std::string& key) -> Result<std::string> {
    auto v = TRY(lookup_config_key(store_, ns, false, Json{{"name", name}, {"key", key}}));
    if (!v) return not_found("configmap \"" + name + "\" not found");
    return *v;
  };
  run->record = std::move(record);
  run->state = std::move(state);
  run->planner = std::make_unique<plan::Planner>(std::move(spec), run->state);
  const Json& shutdown = run->planner->spec().workflow.contains("spec")
                             ? run->planner->spec().workflow["spec"].value("shutdown", Json(""))
                             : Json("");
  if (shutdown.is_string() && !shutdown.get<std::string>().empty()) run->planner->shutdown(shutdown.get<std::string>());
  const Json& wf = run->planner->spec().workflow;
  if (auto sp = wf.find("spec"); sp != wf.end() && sp->is_object())
    if (auto su = sp->find("suspend"); su != sp->end() && su->is_boolean()) run->suspended = su->get<bool>();
  return run;
}

void Engine::apply(Submit& c) {
  // Moved, not copied, here and below: a DAG of a thousand tasks is a large document.
  Json wf = std::move(c.workflow);
  if (!wf.is_object()) wf = Json::object();
  Json& meta = wf["metadata"];
  if (!meta.is_object()) meta = Json::object();
  std::string ns = str_at(meta, "namespace");
  if (ns.empty()) ns = "default";
  auto reply_error = [&](Error e) {
    auto fn = std::move(c.reply);
    if (fn) replies_.push_back({[fn, e]() { fn(e); }});
  };
  if (std::string p; has_nul(wf, &p))
    return reply_error(invalid(p + " contains a NUL byte, which no program can receive"));
  if (!dns_label(ns))
    return reply_error(invalid("metadata.namespace \"" + ns + "\": a lowercase RFC 1123 label must consist of lower "
                               "case alphanumeric characters or '-', and must start and end with an alphanumeric "
                               "character"));
  std::string name = str_at(meta, "name");
  if (name.empty()) {
    std::string prefix = str_at(meta, "generateName");
    if (prefix.empty()) return reply_error(invalid("metadata.name or metadata.generateName is required"));
    // A clash with an existing run is unlikely but possible: draw again.
    for (int i = 0; i < 10 && name.empty(); ++i) {
      std::string candidate = prefix + name_suffix();
      auto existing = store_.find_run(ns, candidate);
      if (existing.ok() && !*existing) name = candidate;
    }
    if (name.empty()) return reply_error(Error(ErrorCode::kConflict, "could not generate a free name for " + prefix));
  } else {
    auto existing = store_.find_run(ns, name);
    if (!existing.ok()) return reply_error(existing.take_error());
    if (*existing) return reply_error(Error(ErrorCode::kConflict, "workflows.argoproj.io \"" + name + "\" already exists"));
  }
  plan::RunState state;
  if (c.memoized_from) {
    // Argo's FormulateResubmitWorkflow(memoized): only a Failed or Error run.
    auto old = store_.find_run(c.memoized_from->namespace_, c.memoized_from->name);
    if (!old.ok()) return reply_error(old.take_error());
    if (!*old) return reply_error(not_found("workflows.argoproj.io \"" + c.memoized_from->name + "\" not found"));
    if ((*old)->phase != "Failed" && (*old)->phase != "Error")
      return reply_error(invalid("workflow must be Failed/Error to resubmit in memoized mode"));
    auto stored = store_.nodes((*old)->uid);
    if (!stored.ok()) return reply_error(stored.take_error());
    std::vector<std::string> dropped;
    state = carry_nodes(*stored, (*old)->name, name, [](const plan::NodeStatus&) { return false; }, dropped);
  }
  WallTime now = clock_.now();
  RunRecord rec;
  rec.uid = uuid_v4();
  rec.name = name;
  rec.namespace_ = ns;
  rec.phase = "Pending";
  rec.created_at = format_rfc3339(now);
  meta["name"] = name;
  meta["namespace"] = ns;
  meta["uid"] = rec.uid;
  meta["creationTimestamp"] = rec.created_at;
  if (!c.entrypoint_override.empty()) wf["spec"]["entrypoint"] = c.entrypoint_override;
  rec.workflow = std::move(wf);
  RunRecord reply_rec;  // what a reply reads: the run's identity, not its document
  reply_rec.uid = rec.uid;
  reply_rec.name = rec.name;
  reply_rec.namespace_ = rec.namespace_;
  reply_rec.phase = rec.phase;
  reply_rec.created_at = rec.created_at;
  auto run = make_active(std::move(rec), std::move(state));
  run->state.run_changed = true;
  runs_[reply_rec.uid] = std::move(run);
  auto fn = std::move(c.reply);
  if (fn) replies_.push_back({[fn, reply_rec]() { fn(reply_rec); }});
}

Engine::ActiveRun* Engine::find_active(const RunRef& ref) {
  for (auto& [uid, run] : runs_)
    if ((run->record.name == ref.name && run->record.namespace_ == ref.namespace_) || uid == ref.name) return run.get();
  return nullptr;
}

// Argo's shutdown: the strategy goes into spec.shutdown (so a restarted engine keeps it);
// running steps get SIGTERM, the runner escalates to SIGKILL after their grace period.
void Engine::shutdown_run(ActiveRun& run, const std::string& strategy) {
  run.planner->shutdown(strategy);
  store_control_fields(run);
  for (const auto& id : run.running) runner_.signal(id, SIGTERM);
}

void Engine::reply_later(std::function<void(Status)> fn, Status status) {
  if (fn) replies_.push_back({[fn = std::move(fn), status]() { fn(status); }});
}

Status Engine::shutdown_active(const RunRef& ref, const std::string& strategy) {
  ActiveRun* run = find_active(ref);
  if (!run) {
    auto stored = TRY(store_.find_run(ref.namespace_, ref.name));
    if (stored) return Error(ErrorCode::kConflict, "cannot shutdown a completed workflow");
    return not_found("workflows.argoproj.io \"" + ref.name + "\" not found");
  }
  shutdown_run(*run, strategy);
  return ok_status();
}

void Engine::apply(Stop& c) { reply_later(std::move(c.reply), shutdown_active(c.run, "Stop")); }

void Engine::apply(Terminate& c) { reply_later(std::move(c.reply), shutdown_active(c.run, "Terminate")); }

void Engine::apply(Delete& c) {
  auto found = store_.find_run(c.run.namespace_, c.run.name);
  if (!found.ok()) return reply_later(std::move(c.reply), found.take_error());
  if (!*found) return reply_later(std::move(c.reply), not_found("workflow " + c.run.name + " not found"));
  std::string uid = (*found)->uid;
  if (ActiveRun* run = find_active(c.run)) {
    for (const auto& id : run->running) {
      runner_.signal(id, SIGKILL);
      unlock_leaf(*run, id);
    }
    locks_.release(uid);
    runs_.erase(uid);
    timers_.erase(uid);
  }
  batch_.deleted_run_uids.push_back(uid);
  auto removed = repo_.remove_prefix((*found)->name + "/");
  if (!removed.ok()) log::warn("deleting artifacts of {}: {}", (*found)->name, removed.error().str());
  reply_later(std::move(c.reply), ok_status());
}

// Argo's suspend: spec.suspend is set (so it survives a restart), steps already running
// go on, nothing new starts until resume.
void Engine::apply(Suspend& c) {
  ActiveRun* run = find_active(c.run);
  if (!run) return reply_later(std::move(c.reply), not_found("workflow " + c.run.name + " is not running"));
  set_suspended(*run, true);
  reply_later(std::move(c.reply), ok_status());
}

// Resume clears spec.suspend and ends suspend nodes (a suspend template without a
// duration waits for this).
void Engine::apply(Resume& c) {
  ActiveRun* run = find_active(c.run);
  if (!run) return reply_later(std::move(c.reply), not_found("workflow " + c.run.name + " is not running"));
  set_suspended(*run, false);
  for (auto& [id, n] : run->state.nodes) {
    if (n.type != node_type::kSuspend || phase_fulfilled(n.phase)) continue;
    n.phase = phase::kSucceeded;
    n.finished_at = clock_.now();
    run->state.changed.insert(id);
  }
  reply_later(std::move(c.reply), ok_status());
}

void Engine::set_suspended(ActiveRun& run, bool suspended) {
  run.suspended = suspended;
  store_control_fields(run);
}

// The stored Workflow object carries what control commands set (spec.shutdown,
// spec.suspend), as Argo's does, so a restarted engine keeps them.
void Engine::store_control_fields(ActiveRun& run) {
  Json wf = run.planner->spec().workflow;
  Json& spec = wf["spec"];
  if (!run.planner->shutdown_strategy().empty()) spec["shutdown"] = run.planner->shutdown_strategy();
  if (run.suspended) spec["suspend"] = true;
  else spec.erase("suspend");
  run.record.workflow = wf;
  run.state.run_changed = true;
}

namespace {

// Argo's node field selector, equality only: "displayName=a,phase=Failed".
bool selector_matches(const std::string& selector, const plan::NodeStatus& n) {
  if (selector.empty()) return true;
  const std::map<std::string, std::string> fields = {{"displayName", n.display_name}, {"name", n.name},
                                                     {"templateName", n.template_name}, {"phase", n.phase},
                                                     {"id", n.id}, {"type", n.type}};
  size_t start = 0;
  while (start <= selector.size()) {
    size_t end = selector.find(',', start);
    std::string term = selector.substr(start, end == std::string::npos ? std::string::npos : end - start);
    size_t eq = term.find('=');
    bool negate = eq != std::string::npos && eq > 0 && term[eq - 1] == '!';
    std::string key = term.substr(0, eq == std::string::npos ? term.size() : (negate ? eq - 1 : eq));
    std::string want = eq == std::string::npos ? std::string() : term.substr(eq + (term.compare(eq, 2, "==") == 0 ? 2 : 1));
    auto f = fields.find(key);
    if (f == fields.end() || (f->second == want) == negate) return false;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return true;
}

bool is_group(const plan::NodeStatus& n) {
  return n.type == node_type::kSteps || n.type == node_type::kStepGroup || n.type == node_type::kDag ||
         n.type == node_type::kTaskGroup || n.type == node_type::kRetry;
}

// What a retry (to == from) and a memoized resubmit (to: the new run's name) keep of a
// finished run's nodes, as Argo's FormulateRetryWorkflow and FormulateResubmitWorkflow:
// succeeded and skipped nodes stay with their outputs, unless `restart` names them; the
// groups that held anything else go back to Running; the rest, and the exit handler, are
// left out (`dropped`: their IDs in the old run) so the walk creates and runs them anew.
// Under a new name every node is renamed and gets the ID Argo would give it there.
plan::RunState carry_nodes(const std::vector<NodeRecord>& stored, const std::string& from, const std::string& to,
                           const std::function<bool(const plan::NodeStatus&)>& restart,
                           std::vector<std::string>& dropped) {
  plan::RunState state;
  std::map<std::string, std::string> new_id;
  std::vector<plan::NodeStatus> kept_nodes;
  const std::string exit_prefix = from + ".onExit";
  for (const auto& nr : stored) {
    plan::NodeStatus n = node_from_json(nr.status);
    bool exit_handler = starts_with(n.name, exit_prefix);
    bool kept = (n.phase == phase::kSucceeded || n.phase == phase::kSkipped) && !exit_handler && !restart(n);
    if (!kept && is_group(n) && !exit_handler) {
      n.phase = phase::kRunning;
      n.finished_at.reset();
      n.message.clear();
      kept = true;
    }
    if (!kept) {
      dropped.push_back(n.id);
      continue;
    }
    if (from != to && starts_with(n.name, from)) {
      n.name = to + n.name.substr(from.size());
      if (n.template_scope == "local/" + from) n.template_scope = "local/" + to;
      new_id[n.id] = n.name == to ? to : node_id(to, n.name);
    }
    kept_nodes.push_back(std::move(n));
  }
  std::set<std::string> gone(dropped.begin(), dropped.end());
  auto renamed = [&](const std::string& id) {
    auto it = new_id.find(id);
    return it == new_id.end() ? id : it->second;
  };
  for (auto& n : kept_nodes) {
    size_t before = n.children.size() + n.outbound_nodes.size();
    std::erase_if(n.children, [&](const std::string& x) { return gone.count(x) > 0; });
    std::erase_if(n.outbound_nodes, [&](const std::string& x) { return gone.count(x) > 0; });
    bool changed = n.phase == phase::kRunning || from != to || n.children.size() + n.outbound_nodes.size() != before;
    if (from != to) {
      n.id = renamed(n.id);
      if (!n.boundary_id.empty()) n.boundary_id = renamed(n.boundary_id);
      for (auto& x : n.children) x = renamed(x);
      for (auto& x : n.outbound_nodes) x = renamed(x);
    }
    if (changed) state.changed.insert(n.id);
    state.nodes[n.id] = std::move(n);
  }
  return state;
}

}  // namespace

// As Argo's FormulateRetryWorkflow: succeeded and skipped nodes stay; failed, errored and
// omitted steps are dropped so that the walk creates and runs them anew; the groups that
// hold them go back to Running; the workflow's exit handler runs again.
void Engine::apply(Retry& c) {
  auto fail = [&](Error e) { reply_later(std::move(c.reply), std::move(e)); };
  if (find_active(c.run)) return fail(Error(ErrorCode::kConflict, "workflow must be Failed/Error to retry"));
  auto found = store_.find_run(c.run.namespace_, c.run.name);
  if (!found.ok()) return fail(found.take_error());
  if (!*found) return fail(not_found("workflows.argoproj.io \"" + c.run.name + "\" not found"));
  RunRecord rec = **found;
  if (rec.phase != "Failed" && rec.phase != "Error")
    return fail(Error(ErrorCode::kConflict, "workflow must be Failed/Error to retry"));
  auto stored = store_.nodes(rec.uid);
  if (!stored.ok()) return fail(stored.take_error());

  Json& spec = rec.workflow["spec"];
  spec.erase("shutdown");
  for (const auto& kv : c.parameters) {
    Json& params = spec["arguments"]["parameters"];
    if (!params.is_array()) params = Json::array();
    auto it = std::find_if(params.begin(), params.end(),
                           [&](const Json& p) { return p.is_object() && p.value("name", std::string()) == kv.first; });
    if (it == params.end()) return fail(invalid("parameter \"" + kv.first + "\" is not a parameter of the workflow"));
    (*it)["value"] = kv.second;
  }

  auto restart = [&](const plan::NodeStatus& n) {
    return c.restart_successful && selector_matches(c.node_field_selector, n);
  };
  std::vector<std::string> dropped;
  plan::RunState state = carry_nodes(*stored, rec.name, rec.name, restart, dropped);
  for (const auto& id : dropped) batch_.deleted_nodes.emplace_back(rec.uid, id);
  state.phase = "Running";
  WallTime t;
  if (!rec.started_at.empty() && parse_rfc3339(rec.started_at, &t)) state.started_at = t;
  if (rec.status.is_object() && rec.status.contains("outputs")) state.outputs = rec.status["outputs"];
  state.run_changed = true;
  rec.phase = "Running";
  rec.message.clear();
  rec.finished_at.clear();
  std::string uid = rec.uid;
  auto run = make_active(std::move(rec), std::move(state));
  runs_[uid] = std::move(run);
  reply_later(std::move(c.reply), ok_status());
}

void Engine::apply(NodeSet& c) {
  auto fail = [&](Error e) { reply_later(std::move(c.reply), std::move(e)); };
  ActiveRun* run = find_active(c.run);
  if (!run) return fail(not_found("workflow " + c.run.name + " is not running"));
  if (!c.phase.empty() && c.phase != phase::kSucceeded && c.phase != phase::kFailed && c.phase != phase::kError)
    return fail(invalid("phase must be Succeeded, Failed or Error, not \"" + c.phase + "\""));
  std::vector<plan::NodeStatus*> matched;
  for (auto& [id, n] : run->state.nodes)
    if (selector_matches(c.node_field_selector, n)) matched.push_back(&n);
  if (matched.empty()) return fail(not_found("no nodes matching nodeFieldSelector: " + c.node_field_selector));
  for (plan::NodeStatus* n : matched) {
    for (const auto& kv : c.output_parameters) {
      Json& params = n->outputs["parameters"];
      auto it = params.is_array() ? std::find_if(params.begin(), params.end(),
                                                 [&](const Json& p) { return json_str(p, "name") == kv.first; })
                                  : params.end();
      if (!params.is_array() || it == params.end())
        return fail(invalid("node " + n->display_name + " is not expecting output parameter \"" + kv.first + "\""));
      (*it)["value"] = kv.second;
    }
  }
  for (plan::NodeStatus* n : matched) {
    if (!c.message.empty()) n->message = c.message;
    if (!c.phase.empty() && !phase_fulfilled(n->phase)) {
      n->phase = c.phase;
      n->finished_at = clock_.now();
    }
    run->state.changed.insert(n->id);
  }
  reply_later(std::move(c.reply), ok_status());
}

// Rebuilds every unfinished run from its record and nodes, as Argo's controller rebuilds
// from status.nodes, and re-attaches every leaf whose intent to start was committed.
Status Engine::recover() {
  auto runs = TRY(store_.unfinished_runs());
  for (auto& rec : runs) {
    if (runs_.count(rec.uid)) continue;
    // A run whose rows cannot be read is left as it is stored, for a person to look at;
    // the other runs go on.
    auto nodes = store_.nodes(rec.uid);
    if (!nodes.ok()) {
      log::error("run {} is not adopted: {}", rec.name, nodes.error().str());
      continue;
    }
    if (rec.workflow.is_null()) {
      auto full = TRY(store_.find_run(rec.namespace_, rec.uid));
      if (full) rec.workflow = full->workflow;
    }
    plan::RunState state;
    for (const auto& nr : *nodes) state.nodes[nr.id] = node_from_json(nr.status);
    state.phase = rec.phase == "Pending" ? std::string() : rec.phase;
    state.message = rec.message;
    WallTime t;
    if (!rec.started_at.empty() && parse_rfc3339(rec.started_at, &t)) state.started_at = t;
    if (rec.status.is_object() && rec.status.contains("outputs")) state.outputs = rec.status["outputs"];
    std::string uid = rec.uid;
    auto run = make_active(std::move(rec), std::move(state));
    run->workflow_unstored = false;
    run->last_phase = run->record.phase;
    for (auto& [id, n] : run->state.nodes) {
      if (!node_type::is_leaf(n.type) || phase_fulfilled(n.phase)) continue;
      if (!n.engine.is_object() || !n.engine.value("intent", false)) continue;
      StepInvocation inv = invocation_from_json(n.engine.value("invocation", Json::object()));
      auto st = runner_.attach(id, inv.node_dir, n.engine.value("handle", std::string()), inv);
      if (!st.ok()) {
        plan::LeafResult r;
        r.kind = plan::LeafResult::Kind::kLost;
        r.message = "lost: " + st.error().message;
        r.finished_at = clock_.now();
        run->planner->finish_leaf(id, r);
        continue;
      }
      run->running.insert(id);
    }
    // What ran before the restart holds its locks again, whatever the limits say now.
    run->planner->prepare_if_needed();
    const Json& wf_sync = json_at(run->planner->exec_spec(), "synchronization");
    if (wf_sync.is_object() && run->record.phase != "Pending")
      if (auto specs = lock_specs(store_, run->record.namespace_, wf_sync); specs.ok()) locks_.force(*specs, uid);
    for (const auto& id : run->running) {
      const Json& sync = json_at(plan::Planner::leaf_template(run->state.nodes.at(id)), "synchronization");
      if (auto specs = lock_specs(store_, run->record.namespace_, sync); specs.ok() && !specs->empty())
        locks_.force(*specs, uid + "/" + id);
    }
    log::info("adopted run {} ({} steps running)", run->record.name, run->running.size());
    runs_[uid] = std::move(run);
  }
  return ok_status();
}

}  // namespace tether::engine
