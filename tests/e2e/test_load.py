"""Load: a burst of 1,000 three-step workflows from concurrent `tether submit` processes.

Every run must succeed and every step run exactly once (each appends its run and step to a
ledger on a volume all runs share); no client and no engine may meet "database is locked";
the engine's memory stays bounded and it gives back every file descriptor the burst took.
The wall time and steps/s are printed for information; bench/load.sh measures speed.
"""
import collections
import concurrent.futures
import contextlib
import json
import os
import sqlite3
import threading
import time
import unittest

from harness import Tally, TetherTest

RUNS = 1000
STEPS = 3
SUBMITTERS = 16
MAX_PEAK_RSS = 512 << 20
TALLY = Tally("load")
FIGURES = []


def tearDownModule():
    TALLY.report("".join(FIGURES))


WORKFLOW = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: {prefix}-
spec:
  entrypoint: main
  volumes:
  - name: ledger
    persistentVolumeClaim: {{claimName: ledger}}
  templates:
  - name: main
    steps:
    - - {{name: a, template: note, arguments: {{parameters: [{{name: id, value: a}}]}}}}
    - - {{name: b, template: note, arguments: {{parameters: [{{name: id, value: b}}]}}}}
    - - {{name: c, template: note, arguments: {{parameters: [{{name: id, value: c}}]}}}}
  - name: note
    inputs:
      parameters:
      - name: id
    container:
      image: busybox
      command: [sh, -c, 'echo "$0 $1" >> /ledger/ledger', "{{{{workflow.name}}}}", "{{{{inputs.parameters.id}}}}"]
      volumeMounts:
      - {{name: ledger, mountPath: /ledger}}
"""


def proc_status(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # kB
    raise KeyError(field)


def open_fds(pid):
    fds = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        with contextlib.suppress(OSError):
            fds[fd] = os.readlink(f"/proc/{pid}/fd/{fd}")
    return fds


class Load(TetherTest):
    def setUp(self):
        super().setUp()
        # Under AddressSanitizer freed memory waits in a quarantine (256 MB by default) that
        # counts in RSS but is not the engine's; a small one keeps the bound about tether.
        asan = self.env.get("ASAN_OPTIONS", "")
        self.env["ASAN_OPTIONS"] = (asan + ":" if asan else "") + "quarantine_size_mb=16"

    def settled_fds(self, pid, want=None, seconds=10):
        """The engine's open descriptors once it has been idle a moment: the same listing
        twice in a row (or `want`'s count), within `seconds`."""
        last = open_fds(pid)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(1)
            now = open_fds(pid)
            if (want is None and now == last) or (want is not None and len(now) == len(want)):
                return now
            last = now
        return last

    def store_rows(self, query):
        db = sqlite3.connect(f"file:{self.home}/tether.db?mode=ro", uri=True, timeout=30)
        with contextlib.closing(db):
            return db.execute(query).fetchall()

    def test_burst_of_a_thousand_workflows(self):
        burst = self.write("load.yaml", WORKFLOW.format(prefix="load"))
        # The engine starts with the first run, so the baselines are those of an engine that
        # has run a workflow and is idle.
        warmup = self.ok("submit", self.write("warmup.yaml", WORKFLOW.format(prefix="warmup")), "--wait")
        pid = self.engine_pid()
        before = self.settled_fds(pid)

        # Each submitter sends its share of the runs, one file argument a run; meanwhile a
        # reader lists the runs over and over, as someone watching would.
        shares = [RUNS // SUBMITTERS + (i < RUNS % SUBMITTERS) for i in range(SUBMITTERS)]
        done = threading.Event()
        listings = []

        def watch():
            while not done.is_set():
                listings.append(self.tether("list", "-o", "name", timeout=600))
                time.sleep(0.5)

        t0 = time.monotonic()
        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            with concurrent.futures.ThreadPoolExecutor(SUBMITTERS) as pool:
                submits = list(pool.map(lambda n: self.tether("submit", *[burst] * n, "-o", "name", timeout=600),
                                        shares))
            names = [n for r in submits for n in r.out.split()]
            waited = self.tether("wait", *names, timeout=1200)
        finally:
            done.set()
            watcher.join()
        wall = time.monotonic() - t0
        FIGURES.append(f"\nload: {RUNS} runs of {STEPS} steps in {wall:.1f} s, "
                       f"{RUNS * STEPS / wall:.0f} steps/s (submit to last completion)")

        with TALLY.check(self, "every submit succeeded"):
            for r in submits:
                self.assertEqual(r.rc, 0, r)
            self.assertEqual(len(set(names)), RUNS)
        with TALLY.check(self, "tether wait: every run Succeeded"):
            self.assertEqual(waited.rc, 0, waited)

        phases = collections.Counter(p for (p,) in self.store_rows("SELECT phase FROM runs WHERE name LIKE 'load-%'"))
        with TALLY.check(self, "the store: every run Succeeded"):
            self.assertEqual(phases, {"Succeeded": RUNS})

        pods = collections.Counter()
        for run, status in self.store_rows("SELECT r.name, n.status FROM nodes n JOIN runs r ON r.uid = n.run_uid "
                                           "WHERE r.name LIKE 'load-%'"):
            node = json.loads(status)
            if node["type"] == "Pod":
                pods[(run, node["displayName"], node["phase"])] += 1
        with TALLY.check(self, "the store: one Succeeded Pod node per step"):
            self.assertEqual(set(pods), {(n, s, "Succeeded") for n in names for s in "abc"})
            self.assertEqual([k for k, c in pods.items() if c != 1], [])

        with open(os.path.join(self.home, "volumes", "ledger", "ledger")) as f:
            ran = collections.Counter(tuple(line.split()) for line in f if line.startswith("load-"))
        with TALLY.check(self, "the ledger: every step ran exactly once"):
            self.assertEqual(set(ran), {(n, s) for n in names for s in "abc"})
            self.assertEqual([k for k, c in ran.items() if c != 1], [])

        with TALLY.check(self, "every listing during the burst succeeded"):
            self.assertEqual([r for r in listings if r.rc != 0], [])
        with TALLY.check(self, 'no "database is locked" anywhere'):
            for r in [warmup, *submits, *listings, waited]:
                self.assertNotIn("database is locked", r.out + r.err)
            with open(os.path.join(self.home, "engine.log"), errors="replace") as f:
                self.assertNotIn("database is locked", f.read())

        with TALLY.check(self, "engine peak RSS under 512 MiB"):
            peak = proc_status(pid, "VmHWM")
            FIGURES.append(f"\nload: engine peak RSS {peak / (1 << 20):.0f} MiB")
            self.assertLess(peak, MAX_PEAK_RSS)

        with TALLY.check(self, "engine file descriptors back to the baseline"):
            after = self.settled_fds(pid, want=before)
            gained = {fd: target for fd, target in after.items() if before.get(fd) != target}
            FIGURES.append(f"\nload: engine file descriptors {len(before)} before the burst, {len(after)} after")
            self.assertEqual(len(after), len(before), f"descriptors the burst left open: {gained}")


if __name__ == "__main__":
    unittest.main()
