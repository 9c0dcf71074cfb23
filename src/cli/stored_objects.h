// What the verbs that manage stored objects (secret, configmap, apply) share.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/json.h"
#include "base/result.h"
#include "spec/load.h"

namespace tether::cli {

// KEY=VALUE lines of an env file (blank lines and # comments skipped), as kubectl's
// --from-env-file reads them.
Result<std::map<std::string, std::string>> read_env_file(const std::string& path);

// `k=v` of --from-literal.
Result<std::pair<std::string, std::string>> parse_literal(const std::string& kv);

// A ConfigMap document as the store keeps it.
Json config_map_object(const std::string& namespace_, const std::string& name,
                       const std::map<std::string, std::string>& data);

// Loads and validates every document of the files (only_kind: refuse others), then stores
// each through the engine; `done` says what was stored. create: an existing object with the
// name is an error, as argo's `create` verbs report it. Returns the exit code.
int store_files(const std::vector<std::string>& paths, const std::string& namespace_, const std::string& only_kind,
                const std::function<void(const spec::Document&, const std::string& name)>& done, bool create = false);

// `delete -f`: deletes the objects the files define (they are loaded, not validated), each
// reported as kubectl does; one that does not exist is an error that does not stop the
// others. Returns the exit code.
int delete_files(const std::vector<std::string>& paths, const std::string& namespace_);

}  // namespace tether::cli
