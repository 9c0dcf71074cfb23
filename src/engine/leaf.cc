// Leaves: from a processed template to a StepInvocation, inputs staged into the node's
// directory, and outputs (result, parameters, artifacts) read back after the step ends.
#include <sys/stat.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "base/crash_point.h"
#include "base/log.h"
#include "base/strings.h"
#include "engine/agent_leaf.h"
#include "engine/engine.h"

namespace tether::engine {

namespace fs = std::filesystem;

namespace {


std::vector<std::string> strings(const Json& j) {
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (const auto& v : j) out.push_back(v.is_string() ? v.get<std::string>() : v.dump());
  return out;
}

// The main container of a container or script template.
const Json& main_container(const Json& tmpl) {
  const Json& c = json_at(tmpl, "container");
  return c.is_object() ? c : json_at(tmpl, "script");
}

std::optional<int64_t> seconds_of(const Json& v) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_string() && !v.get<std::string>().empty()) {
    const std::string text = v.get<std::string>();  // end points into it
    char* end = nullptr;
    long long x = std::strtoll(text.c_str(), &end, 10);
    if (end && *end == '\0') return x;
  }
  return std::nullopt;
}

Status make_dirs(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return Error(ErrorCode::kIo, "creating " + path + ": " + ec.message());
  return ok_status();
}

Result<std::string> read_all(const std::string& path) { return read_file(path); }

// A container's environment: values, ConfigMap and Secret keys, the pod's own fields.
Status container_env(Store& store, const std::string& ns, const Json& c, const std::string& pod_name,
                     const std::string& node_id, std::vector<std::pair<std::string, std::string>>& env) {
  if (json_at(c, "envFrom").is_array()) {
    for (const auto& src : c["envFrom"]) {
      bool secret = json_at(src, "secretRef").is_object();
      const Json& ref = secret ? src["secretRef"] : json_at(src, "configMapRef");
      if (!ref.is_object()) continue;
      Json whole = {{"name", json_str(ref, "name")}, {"optional", json_at(ref, "optional")}};
      auto all = TRY(lookup_config_key(store, ns, secret, whole));
      if (!all) continue;
      auto parsed = parse_json(*all);
      if (parsed.ok())
        for (auto it = parsed->begin(); it != parsed->end(); ++it)
          env.emplace_back(json_str(src, "prefix") + it.key(), it->get<std::string>());
    }
  }
  if (json_at(c, "env").is_array()) {
    for (const auto& e : c["env"]) {
      std::string name = json_str(e, "name");
      const Json& from = json_at(e, "valueFrom");
      if (!from.is_object()) {
        env.emplace_back(name, json_str(e, "value"));
        continue;
      }
      if (json_at(from, "configMapKeyRef").is_object() || json_at(from, "secretKeyRef").is_object()) {
        bool secret = json_at(from, "secretKeyRef").is_object();
        auto v = TRY(lookup_config_key(store, ns, secret, secret ? from["secretKeyRef"] : from["configMapKeyRef"]));
        if (v) env.emplace_back(name, *v);
      } else if (json_at(from, "fieldRef").is_object()) {
                std::string path = json_str(from["fieldRef"], "fieldPath");
        if (path == "metadata.name") env.emplace_back(name, pod_name);
        else if (path == "metadata.namespace") env.emplace_back(name, ns);
        else if (path == "metadata.uid") env.emplace_back(name, node_id);
        else env.emplace_back(name, "");
      }
    }
  }

  return ok_status();
}

std::vector<std::string> command_of(const Json& c) {
  std::vector<std::string> out = strings(json_at(c, "command"));
  for (auto& a : strings(json_at(c, "args"))) out.push_back(a);
  return out;
}

