#include "testlib/memory_store.h"

#include <algorithm>

#include "store/label_selector.h"

namespace tether::testlib {

using engine::EventRecord;
using engine::NodeRecord;
using engine::ObjectRecord;
using engine::RunRecord;

namespace {

bool run_completed(const std::string& phase) {
  return phase == "Succeeded" || phase == "Failed" || phase == "Error";
}

bool has_label(const RunRecord& r, const std::string& key, const std::string& value) {
  const Json& w = r.workflow;
  if (!w.is_object() || !w.contains("metadata") || !w["metadata"].is_object()) return false;
  const Json& m = w["metadata"];
  if (!m.contains("labels") || !m["labels"].is_object()) return false;
  auto it = m["labels"].find(key);
  return it != m["labels"].end() && it->is_string() && it->get<std::string>() == value;
}

Error conflict(std::string m) { return Error(ErrorCode::kConflict, std::move(m)); }

}  // namespace

Status MemoryStore::apply(Runs& runs, int64_t& seq, const engine::Batch& batch) {
  for (const auto& r : batch.runs) {
    for (const auto& [uid, other] : runs)
      if (uid != r.uid && other.record.namespace_ == r.namespace_ && other.record.name == r.name)
        return conflict("run " + r.namespace_ + "/" + r.name + " already exists");
    auto [it, created] = runs.try_emplace(r.uid);
    if (created) it->second.seq = ++seq;
    Json kept = std::move(it->second.record.workflow);
    it->second.record = r;
    it->second.record.workflow_ref = nullptr;
    if (r.workflow_ref) it->second.record.workflow = *r.workflow_ref;
    else if (r.workflow.is_null()) it->second.record.workflow = std::move(kept);
  }
  for (const auto& gone : batch.deleted_nodes) {
    auto it = runs.find(gone.first);
    if (it != runs.end())
      std::erase_if(it->second.nodes, [&](const NodeRecord& x) { return x.id == gone.second; });
  }
  for (const auto& n : batch.nodes) {
    auto it = runs.find(n.run_uid);
    if (it == runs.end()) return conflict("node " + n.id + " belongs to no run " + n.run_uid);
    auto& nodes = it->second.nodes;
    auto same = std::find_if(nodes.begin(), nodes.end(), [&](const NodeRecord& x) { return x.id == n.id; });
    if (same != nodes.end()) *same = n;
    else nodes.push_back(n);
  }
  for (const auto& e : batch.events) {
    auto it = runs.find(e.run_uid);
    if (it == runs.end()) return conflict("event " + e.reason + " belongs to no run " + e.run_uid);
    it->second.events.push_back(e);
  }
  for (const auto& uid : batch.deleted_run_uids) runs.erase(uid);
  return {};
}

Status MemoryStore::commit(const engine::Batch& batch) {
  if (batch.empty()) return {};
  std::lock_guard<std::mutex> lock(mu_);
  // All or nothing, as one SQLite transaction: work on a copy, keep it only on success.
  Runs next = runs_;
  int64_t seq = seq_;
  TRY_STATUS(apply(next, seq, batch));
  runs_ = std::move(next);
  seq_ = seq;
  ++commits_;
  return {};
}

std::vector<const MemoryStore::Run*> MemoryStore::newest_first() const {
  std::vector<const Run*> out;
  for (const auto& [uid, run] : runs_) out.push_back(&run);
  std::sort(out.begin(), out.end(), [](const Run* a, const Run* b) {
    if (a->record.created_at != b->record.created_at) return a->record.created_at > b->record.created_at;
    return a->seq > b->seq;
  });
  return out;
}

Result<std::optional<RunRecord>> MemoryStore::find_run(const std::string& ns, const std::string& name_or_uid) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Run* r : newest_first()) {
    if (!ns.empty() && r->record.namespace_ != ns) continue;
    if (name_or_uid == "@latest" || r->record.name == name_or_uid || r->record.uid == name_or_uid)
      return std::optional<RunRecord>(r->record);
  }
  return std::optional<RunRecord>();
}

Result<std::vector<RunRecord>> MemoryStore::list_runs(const engine::RunFilter& f) {
  auto selector = TRY(store::parse_label_selector(f.label_selector));
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<RunRecord> out;
  for (const Run* run : newest_first()) {
    const RunRecord& r = run->record;
    if (!f.namespace_.empty() && r.namespace_ != f.namespace_) continue;
    if (!f.phases.empty() && std::find(f.phases.begin(), f.phases.end(), r.phase) == f.phases.end()) continue;
    if (f.completed && *f.completed != run_completed(r.phase)) continue;
    bool labels_match = std::all_of(selector.begin(), selector.end(),
                                    [&](const auto& kv) { return has_label(r, kv.first, kv.second); });
    if (!labels_match) continue;
    out.push_back(r);
    if (f.limit > 0 && static_cast<int>(out.size()) == f.limit) break;
  }
  return out;
}

Result<std::vector<NodeRecord>> MemoryStore::nodes(const std::string& run_uid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = runs_.find(run_uid);
  return it == runs_.end() ? std::vector<NodeRecord>() : it->second.nodes;
}

Result<std::vector<EventRecord>> MemoryStore::events(const std::string& run_uid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = runs_.find(run_uid);
  return it == runs_.end() ? std::vector<EventRecord>() : it->second.events;
}

Result<std::vector<RunRecord>> MemoryStore::unfinished_runs() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<RunRecord> out;
  auto runs = newest_first();
  for (auto it = runs.rbegin(); it != runs.rend(); ++it)
    if (!run_completed((*it)->record.phase)) out.push_back((*it)->record);
  return out;
}

Status MemoryStore::put_object(const ObjectRecord& obj) {
  std::lock_guard<std::mutex> lock(mu_);
  objects_[Key(obj.kind, obj.namespace_, obj.name)] = obj;
  return {};
}

Result<std::optional<ObjectRecord>> MemoryStore::get_object(const std::string& kind, const std::string& ns,
                                                            const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(Key(kind, ns, name));
  if (it == objects_.end()) return std::optional<ObjectRecord>();
  return std::optional<ObjectRecord>(it->second);
}

Result<std::vector<ObjectRecord>> MemoryStore::list_objects(const std::string& kind, const std::string& ns) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ObjectRecord> out;  // the map's order is (kind, namespace, name), as SQLite's ORDER BY
  for (const auto& [key, obj] : objects_)
    if (obj.kind == kind && (ns.empty() || obj.namespace_ == ns)) out.push_back(obj);
  return out;
}

Result<bool> MemoryStore::delete_object(const std::string& kind, const std::string& ns, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  return objects_.erase(Key(kind, ns, name)) > 0;
}

Status MemoryStore::put_secret(const std::string& ns, const std::string& name,
                               const std::map<std::string, std::string>& data) {
  std::lock_guard<std::mutex> lock(mu_);
  secrets_[{ns, name}] = data;
  return {};
}

Result<std::optional<std::map<std::string, std::string>>> MemoryStore::get_secret(const std::string& ns,
                                                                                  const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = secrets_.find({ns, name});
  if (it == secrets_.end()) return std::optional<std::map<std::string, std::string>>();
  return std::optional<std::map<std::string, std::string>>(it->second);
}

Result<std::vector<std::string>> MemoryStore::list_secrets(const std::string& ns) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [key, data] : secrets_)
    if (ns.empty() || key.first == ns) out.push_back(key.second);
  std::sort(out.begin(), out.end());
  return out;
}

Result<bool> MemoryStore::delete_secret(const std::string& ns, const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  return secrets_.erase({ns, name}) > 0;
}

}  // namespace tether::testlib
