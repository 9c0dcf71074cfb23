// The planner: Argo's controller logic for one run, without I/O.
//
// Like Argo's operator, the planner keeps no state of its own between turns: every call
// to advance() walks the run from its root template, reading and writing the nodes in
// RunState (Argo's status.nodes). A node that exists is never created again, so the walk
// is idempotent; whatever the walk could not decide yet (a step group whose steps still
// run, a task whose dependencies have not finished) it decides on a later turn. This is
// what makes expansion lazy (withParam, when and depends see outputs once they exist) and
// what lets an engine rebuild a run after a crash from nothing but the stored nodes.
//
// Leaves (Pod nodes) are created Pending; the engine starts them and reports their end
// through finish_leaf(). The processed template of a leaf (every {{...}} substituted) is
// kept in the node (NodeStatus.engine["template"]) so that the engine can build the
// invocation and the planner can compute outputs, even after a restart.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/clock.h"
#include "base/json.h"
#include "base/result.h"
#include "plan/node.h"

namespace tether::plan {

struct DagShape;
struct ProcessedTemplate;

// Looks up a WorkflowTemplate (cluster_scope false) or ClusterWorkflowTemplate by name;
// returns the whole object as JSON (metadata, spec).
using TemplateSource = std::function<Result<Json>(bool cluster_scope, const std::string& name)>;
// Reads key of the ConfigMap called name in the run's namespace (valueFrom.configMapKeyRef);
// a NotFound error when the ConfigMap or the key does not exist.
using ConfigMapSource = std::function<Result<std::string>(const std::string& name, const std::string& key)>;

// What does not change during a run.
struct RunSpec {
  Json workflow;            // the Workflow object as submitted: metadata, spec
  std::string uid;
  std::string name;
  std::string namespace_ = "default";
  WallTime created_at{};
  std::string entrypoint;   // --entrypoint; empty: spec.entrypoint
  TemplateSource templates;  // may be empty: templateRef then fails with a clear error
  ConfigMapSource config_maps;  // may be empty: configMapKeyRef then fails with a clear error
};

// The nodes of a run by ID, ordered as a std::map (so every listing is stable) with a hash
// index beside it: a walk looks nodes up by ID thousands of times per turn in a large DAG,
// and a tree of long IDs that share the workflow's name as a prefix makes each of those a
// dozen string comparisons. Nodes are only ever added (a retried run gets a new RunState),
// so the index, which points into the map, never dangles.
class NodeMap {
 public:
  using Map = std::map<std::string, NodeStatus>;
  using iterator = Map::iterator;
  using const_iterator = Map::const_iterator;

  NodeMap() = default;
  NodeMap(const NodeMap& o) : map_(o.map_) { reindex(); }
  NodeMap(NodeMap&& o) noexcept : map_(std::move(o.map_)) { reindex(); }
  NodeMap& operator=(const NodeMap& o) {
    if (this != &o) {
      map_ = o.map_;
      reindex();
    }
    return *this;
  }
  NodeMap& operator=(NodeMap&& o) noexcept {
    map_ = std::move(o.map_);
    reindex();
    return *this;
  }

  iterator begin() { return map_.begin(); }
  iterator end() { return map_.end(); }
  const_iterator begin() const { return map_.begin(); }
  const_iterator end() const { return map_.end(); }
  size_t size() const { return map_.size(); }
  bool empty() const { return map_.empty(); }

  iterator find(const std::string& id) {
    auto it = index_.find(id);
    return it == index_.end() ? map_.end() : it->second;
  }
  const_iterator find(const std::string& id) const {
    auto it = index_.find(id);
    return it == index_.end() ? map_.end() : const_iterator(it->second);
  }
  size_t count(const std::string& id) const { return index_.count(id); }
  NodeStatus& at(const std::string& id) {
    auto it = index_.find(id);
    if (it == index_.end()) throw std::out_of_range("no node " + id);
    return it->second->second;
  }
  const NodeStatus& at(const std::string& id) const { return const_cast<NodeMap*>(this)->at(id); }
  NodeStatus& operator[](const std::string& id) {
    auto it = index_.find(id);
    if (it != index_.end()) return it->second->second;
    auto ins = map_.try_emplace(id).first;
    index_.emplace(std::string_view(ins->first), ins);
    return ins->second;
  }

 private:
  void reindex() {
    index_.clear();
    index_.reserve(map_.size());
    for (auto it = map_.begin(); it != map_.end(); ++it) index_.emplace(std::string_view(it->first), it);
  }
  Map map_;
  std::unordered_map<std::string_view, iterator> index_;
};

// Everything a run has decided so far; the engine persists it.
struct RunState {
  NodeMap nodes;  // by node ID
  std::string phase;                        // "", Running, Succeeded, Failed, Error
  std::string message;
  std::optional<WallTime> started_at;
  std::optional<WallTime> finished_at;
  Json outputs;                             // status.outputs (global output parameters, artifacts)
  // Node IDs written since the engine last looked. Hashed: a node is touched once per child
  // added, ten thousand times in a turn that starts a layer of a hundred after another.
  std::unordered_set<std::string> changed;
  bool run_changed = false;                 // phase, message, times or outputs changed

