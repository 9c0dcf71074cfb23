// Argo's data template, run as a step (`tether __data-step SPEC`): the source is listed,
// each transformation's expr-lang expression is applied in turn with the list as `data`,
// and the JSON of the outcome is the step's stdout (outputs.result).
//
// The spec (JSON, written by engine/agent_leaf.cc):
//   {"data": {source: {artifactPaths: {...}}, transformation: [{expression}, ...]},
//    "sourcePath": PATH, "messageFile": PATH}
// sourcePath is where the artifact that artifactPaths names is in the step's view.
#pragma once

#include <string>
#include <vector>

#include "base/json.h"
#include "base/result.h"

namespace tether::agent {

// The files under root, as paths relative to it, sorted: regular files and symlinks (not
// followed), never directories; [] when root is a file or absent, as an object store
// lists a prefix with nothing under it.
Result<std::vector<std::string>> list_files(const std::string& root);

// Argo's processTransformation: each non-empty expression sees the current value as
// `data`; an error names the step: "error processing data step 1: ...".
Result<Json> transform(Json data, const Json& transformation);

// The whole step; returns the exit code.
int run_data_step(const std::string& spec_path);

}  // namespace tether::agent
