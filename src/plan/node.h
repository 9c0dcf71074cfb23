// Run and node state in Argo's own shape. A node's status is exactly Argo's NodeStatus
// (status.nodes[id] of a Workflow), so `get -o json` and the HTTP API return what Argo
// returns, and an engine that restarts can rebuild everything from the stored nodes, as
// Argo's controller rebuilds from status.nodes. The planner reads and writes these; the
// engine persists them (engine/state.h re-exports them under tether::engine).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/json.h"

namespace tether::plan {

// Argo's phase strings (NodePhase / WorkflowPhase).
namespace phase {
inline constexpr const char* kPending = "Pending";
inline constexpr const char* kRunning = "Running";
inline constexpr const char* kSucceeded = "Succeeded";
inline constexpr const char* kSkipped = "Skipped";
inline constexpr const char* kFailed = "Failed";
inline constexpr const char* kError = "Error";
inline constexpr const char* kOmitted = "Omitted";
}  // namespace phase

bool phase_fulfilled(const std::string& p);  // Succeeded Failed Error Skipped Omitted
bool phase_completed(const std::string& p);  // same as fulfilled for nodes; runs: Succeeded Failed Error
bool phase_failed_or_error(const std::string& p);

// Argo's NodeType strings.
namespace node_type {
inline constexpr const char* kPod = "Pod";
inline constexpr const char* kSteps = "Steps";
inline constexpr const char* kStepGroup = "StepGroup";
inline constexpr const char* kDag = "DAG";
inline constexpr const char* kTaskGroup = "TaskGroup";
inline constexpr const char* kRetry = "Retry";
inline constexpr const char* kSkipped = "Skipped";
inline constexpr const char* kSuspend = "Suspend";
inline constexpr const char* kHttp = "HTTP";
inline constexpr const char* kContainer = "Container";  // one container of a containerSet pod
// A node the engine runs as a step: a pod, or an HTTP request (run as a step of its own).
inline bool is_leaf(const std::string& type) { return type == kPod || type == kHttp; }
}  // namespace node_type

struct NodeStatus {
  std::string id;
  std::string name;          // full name: wf[0].step(1:item)
  std::string display_name;  // step(1:item)
  std::string type;
  std::string template_name;
  Json template_ref;         // {name, template, clusterScope} or null
  std::string template_scope;
  std::string phase = phase::kPending;
  std::string boundary_id;
  std::string message;
  std::optional<WallTime> started_at;
  std::optional<WallTime> finished_at;
  std::string progress;      // "1/1"
  Json inputs;               // {"parameters":[...],"artifacts":[...]} or null
  Json outputs;              // {"parameters":[...],"artifacts":[...],"result":...,"exitCode":...} or null
  std::vector<std::string> children;
  std::vector<std::string> outbound_nodes;
  std::string host_node_name;
  // A daemon step that is up (Argo's daemoned): it counts as done for the steps and tasks
  // after it while it keeps running, until its scope ends.
  bool daemoned = false;
  std::string pod_ip;        // Argo's podIP, set for daemoned nodes ({{steps.X.ip}})
  std::string memoization_status_json;  // raw JSON of memoizationStatus, if any
  Json node_flag;            // Argo's nodeFlag {hooked, retried} or null
  int retries_attempt = -1;  // for children of a Retry node; not in Argo's JSON
  // Fields Argo's NodeStatus does not have; stored beside it (the "tether" key) because
  // the engine needs them after a restart: the processed template of a leaf, its intent
  // and runner handle, its directory.
  Json engine;
};

// Argo's NodeStatus.Fulfilled: finished, or daemoned and started.
bool fulfilled(const NodeStatus& n);

Json to_json(const NodeStatus& n);           // Argo's JSON (camelCase), plus "tether": engine
NodeStatus node_from_json(const Json& j);    // inverse; unknown keys ignored

// Argo's node ID: workflow name + "-" + fnv32a hash of the node name (as Argo's
// GenerateNodeID / NodeIDFromName); the root node's ID is the workflow name.
std::string node_id(const std::string& workflow_name, const std::string& node_name);

// Argo's v2 pod name: "<workflow>-<template>-<fnv32a(node name)>"; the root node of a
// single-pod workflow keeps the workflow's name.
std::string pod_name(const std::string& workflow_name, const std::string& node_name,
                     const std::string& template_name);

}  // namespace tether::plan