  NodeStatus* by_name(const std::string& run_name, const std::string& node_name);
  const NodeStatus* get(const std::string& id) const;
};

// The outcome of one walk.
struct Turn {
  std::vector<std::string> ready;     // Pod nodes waiting to be started, in walk order
  std::optional<WallTime> wake_at;    // earliest retry backoff or suspend deadline
  bool finished = false;              // the workflow reached its final phase
};

// How a leaf ended, as the engine observed it.
struct LeafResult {
  enum class Kind { kExited, kStartFailed, kLost, kDeadline, kStopped };
  Kind kind = Kind::kExited;
  int exit_code = 0;
  std::string message;  // kStartFailed / kLost / kStopped; kExited: the step's termination message
  std::optional<WallTime> started_at;
  std::optional<WallTime> finished_at;
  std::optional<std::string> stdout_text;  // the step's stdout, if it was captured
  // Output parameters read from valueFrom.path: name -> content (nullopt: the file is absent).
  std::map<std::string, std::optional<std::string>> parameter_files;
  // Output artifacts saved by the engine (Argo's Artifact JSON with a "local" location).
  Json artifacts = Json::array();
  // A required output artifact whose path did not exist, or that could not be saved.
  std::string artifact_error;
  // A daemon the engine stopped because its scope ended (Argo's killDaemonedChildren).
  bool daemon_stopped = false;
  // kExited: message is the pod's whole message (a failed init or containerSet container).
  bool pod_message = false;
  // A containerSet's containers and their exit codes (-1: never ran), for its Container nodes.
  std::vector<std::pair<std::string, int>> container_exits;
};

// The key a leaf's output artifact is saved under in the artifact repository.
std::string artifact_key(const std::string& workflow_name, const std::string& pod_name,
                         const std::string& artifact_name, bool archived);

// Go's time.ParseDuration ("1m30s", "300ms"); a bare number means seconds, as Argo
// allows for backoff, suspend and timeouts. nullopt when it does not parse.
std::optional<double> parse_duration_seconds(const std::string& text);

class Planner {
 public:
  Planner(RunSpec spec, RunState& state);
  ~Planner();

  // Resolves workflowTemplateRef and the like into exec_spec(); advance() does it too.
  void prepare_if_needed() {
    if (!prepared_) {
      prepared_ = true;
      prepare_status_ = prepare();
    }
  }

  // Walks the run once at time `now`. Errors are tether bugs or a broken stored state;
  // every problem of the workflow itself ends as an Error node or an Error run instead.
  Result<Turn> advance(WallTime now);

  // Records how a leaf ended: phase, message, outputs (parameters, result, exitCode,
  // artifacts). The next advance() propagates it.
  void finish_leaf(const std::string& node_id, const LeafResult& result);
  // Records a leaf that did not need to run (a memoization hit): Succeeded at `at` with
  // the outputs it had when it ran.
  void finish_leaf_from_cache(const std::string& node_id, const Json& outputs, WallTime at);
  // Marks a leaf as started (phase Running, startedAt).
  void start_leaf(const std::string& node_id, WallTime at);
  // A daemon leaf is up (and ready): it becomes daemoned, and what waits for it goes on.
  void daemon_ready(const std::string& node_id);
  // Daemoned leaves still running whose scope (the steps or DAG node that started them, or
  // the workflow) has ended: the engine stops them. Recomputed from the nodes alone, so an
  // engine that restarts finds them again.
  std::vector<std::string> daemons_to_stop() const;

  // Argo's shutdown: "Stop" lets exit handlers run, "Terminate" does not. Pending leaves
  // are failed with Argo's message; running ones are left to the engine to signal.
  void shutdown(const std::string& strategy);
  const std::string& shutdown_strategy() const { return shutdown_; }
  bool deadline_exceeded() const { return deadline_exceeded_; }

  // The workflow's effective spec (workflowTemplateRef merged) and entrypoint.
  const Json& exec_spec() const;
  const RunSpec& spec() const { return spec_; }

  // The leaves' processed templates live in the node; helpers for the engine.
  static const Json& leaf_template(const NodeStatus& n);

  class Walk;  // one advance() (planner.cc)

 private:
  friend class Walk;
  Status prepare();

  RunSpec spec_;
  RunState& state_;
  // Set only when the effective spec differs from the workflow's own, which is read in place
  // (it can be a large document).
  std::optional<Json> merged_spec_;
  bool prepared_ = false;
  Status prepare_status_;
  std::string shutdown_;
  // spec.activeDeadlineSeconds has passed, measured from the stored start of the run, so a
  // restarted engine sees an overdue run at once.
  bool deadline_exceeded_ = false;
  bool capture_result_ = true;
  // Whether the run has Container nodes (containerSets) or daemons at all: what looks for
  // them goes through every node, which a large run without any should not pay each turn.
  bool has_containers_ = false;
  bool has_daemons_ = false;
  // The workflow.* variables that never change during a run (walk.cc).
  std::optional<std::map<std::string, Json>> base_globals_;
  std::map<std::string, Json> ref_cache_;  // spec of each (Cluster)WorkflowTemplate used, by scope
  // What a DAG node's tasks depend on and reference never changes during a run; parsed once
  // per DAG node instead of on every walk (dag.cc).
  std::map<std::string, std::shared_ptr<const DagShape>> dag_shapes_;
  // Steps and DAG templates as processed when their node was created, by node name, until
  // the node is done (walk.cc).
  std::map<std::string, ProcessedTemplate> processed_;
};

}  // namespace tether::plan
