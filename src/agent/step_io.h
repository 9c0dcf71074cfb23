// What the agent's steps share: reading the spec the engine wrote, and ending with a
// message for the node.
#pragma once

#include <string>
#include <string_view>

#include "base/json.h"
#include "base/result.h"

namespace tether::agent {

Result<Json> read_spec(const std::string& path);

// Writes all of text to stdout (the step's result).
bool write_stdout(std::string_view text);

// Ends a step that failed: the message goes to stderr (the step's log) and to the spec's
// messageFile, which the engine reads as the node's message. Returns the exit code, 1.
int fail_step(const Json& spec, const std::string& message);

}  // namespace tether::agent
