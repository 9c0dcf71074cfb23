#include "exec/images.h"

#include <unistd.h>

#include <algorithm>
#include <string_view>

namespace tether::exec {
namespace {

enum class When { kAlways, kIfMissing };

struct Rename {
  const char* from;
  const char* to;  // "shim:NAME" names a script in the shims directory
  When when;
};

struct ImageRule {
  const char* repository;
  // What the image runs when the step gives no command (its ENTRYPOINT/CMD).
  const char* entrypoint;
  // The engine passes command and args as one list; for an image with an entrypoint, a list
  // that starts with one of these verbs is args to the entrypoint, not a command.
  std::vector<std::string_view> entrypoint_verbs;
  std::vector<Rename> renames;
  bool shims_on_path;
};

const std::vector<ImageRule>& rules() {
  static const std::vector<ImageRule> kRules = {
      {"python", "python3", {}, {{"python", "python3", When::kIfMissing}}, false},
      {"node", "node", {}, {{"nodejs", "node", When::kIfMissing}}, false},
      {"argoproj/argosay",
       "shim:argosay",
       {"echo", "cat", "sleep", "exit", "assert_contains"},
       {{"/argosay", "shim:argosay", When::kAlways},
        {"argosay", "shim:argosay", When::kIfMissing},
        {"cowsay", "shim:cowsay", When::kAlways}},
       true},
      {"docker/whalesay", "shim:cowsay", {}, {{"cowsay", "shim:cowsay", When::kAlways}}, true},
  };
  return kRules;
}

std::string resolve(const std::string& name, const std::string& shims_dir) {
  std::string_view n = name;
  if (n.substr(0, 5) != "shim:") return name;
  std::string shim = shims_dir + "/" + name.substr(5);
  return !shims_dir.empty() && ::access(shim.c_str(), X_OK) == 0 ? shim : name.substr(5);
}

}  // namespace

std::string image_repository(const std::string& image) {
  std::string repo = image.substr(0, image.find('@'));
  size_t colon = repo.rfind(':');
  if (colon != std::string::npos && repo.find('/', colon) == std::string::npos) repo.resize(colon);
  for (std::string_view prefix : {"index.docker.io/", "docker.io/", "library/"})
    if (std::string_view(repo).substr(0, prefix.size()) == prefix) repo.erase(0, prefix.size());
  return repo;
}

bool find_in_path(const std::string& command, const std::string& search_path) {
  if (command.find('/') != std::string::npos) return ::access(command.c_str(), X_OK) == 0;
  size_t i = 0;
  while (i <= search_path.size()) {
    size_t j = std::min(search_path.find(':', i), search_path.size());
    std::string dir = search_path.substr(i, j - i);
    if (::access(((dir.empty() ? "." : dir) + "/" + command).c_str(), X_OK) == 0) return true;
    i = j + 1;
  }
  return false;
}

HostCommand host_command(const std::string& image, const std::vector<std::string>& command,
                         const std::string& shims_dir, const std::string& search_path) {
  HostCommand out{command, false};
  std::string repo = image_repository(image);
  auto rule = std::find_if(rules().begin(), rules().end(), [&](const ImageRule& r) { return repo == r.repository; });
  if (rule == rules().end()) return out;
  out.shims_on_path = rule->shims_on_path;
  const auto& verbs = rule->entrypoint_verbs;
  if (out.argv.empty() || std::find(verbs.begin(), verbs.end(), out.argv[0]) != verbs.end())
    out.argv.insert(out.argv.begin(), rule->entrypoint);
  for (const Rename& r : rule->renames) {
    if (out.argv[0] != r.from) continue;
    if (r.when == When::kAlways || !find_in_path(r.from, search_path)) out.argv[0] = r.to;
    break;
  }
  out.argv[0] = resolve(out.argv[0], shims_dir);
  return out;
}

}  // namespace tether::exec
