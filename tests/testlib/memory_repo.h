// engine::ArtifactRepo in memory (files only), for engine tests.
#pragma once

#include <map>
#include <string>

#include "engine/artifact_repo.h"

namespace tether::testlib {

class MemoryRepo final : public engine::ArtifactRepo {
 public:
  Status save(const engine::SaveRequest& req) override;
  Status load(const engine::LoadRequest& req) override;
  Result<bool> exists(const std::string& key) override { return objects.count(key) > 0; }
  Status remove_prefix(const std::string& prefix) override;

  std::map<std::string, std::string> objects;  // key -> file content
};

}  // namespace tether::testlib
