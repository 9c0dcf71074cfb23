// http and data templates run as steps of the tether binary itself (agent/): how the
// engine describes them. Internal to the engine.
#pragma once

#include <optional>
#include <string>

#include "plan/node.h"

namespace tether::engine {

// Where an http or data step leaves the message of its failure, in its own view; nullopt
// for other leaves. Unique per node, so it never collides, not even in a shared view.
std::optional<std::string> agent_message_path(const plan::NodeStatus& node);

}  // namespace tether::engine
