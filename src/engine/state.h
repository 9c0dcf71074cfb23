// Run and node state in Argo's own shape: the planner's node model (plan/node.h), under the
// names the engine's adapters use.
#pragma once

#include "plan/node.h"

namespace tether::engine {

namespace phase = plan::phase;
namespace node_type = plan::node_type;
using plan::NodeStatus;
using plan::node_from_json;
using plan::node_id;
using plan::phase_completed;
using plan::phase_failed_or_error;
using plan::phase_fulfilled;
using plan::pod_name;
using plan::to_json;

}  // namespace tether::engine