// Init containers, sidecars and a containerSet's containers: what the runner starts beside
// (or instead of) the main container, each with its own command and environment.
Status add_pod_containers(Store& store, const std::string& ns, const Json& tmpl, StepInvocation& inv) {
  auto add = [&](const Json& list, std::vector<StepContainer>& into) -> Status {
    if (!list.is_array()) return ok_status();
    for (const auto& c : list) {
      StepContainer sc;
      sc.name = json_str(c, "name");
      sc.image = json_str(c, "image");
      sc.command = command_of(c);
      sc.working_dir = json_str(c, "workingDir");
      sc.dependencies = strings(json_at(c, "dependencies"));
      TRY_STATUS(container_env(store, ns, c, inv.pod_name, inv.node_id, sc.env));
      into.push_back(std::move(sc));
    }
    return ok_status();
  };
  TRY_STATUS(add(json_at(tmpl, "initContainers"), inv.init_containers));
  TRY_STATUS(add(json_at(tmpl, "sidecars"), inv.sidecars));
  TRY_STATUS(add(json_at(json_at(tmpl, "containerSet"), "containers"), inv.container_set));
  inv.daemon = json_at(tmpl, "daemon").is_boolean() && tmpl["daemon"].get<bool>();
  const Json& set_retry = json_at(json_at(tmpl, "containerSet"), "retryStrategy");
  if (set_retry.is_object()) {
    inv.container_set_retries = static_cast<int>(seconds_of(json_at(set_retry, "retries")).value_or(0));
    auto delay = plan::parse_duration_seconds(json_str(set_retry, "duration"));
    inv.container_set_retry_delay_ms = delay ? static_cast<int>(*delay * 1000) : 0;
  }
  const Json& probe = json_at(main_container(tmpl), "readinessProbe");
  if (inv.daemon && probe.is_object()) {
    StepProbe p;
    if (json_at(probe, "exec").is_object()) {
      p.kind = "exec";
      p.command = strings(json_at(probe["exec"], "command"));
    } else if (json_at(probe, "httpGet").is_object()) {
      p.kind = "httpGet";
      p.path = json_str(probe["httpGet"], "path").empty() ? "/" : json_str(probe["httpGet"], "path");
      p.port = static_cast<int>(seconds_of(json_at(probe["httpGet"], "port")).value_or(0));
    } else if (json_at(probe, "tcpSocket").is_object()) {
      p.kind = "tcpSocket";
      p.port = static_cast<int>(seconds_of(json_at(probe["tcpSocket"], "port")).value_or(0));
    }
    if (!p.kind.empty() && p.kind != "exec" && p.port <= 0)
      return invalid("readinessProbe." + p.kind + ".port: a port number is needed (named ports need a pod)");
    p.initial_delay_seconds = static_cast<int>(seconds_of(json_at(probe, "initialDelaySeconds")).value_or(0));
    p.period_seconds = static_cast<int>(seconds_of(json_at(probe, "periodSeconds")).value_or(10));
    p.timeout_seconds = static_cast<int>(seconds_of(json_at(probe, "timeoutSeconds")).value_or(1));
    if (!p.kind.empty()) inv.readiness = p;
  }
  return ok_status();
}

}  // namespace

// Every container of a pod besides its main one, keyed "init/NAME", "sidecar/NAME", "set/NAME".
template <typename Inv>
auto pod_containers(Inv& inv) {
  using C = std::conditional_t<std::is_const_v<Inv>, const StepContainer, StepContainer>;
  std::vector<std::pair<std::string, C*>> out;
  for (auto& c : inv.init_containers) out.emplace_back("init/" + c.name, &c);
  for (auto& c : inv.sidecars) out.emplace_back("sidecar/" + c.name, &c);
  for (auto& c : inv.container_set) out.emplace_back("set/" + c.name, &c);
  return out;
}

