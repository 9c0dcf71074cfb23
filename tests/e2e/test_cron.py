"""CronWorkflows run by a foreground `tether server`.

Minute schedules are reached at once by starting the server with TETHER_TEST_CLOCK_START
(the cron scheduler's clock begins there), so the scheduled times, and the run names made of
them, are known: T = 1800000000 is a minute boundary. `@every 1s` schedules drive the
policies. A test waits for the server's log lines to know that the scheduler has decided.
"""
import calendar
import json
import os
import time
import unittest

from harness import ServerTest, TetherTest

T = 1800000000
LABEL = "workflows.argoproj.io/cron-workflow"

CRON = """
apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata:
  name: {name}
spec:
  schedules: ["{schedule}"]
{extra}
  workflowSpec:
    entrypoint: main
    templates:
    - name: main
{template}
"""
# Argo v3.x's single schedule, which v3.6 still reads.
CRON_SINGLE = CRON.replace('  schedules: ["{schedule}"]', '  schedule: "{schedule}"')
ECHO = "      container: {image: busybox, command: [echo, tick]}"
FAIL = "      container: {image: busybox, command: [sh, -c, 'exit 1']}"
HOLD = "      suspend: {}"


class Cron(ServerTest):
    def cron(self, name, schedule, extra="", template=ECHO):
        return self.write(f"{name}.yaml", CRON.format(name=name, schedule=schedule, extra=extra, template=template))

    def runs(self, cron):
        r = self.ok("list", "-o", "json", "-l", f"{LABEL}={cron}")
        return json.loads(r.out or "[]")

    def names(self, cron):
        return sorted(w["metadata"]["name"] for w in self.runs(cron))

    def status(self, cron):
        return json.loads(self.ok("cron", "get", cron, "-o", "json").out).get("status", {})

    def test_minute_schedule_name_label_restart_and_missed_run(self):
        self.start_server(clock_start=T - 2)
        path = self.cron("tick", "* * * * *", extra="  startingDeadlineSeconds: 30")
        r = self.ok("cron", "create", path)
        self.assertIn("Name:                          tick", r.out)
        self.assertIn("Schedules:                     * * * * *", r.out)

        self.wait_for("the first run", lambda: self.names("tick"))
        self.ok("wait", "tick-1800000000")
        wf = self.get_json("tick-1800000000")
        self.assertEqual(wf["metadata"]["labels"][LABEL], "tick")
        self.assertEqual(wf["metadata"]["annotations"]["workflows.argoproj.io/scheduled-time"], "2027-01-15T08:00:00Z")
        self.assertEqual(wf["status"]["phase"], "Succeeded")
        st = self.wait_for("succeeded 1", lambda: (lambda s: s if s.get("succeeded") == 1 else None)(self.status("tick")))
        self.assertEqual(st["lastScheduledTime"], "2027-01-15T08:00:00Z")
        self.assertNotIn("active", st)

        # Restarted within the same minute: the scheduled time is not run again.
        self.stop_server()
        self.start_server(clock_start=T + 20)
        self.wait_log("cron tick: scheduled, next run 2027-01-15T08:01:00Z")
        self.assertEqual(self.names("tick"), ["tick-1800000000"])

        # Restarted 5 s after the next minute: within startingDeadlineSeconds, it runs now.
        self.stop_server()
        self.start_server(clock_start=T + 65)
        self.wait_for("the missed run", lambda: "tick-1800000060" in self.names("tick"))
        self.ok("wait", "tick-1800000060")
        self.assertEqual(self.names("tick"), ["tick-1800000000", "tick-1800000060"])

        # Restarted 40 s after a minute: too late for it, so nothing runs until the next.
        self.stop_server()
        self.start_server(clock_start=T + 160)
        self.wait_log("cron tick: scheduled, next run 2027-01-15T08:03:00Z")
        self.assertEqual(self.names("tick"), ["tick-1800000000", "tick-1800000060"])

    def test_when_with_time_arithmetic_reads_the_scheduler_clock(self):
        # cron-when.yaml's expression: at most one run per 6 minutes. The clock is in 2027,
        # so now() must be the scheduler's, not the machine's.
        when = '  when: "{{= cronworkflow.lastScheduledTime == nil || (now() - cronworkflow.lastScheduledTime).Seconds() > 360 }}"'
        self.start_server(clock_start=T - 2)
        self.ok("cron", "create", self.cron("sparse", "* * * * *", extra=when))
        self.wait_for("the first run", lambda: self.names("sparse"))
        self.assertEqual(self.names("sparse"), ["sparse-1800000000"])

        self.stop_server()
        self.start_server(clock_start=T + 58)
        self.wait_log("cron sparse: when expression evaluated to false, skipping execution")
        self.assertEqual(self.names("sparse"), ["sparse-1800000000"])
        self.assertEqual(self.status("sparse")["lastScheduledTime"], "2027-01-15T08:00:00Z")

        self.stop_server()
        self.start_server(clock_start=T + 418)
        self.wait_for("the run 7 minutes later", lambda: "sparse-1800000420" in self.names("sparse"))
        self.assertEqual(self.names("sparse"), ["sparse-1800000000", "sparse-1800000420"])

    def test_when_reads_labels_and_a_bad_when_is_reported(self):
        self.start_server()
        text = CRON.format(name="labelled", schedule="@every 1s", template=ECHO,
                           extra="  when: \"{{= cronworkflow.labels.team == 'data' && cronworkflow.succeeded < 1 }}\"")
        text = text.replace("  name: labelled\n", "  name: labelled\n  labels: {team: data}\n")
        self.ok("cron", "create", self.write("labelled.yaml", text))
        self.wait_for("one success", lambda: self.status("labelled").get("succeeded") == 1)
        self.wait_log("cron labelled: when expression evaluated to false", count=2)
        self.assertEqual(len(self.names("labelled")), 1)

        self.ok("cron", "create", self.cron("broken", "@every 1s", extra='  when: "{{= now() - 1 > 0 }}"'))
        self.wait_log("cron broken: run policy error")
        self.assertEqual(self.names("broken"), [])

    def test_single_schedule_runs(self):
        self.start_server(clock_start=T - 2)
        self.ok("cron", "create", self.write("single.yaml", CRON_SINGLE.format(
            name="single", schedule="* * * * *", extra="", template=ECHO)))
        self.wait_for("the first run", lambda: self.names("single"))
        self.assertEqual(self.names("single"), ["single-1800000000"])

    def test_forbid_then_suspend(self):
        self.start_server()
        self.ok("cron", "create", self.cron("held", "@every 1s", extra="  concurrencyPolicy: Forbid", template=HOLD))
        first = self.wait_for("the first run", lambda: self.names("held"))[0]
        self.wait_log("has an active Workflow so it was not run", count=2)
        self.assertEqual(self.names("held"), [first])
        self.assertEqual([a["name"] for a in self.status("held")["active"]], [first])

        self.ok("resume", first)
        self.wait_for("a second run once the first ended", lambda: len(self.names("held")) >= 2)

        self.assertEqual(self.ok("cron", "suspend", "held").out, "CronWorkflow 'held' suspended\n")
        self.wait_log("CronWorkflow suspended, skipping execution")
        seen = self.names("held")
        self.wait_log("CronWorkflow suspended, skipping execution", count=3)
        self.assertEqual(self.names("held"), seen)
        self.assertIn("true", self.ok("cron", "list").out.splitlines()[1])
        self.assertEqual(self.ok("cron", "resume", "held").out, "CronWorkflow 'held' resumed\n")
        for name in seen:
            self.tether("terminate", name)
        self.wait_for("a run after resume", lambda: len(self.names("held")) > len(seen))

    def test_replace_terminates_the_running_one(self):
        self.start_server()
        self.ok("cron", "create", self.cron("swap", "@every 1s", extra="  concurrencyPolicy: Replace", template=HOLD))
        names = self.wait_for("two runs", lambda: (lambda n: n if len(n) >= 2 else None)(self.names("swap")))
        self.ok("cron", "suspend", "swap")
        first = self.wait_for("the first run to end", lambda: (lambda w: w if w["status"].get("phase") in ("Failed", "Error") else None)(self.get_json(names[0])))
        self.assertIn("Terminate", first["status"].get("message", ""))
        for name in self.names("swap"):
            self.tether("terminate", name)

    def test_history_limits_delete_older_runs(self):
        self.start_server()
        self.ok("cron", "create", self.cron("ok", "@every 1s", extra="  successfulJobsHistoryLimit: 2"))
        self.ok("cron", "create", self.cron("bad", "@every 1s", template=FAIL))
        self.wait_for("5 successes", lambda: self.status("ok").get("succeeded", 0) >= 5)
        self.wait_for("3 failures", lambda: self.status("bad").get("failed", 0) >= 3)
        self.ok("cron", "suspend", "ok")
        self.ok("cron", "suspend", "bad")
        self.wait_for("no active ok run", lambda: not self.status("ok").get("active"))
        self.wait_for("no active bad run", lambda: not self.status("bad").get("active"))
        self.wait_for("2 ok runs kept", lambda: len(self.runs("ok")) == 2)
        self.wait_for("1 failed run kept", lambda: len(self.runs("bad")) == 1)
        kept = self.names("ok")
        self.assertTrue(all(w["status"]["phase"] == "Succeeded" for w in self.runs("ok")))
        # The newest are kept: their scheduled times are the largest.
        st = self.status("ok")
        self.assertEqual(kept[-1], "ok-" + str(calendar.timegm(time.strptime(st["lastScheduledTime"], "%Y-%m-%dT%H:%M:%SZ"))))


