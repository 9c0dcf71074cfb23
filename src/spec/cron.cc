#include "spec/cron.h"

#include <fmt/core.h>

#include <algorithm>
#include <array>
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
Status parse_range(std::string_view expr, const Bounds& b, uint64_t* bits, bool* star) {
  auto slash = split(expr, '/');
  if (slash.size() > 2) return invalid(fmt::format("too many slashes: {}", expr));
  auto dash = split(slash[0], '-');
  if (dash.size() > 2) return invalid(fmt::format("too many hyphens: {}", expr));
  int start = b.min, end = b.max, step = 1;
  bool is_star = dash[0] == "*" || dash[0] == "?";
  if (!is_star) {
    start = TRY(parse_value(dash[0], b));
    end = dash.size() == 2 ? TRY(parse_value(dash[1], b)) : start;
  } else if (dash.size() == 2) {
    return invalid(fmt::format("failed to parse int from {}", expr));
  }
  if (slash.size() == 2) {
    step = TRY(parse_value(slash[1], Bounds{0, 0, {}}));
    if (step <= 0) return invalid(fmt::format("step of range should be a positive number: {}", expr));
    // "N/step" runs from N to the field's end, as robfig reads it.
    if (dash.size() == 1) end = b.max;
  }
  if (start < b.min) return invalid(fmt::format("beginning of range ({}) below minimum ({}): {}", start, b.min, expr));
  if (end > b.max) return invalid(fmt::format("end of range ({}) above maximum ({}): {}", end, b.max, expr));
  if (start > end) return invalid(fmt::format("beginning of range ({}) beyond end of range ({}): {}", start, end, expr));
  for (int v = start; v <= end; v += step) *bits |= uint64_t{1} << v;
  // A stepped star ("*/2") is not a star for the day-matching rule.
  if (is_star && step == 1) *star = true;
  return ok_status();
}

Status parse_field(std::string_view field, const Bounds& b, uint64_t* bits, bool* star) {
  for (const auto& part : split(field, ',')) TRY_STATUS(parse_range(part, b, bits, star));
  return ok_status();
}


}  // namespace

Result<CronSchedule> parse_cron_schedule(std::string_view schedule) {
  CronSchedule out;
  std::string_view s = trim(schedule);
  if (starts_with(s, "TZ=") || starts_with(s, "CRON_TZ=")) {
    size_t sp = s.find(' ');
    std::string_view tz = s.substr(s.find('=') + 1, sp == std::string_view::npos ? std::string_view::npos : sp - s.find('=') - 1);
    if (!valid_timezone(tz)) return invalid(fmt::format("provided bad location {}: unknown time zone {}", tz, tz));
    out.zone = std::string(tz);
    s = sp == std::string_view::npos ? std::string_view() : trim(s.substr(sp));
  }
  if (s.empty()) return invalid("empty spec string");
  if (s[0] == '@') {
    // minute, hour, day of month, month, day of week
    static const std::map<std::string, std::array<const char*, 5>, std::less<>> kDescriptors = {
        {"@yearly", {"0", "0", "1", "1", "*"}},  {"@annually", {"0", "0", "1", "1", "*"}},
        {"@monthly", {"0", "0", "1", "*", "*"}}, {"@weekly", {"0", "0", "*", "*", "0"}},
        {"@daily", {"0", "0", "*", "*", "*"}},   {"@midnight", {"0", "0", "*", "*", "*"}},
        {"@hourly", {"0", "*", "*", "*", "*"}},
    };
    if (auto it = kDescriptors.find(s); it != kDescriptors.end()) {
      std::string fields;
      for (const char* f : it->second) fields += std::string(fields.empty() ? "" : " ") + f;
      CronSchedule d = TRY(parse_cron_schedule(fields));
      d.zone = out.zone;
      return d;
    }
    if (starts_with(s, "@every ")) {
      auto d = parse_duration_ms(trim(s.substr(7)));
      if (!d.ok()) return invalid(fmt::format("failed to parse duration {}: {}", s, d.error().message));
      // robfig drops the fraction of a second and never goes below one second.
      out.every_seconds = std::max<int64_t>(1, *d / 1000);
      return out;
    }
    return invalid(fmt::format("unrecognized descriptor: {}", s));
  }
  std::vector<std::string> fields;
  for (const auto& f : split(s, ' '))
    if (!f.empty()) fields.push_back(f);
  if (fields.size() != 5)
    return invalid(fmt::format("expected exactly 5 fields, found {}: [{}]", fields.size(), join(fields, " ")));
  const Bounds* bounds[] = {&kMinutes, &kHours, &kDom, &kMonths, &kDow};
  uint64_t* bits[] = {&out.minute, &out.hour, &out.dom, &out.month, &out.dow};
  bool ignored = false;
  bool* stars[] = {&ignored, &ignored, &out.dom_star, &ignored, &out.dow_star};
  for (size_t i = 0; i < 5; ++i) TRY_STATUS(parse_field(fields[i], *bounds[i], bits[i], stars[i]));
  return out;
}

