#include "cli/stored_objects.h"

#include "base/strings.h"

namespace tether::cli {

Result<std::pair<std::string, std::string>> parse_literal(const std::string& kv) {
  auto eq = kv.find('=');
  if (eq == std::string::npos || eq == 0) return invalid("\"" + kv.substr(0, eq) + "\" is not of the form key=value");
  return std::make_pair(kv.substr(0, eq), kv.substr(eq + 1));
}

Result<std::map<std::string, std::string>> read_env_file(const std::string& path) {
  auto text = TRY(read_file(path));
  std::map<std::string, std::string> out;
  int line_no = 0;
  for (const auto& raw : split(text, '\n')) {
    ++line_no;
    std::string line = std::string(trim(raw));
    if (line.empty() || line[0] == '#') continue;
    auto kv = parse_literal(line);
    if (!kv.ok()) return invalid(path + ":" + std::to_string(line_no) + ": line is not of the form KEY=VALUE");
    out[kv->first] = kv->second;
  }
  return out;
}

Json config_map_object(const std::string& namespace_, const std::string& name,
                       const std::map<std::string, std::string>& data) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", namespace_}}},
          {"data", data}};
}

}  // namespace tether::cli