Json invocation_to_json(const StepInvocation& s) {
  Json mounts = Json::array();
  for (const auto& m : s.mounts) mounts.push_back({{"path", m.path}, {"hostPath", m.host_path}, {"readOnly", m.read_only}});
  // Only the names: values may come from Secrets, and nothing stored may hold a secret.
  // The values are needed once, to start the step, and the engine keeps them in memory
  // until then (ActiveRun::start_env); a restarted engine only attaches, never starts.
  Json env = Json::array();
  for (const auto& kv : s.env) env.push_back(kv.first);
  Json j = {{"runUid", s.run_uid},     {"nodeId", s.node_id},     {"nodeName", s.node_name}, {"podName", s.pod_name},
            {"nodeDir", s.node_dir},   {"image", s.image},        {"command", s.command},
            {"env", env},              {"workingDir", s.working_dir}, {"mounts", mounts},
            {"outputPaths", s.output_paths}, {"outputFiles", s.output_files}, {"terminationGraceSeconds", s.termination_grace_seconds}};
  if (s.script) j["script"] = *s.script;
  if (s.deadline) j["deadline"] = format_rfc3339(*s.deadline);
  auto containers = [](const std::vector<StepContainer>& list) {
    Json out = Json::array();
    for (const auto& c : list) {
      Json names = Json::array();
      for (const auto& kv : c.env) names.push_back(kv.first);
      out.push_back({{"name", c.name}, {"image", c.image}, {"command", c.command}, {"env", names},
                     {"workingDir", c.working_dir}, {"dependencies", c.dependencies}});
    }
    return out;
  };
  if (!s.init_containers.empty()) j["initContainers"] = containers(s.init_containers);
  if (!s.sidecars.empty()) j["sidecars"] = containers(s.sidecars);
  if (!s.container_set.empty()) j["containerSet"] = containers(s.container_set);
  if (s.daemon) j["daemon"] = true;
  if (s.container_set_retries > 0)
    j["containerSetRetry"] = {{"retries", s.container_set_retries}, {"delayMs", s.container_set_retry_delay_ms}};
  if (const auto& p = s.readiness)
    j["readinessProbe"] = {{"kind", p->kind}, {"command", p->command}, {"path", p->path}, {"port", p->port},
                           {"initialDelaySeconds", p->initial_delay_seconds}, {"periodSeconds", p->period_seconds},
                           {"timeoutSeconds", p->timeout_seconds}};
  return j;
}

StepInvocation invocation_from_json(const Json& j) {
  StepInvocation s;
  s.run_uid = json_str(j, "runUid");
  s.node_id = json_str(j, "nodeId");
  s.node_name = json_str(j, "nodeName");
  s.pod_name = json_str(j, "podName");
  s.node_dir = json_str(j, "nodeDir");
  s.image = json_str(j, "image");
  s.command = strings(json_at(j, "command"));
  if (json_at(j, "env").is_array())
    for (const auto& e : j["env"])
      if (e.is_string()) s.env.emplace_back(e.get<std::string>(), std::string());
  s.working_dir = json_str(j, "workingDir");
  if (json_at(j, "script").is_string()) s.script = j["script"].get<std::string>();
  if (json_at(j, "mounts").is_array())
    for (const auto& m : j["mounts"]) s.mounts.push_back({json_str(m, "path"), json_str(m, "hostPath"), m.value("readOnly", false)});
  s.output_paths = strings(json_at(j, "outputPaths"));
  s.output_files = strings(json_at(j, "outputFiles"));
  WallTime t;
  if (!json_str(j, "deadline").empty() && parse_rfc3339(json_str(j, "deadline"), &t)) s.deadline = t;
  s.termination_grace_seconds = j.value("terminationGraceSeconds", 30);
  auto containers = [&](const char* key, std::vector<StepContainer>& into) {
    if (!json_at(j, key).is_array()) return;
    for (const auto& c : j[key]) {
      StepContainer sc;
      sc.name = json_str(c, "name");
      sc.image = json_str(c, "image");
      sc.command = strings(json_at(c, "command"));
      for (const auto& e : strings(json_at(c, "env"))) sc.env.emplace_back(e, std::string());
      sc.working_dir = json_str(c, "workingDir");
      sc.dependencies = strings(json_at(c, "dependencies"));
      into.push_back(std::move(sc));
    }
  };
  containers("initContainers", s.init_containers);
  containers("sidecars", s.sidecars);
  containers("containerSet", s.container_set);
  s.daemon = j.value("daemon", false);
  if (const Json& r = json_at(j, "containerSetRetry"); r.is_object()) {
    s.container_set_retries = r.value("retries", 0);
    s.container_set_retry_delay_ms = r.value("delayMs", 0);
  }
  if (const Json& p = json_at(j, "readinessProbe"); p.is_object()) {
    StepProbe probe;
    probe.kind = json_str(p, "kind");
    probe.command = strings(json_at(p, "command"));
    probe.path = json_str(p, "path");
    probe.port = p.value("port", 0);
    probe.initial_delay_seconds = p.value("initialDelaySeconds", 0);
    probe.period_seconds = p.value("periodSeconds", 10);
    probe.timeout_seconds = p.value("timeoutSeconds", 1);
    s.readiness = probe;
  }
  return s;
}

