#include "store/label_selector.h"

#include "base/strings.h"

namespace tether::store {

Result<LabelPairs> parse_label_selector(const std::string& sel) {
  LabelPairs out;
  for (const auto& part : split(sel, ',')) {
    std::string_view p = trim(part);
    if (p.empty()) continue;
    size_t eq = p.find('=');
    if (eq == std::string_view::npos || eq == 0 || p.find("!=") != std::string_view::npos)
      return invalid("label selector '" + sel + "': '" + std::string(p) + "' is not key=value");
    std::string_view v = p.substr(eq + 1);
    if (!v.empty() && v[0] == '=') v.remove_prefix(1);
    out.emplace_back(std::string(trim(p.substr(0, eq))), std::string(trim(v)));
  }
  return out;
}

}  // namespace tether::store
