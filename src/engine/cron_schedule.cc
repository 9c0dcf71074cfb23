#include "engine/cron_schedule.h"

#include <fmt/core.h>

#include <algorithm>
#include <set>

#include "base/clock.h"
#include "expr/govaluate.h"
#include "expr/template.h"

namespace tether::engine {

namespace {

WallTime from_unix(int64_t s) { return WallTime(std::chrono::seconds(s)); }

int64_t to_unix(WallTime t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

bool finished_phase(const std::string& p) { return p == "Succeeded" || p == "Failed" || p == "Error"; }

std::string label_of(const RunRecord& r) {
  const Json& labels = json_at(json_at(r.workflow, "metadata"), "labels");
  return json_str(labels, kCronLabel);
}

}  // namespace

Json cron_status_to_json(const CronStatus& s) {
  Json j = Json::object();
  Json active = Json::array();
  for (const auto& a : s.active)
    active.push_back({{"kind", "Workflow"}, {"apiVersion", "argoproj.io/v1alpha1"}, {"name", a.name}, {"uid", a.uid}});
  if (!active.empty()) j["active"] = active;
  if (s.last_scheduled) j["lastScheduledTime"] = format_rfc3339(from_unix(*s.last_scheduled));
  j["succeeded"] = s.succeeded;
  j["failed"] = s.failed;
  if (!s.phase.empty()) j["phase"] = s.phase;
  if (!s.submission_error.empty())
    j["conditions"] = Json::array({{{"type", "SubmissionError"}, {"status", "True"}, {"message", s.submission_error}}});
  if (!s.last_used_schedule.empty()) j["lastUsedSchedule"] = s.last_used_schedule;
  return j;
}

CronStatus cron_status_from_json(const Json& j) {
  CronStatus s;
  if (!j.is_object()) return s;
  for (const auto& a : json_at(j, "active").is_array() ? json_at(j, "active") : Json::array())
    s.active.push_back({json_str(a, "name"), json_str(a, "uid")});
  WallTime t;
  if (parse_rfc3339(json_str(j, "lastScheduledTime"), &t)) s.last_scheduled = to_unix(t);
  s.succeeded = json_at(j, "succeeded").is_number_integer() ? json_at(j, "succeeded").get<int64_t>() : 0;
  s.failed = json_at(j, "failed").is_number_integer() ? json_at(j, "failed").get<int64_t>() : 0;
  s.phase = json_str(j, "phase");
  s.last_used_schedule = json_str(j, "lastUsedSchedule");
  for (const auto& c : json_at(j, "conditions").is_array() ? json_at(j, "conditions") : Json::array())
    if (json_str(c, "type") == "SubmissionError") s.submission_error = json_str(c, "message");
  return s;
}

std::vector<std::string> cron_schedules(const Json& spec) {
  std::string single = json_str(spec, "schedule");
  if (!single.empty()) return {single};
  std::vector<std::string> out;
  const Json& list = json_at(spec, "schedules");
  if (!list.is_array()) return out;
  for (const auto& s : list) out.push_back(s.is_string() ? s.get<std::string>() : std::string());
  return out;
}

Result<CronConfig> cron_config(const Json& object) {
  CronConfig c;
  c.object = object;
  const Json& meta = json_at(object, "metadata");
  const Json& spec = json_at(object, "spec");
  c.name = json_str(meta, "name");
  c.namespace_ = json_str(meta, "namespace");
  if (c.namespace_.empty()) c.namespace_ = "default";
  std::string tz = json_str(spec, "timezone");
  auto zone = TimeZone::load(tz);
  if (!zone.ok()) return invalid("spec.timezone: " + zone.error().message);
  c.zone = std::move(*zone);
  bool single = !json_str(spec, "schedule").empty();
  if (single && json_at(spec, "schedules").is_array() && !json_at(spec, "schedules").empty())
    return invalid("spec: cron workflow cant be configured with both Spec.Schedule and Spec.Schedules");
  std::vector<std::string> schedules = cron_schedules(spec);
  if (schedules.empty()) return invalid("spec.schedules: cron workflow must have at least one schedule");
  for (size_t i = 0; i < schedules.size(); ++i) {
    std::string text = schedules[i];
    // Argo's withTimezone: the timezone becomes each schedule's CRON_TZ prefix.
    if (!tz.empty()) text = "CRON_TZ=" + tz + " " + text;
    auto parsed = spec::parse_cron_schedule(text);
    if (!parsed.ok())
      return invalid(single ? "spec.schedule: " + parsed.error().message
                            : fmt::format("spec.schedules[{}]: {}", i, parsed.error().message));
    c.schedules.push_back(std::move(*parsed));
    c.schedule_string += (i ? "," : "") + text;
  }
  c.concurrency_policy = json_str(spec, "concurrencyPolicy");
  c.suspend = json_at(spec, "suspend").is_boolean() && json_at(spec, "suspend").get<bool>();
  auto int_field = [&](const char* key) -> std::optional<int64_t> {
    const Json& v = json_at(spec, key);
    if (v.is_number_integer()) return v.get<int64_t>();
    return std::nullopt;
  };
  c.starting_deadline_seconds = int_field("startingDeadlineSeconds");
  // Negative limits fall back to the defaults, as in Argo.
  if (auto v = int_field("successfulJobsHistoryLimit"); v && *v >= 0) c.successful_history_limit = *v;
  if (auto v = int_field("failedJobsHistoryLimit"); v && *v >= 0) c.failed_history_limit = *v;
  c.when = json_str(spec, "when");
  c.stop_expression = json_str(json_at(spec, "stopStrategy"), "expression");
  return c;
}

std::optional<int64_t> next_run(const CronConfig& c, int64_t after) {
  std::optional<int64_t> best;
  for (const auto& s : c.schedules) {
    auto n = s.next(after, c.zone);
    if (n && (!best || *n < *best)) best = n;
  }
  return best;
}

std::optional<int64_t> missed_run(const CronConfig& c, const CronStatus& s, int64_t now) {
  if (s.last_used_schedule != c.schedule_string || !s.last_scheduled || !c.starting_deadline_seconds)
    return std::nullopt;
  for (const auto& sched : c.schedules) {
    std::optional<int64_t> missed;
    for (auto n = sched.next(*s.last_scheduled, c.zone); n && *n < now; n = sched.next(*n, c.zone)) missed = n;
    if (missed && now < *missed + *c.starting_deadline_seconds) return missed;
  }
  return std::nullopt;
}

namespace {

expr::Vars cron_vars(const CronConfig& c, const CronStatus& s) {
  const Json& meta = json_at(c.object, "metadata");
  Json labels = json_at(meta, "labels").is_object() ? json_at(meta, "labels") : Json::object();
  Json annotations = json_at(meta, "annotations").is_object() ? json_at(meta, "annotations") : Json::object();
  expr::Vars v;
  v["cronworkflow.name"] = c.name;
  v["cronworkflow.namespace"] = c.namespace_;
  v["cronworkflow.labels"] = labels;
  v["cronworkflow.annotations"] = annotations;
  v["cronworkflow.labels.json"] = labels.dump();
  v["cronworkflow.annotations.json"] = annotations.dump();
  // One name per key, so `{{cronworkflow.labels.team}}` resolves as a tag and
  // `cronworkflow.labels.team` in an expression (where the map itself gives way to them).
  for (auto it = labels.begin(); it != labels.end(); ++it) v["cronworkflow.labels." + it.key()] = it.value();
  for (auto it = annotations.begin(); it != annotations.end(); ++it) v["cronworkflow.annotations." + it.key()] = it.value();
  v["cronworkflow.failed"] = s.failed;
  v["cronworkflow.succeeded"] = s.succeeded;
  v["cronworkflow.lastScheduledTime"] =
      s.last_scheduled ? Json(format_rfc3339(from_unix(*s.last_scheduled))) : Json(nullptr);
  return v;
}

}  // namespace

Result<bool> eval_when(const CronConfig& c, const CronStatus& s, const Clock& clock) {
  if (c.when.empty()) return true;
  auto text = expr::substitute(c.when, cron_vars(c, s), false, &clock);
  if (!text.ok()) return invalid("failed to evaluate when \"" + c.when + "\": " + text.error().message);
  return expr::eval_when(*text);
}

namespace {

Result<bool> stop_condition(const CronConfig& c, const CronStatus& s, const Clock& clock) {
  if (c.stop_expression.empty()) return false;
  auto text = expr::substitute("{{=" + c.stop_expression + "}}", cron_vars(c, s), false, &clock);
  if (!text.ok()) return invalid("failed to evaluate stop expression: " + text.error().message);
  if (*text != "true" && *text != "false")
    return invalid("failed to evaluate stop expression: expected a boolean, got " + *text);
  return *text == "true";
}

}  // namespace

Result<Verdict> decide(const CronConfig& c, const CronStatus& s, const Clock& clock) {
  Verdict v;
  auto skip = [&](std::string reason) {
    v.kind = Verdict::Kind::kSkip;
    v.reason = std::move(reason);
    return v;
  };
  bool stop = TRY(stop_condition(c, s, clock));
  if (stop) v.stopped = true;
  if (c.suspend) return skip("CronWorkflow suspended, skipping execution");
  if (stop || s.phase == "Stopped")
    return skip("CronWorkflow is marked as stopped since it achieved the stopping condition");
  if (!TRY(eval_when(c, s, clock))) return skip("when expression evaluated to false, skipping execution");
  if (c.concurrency_policy == "Forbid" && !s.active.empty())
    return skip("'ConcurrencyPolicy: Forbid' and has an active Workflow so it was not run");
  if (c.concurrency_policy == "Replace")
    for (const auto& a : s.active) v.terminate.push_back(a.name);
  if (c.concurrency_policy != "" && c.concurrency_policy != "Allow" && c.concurrency_policy != "Forbid" &&
      c.concurrency_policy != "Replace")
    return invalid("invalid ConcurrencyPolicy: " + c.concurrency_policy);
  return v;
}

std::string child_name(const std::string& cron_name, int64_t scheduled) {
  return cron_name + "-" + std::to_string(scheduled);
}

Json child_workflow(const CronConfig& c, int64_t scheduled) {
  const Json& spec = json_at(c.object, "spec");
  const Json& wf_meta = json_at(spec, "workflowMetadata");
  Json labels = json_at(wf_meta, "labels").is_object() ? json_at(wf_meta, "labels") : Json::object();
  Json annotations = json_at(wf_meta, "annotations").is_object() ? json_at(wf_meta, "annotations") : Json::object();
  labels[kCronLabel] = c.name;
  annotations[kScheduledTimeAnnotation] = format_rfc3339(from_unix(scheduled));
  Json meta = {{"name", child_name(c.name, scheduled)},
               {"namespace", c.namespace_},
               {"labels", labels},
               {"annotations", annotations}};
  return {{"apiVersion", "argoproj.io/v1alpha1"},
          {"kind", "Workflow"},
          {"metadata", meta},
          {"spec", json_at(spec, "workflowSpec").is_object() ? json_at(spec, "workflowSpec") : Json::object()}};
}

bool reconcile_active(CronStatus& s, const std::vector<RunRecord>& runs) {
  bool changed = false;
  std::set<std::string> listed;
  for (const auto& a : s.active) listed.insert(a.uid);
  for (const auto& r : runs) {
    if (!listed.count(r.uid) && !finished_phase(r.phase)) {
      s.active.push_back({r.name, r.uid});
      changed = true;
    }
  }
  std::vector<CronStatus::Ref> still;
  for (const auto& a : s.active) {
    auto it = std::find_if(runs.begin(), runs.end(), [&](const RunRecord& r) { return r.uid == a.uid; });
    if (it != runs.end() && !finished_phase(it->phase)) {
      still.push_back(a);
      continue;
    }
    changed = true;
    if (it == runs.end()) continue;
    if (it->phase == "Succeeded") ++s.succeeded;
    else ++s.failed;
  }
  s.active = std::move(still);
  return changed;
}

std::vector<std::string> runs_over_history_limit(const CronConfig& c, std::vector<RunRecord> runs) {
  std::vector<RunRecord> succeeded, failed;
  for (auto& r : runs) {
    if (!label_of(r).empty() && label_of(r) != c.name) continue;
    if (r.phase == "Succeeded") succeeded.push_back(std::move(r));
    else if (finished_phase(r.phase)) failed.push_back(std::move(r));
  }
  std::vector<std::string> out;
  auto drop = [&](std::vector<RunRecord>& list, int64_t keep) {
    std::stable_sort(list.begin(), list.end(),
                     [](const RunRecord& a, const RunRecord& b) { return a.finished_at > b.finished_at; });
    for (size_t i = static_cast<size_t>(keep); i < list.size(); ++i) out.push_back(list[i].name);
  };
  drop(succeeded, c.successful_history_limit);
  drop(failed, c.failed_history_limit);
  return out;
}

}  // namespace tether::engine
