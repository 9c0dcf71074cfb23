// Memoization (template.memoize), as Argo keeps it: the cache is a ConfigMap named by
// memoize.cache.configMap.name whose keys are the memoize keys and whose values are
// {"nodeID","outputs","creationTimestamp","lastHitTimestamp"}. A hit within maxAge makes
// the step Succeeded with the cached outputs without running it.
#include <cctype>

#include "base/log.h"
#include "engine/engine.h"

namespace tether::engine {

namespace {

// Kubernetes' rule for ConfigMap keys, which Argo applies to memoize keys.
bool valid_cache_key(const std::string& key) {
  if (key.empty() || key.size() > 253) return false;
  for (char c : key)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

struct Memo {
  std::string key;
  std::string cache;  // the ConfigMap's name
  std::optional<double> max_age_seconds;
};

std::optional<Memo> memo_of(const plan::NodeStatus& node) {
  const Json& m = json_at(plan::Planner::leaf_template(node), "memoize");
  if (!m.is_object()) return std::nullopt;
  Memo memo{json_str(m, "key"), json_str(json_at(json_at(m, "cache"), "configMap"), "name"), std::nullopt};
  if (!json_str(m, "maxAge").empty()) memo.max_age_seconds = plan::parse_duration_seconds(json_str(m, "maxAge"));
  return memo;
}

Json status_json(const Memo& memo, bool hit) {
  return {{"hit", hit}, {"key", memo.key}, {"cacheName", memo.cache}};
}

}  // namespace

Result<bool> Engine::use_memoized(ActiveRun& run, plan::NodeStatus& node) {
  auto memo = memo_of(node);
  if (!memo) return false;
  if (!valid_cache_key(memo->key))
    return invalid("invalid memoization key '" + memo->key +
                   "': a valid config key must consist of alphanumeric characters, '-', '_' or '.'");
  if (memo->cache.empty()) return invalid("memoize.cache.configMap.name is required");
  node.memoization_status_json = status_json(*memo, false).dump();
  run.state.changed.insert(node.id);
  auto cm = TRY(store_.get_object("ConfigMap", run.record.namespace_, memo->cache));
  if (!cm) return false;
  const Json& raw = json_at(json_at(cm->object, "data"), memo->key.c_str());
  if (!raw.is_string()) return false;
  auto entry = parse_json(raw.get<std::string>());
  if (!entry.ok() || !entry->is_object()) {
    log::warn("run {}: cache entry {} of ConfigMap {} is not JSON; ignoring it", run.record.name, memo->key,
              memo->cache);
    return false;
  }
  WallTime now = clock_.now();
  WallTime created;
  if (memo->max_age_seconds) {
    if (!parse_rfc3339(json_str(*entry, "creationTimestamp"), &created)) return false;
    if (now - created > std::chrono::microseconds(static_cast<int64_t>(*memo->max_age_seconds * 1e6))) return false;
  }
  node.memoization_status_json = status_json(*memo, true).dump();
  run.planner->finish_leaf_from_cache(node.id, json_at(*entry, "outputs"), now);
  (*entry)["lastHitTimestamp"] = format_rfc3339(now);
  Json updated = cm->object;
  updated["data"][memo->key] = entry->dump();
  if (auto st = store_.put_object({"ConfigMap", run.record.namespace_, memo->cache, updated, format_rfc3339(now)});
      !st.ok())
    log::warn("run {}: updating cache {}: {}", run.record.name, memo->cache, st.error().str());
  return true;
}

void Engine::remember(ActiveRun& run, const plan::NodeStatus& node) {
  auto memo = memo_of(node);
  if (!memo || node.phase != plan::phase::kSucceeded || !valid_cache_key(memo->key) || memo->cache.empty()) return;
  const std::string& ns = run.record.namespace_;
  auto cm = store_.get_object("ConfigMap", ns, memo->cache);
  if (!cm.ok()) return log::warn("run {}: reading cache {}: {}", run.record.name, memo->cache, cm.error().str());
  Json object = *cm ? (*cm)->object
                    : Json{{"apiVersion", "v1"},
                           {"kind", "ConfigMap"},
                           {"metadata",
                            {{"name", memo->cache},
                             {"namespace", ns},
                             {"labels", {{"workflows.argoproj.io/configmap-type", "Cache"}}}}}};
  std::string now = format_rfc3339(clock_.now());
  Json entry = {{"nodeID", node.id}, {"outputs", node.outputs}, {"creationTimestamp", now}, {"lastHitTimestamp", now}};
  object["data"][memo->key] = entry.dump();
  if (auto st = store_.put_object({"ConfigMap", ns, memo->cache, object, now}); !st.ok())
    log::warn("run {}: saving to cache {}: {}", run.record.name, memo->cache, st.error().str());
}

}  // namespace tether::engine
