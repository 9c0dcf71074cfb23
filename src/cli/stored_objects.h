// What the verbs that manage stored objects (secret, configmap, apply) share.
#pragma once

#include <map>
#include <string>

#include "base/json.h"
#include "base/result.h"

namespace tether::cli {

// KEY=VALUE lines of an env file (blank lines and # comments skipped), as kubectl's
// --from-env-file reads them.
Result<std::map<std::string, std::string>> read_env_file(const std::string& path);

// `k=v` of --from-literal.
Result<std::pair<std::string, std::string>> parse_literal(const std::string& kv);

// A ConfigMap document as the store keeps it.
Json config_map_object(const std::string& namespace_, const std::string& name,
                       const std::map<std::string, std::string>& data);

}  // namespace tether::cli
