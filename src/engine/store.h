// The persistence contract. The SQLite adapter (store/) implements it; tests use a
// MemoryStore. Only the engine thread writes; readers (CLI, HTTP) open their own store.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/result.h"

namespace tether::engine {

struct RunRecord {
  std::string uid;
  std::string name;
  std::string namespace_ = "default";
  std::string phase;        // "", Pending, Running, Succeeded, Failed, Error
  std::string message;
  std::string created_at;   // RFC 3339
  std::string started_at;
  std::string finished_at;
  // The Workflow object as submitted (metadata + spec, arguments applied). Written once,
  // when the run is created; null on later updates means "keep what is stored".
  Json workflow;
  // When set, written in place of `workflow`: the engine's planner holds a new run's
  // document, and a copy of a DAG of a thousand tasks is not free. Not owned.
  const Json* workflow_ref = nullptr;
  // status fields other than nodes and phase/message/times: outputs, storedTemplates,
  // conditions, progress, estimatedDuration ... Replaced whole on every update.
  Json status;
};

struct NodeRecord {
  std::string run_uid;
  std::string id;
  Json status;  // engine::to_json(NodeStatus)
};

struct EventRecord {
  std::string run_uid;
  std::string node_id;   // may be empty
  std::string time;      // RFC 3339
  std::string type;      // Normal, Warning
  std::string reason;    // WorkflowRunning, WorkflowNodeSucceeded, ...
  std::string message;
};

// Everything one turn of the engine loop changed; committed in one transaction.
struct Batch {
  std::vector<RunRecord> runs;    // upserts
  std::vector<NodeRecord> nodes;  // upserts
  std::vector<EventRecord> events;
  std::vector<std::string> deleted_run_uids;
  // (run uid, node id): nodes a retry drops so that the walk creates them anew; applied
  // before the upserts of the same batch.
  std::vector<std::pair<std::string, std::string>> deleted_nodes;
  bool empty() const {
    return runs.empty() && nodes.empty() && events.empty() && deleted_run_uids.empty() && deleted_nodes.empty();
  }
};

struct RunFilter {
  std::string namespace_;            // empty: all
  std::vector<std::string> phases;   // empty: all
  std::optional<bool> completed;     // true: Succeeded/Failed/Error; false: the others
  std::string label_selector;        // k=v,k2=v2 (equality only)
  int limit = 0;                     // 0: no limit; newest first
};

// Applied objects: WorkflowTemplate, ClusterWorkflowTemplate, CronWorkflow, ConfigMap, and
// the database sync limits of `tether sync` (kind kSyncLimitKind, named by their key, object
// {"key": K, "limit": N}). Secrets have their own calls: their values are stored encrypted
// and never listed.
inline constexpr const char* kSyncLimitKind = "SyncLimit";

struct ObjectRecord {
  std::string kind;
  std::string namespace_;  // empty for cluster-scoped kinds
  std::string name;
  Json object;             // the whole document as JSON
  std::string updated_at;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual Status commit(const Batch& batch) = 0;
  // Returns once every commit so far is on disk, not only safe from a crash of this
  // process (a store may sync in the background).
  virtual Status flush() { return {}; }

  virtual Result<std::optional<RunRecord>> find_run(const std::string& namespace_, const std::string& name_or_uid) = 0;
  // The phase alone, for a waiter that looks often: find_run() parses the whole stored
  // workflow, which for a DAG of a thousand tasks costs more than the look is worth.
  virtual Result<std::optional<std::string>> run_phase(const std::string& namespace_, const std::string& name_or_uid) {
    auto run = TRY(find_run(namespace_, name_or_uid));
    if (!run) return std::optional<std::string>();
    return std::optional<std::string>(run->phase);
  }
  virtual Result<std::vector<RunRecord>> list_runs(const RunFilter& filter) = 0;  // without nodes
  virtual Result<std::vector<NodeRecord>> nodes(const std::string& run_uid) = 0;
  virtual Result<std::vector<EventRecord>> events(const std::string& run_uid) = 0;
  // Runs whose phase is not completed: what an engine adopts when it starts.
  virtual Result<std::vector<RunRecord>> unfinished_runs() = 0;

  virtual Status put_object(const ObjectRecord& obj) = 0;
  virtual Result<std::optional<ObjectRecord>> get_object(const std::string& kind, const std::string& namespace_,
                                                         const std::string& name) = 0;
  virtual Result<std::vector<ObjectRecord>> list_objects(const std::string& kind, const std::string& namespace_) = 0;
  virtual Result<bool> delete_object(const std::string& kind, const std::string& namespace_, const std::string& name) = 0;

  virtual Status put_secret(const std::string& namespace_, const std::string& name,
                            const std::map<std::string, std::string>& data) = 0;
  virtual Result<std::optional<std::map<std::string, std::string>>> get_secret(const std::string& namespace_,
                                                                               const std::string& name) = 0;
  virtual Result<std::vector<std::string>> list_secrets(const std::string& namespace_) = 0;  // names only
  virtual Result<bool> delete_secret(const std::string& namespace_, const std::string& name) = 0;
};

}  // namespace tether::engine
