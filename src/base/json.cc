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

namespace {

bool plain_ascii(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') return false;
  return true;
}

void append_string(const std::string& s, std::string& out) {
  if (!plain_ascii(s)) {
    out += Json(s).dump();
    return;
  }
  out += '"';
  out += s;
  out += '"';
}

}  // namespace

std::string dump_compact(const Json& j) {
  std::string out;
  write_compact(
      j, out,
      [](const Json& v, std::string& o) {
        if (v.is_string()) append_string(v.get_ref<const std::string&>(), o);
        else o += v.dump();
      },
      append_string);
  return out;
}

}  // namespace tether