Result<std::optional<std::string>> lookup_config_key(Store& store, const std::string& ns, bool secret,
                                                     const Json& ref) {
  std::string name = json_str(ref, "name");
  std::string key = json_str(ref, "key");
  bool optional = json_at(ref, "optional").is_boolean() && ref["optional"].get<bool>();
  std::map<std::string, std::string> data;
  if (secret) {
    auto s = TRY(store.get_secret(ns, name));
    if (!s) {
      if (optional) return std::optional<std::string>();
      return not_found("secret \"" + name + "\" not found");
    }
    data = *s;
  } else {
    auto o = TRY(store.get_object("ConfigMap", ns, name));
    if (!o) {
      if (optional) return std::optional<std::string>();
      return not_found("configmap \"" + name + "\" not found");
    }
    const Json& d = json_at(o->object, "data");
    if (d.is_object())
      for (auto it = d.begin(); it != d.end(); ++it) data[it.key()] = it->is_string() ? it->get<std::string>() : it->dump();
  }
  if (key.empty()) {
    Json all = data;
    return std::optional<std::string>(all.dump());
  }
  auto it = data.find(key);
  if (it == data.end()) {
    if (optional) return std::optional<std::string>();
    return not_found("couldn't find key " + key + " in " + (secret ? "Secret " : "ConfigMap ") + ns + "/" + name);
  }
  return std::optional<std::string>(it->second);
}