class CronCli(TetherTest):
    def test_verbs_and_manual_trigger(self):
        path = self.write("c.yaml", CRON.format(name="daily", schedule="0 3 * * *",
                                                extra="  timezone: Europe/Berlin\n  suspend: true", template=ECHO))
        self.ok("cron", "create", path)
        r = self.tether("cron", "create", path)
        self.assertEqual(r.rc, 1)
        self.assertIn('cronworkflows.argoproj.io "daily" already exists', r.err)
        lines = self.ok("cron", "list").out.splitlines()
        self.assertEqual(lines[0].split(), ["NAME", "AGE", "LAST", "RUN", "NEXT", "RUN", "SCHEDULES", "TIMEZONE", "SUSPENDED"])
        self.assertEqual(lines[1].split()[0], "daily")
        self.assertTrue(lines[1].endswith("Europe/Berlin   true"))
        got = json.loads(self.ok("cron", "get", "daily", "-o", "json").out)
        self.assertEqual(got["spec"]["timezone"], "Europe/Berlin")
        text = self.ok("cron", "get", "daily").out
        self.assertIn("Timezone:                      Europe/Berlin", text)
        self.assertIn("NextScheduledTime:", text)
        self.assertEqual(self.ok("cron", "list", "-o", "name").out, "daily\n")

        r = self.ok("submit", "--from", "cronwf/daily", "--wait", "-o", "name")
        name = r.out.split()[0]
        self.assertTrue(name.startswith("daily-"))
        self.assertEqual(self.get_json(name)["metadata"]["labels"][LABEL], "daily")

        self.assertEqual(self.ok("cron", "delete", "daily").out, "")
        r = self.tether("cron", "get", "daily")
        self.assertEqual(r.rc, 1)
        self.assertIn('cronworkflows.argoproj.io "daily" not found', r.err)

    def test_single_schedule_in_list_get_and_lint(self):
        path = self.write("single.yaml", CRON_SINGLE.format(name="single", schedule="0 3 * * *",
                                                            extra="  timezone: Europe/Berlin", template=ECHO))
        self.ok("lint", path)
        self.ok("cron", "create", path)
        line = self.ok("cron", "list").out.splitlines()[1]
        self.assertIn("0 3 * * *", line)
        self.assertIn("Schedules:                     0 3 * * *", self.ok("cron", "get", "single").out)
        self.assertIn("NextScheduledTime:", self.ok("cron", "get", "single").out)

        both = self.write("both.yaml", CRON_SINGLE.format(name="both", schedule="0 3 * * *", template=ECHO,
                                                          extra='  schedules: ["0 4 * * *"]'))
        for verb in (["lint"], ["cron", "create"], ["apply", "-f"]):
            r = self.tether(*verb, both)
            self.assertEqual(r.rc, 1, (verb, r))
            self.assertIn(f"{both}:7:3:", r.out + r.err)
            self.assertIn("cron workflow cant be configured with both Spec.Schedule and Spec.Schedules", r.out + r.err)
        bad = self.write("bad-single.yaml", CRON_SINGLE.format(name="bad", schedule="0 3 * *", extra="", template=ECHO))
        r = self.tether("cron", "create", bad)
        self.assertEqual(r.rc, 1)
        self.assertIn("bad-single.yaml:7:3: cron schedule 0 3 * * is malformed: expected exactly 5 fields, found 4", r.err)

    def test_bad_input_names_file_and_field(self):
        path = self.write("bad.yaml", CRON.format(name="bad", schedule="* * * *", extra="", template=ECHO))
        r = self.fails("cron", "create", path)
        self.assertIn("bad.yaml:", r.err)
        self.assertIn("expected exactly 5 fields, found 4", r.err)
        path = self.write("tz.yaml", CRON.format(name="tz", schedule="* * * * *", extra="  timezone: Mars/Olympus", template=ECHO))
        r = self.fails("cron", "create", path)
        self.assertIn("tz.yaml:", r.err)
        self.assertIn("unknown time zone Mars/Olympus", r.err)
        wf = self.write("wf.yaml", "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: w}\nspec: {entrypoint: m, templates: [{name: m, suspend: {}}]}\n")
        r = self.fails("cron", "create", wf)
        self.assertIn("expected a CronWorkflow", r.err)


if __name__ == "__main__":
    unittest.main()
