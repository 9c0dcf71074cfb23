#include "base/clock.h"

#include <cstdio>
#include <ctime>

namespace tether {

const SystemClock& SystemClock::instance() {
  static SystemClock c;
  return c;
}

std::string format_rfc3339(WallTime t) {
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool parse_rfc3339(const std::string& s, WallTime* out) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6)
    return false;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  long long micros = 0;
  size_t i = static_cast<size_t>(consumed);
  if (i < s.size() && s[i] == '.') {
    ++i;
    long long scale = 100000;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      micros += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
  }
  long offset = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int hh = 0, mm = 0;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &hh, &mm) != 2) return false;
    offset = (hh * 3600L + mm * 60L) * (s[i] == '-' ? -1 : 1);
  } else if (i >= s.size() || (s[i] != 'Z' && s[i] != 'z')) {
    return false;
  }
  std::time_t secs = timegm(&tm) - offset;
  *out = WallTime(std::chrono::microseconds(static_cast<long long>(secs) * 1000000 + micros));
  return true;
}

}  // namespace tether
