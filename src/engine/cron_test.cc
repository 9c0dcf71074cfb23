// The cron scheduler: robfig/cron's next times (time zones and DST as Argo's docs show
// them), missed runs and startingDeadlineSeconds, the run policies, history limits, and
// the controller driven by a fake clock over a memory store.
#include <gtest/gtest.h>

#include "engine/cron_controller.h"
#include "engine/cron_schedule.h"
#include "spec/cron.h"
#include "testlib/fake_clock.h"
#include "testlib/memory_store.h"

namespace tether::engine {
namespace {

int64_t at(int64_t y, int mo, int d, int h, int mi, int s, const TimeZone& tz) { return tz.date(y, mo, d, h, mi, s); }

int64_t next_of(const std::string& schedule, int64_t after, const TimeZone& tz = TimeZone::utc()) {
  auto s = spec::parse_cron_schedule(schedule);
  EXPECT_TRUE(s.ok()) << schedule;
  auto n = s->next(after, tz);
  return n ? *n : -1;
}

const TimeZone kUtc = TimeZone::utc();

TEST(CronNext, Fields) {
  int64_t t = at(2026, 3, 4, 10, 7, 30, kUtc);  // a Wednesday
  EXPECT_EQ(next_of("*/15 * * * *", t), at(2026, 3, 4, 10, 15, 0, kUtc));
  EXPECT_EQ(next_of("* * * * *", at(2026, 3, 4, 10, 7, 0, kUtc)), at(2026, 3, 4, 10, 8, 0, kUtc));
  EXPECT_EQ(next_of("0 0 * * mon", t), at(2026, 3, 9, 0, 0, 0, kUtc));
  EXPECT_EQ(next_of("30 8 1 jan *", t), at(2027, 1, 1, 8, 30, 0, kUtc));
  // Both day fields restricted: either matches (the 13th, or a Friday).
  EXPECT_EQ(next_of("0 0 13 * 5", t), at(2026, 3, 6, 0, 0, 0, kUtc));
  // A star in one day field: both must match (Friday the 13th).
  EXPECT_EQ(next_of("0 0 13 * *", t), at(2026, 3, 13, 0, 0, 0, kUtc));
  EXPECT_EQ(next_of("0 0 */2 * 5", t), at(2026, 3, 5, 0, 0, 0, kUtc));
  EXPECT_EQ(next_of("@daily", t), at(2026, 3, 5, 0, 0, 0, kUtc));
  EXPECT_EQ(next_of("@every 90s", t), t + 90);
  EXPECT_EQ(next_of("0 0 30 2 *", t), -1);
  EXPECT_EQ(next_of("CRON_TZ=Asia/Tokyo 0 9 * * *", t), at(2026, 3, 5, 0, 0, 0, kUtc));
}

// The table of Argo's docs (cron-workflows.md, "Daylight Saving"): America/Los_Angeles,
// whose clocks went forward at 2020-03-08 02:00.
TEST(CronNext, DaylightSavingForward) {
  auto la = TimeZone::load("America/Los_Angeles");
  ASSERT_TRUE(la.ok()) << la.error().message;
  auto posix = TimeZone::from_posix("PST8PDT,M3.2.0,M11.1.0", "posix");
  ASSERT_TRUE(posix.ok());
  for (const TimeZone* tz : {&*la, &*posix}) {
    int64_t start = at(2020, 3, 7, 12, 0, 0, *tz);
    int64_t pst = -8 * 3600, pdt = -7 * 3600;
    auto local = [&](int d, int h, int m, int offset) { return at(2020, 3, d, h, m, 0, kUtc) - offset; };
    int64_t t = next_of("59 1 * * *", start, *tz);
    EXPECT_EQ(t, local(8, 1, 59, pst)) << tz->name();
    EXPECT_EQ(next_of("59 1 * * *", t, *tz), local(9, 1, 59, pdt)) << tz->name();
    EXPECT_EQ(next_of("0 2 * * *", local(8, 0, 0, pst), *tz), local(9, 2, 0, pdt)) << tz->name();
    EXPECT_EQ(next_of("1 2 * * *", local(8, 0, 0, pst), *tz), local(9, 2, 1, pdt)) << tz->name();
  }
}

// Clocks went back at 2020-11-01 02:00 PDT: 01:30 happens twice, and robfig runs both.
TEST(CronNext, DaylightSavingBack) {
  auto la = TimeZone::load("America/Los_Angeles");
  ASSERT_TRUE(la.ok());
  int64_t first = at(2020, 11, 1, 8, 30, 0, kUtc);  // 01:30 PDT
  EXPECT_EQ(next_of("30 1 * * *", at(2020, 11, 1, 7, 0, 0, kUtc), *la), first);
  EXPECT_EQ(next_of("30 1 * * *", first, *la), first + 3600);  // 01:30 PST
  EXPECT_EQ(la->lookup(first).offset, -7 * 3600);
  EXPECT_EQ(la->lookup(first + 3600).offset, -8 * 3600);
}

TEST(TimeZoneLoad, Errors) {
  EXPECT_FALSE(TimeZone::load("Mars/Olympus").ok());
  EXPECT_FALSE(TimeZone::load("../etc/passwd").ok());
  EXPECT_FALSE(TimeZone::from_tzif("not a zone", "x").ok());
  EXPECT_FALSE(TimeZone::from_tzif(std::string("TZif2") + std::string(60, '\0'), "x").ok());
}

Json cron_object(const std::string& extra_spec) {
  Json spec = Json::parse(R"({"schedules": ["* * * * *"], "workflowSpec": {"entrypoint": "main",
      "templates": [{"name": "main", "container": {"image": "busybox", "command": ["true"]}}]}})");
  if (!extra_spec.empty()) spec.update(Json::parse(extra_spec));
  return {{"apiVersion", "argoproj.io/v1alpha1"},
          {"kind", "CronWorkflow"},
          {"metadata", {{"name", "tick"}, {"namespace", "default"}}},
          {"spec", spec}};
}

