// Kubernetes label selectors, the equality subset: "k=v,k2==v2". Shared with MemoryStore,
// so both stores accept exactly the same selectors.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/result.h"

namespace tether::store {

using LabelPairs = std::vector<std::pair<std::string, std::string>>;

// An empty selector selects everything; "!=", "in (...)" and bare keys are errors.
Result<LabelPairs> parse_label_selector(const std::string& selector);

}  // namespace tether::store
