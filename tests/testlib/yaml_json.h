// YAML text to JSON for tests that write workflows inline (header-only; link yaml-cpp).
// Plain scalars become numbers or booleans when they read as such; quoted ones stay strings.
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>

#include "base/json.h"

namespace tether::testlib {

inline Json yaml_node_to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      Json j = Json::object();
      for (const auto& kv : n) j[kv.first.as<std::string>()] = yaml_node_to_json(kv.second);
      return j;
    }
    case YAML::NodeType::Sequence: {
      Json j = Json::array();
      for (const auto& x : n) j.push_back(yaml_node_to_json(x));
      return j;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return s;  // quoted
      if (s == "true") return true;
      if (s == "false") return false;
      char* end = nullptr;
      long long i = std::strtoll(s.c_str(), &end, 10);
      if (!s.empty() && end && *end == '\0') return i;
      double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && end && *end == '\0') return d;
      return s;
    }
    default:
      return nullptr;
  }
}

inline Json yaml_to_json(const std::string& text) { return yaml_node_to_json(YAML::Load(text)); }

}  // namespace tether::testlib
