// The JSON value type used across tether. nlohmann::json keeps object keys sorted,
// which matches how Go's encoding/json writes maps (and so how Argo renders them).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"

namespace tether {

using Json = nlohmann::json;

// Parses text as JSON; the error names what was being parsed.
Result<Json> parse_json(std::string_view text, std::string_view what = "JSON");

// j[key] when j is an object that has it, else a null value: reading optional fields of
// documents without exceptions.
const Json& json_at(const Json& j, const char* key);
// json_at(j, key) when it is a string, else "".
std::string json_str(const Json& j, const char* key);

// Writes j compactly (no spaces, keys in order): arrays and objects here, each key through
// key(name, out) and every other value through scalar(value, out). The compact writers
// below differ only in how they write those.
template <typename Scalar, typename Key>
void write_compact(const Json& j, std::string& out, const Scalar& scalar, const Key& key) {
  if (j.is_array()) {
    out += '[';
    bool first = true;
    for (const auto& v : j) {
      if (!first) out += ',';
      first = false;
      write_compact(v, out, scalar, key);
    }
    out += ']';
  } else if (j.is_object()) {
    out += '{';
    bool first = true;
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (!first) out += ',';
      first = false;
      key(it.key(), out);
      out += ':';
      write_compact(it.value(), out, scalar, key);
    }
    out += '}';
  } else {
    scalar(j, out);
  }
}

// j.dump(), byte for byte, faster: strings of plain ASCII (most of what the store writes:
// names, IDs, phases) are copied whole instead of escaped a byte at a time.
std::string dump_compact(const Json& j);

// Compact rendering as Go's json.Marshal does it: no spaces, and <, >, & escaped as
// \u003c \u003e \u0026 so output matches Argo byte for byte.
std::string to_go_json(const Json& j);

}  // namespace tether