Result<StepInvocation> Engine::build_invocation(ActiveRun& run, plan::NodeStatus& node) {
  const Json& tmpl = plan::Planner::leaf_template(node);
  const Json& c = main_container(tmpl);
  const std::string& ns = run.record.namespace_;
  StepInvocation inv;
  inv.run_uid = run.record.uid;
  inv.node_id = node.id;
  inv.node_name = node.name;
  inv.pod_name = json_str(node.engine, "podName");
  inv.node_dir = node_dir(options_.home, run.record.uid, node.id);
  inv.image = json_str(c, "image");
  inv.command = strings(json_at(c, "command"));
  // A script's args come before its source's path, which the runner appends last (Argo
  // appends the path to args).
  for (auto& a : strings(json_at(c, "args"))) inv.command.push_back(a);
  if (json_at(tmpl, "script").is_object()) inv.script = json_str(c, "source");
  inv.working_dir = json_str(c, "workingDir");

  TRY_STATUS(container_env(store_, ns, c, inv.pod_name, node.id, inv.env));
  TRY_STATUS(add_pod_containers(store_, ns, tmpl, inv));

  // Input artifacts are staged under the node's directory and bound at their path.
  const Json& in_arts = json_at(json_at(tmpl, "inputs"), "artifacts");
  if (in_arts.is_array())
    for (const auto& a : in_arts)
      if (!json_str(a, "path").empty())
        inv.mounts.push_back({json_str(a, "path"), inv.node_dir + "/inputs/" + json_str(a, "name"), false});

  // Volumes: emptyDir per node; volumeClaimTemplates per run (shared by its steps, as a
  // PVC is); a named claim per $TETHER_HOME; configMap/secret as files.
  std::map<std::string, Json> volumes;
  for (const Json* list : {&json_at(tmpl, "volumes"), &json_at(run.planner->exec_spec(), "volumes")})
    if (list->is_array())
      for (const auto& v : *list) volumes.emplace(json_str(v, "name"), v);
  const Json& claims = json_at(run.planner->exec_spec(), "volumeClaimTemplates");
  if (claims.is_array())
    for (const auto& v : claims) volumes.emplace(json_str(json_at(v, "metadata"), "name"), Json{{"claimTemplate", true}});
  // The containers of a pod share its volumes: each mount of any of them is in the one view
  // they all run in.
  std::vector<const Json*> mount_lists = {&json_at(c, "volumeMounts"),
                                          &json_at(json_at(tmpl, "containerSet"), "volumeMounts")};
  for (const Json* list : {&json_at(tmpl, "initContainers"), &json_at(tmpl, "sidecars"),
                           &json_at(json_at(tmpl, "containerSet"), "containers")})
    if (list->is_array())
      for (const auto& other : *list) mount_lists.push_back(&json_at(other, "volumeMounts"));
  std::set<std::string> mounted;
  for (const Json* list : mount_lists) {
    if (!list->is_array()) continue;
    for (const auto& m : *list) {
      if (!mounted.insert(json_str(m, "mountPath")).second) continue;
      std::string vname = json_str(m, "name");
      auto it = volumes.find(vname);
      if (it == volumes.end()) return invalid("volume '" + vname + "' not found");
      const Json& v = it->second;
      std::string host;
      if (v.value("claimTemplate", false)) host = run_dir(options_.home, run.record.uid) + "/volumes/" + vname;
      else if (json_at(v, "persistentVolumeClaim").is_object())
        host = options_.home + "/volumes/" + json_str(v["persistentVolumeClaim"], "claimName");
      else
        host = inv.node_dir + "/volumes/" + vname;
      if (!json_str(m, "subPath").empty()) host += "/" + json_str(m, "subPath");
      inv.mounts.push_back({json_str(m, "mountPath"), host, json_at(m, "readOnly").is_boolean() && m["readOnly"].get<bool>()});
    }
  }

  const Json& outs = json_at(tmpl, "outputs");
  if (json_at(outs, "parameters").is_array())
    for (const auto& p : outs["parameters"])
      if (!json_str(json_at(p, "valueFrom"), "path").empty()) {
        inv.output_paths.push_back(json_str(p["valueFrom"], "path"));
        inv.output_files.push_back(json_str(p["valueFrom"], "path"));
      }
  if (json_at(outs, "artifacts").is_array())
    for (const auto& a : outs["artifacts"])
      if (!json_str(a, "path").empty()) inv.output_paths.push_back(json_str(a, "path"));

  // The pod's terminationGracePeriodSeconds, which Argo users set through podSpecPatch: how
  // long a stopped step, daemon or sidecar gets between SIGTERM and SIGKILL.
  for (const Json* patch : {&json_at(run.planner->exec_spec(), "podSpecPatch"), &json_at(tmpl, "podSpecPatch")}) {
    if (!patch->is_string()) continue;
    auto parsed = parse_json(patch->get<std::string>());
    if (!parsed.ok()) continue;
    if (auto secs = seconds_of(json_at(*parsed, "terminationGracePeriodSeconds")); secs && *secs >= 0)
      inv.termination_grace_seconds = static_cast<int>(*secs);
  }

  WallTime now = clock_.now();
  if (auto secs = seconds_of(json_at(tmpl, "activeDeadlineSeconds"))) inv.deadline = now + std::chrono::seconds(*secs);
  // A template's timeout bounds the step the same way.
  if (auto secs = plan::parse_duration_seconds(json_str(tmpl, "timeout")); secs && *secs > 0) {
    WallTime t = now + std::chrono::microseconds(static_cast<int64_t>(*secs * 1e6));
    if (!inv.deadline || t < *inv.deadline) inv.deadline = t;
  }
  // Exit handlers run after the workflow's deadline, as Argo exempts their pods.
  bool on_exit = json_at(node.engine, "onExit").is_boolean();
  if (auto secs = seconds_of(json_at(run.planner->exec_spec(), "activeDeadlineSeconds"));
      secs && run.state.started_at && !on_exit) {
    WallTime wf_deadline = *run.state.started_at + std::chrono::seconds(*secs);
    if (!inv.deadline || wf_deadline < *inv.deadline) inv.deadline = wf_deadline;
  }
  TRY_STATUS(make_agent_step(run, node, inv));
  return inv;
}

void Engine::mark_intent(ActiveRun& run, plan::NodeStatus& node, const StepInvocation& inv) {
  node.engine["intent"] = true;
  node.engine["nodeDir"] = inv.node_dir;
  node.engine["invocation"] = invocation_to_json(inv);
  run.start_env[node.id] = inv.env;
  for (const auto& [key, c] : pod_containers(inv)) run.start_env[node.id + "/" + key] = c->env;
  run.state.changed.insert(node.id);
}

