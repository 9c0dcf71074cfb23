// engine::ArtifactRepo on the local filesystem: each key is a path under the root
// ($TETHER_HOME/artifacts). A tar.gz artifact is stored as one .tgz file laid out as Argo's
// executor writes it (a file: one entry named after it; a directory: its tree under its base
// name). An unarchived artifact is stored as the file or directory itself.
//
// Loading unpacks into a temporary sibling of dest and renames the result into place, so a
// refused or failed load leaves nothing at dest. Archives are untrusted input: see
// safe_unpack.h for the rules they must follow.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "artifacts/safe_unpack.h"
#include "engine/artifact_repo.h"

namespace tether::artifacts {

struct RepoOptions {
  UnpackLimits limits;
  // Called as a save writes data, with the bytes written so far; an error aborts the save.
  // Lets tests interrupt a save midway; null in production.
  std::function<Status(uint64_t)> on_save_progress;
};

// Keys are relative paths of plain components: not empty, no "." or "..", no empty
// component, no leading "/", no NUL.
Status check_key(const std::string& key);

class LocalRepo final : public engine::ArtifactRepo {
 public:
  explicit LocalRepo(std::string root, RepoOptions opts = {}) : root_(std::move(root)), opts_(std::move(opts)) {}

  // kNone keeps the step's own files by hard link when the repository is on the same
  // filesystem, falling back to a reflink or a copy. Linking is safe because artifacts
  // are saved after the step has finished: nothing writes to those files any more, and
  // the link keeps the data when the step's directory is cleaned up.
  Status save(const engine::SaveRequest& req) override;
  Status load(const engine::LoadRequest& req) override;
  Result<bool> exists(const std::string& key) override;
  // Removes every key that starts with prefix, as an object store would ("wf/" removes the
  // folder wf, "wf/pod-1" removes wf/pod-1 and wf/pod-12).
  Status remove_prefix(const std::string& prefix) override;

  std::string path_of(const std::string& key) const { return root_ + "/" + key; }

 private:
  std::string root_;
  RepoOptions opts_;
};

}  // namespace tether::artifacts