CronConfig config(const std::string& extra_spec = "") {
  auto c = cron_config(cron_object(extra_spec));
  EXPECT_TRUE(c.ok()) << c.error().message;
  return *c;
}

constexpr int64_t kT = 1'800'000'000;  // a minute boundary
const testlib::FakeClock kClock{WallTime(std::chrono::seconds(kT))};

TEST(CronConfig, Errors) {
  auto bad = cron_config(cron_object(R"({"schedules": ["* * * *"]})"));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message, "spec.schedules[0]: expected exactly 5 fields, found 4: [* * * *]");
  EXPECT_EQ(cron_config(cron_object(R"({"timezone": "Nowhere/Land"})")).error().message,
            "spec.timezone: unknown time zone Nowhere/Land");
}

TEST(CronMissed, WithinTheDeadlineOnly) {
  CronConfig c = config(R"({"startingDeadlineSeconds": 30})");
  CronStatus s;
  EXPECT_FALSE(missed_run(c, s, kT + 65));  // never ran
  s.last_scheduled = kT;
  s.last_used_schedule = c.schedule_string;
  EXPECT_FALSE(missed_run(c, s, kT + 30));          // nothing missed yet
  EXPECT_EQ(missed_run(c, s, kT + 65), kT + 60);    // just missed
  EXPECT_FALSE(missed_run(c, s, kT + 100));         // missed too long ago
  EXPECT_EQ(missed_run(c, s, kT + 185), kT + 180);  // only the latest of several
  s.last_used_schedule = "0 * * * *";
  EXPECT_FALSE(missed_run(c, s, kT + 65));  // the schedule changed since
  CronConfig no_deadline = config();
  s.last_used_schedule = no_deadline.schedule_string;
  EXPECT_FALSE(missed_run(no_deadline, s, kT + 61));
}

