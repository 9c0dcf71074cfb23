#include "base/timezone.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <limits>

#include "base/strings.h"

namespace tether {

namespace {

constexpr int64_t kDay = 86400;
constexpr int64_t kForever = std::numeric_limits<int64_t>::max() / 4;

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int days_in_month(int64_t y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

class Reader {
 public:
  explicit Reader(std::string_view d) : d_(d) {}
  bool has(size_t n) const { return pos_ + n <= d_.size(); }
  uint64_t be(size_t n) {
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(d_[pos_ + i]);
    pos_ += n;
    return v;
  }
  void skip(size_t n) { pos_ += n; }
  std::string_view rest() const { return d_.substr(std::min(pos_, d_.size())); }

 private:
  std::string_view d_;
  size_t pos_ = 0;
};

// A POSIX TZ rule's parts: names (<+03> or letters), offsets ([+-]hh[:mm[:ss]], west
// positive) and dates (Jn, n, Mm.w.d, each with an optional /time).
class RuleParser {
 public:
  explicit RuleParser(std::string_view s) : s_(s) {}
  bool name() {
    if (peek() == '<') {
      size_t close = s_.find('>', i_);
      if (close == std::string_view::npos) return false;
      i_ = close + 1;
      return true;
    }
    size_t start = i_;
    while (i_ < s_.size() && std::isalpha(static_cast<unsigned char>(s_[i_]))) ++i_;
    return i_ - start >= 3;
  }
  bool seconds(int* out) {
    int sign = 1;
    if (peek() == '+' || peek() == '-') sign = s_[i_++] == '-' ? -1 : 1;
    int parts[3] = {0, 0, 0};
    for (int k = 0; k < 3; ++k) {
      if (k > 0 && peek() != ':') break;
      if (k > 0) ++i_;
      if (!number(&parts[k])) return false;
    }
    *out = sign * (parts[0] * 3600 + parts[1] * 60 + parts[2]);
    return true;
  }
  bool when(TimeZone::Rule::When* w) {
    if (peek() == 'J') {
      ++i_;
      w->kind = 'J';
      if (!number(&w->day)) return false;
    } else if (peek() == 'M') {
      ++i_;
      w->kind = 'M';
      if (!number(&w->month) || !eat('.') || !number(&w->week) || !eat('.') || !number(&w->day)) return false;
      if (w->month < 1 || w->month > 12 || w->week < 1 || w->week > 5 || w->day > 6) return false;
    } else {
      w->kind = 'D';
      if (!number(&w->day)) return false;
    }
    if (peek() == '/') {
      ++i_;
      return seconds(&w->time);
    }
    return true;
  }
  bool eat(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool done() const { return i_ == s_.size(); }

 private:
  bool number(int* out) {
    size_t start = i_;
    int v = 0;
    while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_])) && i_ - start < 6) v = v * 10 + (s_[i_++] - '0');
    *out = v;
    return i_ > start;
  }
  std::string_view s_;
  size_t i_ = 0;
};

Result<TimeZone::Rule> parse_rule(std::string_view text) {
  TimeZone::Rule r;
  RuleParser p(text);
  auto bad = [&] { return invalid("unsupported TZ rule \"" + std::string(text) + "\""); };
  int west = 0;
  if (!p.name() || !p.seconds(&west)) return bad();
  r.std_offset = -west;
  if (p.done()) return r;
  if (!p.name()) return bad();
  r.has_dst = true;
  r.dst_offset = r.std_offset + 3600;
  if (p.peek() != ',' && !p.done()) {
    if (!p.seconds(&west)) return bad();
    r.dst_offset = -west;
  }
  // No dates: the US rules POSIX falls back to.
  if (p.done()) {
    r.start = {'M', 0, 2, 3, 7200};
    r.end = {'M', 0, 1, 11, 7200};
    return r;
  }
  if (!p.eat(',') || !p.when(&r.start) || !p.eat(',') || !p.when(&r.end) || !p.done()) return bad();
  return r;
}

