// The Argo Workflow object of a stored run: what `get -o json`, the HTTP API and the UI
// show, in the shape Argo's API returns (metadata, spec, status with nodes keyed by ID).
#pragma once

#include <vector>

#include "base/json.h"
#include "engine/store.h"

namespace tether::engine {

Json workflow_object(const RunRecord& run, const std::vector<NodeRecord>& nodes);

}  // namespace tether::engine
