#include "base/json.h"

namespace tether {

Result<Json> parse_json(std::string_view text, std::string_view what) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::exception& e) {
    return invalid(std::string(what) + ": " + e.what());
  }
}

std::string to_go_json(const Json& j) {
  std::string raw = j.dump(-1, ' ', false, Json::error_handler_t::replace);
  std::string out;
  out.reserve(raw.size());
  for (char c : raw) {
    switch (c) {
      case '<': out += "\\u003c"; break;
      case '>': out += "\\u003e"; break;
      case '&': out += "\\u0026"; break;
      default: out += c;
    }
  }
  return out;
}

const Json& json_at(const Json& j, const char* key) {
  static const Json kNull;
  if (!j.is_object()) return kNull;
  auto it = j.find(key);
  return it == j.end() ? kNull : *it;
}

std::string json_str(const Json& j, const char* key) {
  const Json& v = json_at(j, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

}  // namespace tether