Status check_cron_schedule(std::string_view schedule) {
  TRY(parse_cron_schedule(schedule));
  return ok_status();
}

namespace {

// A moment seen through a zone, with the operations robfig's Next uses on Go's time.Time.
struct Moment {
  int64_t unix;
  const TimeZone& tz;
  CivilTime c() const { return tz.civil(unix); }
};

bool day_matches(const CronSchedule& s, const CivilTime& c) {
  bool dom = (s.dom >> c.day) & 1, dow = (s.dow >> c.weekday) & 1;
  if (s.dom_star || s.dow_star) return dom && dow;
  return dom || dow;
}

}  // namespace

std::optional<int64_t> CronSchedule::next(int64_t after, const TimeZone& caller_tz) const {
  if (every_seconds > 0) return after + every_seconds;
  std::optional<TimeZone> own;
  if (!zone.empty()) {
    auto z = TimeZone::load(zone);
    if (z.ok()) own = std::move(*z);
  }
  const TimeZone& tz = own ? *own : caller_tz;
  // The walk below is robfig/cron's SpecSchedule.Next: from the next whole second, move
  // the largest field that does not match to its next value (zeroing the smaller fields
  // once), and start over when a field wraps. Local times come from Go's time.Date rules,
  // so DST gaps and repeats behave as they do in Argo.
  Moment t{after + 1, tz};
  bool added = false;
  int64_t year_limit = t.c().year + 5;
wrap:
  if (t.c().year > year_limit) return std::nullopt;
  while (!((month >> t.c().month) & 1)) {
    if (!added) {
      added = true;
      CivilTime c = t.c();
      t.unix = tz.date(c.year, c.month, 1, 0, 0, 0);
    }
    CivilTime c = t.c();
    t.unix = tz.date(c.year, c.month + 1, c.day, c.hour, c.minute, c.second);
    if (t.c().month == 1) goto wrap;
  }
  while (!day_matches(*this, t.c())) {
    if (!added) {
      added = true;
      CivilTime c = t.c();
      t.unix = tz.date(c.year, c.month, c.day, 0, 0, 0);
    }
    CivilTime c = t.c();
    t.unix = tz.date(c.year, c.month, c.day + 1, c.hour, c.minute, c.second);
    // A DST change can leave the day's start at 23:00 or 01:00: go back to midnight.
    int h = t.c().hour;
    if (h != 0) t.unix += h > 12 ? int64_t{24 - h} * 3600 : -int64_t{h} * 3600;
    if (t.c().day == 1) goto wrap;
  }
  while (!((hour >> t.c().hour) & 1)) {
    if (!added) {
      added = true;
      CivilTime c = t.c();
      t.unix = tz.date(c.year, c.month, c.day, c.hour, 0, 0);
    }
    t.unix += 3600;
    if (t.c().hour == 0) goto wrap;
  }
  while (!((minute >> t.c().minute) & 1)) {
    if (!added) {
      added = true;
      t.unix -= ((t.unix % 60) + 60) % 60;
    }
    t.unix += 60;
    if (t.c().minute == 0) goto wrap;
  }
  // Seconds: a five-field schedule runs at second 0.
  if (int sec = t.c().second; sec != 0) {
    t.unix += 60 - sec;
    goto wrap;
  }
  return t.unix;
}

bool valid_timezone(std::string_view name) {
  if (name == "UTC" || name == "Local") return true;
  if (name.empty() || name.find("..") != std::string_view::npos || name[0] == '/') return false;
  std::error_code ec;
  return std::filesystem::is_regular_file(std::filesystem::path("/usr/share/zoneinfo") / std::string(name), ec);
}

}  // namespace tether::spec