TEST(CronDecide, Policies) {
  CronStatus idle, busy;
  busy.active.push_back({"tick-1", "uid-1"});
  EXPECT_EQ(decide(config(), busy, kClock)->kind, Verdict::Kind::kRun);
  EXPECT_EQ(decide(config(R"({"concurrencyPolicy": "Forbid"})"), idle, kClock)->kind, Verdict::Kind::kRun);
  auto forbid = decide(config(R"({"concurrencyPolicy": "Forbid"})"), busy, kClock);
  EXPECT_EQ(forbid->kind, Verdict::Kind::kSkip);
  EXPECT_EQ(forbid->reason, "'ConcurrencyPolicy: Forbid' and has an active Workflow so it was not run");
  auto replace = decide(config(R"({"concurrencyPolicy": "Replace"})"), busy, kClock);
  EXPECT_EQ(replace->kind, Verdict::Kind::kRun);
  EXPECT_EQ(replace->terminate, std::vector<std::string>{"tick-1"});
  EXPECT_EQ(decide(config(R"({"suspend": true})"), idle, kClock)->reason, "CronWorkflow suspended, skipping execution");
  EXPECT_FALSE(decide(config(R"({"concurrencyPolicy": "Sometimes"})"), idle, kClock).ok());
}

TEST(CronDecide, WhenAndStopStrategy) {
  CronStatus s;
  s.failed = 2;
  EXPECT_EQ(decide(config(R"({"when": "{{cronworkflow.failed}} < 2"})"), s, kClock)->kind, Verdict::Kind::kSkip);
  EXPECT_EQ(decide(config(R"({"when": "{{cronworkflow.failed}} < 3"})"), s, kClock)->kind, Verdict::Kind::kRun);
  EXPECT_EQ(decide(config(R"({"when": "{{= cronworkflow.lastScheduledTime == nil }}"})"), s, kClock)->kind, Verdict::Kind::kRun);
  s.last_scheduled = kT;
  EXPECT_EQ(decide(config(R"({"when": "{{= cronworkflow.lastScheduledTime == nil }}"})"), s, kClock)->kind, Verdict::Kind::kSkip);
  EXPECT_EQ(decide(config(R"({"when": "'{{cronworkflow.name}}' == 'tick'"})"), s, kClock)->kind, Verdict::Kind::kRun);
  EXPECT_FALSE(decide(config(R"({"when": "{{cronworkflow.nope}}"})"), s, kClock).ok());
  auto stop = decide(config(R"({"stopStrategy": {"expression": "cronworkflow.failed >= 2"}})"), s, kClock);
  EXPECT_TRUE(stop->stopped);
  EXPECT_EQ(stop->kind, Verdict::Kind::kSkip);
}

// `when` set to text on the CronWorkflow object, evaluated at kT; an error fails the test.
bool when_holds(Json object, const std::string& text, const CronStatus& s) {
  object["spec"]["when"] = text;
  auto c = cron_config(object);
  EXPECT_TRUE(c.ok());
  if (!c.ok()) return false;
  auto r = eval_when(*c, s, kClock);
  EXPECT_TRUE(r.ok()) << text << ": " << r.error().message;
  return r.ok() && *r;
}

// cron-when.yaml and the docs' once-a-day examples: time arithmetic over the scheduler's
// clock, not the machine's (kT is in 2027).
TEST(CronDecide, WhenWithTimeArithmetic) {
  const char* kWhen =
      R"({"when": "{{= cronworkflow.lastScheduledTime == nil || (now() - cronworkflow.lastScheduledTime).Seconds() > 360 }}"})";
  CronStatus s;
  EXPECT_EQ(decide(config(kWhen), s, kClock)->kind, Verdict::Kind::kRun);  // never ran
  s.last_scheduled = kT - 300;
  EXPECT_EQ(decide(config(kWhen), s, kClock)->kind, Verdict::Kind::kSkip);
  s.last_scheduled = kT - 420;
  EXPECT_EQ(decide(config(kWhen), s, kClock)->kind, Verdict::Kind::kRun);
  testlib::FakeClock earlier{WallTime(std::chrono::seconds(kT - 400))};
  EXPECT_EQ(decide(config(kWhen), s, earlier)->kind, Verdict::Kind::kSkip);

  s.last_scheduled = kT - 5400;
  auto when = [&](const std::string& expr) { return when_holds(cron_object(""), "{{= " + expr + " }}", s); };
  EXPECT_TRUE(when("(now() - cronworkflow.lastScheduledTime).Minutes() == 90"));
  EXPECT_TRUE(when("(now() - cronworkflow.lastScheduledTime).Hours() == 1.5"));
  EXPECT_TRUE(when("now() - cronworkflow.lastScheduledTime > duration('1h')"));
  EXPECT_TRUE(when("cronworkflow.lastScheduledTime < now()"));
  EXPECT_TRUE(when("now() == date('2027-01-15T08:00:00Z')"));
  EXPECT_TRUE(when("now() - duration('90m') == date(cronworkflow.lastScheduledTime)"));
  EXPECT_FALSE(when("now() < date('2026-12-31T00:00:00Z')"));
}

