// Time zones from the system's tz database (TZif files under /usr/share/zoneinfo), read
// without touching the process's TZ (setenv/tzset are not thread-safe) and without
// std::chrono::tzdb, which libstdc++ 12 lacks. The semantics are Go's time.Location, because
// cron schedules are defined by robfig/cron on top of it: lookup() gives the offset in force
// at an instant and the span it holds for; date() turns a civil time into an instant the
// way time.Date normalises it, DST gaps and overlaps included.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace tether {

// A civil (wall clock) time; weekday 0 is Sunday.
struct CivilTime {
  int64_t year;
  int month, day, hour, minute, second, weekday;
};

// Days since 1970-01-01 of a proleptic Gregorian date; month may be 1..12 only.
int64_t days_from_civil(int64_t year, int month, int day);
// The civil time of unix seconds at a fixed offset east of UTC.
CivilTime civil_at(int64_t unix_seconds, int offset_seconds);

class TimeZone {
 public:
  struct Zone {
    int offset;     // seconds east of UTC
    int64_t start;  // [start, end): the unix seconds this offset holds for
    int64_t end;
  };

  static TimeZone utc();
  // "UTC", an IANA name ("Europe/Berlin"), or "" / "Local": the TZ variable if set, else
  // /etc/localtime, else UTC.
  static Result<TimeZone> load(std::string_view name);
  // The zone of a TZif file's bytes (tests use it to pin a zone's rules).
  static Result<TimeZone> from_tzif(std::string_view data, std::string name);
  // A zone of a POSIX TZ string alone ("EST5EDT,M3.2.0,M11.1.0").
  static Result<TimeZone> from_posix(std::string_view rule, std::string name);

  const std::string& name() const { return name_; }
  Zone lookup(int64_t unix_seconds) const;
  CivilTime civil(int64_t unix_seconds) const { return civil_at(unix_seconds, lookup(unix_seconds).offset); }
  // Go's time.Date(year, month, day, hour, minute, second, 0, loc): fields out of range
  // carry into the next one (month 13 is January of the next year, day 0 the last of the
  // month before).
  int64_t date(int64_t year, int month, int day, int hour, int minute, int second) const;

  // A POSIX TZ rule (the TZif footer): how offsets go on after the last transition.
  struct Rule {
    int std_offset = 0;
    int dst_offset = 0;
    bool has_dst = false;
    struct When {
      char kind = 'M';  // 'J': Julian day 1..365 without Feb 29; 'D': day 0..365; 'M': month.week.weekday
      int day = 0, week = 0, month = 0;
      int time = 7200;  // seconds after local midnight
    } start, end;
  };

 private:
  std::string name_;
  std::vector<int64_t> transitions_;  // unix seconds, ascending
  std::vector<int> offsets_;          // offsets_[i] holds from transitions_[i]
  int first_offset_ = 0;              // before the first transition
  std::optional<Rule> rule_;
};

}  // namespace tether
