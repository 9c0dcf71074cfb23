// Cron schedules as CronWorkflows write them (robfig/cron's standard parser, which Argo
// uses): five fields, or a descriptor such as @daily or "@every 1h30m".
#pragma once

#include <string_view>

#include "base/result.h"

namespace tether::spec {

// Checks a schedule; the error reads as robfig/cron's ("expected exactly 5 fields, found 4: ...").
Status check_cron_schedule(std::string_view schedule);

// An IANA time zone name known to this system (or "UTC"/"Local").
bool valid_timezone(std::string_view name);

}  // namespace tether::spec