TEST(CronDecide, WhenReadsNameNamespaceLabelsAndAnnotations) {
  Json object = cron_object("");
  object["metadata"]["labels"] = {{"team", "data"}};
  object["metadata"]["annotations"] = {{"owner", "ops"}};
  CronStatus s;
  s.succeeded = 4;
  auto when = [&](const std::string& text) { return when_holds(object, text, s); };
  EXPECT_TRUE(when("'{{cronworkflow.labels.team}}' == 'data' && '{{cronworkflow.annotations.owner}}' == 'ops'"));
  EXPECT_TRUE(when("{{= cronworkflow.labels.team == 'data' && cronworkflow.annotations.owner == 'ops' }}"));
  EXPECT_TRUE(when("{{= cronworkflow.name == 'tick' && cronworkflow.namespace == 'default' }}"));
  EXPECT_TRUE(when("{{cronworkflow.succeeded}} == 4 && {{cronworkflow.failed}} == 0"));
  EXPECT_TRUE(when("{{= cronworkflow.labels.json == '{\"team\":\"data\"}' }}"));
  object["spec"]["when"] = "{{= now() - 1 }}";
  EXPECT_FALSE(eval_when(*cron_config(object), s, kClock).ok());
}

// Argo v3.x's single `schedule`, still read by v3.6 beside `schedules`; not both.
TEST(CronConfig, SingleSchedule) {
  Json object = cron_object("");
  object["spec"].erase("schedules");
  object["spec"]["schedule"] = "*/5 * * * *";
  object["spec"]["timezone"] = "Asia/Tokyo";
  auto c = cron_config(object);
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->schedule_string, "CRON_TZ=Asia/Tokyo */5 * * * *");
  EXPECT_EQ(next_run(*c, kT + 1), kT + 300);
  EXPECT_EQ(cron_schedules(object["spec"]), std::vector<std::string>{"*/5 * * * *"});
  object["spec"]["schedule"] = "*/5 * * *";
  EXPECT_EQ(cron_config(object).error().message, "spec.schedule: expected exactly 5 fields, found 4: [*/5 * * *]");
  object["spec"]["schedule"] = "0 * * * *";
  object["spec"]["schedules"] = {"* * * * *"};
  EXPECT_EQ(cron_config(object).error().message,
            "spec: cron workflow cant be configured with both Spec.Schedule and Spec.Schedules");
}

RunRecord run(const std::string& name, const std::string& phase, const std::string& finished = "") {
  RunRecord r;
  r.uid = "uid-" + name;
  r.name = name;
  r.phase = phase;
  r.finished_at = finished;
  return r;
}

