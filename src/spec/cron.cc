#include "spec/cron.h"

#include <fmt/core.h>

#include <charconv>
#include <filesystem>
#include <map>

#include "base/strings.h"
#include "spec/model.h"

namespace tether::spec {

namespace {

struct Bounds {
  int min, max;
  std::map<std::string, int> names;
};

const Bounds kMinutes{0, 59, {}};
const Bounds kHours{0, 23, {}};
const Bounds kDom{1, 31, {}};
const Bounds kMonths{1, 12, {{"jan", 1}, {"feb", 2}, {"mar", 3}, {"apr", 4}, {"may", 5}, {"jun", 6},
                             {"jul", 7}, {"aug", 8}, {"sep", 9}, {"oct", 10}, {"nov", 11}, {"dec", 12}}};
const Bounds kDow{0, 6, {{"sun", 0}, {"mon", 1}, {"tue", 2}, {"wed", 3}, {"thu", 4}, {"fri", 5}, {"sat", 6}}};

Result<int> parse_value(std::string_view s, const Bounds& b) {
  std::string lower;
  for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (auto it = b.names.find(lower); it != b.names.end()) return it->second;
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size())
    return invalid(fmt::format("failed to parse int from {}: strconv.Atoi: parsing \"{}\": invalid syntax", s, s));
  if (v < 0) return invalid(fmt::format("negative number ({}) not allowed: {}", v, s));
  return v;
}

// One comma-separated part: *, ?, N, N-M, with an optional /step.
Status parse_range(std::string_view expr, const Bounds& b) {
  auto slash = split(expr, '/');
  if (slash.size() > 2) return invalid(fmt::format("too many slashes: {}", expr));
  auto dash = split(slash[0], '-');
  if (dash.size() > 2) return invalid(fmt::format("too many hyphens: {}", expr));
  int start = b.min, end = b.max;
  if (dash[0] != "*" && dash[0] != "?") {
    start = TRY(parse_value(dash[0], b));
    end = dash.size() == 2 ? TRY(parse_value(dash[1], b)) : start;
  } else if (dash.size() == 2) {
    return invalid(fmt::format("failed to parse int from {}", expr));
  }
  if (slash.size() == 2) {
    int step = TRY(parse_value(slash[1], Bounds{0, 0, {}}));
    if (step <= 0) return invalid(fmt::format("step of range should be a positive number: {}", expr));
  }
  if (start < b.min) return invalid(fmt::format("beginning of range ({}) below minimum ({}): {}", start, b.min, expr));
  if (end > b.max) return invalid(fmt::format("end of range ({}) above maximum ({}): {}", end, b.max, expr));
  if (start > end) return invalid(fmt::format("beginning of range ({}) beyond end of range ({}): {}", start, end, expr));
  return ok_status();
}

Status parse_field(std::string_view field, const Bounds& b) {
  for (const auto& part : split(field, ',')) TRY_STATUS(parse_range(part, b));
  return ok_status();
}

}  // namespace

Status check_cron_schedule(std::string_view schedule) {
  std::string_view s = trim(schedule);
  if (starts_with(s, "TZ=") || starts_with(s, "CRON_TZ=")) {
    size_t sp = s.find(' ');
    std::string_view tz = s.substr(s.find('=') + 1, sp == std::string_view::npos ? std::string_view::npos : sp - s.find('=') - 1);
    if (!valid_timezone(tz)) return invalid(fmt::format("provided bad location {}: unknown time zone {}", tz, tz));
    s = sp == std::string_view::npos ? std::string_view() : trim(s.substr(sp));
  }
  if (s.empty()) return invalid("empty spec string");
  if (s[0] == '@') {
    static const char* kDescriptors[] = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"};
    for (const char* d : kDescriptors)
      if (s == d) return ok_status();
    if (starts_with(s, "@every ")) {
      auto d = parse_duration_ms(trim(s.substr(7)));
      if (!d.ok()) return invalid(fmt::format("failed to parse duration {}: {}", s, d.error().message));
      return ok_status();
    }
    return invalid(fmt::format("unrecognized descriptor: {}", s));
  }
  std::vector<std::string> fields;
  for (const auto& f : split(s, ' '))
    if (!f.empty()) fields.push_back(f);
  if (fields.size() != 5)
    return invalid(fmt::format("expected exactly 5 fields, found {}: [{}]", fields.size(), join(fields, " ")));
  const Bounds* bounds[] = {&kMinutes, &kHours, &kDom, &kMonths, &kDow};
  for (size_t i = 0; i < 5; ++i) TRY_STATUS(parse_field(fields[i], *bounds[i]));
  return ok_status();
}

bool valid_timezone(std::string_view name) {
  if (name == "UTC" || name == "Local") return true;
  if (name.empty() || name.find("..") != std::string_view::npos || name[0] == '/') return false;
  std::error_code ec;
  return std::filesystem::is_regular_file(std::filesystem::path("/usr/share/zoneinfo") / std::string(name), ec);
}

}  // namespace tether::spec