// Seconds from the start of the year (local midnight of Jan 1) to the date of w, local.
int64_t rule_day_seconds(int64_t year, const TimeZone::Rule::When& w) {
  int64_t yday = 0;
  if (w.kind == 'J') {
    yday = w.day - 1;
    if (leap(year) && w.day >= 60) ++yday;
  } else if (w.kind == 'D') {
    yday = w.day;
  } else {
    int64_t first = days_from_civil(year, w.month, 1);
    int first_wd = static_cast<int>(((first % 7) + 11) % 7);  // 1970-01-01 was a Thursday
    int day = 1 + (w.day - first_wd + 7) % 7 + (w.week - 1) * 7;
    while (day > days_in_month(year, w.month)) day -= 7;
    yday = first + day - 1 - days_from_civil(year, 1, 1);
  }
  return yday * kDay + w.time;
}

TimeZone::Zone rule_zone(const TimeZone::Rule& r, int64_t t) {
  if (!r.has_dst) return {r.std_offset, -kForever, kForever};
  int64_t year = civil_at(t, 0).year;
  // Look at the year before and after too: a transition near New Year in local time can
  // fall in the neighbouring UTC year.
  std::vector<std::pair<int64_t, int>> changes;  // instant, offset from then on
  for (int64_t y = year - 1; y <= year + 1; ++y) {
    int64_t year_start = days_from_civil(y, 1, 1) * kDay;
    changes.push_back({year_start + rule_day_seconds(y, r.start) - r.std_offset, r.dst_offset});
    changes.push_back({year_start + rule_day_seconds(y, r.end) - r.dst_offset, r.std_offset});
  }
  std::sort(changes.begin(), changes.end());
  for (size_t i = 0; i + 1 < changes.size(); ++i)
    if (changes[i].first <= t && t < changes[i + 1].first) return {changes[i].second, changes[i].first, changes[i + 1].first};
  return {r.std_offset, t, t + 1};
}

}  // namespace

