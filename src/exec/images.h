// The host executor has no images. A table maps the images Argo's examples use to what the
// host offers instead: a differently named interpreter, or one of tether's shims
// (share/tether/shims) standing in for an image's own entrypoint.
#pragma once

#include <string>
#include <vector>

namespace tether::exec {

struct HostCommand {
  std::vector<std::string> argv;
  bool shims_on_path = false;  // the image's tools are shims (sh -c "cowsay hi" must find them)
};

// `command` is the container's command and args, as the engine substituted them;
// `search_path` is the PATH the step will run with.
HostCommand host_command(const std::string& image, const std::vector<std::string>& command,
                         const std::string& shims_dir, const std::string& search_path);

// "docker.io/library/python:3.12@sha256:..." → "python"
std::string image_repository(const std::string& image);

bool find_in_path(const std::string& command, const std::string& search_path);

}  // namespace tether::exec
