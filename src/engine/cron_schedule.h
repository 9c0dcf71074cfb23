// What Argo's cron controller decides, without I/O: when a CronWorkflow runs next, which
// missed run a (re)started engine still owes, whether a scheduled run goes ahead
// (suspend, stopStrategy, when, concurrencyPolicy), what the created Workflow looks like,
// how the status follows its runs, and which finished runs the history limits drop.
// cron_controller.h does the I/O around it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/json.h"
#include "base/result.h"
#include "base/timezone.h"
#include "engine/store.h"
#include "spec/cron.h"

namespace tether::engine {

inline constexpr const char* kCronLabel = "workflows.argoproj.io/cron-workflow";
inline constexpr const char* kScheduledTimeAnnotation = "workflows.argoproj.io/scheduled-time";
// The status lives in an object row of its own beside the CronWorkflow, so that applying
// the CronWorkflow again (which replaces its row) keeps it, as the status subresource does.
inline constexpr const char* kCronStatusKind = "CronWorkflowStatus";

// Argo's CronWorkflowStatus, plus the schedule it was last computed for (Argo keeps that
// in the cronworkflows.argoproj.io/last-used-schedule annotation).
struct CronStatus {
  struct Ref {
    std::string name, uid;
  };
  std::optional<int64_t> last_scheduled;  // lastScheduledTime, unix seconds
  std::vector<Ref> active;
  int64_t succeeded = 0;
  int64_t failed = 0;
  std::string phase;  // "Active", or "Stopped" once stopStrategy held
  std::string last_used_schedule;
  std::string submission_error;  // a SubmissionError condition's message
};
Json cron_status_to_json(const CronStatus& s);
CronStatus cron_status_from_json(const Json& j);

// The fields of a stored CronWorkflow the scheduler reads.
struct CronConfig {
  std::string name;
  std::string namespace_;
  std::vector<spec::CronSchedule> schedules;
  std::string schedule_string;  // Argo's GetScheduleWithTimezoneString: "CRON_TZ=tz s1,CRON_TZ=tz s2"
  TimeZone zone = TimeZone::utc();
  std::string concurrency_policy;  // "", Allow, Forbid, Replace
  bool suspend = false;
  std::optional<int64_t> starting_deadline_seconds;
  int64_t successful_history_limit = 3;
  int64_t failed_history_limit = 1;
  std::string when;
  std::string stop_expression;
  Json object;  // the whole CronWorkflow
};
// Argo's GetSchedules: spec.schedule (v3.x) when set, else spec.schedules; a non-string
// entry reads as "".
std::vector<std::string> cron_schedules(const Json& spec);

// Errors name the field: "spec.schedules[1]: expected exactly 5 fields, found 4: [...]".
Result<CronConfig> cron_config(const Json& object);

// The earliest time after `after` that any schedule names.
std::optional<int64_t> next_run(const CronConfig& c, int64_t after);

// The missed run a starting scheduler still owes: the latest scheduled time after
// lastScheduledTime that is before now, if startingDeadlineSeconds has not run out since;
// none for a cron that never ran or whose schedule changed since it last ran.
std::optional<int64_t> missed_run(const CronConfig& c, const CronStatus& s, int64_t now);

struct Verdict {
  enum class Kind { kRun, kSkip } kind = Kind::kRun;
  std::string reason;                  // why it was skipped, as Argo logs it
  std::vector<std::string> terminate;  // Replace: the active runs to stop first
  bool stopped = false;                // stopStrategy held: mark the cron Stopped
};
// Argo's enforceRuntimePolicy with the stopStrategy check before it. An error is a bad
// `when`/stopStrategy expression or policy: reported as a condition, nothing runs.
// `now()` in the expressions is clock's time: the scheduler's, so tests can move it.
Result<Verdict> decide(const CronConfig& c, const CronStatus& s, const Clock& clock);

// `when` over Argo's cronworkflow.* variables (name, namespace, labels.<k>, annotations.<k>,
// labels.json, annotations.json, lastScheduledTime, failed, succeeded): the `{{...}}` tags
// are replaced, then the text is evaluated as govaluate.
Result<bool> eval_when(const CronConfig& c, const CronStatus& s, const Clock& clock);

// Argo's child name: "<cron>-<unix seconds of the scheduled time>".
std::string child_name(const std::string& cron_name, int64_t scheduled);
// The Workflow a scheduled run submits: the cron's workflowSpec and workflowMetadata, the
// cron-workflow label and the scheduled-time annotation.
Json child_workflow(const CronConfig& c, int64_t scheduled);

// Argo's reconcileActiveWfs over the runs that carry the cron's label: unfinished ones
// not listed become active; listed ones that finished count as succeeded or failed, and
// ones that are gone are dropped. True when the status changed.
bool reconcile_active(CronStatus& s, const std::vector<RunRecord>& runs);

// Argo's enforceHistoryLimit: the finished runs beyond the limits, oldest first by finish.
std::vector<std::string> runs_over_history_limit(const CronConfig& c, std::vector<RunRecord> runs);

}  // namespace tether::engine