// Creates the node's directories and puts every input artifact and volume file in place.
Status Engine::stage_inputs(ActiveRun& run, const plan::NodeStatus& node, StepInvocation& inv) {
  // Its parent (the run's nodes/) exists after the run's first step: one mkdir, and whether
  // it made the directory tells the runner no earlier attempt can have left anything there.
  inv.new_dir = ::mkdir(inv.node_dir.c_str(), 0777) == 0;
  if (!inv.new_dir && errno == ENOENT) {
    TRY_STATUS(make_dirs(fs::path(inv.node_dir).parent_path().string()));
    inv.new_dir = ::mkdir(inv.node_dir.c_str(), 0777) == 0;
  }
  if (!inv.new_dir) TRY_STATUS(make_dirs(inv.node_dir));
  const Json& tmpl = plan::Planner::leaf_template(node);
  const Json& in_arts = json_at(json_at(tmpl, "inputs"), "artifacts");
  if (in_arts.is_array()) {
    TRY_STATUS(make_dirs(inv.node_dir + "/inputs"));
    for (const auto& a : in_arts) {
      std::string name = json_str(a, "name");
      std::string dest = inv.node_dir + "/inputs/" + name;
      bool optional = json_at(a, "optional").is_boolean() && a["optional"].get<bool>();
      int mode = json_at(a, "mode").is_number_integer() ? a["mode"].get<int>() : -1;
      if (json_at(a, "raw").is_object()) {
        TRY_STATUS(write_file_atomic(dest, json_str(a["raw"], "data"), mode >= 0 ? mode : 0644));
      } else if (json_at(a, "local").is_object()) {
        std::string key = json_str(a["local"], "key");
        auto exists = TRY(repo_.exists(key));
        if (!exists && optional) {
          std::erase_if(inv.mounts, [&](const StepMount& m) { return m.host_path == dest; });
          continue;
        }
        auto st = repo_.load({key, dest, json_str(a, "subPath"), mode});
        if (!st.ok()) return Error(st.error().code, "inputs.artifacts." + name + ": " + st.error().message);
      } else if (optional) {
        std::erase_if(inv.mounts, [&](const StepMount& m) { return m.host_path == dest; });
      } else {
        std::string kind;
        for (auto it = a.begin(); it != a.end(); ++it)
          if (it->is_object() && it.key() != "archive") kind = it.key();
        return invalid("inputs.artifacts." + name + ": artifact location " + (kind.empty() ? "(none)" : kind) +
                       " is not supported by tether");
      }
    }
  }
  for (const auto& m : inv.mounts) {
    if (starts_with(m.host_path, inv.node_dir + "/inputs/")) continue;
    TRY_STATUS(make_dirs(m.host_path));
  }
  (void)run;
  return ok_status();
}

void Engine::start_leaves() {
  std::vector<PendingStart> starts;
  starts.swap(to_start_);
  struct Ready {
    ActiveRun* run;
    plan::NodeStatus* node;
    StepInvocation inv;
  };
  std::vector<Ready> ready;
  auto fail = [&](ActiveRun& run, const std::string& node_id, const std::string& msg) {
    unlock_leaf(run, node_id);
    plan::LeafResult r;
    r.kind = plan::LeafResult::Kind::kStartFailed;
    r.message = msg;
    r.started_at = r.finished_at = clock_.now();
    run.planner->finish_leaf(node_id, r);
    plan_again_ = true;
  };
  for (const auto& s : starts) {
    auto rit = runs_.find(s.run_uid);
    if (rit == runs_.end()) continue;
    ready.push_back({rit->second.get(), &rit->second->state.nodes.at(s.node_id), {}});
  }
  if (ready.empty()) return;
  // Each step is prepared just before it is launched (Runner::Prepare), not all of them
  // first: a layer of a hundred made a hundred directories before its first step started.
  auto prepare = [&](size_t i) -> Status {
    ActiveRun& run = *ready[i].run;
    plan::NodeStatus& node = *ready[i].node;
    StepInvocation& inv = ready[i].inv;
    inv = invocation_from_json(node.engine.value("invocation", Json::object()));
    if (auto env = run.start_env.find(node.id); env != run.start_env.end()) {
      inv.env = std::move(env->second);
      run.start_env.erase(env);
    }
    for (auto& [key, c] : pod_containers(inv))
      if (auto env = run.start_env.find(node.id + "/" + key); env != run.start_env.end()) {
        c->env = std::move(env->second);
        run.start_env.erase(env);
      }
    return stage_inputs(run, node, inv);
  };
  std::vector<const StepInvocation*> invs;
  for (const auto& r : ready) invs.push_back(&r.inv);
  auto handles = runner_.start_all(invs, prepare);
  for (size_t i = 0; i < ready.size(); ++i) {
    ActiveRun& run = *ready[i].run;
    plan::NodeStatus& node = *ready[i].node;
    if (!handles[i].ok()) {
      fail(run, node.id, handles[i].error().message);
      continue;
    }
    crash_point("after-spawn");
    if (json_at(node.engine, "onExit").is_boolean()) crash_point("exit-handler");
    node.engine["handle"] = *handles[i];
    run.planner->start_leaf(node.id, clock_.now());
    run.running.insert(node.id);
  }
}