TEST(CronRuns, ReconcileAndHistory) {
  CronStatus s;
  s.active = {{"a", "uid-a"}, {"b", "uid-b"}, {"gone", "uid-gone"}};
  std::vector<RunRecord> runs = {run("a", "Succeeded", "2027-01-01T00:00:03Z"), run("b", "Failed", "2027-01-01T00:00:04Z"),
                                 run("c", "Running"), run("d", "Succeeded", "2027-01-01T00:00:05Z"),
                                 run("e", "Error", "2027-01-01T00:00:01Z"), run("f", "Succeeded", "2027-01-01T00:00:01Z")};
  EXPECT_TRUE(reconcile_active(s, runs));
  ASSERT_EQ(s.active.size(), 1u);
  EXPECT_EQ(s.active[0].name, "c");
  EXPECT_EQ(s.succeeded, 1);
  EXPECT_EQ(s.failed, 1);
  EXPECT_FALSE(reconcile_active(s, runs));
  auto drop = runs_over_history_limit(config(R"({"successfulJobsHistoryLimit": 2})"), runs);
  EXPECT_EQ(drop, (std::vector<std::string>{"f", "e"}));  // keeps d, a and b (1 failed by default)
  EXPECT_EQ(runs_over_history_limit(config(R"({"failedJobsHistoryLimit": 0})"), runs),
            (std::vector<std::string>{"b", "e"}));
}

TEST(CronChild, NameLabelAndAnnotation) {
  Json wf = child_workflow(config(R"({"workflowMetadata": {"labels": {"team": "a"}}})"), kT);
  EXPECT_EQ(wf["metadata"]["name"], "tick-1800000000");
  EXPECT_EQ(wf["metadata"]["labels"][kCronLabel], "tick");
  EXPECT_EQ(wf["metadata"]["labels"]["team"], "a");
  EXPECT_EQ(wf["metadata"]["annotations"][kScheduledTimeAnnotation], "2027-01-15T08:00:00Z");
  EXPECT_EQ(wf["spec"]["entrypoint"], "main");
}

// The controller over a memory store: the engine is a function that records commands and
// creates or finishes runs as the test says.
struct Harness {
  testlib::MemoryStore store;
  testlib::FakeClock clock{WallTime(std::chrono::seconds(kT - 2))};
  std::vector<std::string> submitted, terminated, deleted;

  std::unique_ptr<CronController> controller() {
    return std::make_unique<CronController>(store, clock, [this](Command c) {
      if (auto* s = std::get_if<Submit>(&c)) {
        RunRecord r;
        r.name = s->workflow["metadata"]["name"];
        r.uid = "uid-" + r.name;
        r.namespace_ = "default";
        r.phase = "Running";
        r.workflow = s->workflow;
        auto existing = store.find_run("default", r.name);
        if (existing.ok() && *existing) return s->reply(Error(ErrorCode::kConflict, "already exists"));
        Batch b;
        b.runs.push_back(r);
        ASSERT_TRUE(store.commit(b).ok());
        submitted.push_back(r.name);
        s->reply(r);
      } else if (auto* t = std::get_if<Terminate>(&c)) {
        terminated.push_back(t->run.name);
      } else if (auto* d = std::get_if<Delete>(&c)) {
        deleted.push_back(d->run.name);
      }
    });
  }
  void put(const std::string& extra_spec) {
    ObjectRecord o{"CronWorkflow", "default", "tick", cron_object(extra_spec), "2027-01-01T00:00:00Z"};
    ASSERT_TRUE(store.put_object(o).ok());
  }
  void finish(const std::string& name, const std::string& phase, CronController& c) {
    auto r = store.find_run("default", name);
    RunRecord rec = **r;
    rec.phase = phase;
    rec.finished_at = format_rfc3339(clock.now());
    Batch b;
    b.runs.push_back(rec);
    ASSERT_TRUE(store.commit(b).ok());
    c.run_finished(rec);
  }
  CronStatus status() {
    auto o = store.get_object(kCronStatusKind, "default", "tick");
    return o.ok() && *o ? cron_status_from_json((*o)->object) : CronStatus{};
  }
};