int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = floor_div(y, 400);
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilTime civil_at(int64_t unix_seconds, int offset_seconds) {
  int64_t local = unix_seconds + offset_seconds;
  int64_t days = floor_div(local, kDay);
  int64_t secs = local - days * kDay;
  int64_t z = days + 719468;
  int64_t era = floor_div(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  CivilTime c{};
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = yoe + era * 400 + (c.month <= 2);
  c.hour = static_cast<int>(secs / 3600);
  c.minute = static_cast<int>(secs % 3600 / 60);
  c.second = static_cast<int>(secs % 60);
  c.weekday = static_cast<int>(((days % 7) + 11) % 7);
  return c;
}

TimeZone TimeZone::utc() {
  TimeZone z;
  z.name_ = "UTC";
  return z;
}

Result<TimeZone> TimeZone::from_posix(std::string_view rule, std::string name) {
  TimeZone z;
  z.name_ = std::move(name);
  z.rule_ = TRY(parse_rule(rule));
  z.first_offset_ = z.rule_->std_offset;
  return z;
}

Result<TimeZone> TimeZone::from_tzif(std::string_view data, std::string name) {
  auto bad = [&](const char* why) { return invalid("time zone " + name + ": " + why); };
  Reader r(data);
  if (!r.has(44) || data.substr(0, 4) != "TZif") return bad("not a TZif file");
  char version = data[4];
  // v1 data uses 4-byte times; v2+ repeat the data with 8-byte times, then a footer rule.
  size_t time_size = 4;
  for (int pass = 0; pass < 2; ++pass) {
    r.skip(20);
    uint64_t isut = r.be(4), isstd = r.be(4), leapcnt = r.be(4), timecnt = r.be(4), typecnt = r.be(4),
             charcnt = r.be(4);
    size_t body = timecnt * time_size + timecnt + typecnt * 6 + charcnt + leapcnt * (time_size + 4) + isstd + isut;
    if (!r.has(body) || typecnt == 0) return bad("truncated");
    if (pass == 0 && version >= '2') {
      r.skip(body);
      if (!r.has(44)) return bad("truncated");
      time_size = 8;
      continue;
    }
    TimeZone z;
    z.name_ = std::move(name);
    std::vector<int64_t> times(timecnt);
    for (auto& t : times) {
      uint64_t v = r.be(time_size);
      t = time_size == 4 ? static_cast<int32_t>(v) : static_cast<int64_t>(v);
    }
    std::vector<uint8_t> idx(timecnt);
    for (auto& i : idx) i = static_cast<uint8_t>(r.be(1));
    std::vector<int> type_offsets(typecnt);
    for (auto& o : type_offsets) {
      o = static_cast<int32_t>(r.be(4));
      r.skip(2);
    }
    for (uint8_t i : idx)
      if (i >= typecnt) return bad("bad transition type");
    z.transitions_ = std::move(times);
    for (uint8_t i : idx) z.offsets_.push_back(type_offsets[i]);
    z.first_offset_ = type_offsets[0];
    r.skip(charcnt + leapcnt * (time_size + 4) + isstd + isut);
    if (time_size == 8) {
      std::string_view footer = r.rest();
      if (!footer.empty() && footer[0] == '\n') {
        footer.remove_prefix(1);
        footer = footer.substr(0, footer.find('\n'));
        if (!footer.empty()) z.rule_ = TRY(parse_rule(footer));
      }
    }
    return z;
  }
  return bad("truncated");
}

Result<TimeZone> TimeZone::load(std::string_view name) {
  std::string path;
  std::string shown(name);
  if (name == "UTC") return utc();
  if (name.empty() || name == "Local") {
    shown = "Local";
    const char* tz = std::getenv("TZ");
    std::string_view env = tz ? tz : "";
    if (!env.empty() && env[0] == ':') env.remove_prefix(1);
    if (env.empty()) {
      path = "/etc/localtime";
    } else if (env[0] == '/') {
      path = std::string(env);
    } else if (env.find("..") == std::string_view::npos && !std::isdigit(static_cast<unsigned char>(env.back()))) {
      path = "/usr/share/zoneinfo/" + std::string(env);
    } else {
      if (auto z = from_posix(env, "Local"); z.ok()) return z;
      path = "/usr/share/zoneinfo/" + std::string(env);
    }
    auto data = read_file(path);
    if (!data.ok()) return utc();
    return from_tzif(*data, shown);
  }
  if (name[0] == '/' || name.find("..") != std::string_view::npos)
    return invalid("unknown time zone " + std::string(name));
  auto data = read_file("/usr/share/zoneinfo/" + std::string(name));
  if (!data.ok()) return invalid("unknown time zone " + std::string(name));
  return from_tzif(*data, shown);
}

TimeZone::Zone TimeZone::lookup(int64_t t) const {
  if (transitions_.empty() || t < transitions_.front()) {
    if (transitions_.empty() && rule_) return rule_zone(*rule_, t);
    return {first_offset_, -kForever, transitions_.empty() ? kForever : transitions_.front()};
  }
  size_t i = static_cast<size_t>(std::upper_bound(transitions_.begin(), transitions_.end(), t) - transitions_.begin()) - 1;
  if (i + 1 == transitions_.size()) {
    if (rule_) {
      Zone z = rule_zone(*rule_, t);
      z.start = std::max(z.start, transitions_[i]);
      return z;
    }
    return {offsets_[i], transitions_[i], kForever};
  }
  return {offsets_[i], transitions_[i], transitions_[i + 1]};
}

int64_t TimeZone::date(int64_t year, int month, int day, int hour, int minute, int second) const {
  // Months carry into years first; days, hours, minutes and seconds are linear after that.
  int64_t m0 = static_cast<int64_t>(month) - 1;
  year += floor_div(m0, 12);
  m0 -= floor_div(m0, 12) * 12;
  int64_t local = (days_from_civil(year, static_cast<int>(m0) + 1, 1) + day - 1) * kDay +
                  static_cast<int64_t>(hour) * 3600 + static_cast<int64_t>(minute) * 60 + second;
  // As Go: guess the offset at the local reading, and look again if the guess's span does
  // not hold the result (so a time in a DST gap moves forward by the gap).
  Zone z = lookup(local);
  if (z.offset == 0) return local;
  int64_t utc = local - z.offset;
  if (utc < z.start || utc >= z.end) return local - lookup(utc).offset;
  return utc;
}

}  // namespace tether