namespace {

std::string host_path_of(const StepExit& exit, const std::string& path) {
  for (const auto& [p, host] : exit.output_host_paths)
    if (p == path) return host;
  return {};
}

}  // namespace

plan::LeafResult Engine::read_exit(ActiveRun& run, const plan::NodeStatus& node, const StepExit& exit) {
  using K = plan::LeafResult::Kind;
  plan::LeafResult r;
  static const std::map<StepExit::Kind, K> kinds = {{StepExit::Kind::kExited, K::kExited},
                                                    {StepExit::Kind::kStartFailed, K::kStartFailed},
                                                    {StepExit::Kind::kLost, K::kLost},
                                                    {StepExit::Kind::kDeadline, K::kDeadline}};
  r.kind = kinds.at(exit.kind);
  r.exit_code = exit.exit_code;
  r.message = exit.message;
  r.pod_message = exit.pod_message;
  r.container_exits = exit.container_exits;
  r.started_at = exit.started_at;
  r.finished_at = exit.finished_at ? exit.finished_at : std::optional<WallTime>(clock_.now());
  if (r.kind == K::kStartFailed || r.kind == K::kLost) return r;

  if (!exit.stdout_path.empty() && node.engine.value("captureResult", true)) {
    auto text = read_all(exit.stdout_path);
    r.stdout_text = text.ok() ? *text : std::string();
  }
  if (auto path = agent_message_path(node)) {
    auto text = read_all(host_path_of(exit, *path));
    if (text.ok()) r.message = std::string(trim(*text));
  }
  const Json& tmpl = plan::Planner::leaf_template(node);
  const Json& outs = json_at(tmpl, "outputs");
  if (json_at(outs, "parameters").is_array()) {
    for (const auto& p : outs["parameters"]) {
      std::string path = json_str(json_at(p, "valueFrom"), "path");
      if (path.empty()) continue;
      std::string host = host_path_of(exit, path);
      auto text = host.empty() ? Result<std::string>(not_found(path)) : read_all(host);
      r.parameter_files[json_str(p, "name")] = text.ok() ? std::optional<std::string>(*text) : std::nullopt;
    }
  }
  if (json_at(outs, "artifacts").is_array()) {
    for (const auto& a : outs["artifacts"]) {
      std::string path = json_str(a, "path");
      if (path.empty()) continue;
      std::string host = host_path_of(exit, path);
      std::error_code ec;
      bool optional = json_at(a, "optional").is_boolean() && a["optional"].get<bool>();
      if (host.empty() || !fs::exists(host, ec)) {
        if (!optional && exit.exit_code == 0 && r.artifact_error.empty())
          r.artifact_error = "open " + path + ": no such file or directory";
        continue;
      }
      bool archived = !json_at(json_at(a, "archive"), "none").is_object();
      SaveRequest req;
      req.src = host;
      req.key = plan::artifact_key(run.record.name, json_str(node.engine, "podName"), json_str(a, "name"), archived);
      req.archive = archived ? ArchiveMode::kTarGz : ArchiveMode::kNone;
      const Json& level = json_at(json_at(json_at(a, "archive"), "tar"), "compressionLevel");
      if (level.is_number_integer()) req.compression_level = level.get<int>();
      auto st = repo_.save(req);
      if (!st.ok()) {
        if (r.artifact_error.empty()) r.artifact_error = "failed to save outputs: " + st.error().message;
        continue;
      }
      Json saved = a;
      saved.erase("optional");
      saved["local"] = {{"key", req.key}};
      r.artifacts.push_back(saved);
    }
  }
  return r;
}

}  // namespace tether::engine