TEST(CronController, FiresOnceAtTheScheduledTimeAndNotAgainAfterARestart) {
  Harness h;
  h.put(R"({"startingDeadlineSeconds": 30})");
  auto c = h.controller();
  EXPECT_EQ(c->tick(), kT);  // nothing due yet; wake at the minute
  EXPECT_TRUE(h.submitted.empty());
  h.clock.set(WallTime(std::chrono::seconds(kT)));
  EXPECT_EQ(c->tick(), kT + 60);
  EXPECT_EQ(h.submitted, std::vector<std::string>{"tick-1800000000"});
  EXPECT_EQ(h.status().last_scheduled, kT);
  ASSERT_EQ(h.status().active.size(), 1u);

  // A restart within the same minute owes nothing.
  h.clock.set(WallTime(std::chrono::seconds(kT + 20)));
  auto again = h.controller();
  EXPECT_EQ(again->tick(), kT + 60);
  EXPECT_EQ(h.submitted.size(), 1u);

  // A restart after the next minute passed, within the deadline, runs the missed one.
  h.clock.set(WallTime(std::chrono::seconds(kT + 65)));
  auto late = h.controller();
  late->tick();
  EXPECT_EQ(h.submitted, (std::vector<std::string>{"tick-1800000000", "tick-1800000060"}));
  EXPECT_EQ(h.status().last_scheduled, kT + 60);

  // Past the deadline: skipped, and the schedule goes on from now.
  h.clock.set(WallTime(std::chrono::seconds(kT + 160)));
  auto later = h.controller();
  EXPECT_EQ(later->tick(), kT + 180);
  EXPECT_EQ(h.submitted.size(), 2u);
}

TEST(CronController, ForbidSuspendAndHistory) {
  Harness h;
  h.put(R"({"concurrencyPolicy": "Forbid", "successfulJobsHistoryLimit": 1})");
  auto c = h.controller();
  c->tick();
  h.clock.set(WallTime(std::chrono::seconds(kT)));
  c->tick();
  h.clock.set(WallTime(std::chrono::seconds(kT + 60)));
  c->tick();  // the first still runs
  EXPECT_EQ(h.submitted.size(), 1u);
  h.finish("tick-1800000000", "Succeeded", *c);
  c->tick();
  EXPECT_EQ(h.status().succeeded, 1);
  EXPECT_TRUE(h.status().active.empty());
  h.clock.set(WallTime(std::chrono::seconds(kT + 120)));
  c->tick();
  EXPECT_EQ(h.submitted.back(), "tick-1800000120");
  h.finish("tick-1800000120", "Succeeded", *c);
  c->tick();
  EXPECT_EQ(h.deleted, std::vector<std::string>{"tick-1800000000"});

  h.put(R"({"suspend": true})");
  c->changed("default", "tick");
  h.clock.set(WallTime(std::chrono::seconds(kT + 180)));
  c->tick();
  h.clock.set(WallTime(std::chrono::seconds(kT + 240)));
  c->tick();
  EXPECT_EQ(h.submitted.size(), 2u);
  EXPECT_EQ(h.status().last_scheduled, kT + 120);
}

TEST(CronController, ReplaceTerminatesTheRunningOne) {
  Harness h;
  h.put(R"({"concurrencyPolicy": "Replace"})");
  auto c = h.controller();
  c->tick();
  h.clock.set(WallTime(std::chrono::seconds(kT)));
  c->tick();
  h.clock.set(WallTime(std::chrono::seconds(kT + 60)));
  c->tick();
  EXPECT_EQ(h.terminated, std::vector<std::string>{"tick-1800000000"});
  EXPECT_EQ(h.submitted.size(), 2u);
}

TEST(CronController, DeletedCronStopsAndLosesItsStatus) {
  Harness h;
  h.put("");
  auto c = h.controller();
  c->tick();
  h.clock.set(WallTime(std::chrono::seconds(kT)));
  c->tick();
  ASSERT_TRUE(h.store.delete_object("CronWorkflow", "default", "tick").ok());
  c->changed("default", "tick");
  EXPECT_FALSE(c->tick());
  h.clock.set(WallTime(std::chrono::seconds(kT + 60)));
  c->tick();
  EXPECT_EQ(h.submitted.size(), 1u);
  EXPECT_FALSE(h.status().last_scheduled);
}

}  // namespace
}  // namespace tether::engine
