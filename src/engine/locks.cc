#include "engine/locks.h"

#include <charconv>

#include "engine/store.h"

namespace tether::engine {

namespace {

std::vector<Json> entries(const Json& sync, const char* single, const char* list) {
  std::vector<Json> out;
  if (json_at(sync, single).is_object()) out.push_back(sync[single]);
  if (json_at(sync, list).is_array())
    for (const auto& e : sync[list])
      if (e.is_object()) out.push_back(e);
  return out;
}

}  // namespace

Result<std::vector<LockSpec>> lock_specs(Store& store, const std::string& ns, const Json& sync) {
  std::vector<LockSpec> out;
  if (!sync.is_object()) return out;
  for (const Json& m : entries(sync, "mutex", "mutexes")) {
    std::string mns = json_str(m, "namespace").empty() ? ns : json_str(m, "namespace");
    std::string name = json_str(m, "name");
    if (json_at(m, "database").is_boolean() && m["database"].get<bool>())
      out.push_back({mns + "/Database/" + name, 1, "mtx/" + mns + "/" + name});
    else
      out.push_back({mns + "/Mutex/" + name, 1});
  }
  for (const Json& s : entries(sync, "semaphore", "semaphores")) {
    const Json& db = json_at(s, "database");
    const Json& ref = json_at(s, "configMapKeyRef");
    if (db.is_object() && ref.is_object()) return invalid("invalid semaphore with both ConfigMapKeyRef and Database");
    if (db.is_object()) {
      std::string sns = json_str(s, "namespace").empty() ? ns : json_str(s, "namespace");
      std::string key = json_str(db, "key");
      std::string name = sns + "/Database/" + key;
      auto row = TRY(store.get_object(kSyncLimitKind, sns, key));
      const Json& limit = row ? json_at(row->object, "limit") : Json();
      if (!limit.is_number_integer() || limit.get<int64_t>() <= 0)
        return invalid("failed to initialize semaphore " + name + " with limit");
      out.push_back({name, static_cast<int>(limit.get<int64_t>()), "sem/" + sns + "/" + key});
      continue;
    }
    if (!ref.is_object())
      return invalid("cannot get LockName for a Semaphore without a ConfigMapRef or Database");
    std::string name = json_str(ref, "name"), key = json_str(ref, "key");
    std::string sns = json_str(s, "namespace").empty() ? ns : json_str(s, "namespace");
    auto cm = TRY(store.get_object("ConfigMap", sns, name));
    if (!cm) return not_found("failed to get semaphore limit: configmap \"" + name + "\" not found");
    std::string value = json_str(json_at(cm->object, "data"), key.c_str());
    int limit = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), limit);
    if (value.empty() || ec != std::errc() || p != value.data() + value.size())
      return invalid("failed to get semaphore limit: key \"" + key + "\" of configmap \"" + name +
                     "\" is not a number: \"" + value + "\"");
    out.push_back({sns + "/ConfigMap/" + name + "/" + key, limit});
  }
  return out;
}

std::string Locks::try_acquire(const std::vector<LockSpec>& locks, const std::string& holder) {
  for (const auto& l : locks) {
    const auto& h = holders_[l.db_key.empty() ? l.key : l.db_key];
    if (h.count(holder)) continue;
    int held = static_cast<int>(h.size());
    if (held < l.limit) continue;
    if (!l.db_key.empty())
      return "Waiting for " + l.key + " lock (" + l.db_key + "). Lock status: " + std::to_string(held) + "/" +
             std::to_string(l.limit);
    return "Waiting for " + l.key + " lock. Lock status: " + std::to_string(std::max(0, l.limit - held)) + "/" +
           std::to_string(l.limit);
  }
  force(locks, holder);
  return "";
}

void Locks::force(const std::vector<LockSpec>& locks, const std::string& holder) {
  for (const auto& l : locks) {
    const std::string& key = l.db_key.empty() ? l.key : l.db_key;
    if (holders_[key].insert(holder).second) held_by_[holder].push_back(key);
  }
}

void Locks::release(const std::string& holder) {
  auto it = held_by_.find(holder);
  if (it == held_by_.end()) return;
  for (const auto& key : it->second) {
    auto h = holders_.find(key);
    if (h == holders_.end()) continue;
    h->second.erase(holder);
    if (h->second.empty()) holders_.erase(h);
  }
  held_by_.erase(it);
}

}  // namespace tether::engine

// ---- the engine's use of them ----------------------------------------------------------------

#include "engine/engine.h"

namespace tether::engine {

namespace {

std::string leaf_holder(const std::string& run_uid, const std::string& node_id) { return run_uid + "/" + node_id; }

bool is_waiting_message(const std::string& m) { return m.rfind("Waiting for ", 0) == 0; }

}  // namespace

bool Engine::admit(ActiveRun& run) {
  const std::string& uid = run.record.uid;
  if (locks_.holds(uid)) return true;
  run.planner->prepare_if_needed();
  const Json& sync = json_at(run.planner->exec_spec(), "synchronization");
  if (!sync.is_object()) return true;
  plan::RunState& st = run.state;
  auto specs = lock_specs(store_, run.record.namespace_, sync);
  std::string waiting = specs.ok() ? locks_.try_acquire(*specs, uid) : std::string();
  if (!specs.ok()) {
    st.phase = "Error";
    st.message = specs.error().message;
    st.finished_at = clock_.now();
    st.run_changed = true;
    run.finished = true;
    return false;
  }
  if (waiting.empty()) {
    if (is_waiting_message(st.message)) st.message.clear();
    return true;
  }
  if (st.message != waiting) {
    st.message = waiting;
    st.run_changed = true;
  }
  return false;
}

Result<std::string> Engine::lock_leaf(ActiveRun& run, plan::NodeStatus& node) {
  const Json& sync = json_at(plan::Planner::leaf_template(node), "synchronization");
  if (!sync.is_object()) return std::string();
  auto specs = TRY(lock_specs(store_, run.record.namespace_, sync));
  std::string waiting = locks_.try_acquire(specs, leaf_holder(run.record.uid, node.id));
  if (node.message == waiting || (waiting.empty() && !is_waiting_message(node.message))) return waiting;
  node.message = waiting;
  run.state.changed.insert(node.id);
  return waiting;
}

void Engine::unlock_leaf(ActiveRun& run, const std::string& node_id) {
  std::string holder = leaf_holder(run.record.uid, node_id);
  if (!locks_.holds(holder)) return;
  locks_.release(holder);
  plan_again_ = true;
}

}  // namespace tether::engine
