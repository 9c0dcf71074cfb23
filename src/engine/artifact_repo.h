// The artifact repository contract (Argo's artifact driver). The local repository
// (artifacts/) keeps objects under $TETHER_HOME/artifacts; an S3 one can follow.
#pragma once

#include <string>

#include "base/result.h"

namespace tether::engine {

enum class ArchiveMode { kTarGz, kNone };

struct SaveRequest {
  std::string src;  // host file or directory
  std::string key;  // e.g. "my-wf/my-wf-step-123/out.tgz"
  ArchiveMode archive = ArchiveMode::kTarGz;
  int compression_level = -1;  // tar.gz: -1 default
};

struct LoadRequest {
  std::string key;
  std::string dest;      // host path to create (file or directory)
  std::string sub_path;  // artifact subPath: only this entry of the stored tree
  int mode = -1;         // chmod of the result, if >= 0
};

class ArtifactRepo {
 public:
  virtual ~ArtifactRepo() = default;
  // Complete or absent: written under a temporary name, synced, renamed.
  virtual Status save(const SaveRequest& req) = 0;
  // Unpacks archives only inside dest (no "..", absolute paths, escaping links, devices,
  // size/count/ratio bombs); on error nothing is left at dest.
  virtual Status load(const LoadRequest& req) = 0;
  virtual Result<bool> exists(const std::string& key) = 0;
  virtual Status remove_prefix(const std::string& prefix) = 0;  // deleting a run's artifacts
};

}  // namespace tether::engine
