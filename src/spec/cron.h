// Cron schedules as CronWorkflows write them (robfig/cron's standard parser, which Argo
// uses): five fields, or a descriptor such as @daily or "@every 1h30m".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/timezone.h"

namespace tether::spec {

// A parsed schedule: one bit per allowed value of each field, as robfig/cron keeps it, or a
// fixed delay for "@every".
struct CronSchedule {
  uint64_t minute = 0, hour = 0, dom = 0, month = 0, dow = 0;
  // A day field written * or ?: then a day must match both fields, else either.
  bool dom_star = false, dow_star = false;
  int64_t every_seconds = 0;  // > 0 for "@every D"
  std::string zone;           // from a CRON_TZ= or TZ= prefix; empty: the caller's zone

  // The first time strictly after `after_seconds` (unix seconds) that the schedule
  // matches, read in `tz`, as robfig/cron's Next; nullopt when none within five years
  // (February 30th).
  std::optional<int64_t> next(int64_t after_seconds, const TimeZone& tz) const;
};

Result<CronSchedule> parse_cron_schedule(std::string_view schedule);

// Checks a schedule; the error reads as robfig/cron's ("expected exactly 5 fields, found 4: ...").
Status check_cron_schedule(std::string_view schedule);

// An IANA time zone name known to this system (or "UTC"/"Local").
bool valid_timezone(std::string_view name);

}  // namespace tether::spec
