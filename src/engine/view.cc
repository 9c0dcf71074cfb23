#include "engine/view.h"

namespace tether::engine {

Json workflow_object(const RunRecord& run, const std::vector<NodeRecord>& nodes) {
  Json wf = run.workflow.is_object() ? run.workflow : Json::object();
  wf["apiVersion"] = "argoproj.io/v1alpha1";
  wf["kind"] = "Workflow";
  Json& meta = wf["metadata"];
  if (!meta.is_object()) meta = Json::object();
  meta["name"] = run.name;
  meta["namespace"] = run.namespace_;
  meta["uid"] = run.uid;
  if (!run.created_at.empty()) meta["creationTimestamp"] = run.created_at;
  meta.erase("generateName");

  Json status = run.status.is_object() ? run.status : Json::object();
  if (!run.phase.empty()) status["phase"] = run.phase;
  status["startedAt"] = run.started_at.empty() ? Json(nullptr) : Json(run.started_at);
  status["finishedAt"] = run.finished_at.empty() ? Json(nullptr) : Json(run.finished_at);
  if (!run.message.empty()) status["message"] = run.message;
  Json node_map = Json::object();
  for (const auto& n : nodes) {
    Json j = n.status;
    if (j.is_object()) j.erase("tether");  // engine bookkeeping, not part of Argo's API
    node_map[n.id] = j;
  }
  if (!node_map.empty()) status["nodes"] = node_map;
  wf["status"] = status;
  return wf;
}

}  // namespace tether::engine
