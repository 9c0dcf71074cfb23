"""Crash safety: the engine is killed with SIGKILL at random moments and at named points,
and every run must still end as it would have without the crash.

Steps are a shell one-liner that appends "start ID" and "end ID" to a ledger on a volume
shared by the run, so the test can see which steps ran, how often and in what order. The
random schedule comes from a seed printed at the end (TETHER_CRASH_SEED repeats a run;
TETHER_CRASH_ITERATIONS changes the length of the crash loop).
"""
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import time
import unittest

from harness import BIN, TetherTest

SEED = int(os.environ.get("TETHER_CRASH_SEED") or random.SystemRandom().randrange(1 << 31))
ITERATIONS = int(os.environ.get("TETHER_CRASH_ITERATIONS", "50"))
TALLY = {"passed": 0, "failed": 0}


def tearDownModule():
    print(f"\ncrash: {TALLY['passed']} passed, {TALLY['failed']} failed (seed {SEED}, "
          f"TETHER_CRASH_SEED={SEED} repeats it)")


LEDGER_SCRIPT = 'echo "start $0" >> /ledger/ledger; sleep $1; echo "end $0" >> /ledger/ledger'


def step_template(home, retry_policy=None, name="step"):
    t = {
        "name": name,
        "inputs": {"parameters": [{"name": "id"}, {"name": "secs", "value": "0.01"}]},
        "container": {
            "image": "busybox",
            "command": ["sh", "-c"],
            "args": [LEDGER_SCRIPT, "{{inputs.parameters.id}}", "{{inputs.parameters.secs}}"],
            # Marks the step's processes as this test's, to find any left behind.
            "env": [{"name": "CRASH_TEST_HOME", "value": home}],
            "volumeMounts": [{"name": "ledger", "mountPath": "/ledger"}],
        },
    }
    if retry_policy:
        t["retryStrategy"] = {"limit": 10, "retryPolicy": retry_policy}
    return t


def workflow(name, home, templates, entrypoint="main", **spec):
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": name},
        "spec": dict(entrypoint=entrypoint, templates=templates,
                     volumes=[{"name": "ledger", "persistentVolumeClaim": {"claimName": "ledger"}}], **spec),
    }


def layered_dag(name, home, rng, layers, width, retry_policy=None, parallelism=8):
    """layers x width tasks; each task after two of the layer before. Returns (workflow, deps)."""
    tasks, deps = [], {}
    for layer in range(layers):
        for i in range(width):
            tid = f"s{layer}x{i}"
            deps[tid] = [] if layer == 0 else sorted({f"s{layer - 1}x{i}", f"s{layer - 1}x{(i + 1) % width}"})
            task = {"name": tid, "template": "step",
                    "arguments": {"parameters": [{"name": "id", "value": tid},
                                                 {"name": "secs", "value": f"{rng.randint(10, 100) / 1000:.3f}"}]}}
            if deps[tid]:
                task["dependencies"] = deps[tid]
            tasks.append(task)
    wf = workflow(name, home, [{"name": "main", "dag": {"tasks": tasks}}, step_template(home, retry_policy)],
                  parallelism=parallelism)
    return wf, deps


def processes_of(home):
    """Pids of every live process of this home or a home below it: engines, supervisors
    (TETHER_HOME) and steps (CRASH_TEST_HOME)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read().decode(errors="replace").split("\0")
            with open(f"/proc/{entry}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
        except OSError:
            continue
        for var in env:
            key, _, value = var.partition("=")
            if key in ("TETHER_HOME", "CRASH_TEST_HOME") and (value == home or value.startswith(home + "/")):
                pids.append(int(entry))
                break
    return pids


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "?"


class CrashTest(TetherTest):
    def setUp(self):
        super().setUp()
        self.engine = None
        self.rng = random.Random(f"{SEED}-{self.id()}")

    def tearDown(self):
        self.kill_everything(self.home)
        super().tearDown()

    @contextlib.contextmanager
    def scenario(self, label):
        try:
            yield
        except BaseException:
            TALLY["failed"] += 1
            print(f"FAILED: {label} (seed {SEED})")
            raise
        TALLY["passed"] += 1

    # --- the engine -------------------------------------------------------------------------

    def use_home(self, home):
        os.makedirs(home, exist_ok=True)
        self.env = dict(self.env, TETHER_HOME=home)
        self.cur_home = home

    def engine_call(self, request, timeout=2):
        """One request on the engine's control socket; None when no engine answers."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(os.path.join(self.cur_home, "engine.sock"))
            s.sendall(json.dumps(request).encode() + b"\n")
            reply = b""
            while not reply.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                reply += chunk
            return json.loads(reply)
        except (OSError, ValueError):
            return None
        finally:
            s.close()

    def engine_answers(self):
        reply = self.engine_call({"op": "ping"})
        return bool(reply and reply.get("ok"))

    def start_engine(self, crash_at=None):
        env = dict(self.env)
        if crash_at:
            env["TETHER_CRASH_AT"] = crash_at
        with open(os.path.join(self.cur_home, "engine-test.log"), "ab") as log:
            self.engine = subprocess.Popen([BIN, "server", "--no-http"], env=env, stdin=subprocess.DEVNULL,
                                           stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.engine.poll() is not None:
                self.fail(f"the engine exited with {self.engine.returncode} at start; see {self.cur_home}/engine-test.log")
            if self.engine_answers():
                return
            time.sleep(0.01)
        self.fail("the engine did not answer within 60 s")

    def kill_engine(self):
        self.engine.send_signal(signal.SIGKILL)
        self.engine.wait()

    def stop_engine_cleanly(self):
        if self.engine and self.engine.poll() is None:
            self.engine.send_signal(signal.SIGTERM)
            self.engine.wait(timeout=60)

    def kill_everything(self, home):
        """Engine, supervisors and steps at once, as a power cut would: freeze all, then kill;
        again while a process forked in the meantime shows up."""
        for _ in range(50):
            pids = processes_of(home)
            if not pids:
                break
            for sig in (signal.SIGSTOP, signal.SIGKILL):
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, sig)
            time.sleep(0.02)
        if self.engine:
            with contextlib.suppress(Exception):
                self.engine.wait(timeout=10)

    def engine_killed_itself(self):
        try:
            return self.engine.wait(timeout=30) == -signal.SIGKILL
        except subprocess.TimeoutExpired:
            return False

    def submit(self, wf):
        # Straight to the engine, the subject here: `tether submit` would first validate the
        # file, which for 200 tasks takes most of a second in the sanitizer build.
        reply = self.engine_call({"op": "submit", "workflow": wf}, timeout=60)
        if reply is None and self.engine_killed_itself():
            # A crash point right after the first commit may kill the engine before its
            # socket thread has written the reply, as a real crash there would: the run was
            # committed before the reply was due, under the name the workflow gives it.
            return wf["metadata"]["name"]
        self.assertTrue(reply and reply.get("ok"), reply)
        return reply["name"]

    # --- the store --------------------------------------------------------------------------

    def db(self):
        return sqlite3.connect(f"file:{self.cur_home}/tether.db?mode=ro", uri=True, timeout=30)

    def run_phase(self, name):
        with contextlib.closing(self.db()) as db:
            row = db.execute("SELECT phase, message FROM runs WHERE name = ?", (name,)).fetchone()
        return row or ("", "")

    def wait_final(self, name, timeout=180):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            phase, message = self.run_phase(name)
            if phase in ("Succeeded", "Failed", "Error"):
                return phase, message
            if self.engine.poll() is not None:
                self.start_engine()  # a crash point fired: restart as an operator would
            time.sleep(0.05)
        self.fail(f"{name} did not finish within {timeout} s")

    def nodes(self, name):
        with contextlib.closing(self.db()) as db:
            uid = db.execute("SELECT uid FROM runs WHERE name = ?", (name,)).fetchone()[0]
            return [json.loads(s) for (s,) in db.execute("SELECT status FROM nodes WHERE run_uid = ?", (uid,))]

    def integrity(self):
        with contextlib.closing(sqlite3.connect(f"{self.cur_home}/tether.db", timeout=30)) as db:
            return db.execute("PRAGMA integrity_check").fetchone()[0]

    def ledger(self):
        try:
            with open(os.path.join(self.cur_home, "volumes", "ledger", "ledger")) as f:
                return [tuple(line.split()) for line in f if line.strip()]
        except FileNotFoundError:
            return []

    # --- the criteria -----------------------------------------------------------------------

    def assert_nothing_lost(self, name, deps, phase):
        """Succeeded, each step exactly once and after its dependencies, each in the store,
        the store intact, no process left."""
        self.assertEqual(phase, "Succeeded", f"{name}: {self.run_phase(name)}")
        ledger = self.ledger()
        at = {}
        for i, (what, tid) in enumerate(ledger):
            self.assertNotIn((what, tid), at, f"{name}: step {tid} has a second '{what}': ran twice")
            at[(what, tid)] = i
        for tid, before in deps.items():
            self.assertIn(("start", tid), at, f"{name}: step {tid} never started")
            self.assertIn(("end", tid), at, f"{name}: step {tid} never ended")
            for d in before:
                self.assertLess(at[("end", d)], at[("start", tid)], f"{name}: {tid} started before {d} ended")
        pods = {n["displayName"]: n for n in self.nodes(name) if n.get("type") == "Pod"}
        for tid in deps:
            self.assertIn(tid, pods, f"{name}: step {tid} ran but is not in the store")
            self.assertEqual(pods[tid]["phase"], "Succeeded", f"{name}: {tid}")
        self.assertEqual(len(pods), len(deps), f"{name}: steps in the store beyond the workflow's")
        self.assertEqual(self.integrity(), "ok")
        self.stop_engine_cleanly()
        self.assert_no_process_left()

    def assert_no_process_left(self):
        left = []
        for _ in range(100):
            left = processes_of(self.cur_home)
            if not left:
                return
            time.sleep(0.05)
        cmds = [f"{pid}: {cmdline(pid)}" for pid in left]
        self.fail("processes left behind:\n" + "\n".join(cmds))

    # --- the tests --------------------------------------------------------------------------

    def test_crash_loop(self):
        """A 200-step DAG, parallelism 8; the engine is SIGKILLed up to 5 times a run."""
        for it in range(ITERATIONS):
            with self.scenario(f"crash loop iteration {it}"):
                home = os.path.join(self.home, f"it{it}")
                self.use_home(home)
                wf, deps = layered_dag(f"crash-{it}", home, self.rng, layers=20, width=10)
                self.start_engine()
                name = self.submit(wf)
                t0 = time.monotonic()
                for at in sorted(self.rng.uniform(0.05, 2.5) for _ in range(self.rng.randint(1, 5))):
                    time.sleep(max(0.0, t0 + at - time.monotonic()))
                    if self.run_phase(name)[0] in ("Succeeded", "Failed", "Error"):
                        break
                    self.kill_engine()
                    time.sleep(self.rng.uniform(0, 0.2))
                    self.start_engine()
                phase, _ = self.wait_final(name)
                self.assert_nothing_lost(name, deps, phase)
                shutil.rmtree(home, ignore_errors=True)

    def test_named_crash_points(self):
        """The engine kills itself at each point where a crash could lose or repeat work."""
        for point in ("after-intent", "after-spawn", "after-exit"):
            for nth in (1, self.rng.randint(2, 4)):
                with self.scenario(f"crash at {point}:{nth}"):
                    home = os.path.join(self.home, f"{point}-{nth}")
                    self.use_home(home)
                    wf, deps = layered_dag(f"{point}-{nth}", home, self.rng, layers=4, width=5)
                    self.start_engine(crash_at=f"{point}:{nth}")
                    name = self.submit(wf)
                    self.assertIsNotNone(self.engine.wait(timeout=120), f"the engine never reached {point}")
                    self.assertEqual(self.engine.returncode, -signal.SIGKILL)
                    self.start_engine()
                    phase, _ = self.wait_final(name)
                    self.assert_nothing_lost(name, deps, phase)

    def test_crash_mid_artifact_save(self):
        with self.scenario("crash at artifact-save"):
            self.use_home(os.path.join(self.home, "artifact"))
            produce = step_template(self.cur_home, name="produce")
            produce["container"]["args"][0] = (
                'echo "start $0" >> /ledger/ledger; head -c 3000000 /dev/urandom > /tmp/data; '
                'sha256sum < /tmp/data > /ledger/produced; echo "end $0" >> /ledger/ledger')
            produce["outputs"] = {"artifacts": [{"name": "data", "path": "/tmp/data"}]}
            consume = step_template(self.cur_home, name="consume")
            consume["inputs"]["artifacts"] = [{"name": "data", "path": "/in/data"}]
            consume["container"]["args"][0] = (
                'echo "start $0" >> /ledger/ledger; sha256sum < /in/data > /ledger/consumed; '
                'echo "end $0" >> /ledger/ledger')
            main = {"name": "main", "dag": {"tasks": [
                {"name": "produce", "template": "produce", "arguments": {"parameters": [{"name": "id", "value": "produce"}]}},
                {"name": "consume", "template": "consume", "dependencies": ["produce"],
                 "arguments": {"parameters": [{"name": "id", "value": "consume"}],
                               "artifacts": [{"name": "data", "from": "{{tasks.produce.outputs.artifacts.data}}"}]}},
            ]}}
            self.start_engine(crash_at="artifact-save:2")
            name = self.submit(workflow("artifact-save", self.cur_home, [main, produce, consume]))
            self.engine.wait(timeout=120)
            self.assertEqual(self.engine.returncode, -signal.SIGKILL, "the engine never reached artifact-save")
            self.start_engine()
            phase, _ = self.wait_final(name)
            volume = os.path.join(self.cur_home, "volumes", "ledger")
            with open(os.path.join(volume, "produced")) as p, open(os.path.join(volume, "consumed")) as c:
                self.assertEqual(p.read(), c.read(), "the consumer got a different artifact")
            self.assert_nothing_lost(name, {"produce": [], "consume": ["produce"]}, phase)

    def test_crash_during_retry_backoff(self):
        """The backoff counts from the failed attempt's stored end: a restart neither loses
        the retry nor runs it early."""
        with self.scenario("crash at retry-backoff"):
            self.use_home(os.path.join(self.home, "backoff"))
            flaky = step_template(self.cur_home, name="flaky")
            flaky["container"]["args"][0] = (
                'echo "start $0" >> /ledger/ledger; echo "end $0" >> /ledger/ledger; '
                '[ -e /ledger/failed-once ] || { touch /ledger/failed-once; exit 1; }')
            flaky["retryStrategy"] = {"limit": 3, "backoff": {"duration": "2s"}}
            main = {"name": "main", "steps": [[{"name": "flaky", "template": "flaky",
                                                 "arguments": {"parameters": [{"name": "id", "value": "flaky"}]}}]]}
            self.start_engine(crash_at="retry-backoff")
            name = self.submit(workflow("backoff", self.cur_home, [main, flaky]))
            self.engine.wait(timeout=120)
            self.assertEqual(self.engine.returncode, -signal.SIGKILL, "the engine never waited for a backoff")
            self.start_engine()
            phase, _ = self.wait_final(name)
            self.assertEqual(phase, "Succeeded")
            attempts = sorted((n for n in self.nodes(name) if n.get("type") == "Pod"), key=lambda n: n["name"])
            self.assertEqual([n["phase"] for n in attempts], ["Failed", "Succeeded"])
            first_end = time.mktime(time.strptime(attempts[0]["finishedAt"], "%Y-%m-%dT%H:%M:%SZ"))
            second_start = time.mktime(time.strptime(attempts[1]["startedAt"], "%Y-%m-%dT%H:%M:%SZ"))
            self.assertGreaterEqual(second_start - first_end, 2, "the retry ran before its backoff passed")
            self.assertEqual(self.ledger().count(("start", "flaky")), 2)
            self.assertEqual(self.integrity(), "ok")
            self.stop_engine_cleanly()
            self.assert_no_process_left()

    def test_crash_during_the_exit_handler(self):
        with self.scenario("crash at exit-handler"):
            self.use_home(os.path.join(self.home, "exit"))
            main = {"name": "main", "steps": [[{"name": "work", "template": "step",
                                                 "arguments": {"parameters": [{"name": "id", "value": "work"}]}}]]}
            bye = step_template(self.cur_home, name="bye")
            bye["inputs"]["parameters"] = [{"name": "id", "value": "bye"}, {"name": "secs", "value": "0.3"}]
            self.start_engine(crash_at="exit-handler")
            name = self.submit(workflow("exit", self.cur_home, [main, step_template(self.cur_home), bye], onExit="bye"))
            self.engine.wait(timeout=120)
            self.assertEqual(self.engine.returncode, -signal.SIGKILL, "the engine never started the exit handler")
            self.start_engine()
            phase, _ = self.wait_final(name)
            self.assertEqual(phase, "Succeeded")
            self.assertEqual(self.ledger().count(("start", "bye")), 1, self.ledger())
            self.assertEqual(self.ledger().count(("end", "bye")), 1, self.ledger())
            self.stop_engine_cleanly()
            self.assert_no_process_left()

    def kill_all_while_steps_run(self, retry_policy, label):
        self.use_home(os.path.join(self.home, label))
        wf, deps = layered_dag(label, self.cur_home, self.rng, layers=6, width=5, retry_policy=retry_policy)
        for t in wf["spec"]["templates"][0]["dag"]["tasks"]:
            t["arguments"]["parameters"][1]["value"] = "0.3"  # long enough to be caught running
        self.start_engine()
        name = self.submit(wf)
        deadline = time.monotonic() + 60
        while True:  # until some step is running
            ledger = self.ledger()
            if sum(1 for w, _ in ledger if w == "start") > sum(1 for w, _ in ledger if w == "end"):
                break
            self.assertLess(time.monotonic(), deadline, "no step ever ran")
            time.sleep(0.01)
        self.kill_everything(self.cur_home)
        self.assertEqual(processes_of(self.cur_home), [])
        self.start_engine()
        phase, _ = self.wait_final(name)
        lost = [n for n in self.nodes(name) if n.get("type") == "Pod" and n["phase"] == "Error"]
        self.assertTrue(lost, "killing every step lost none")
        for n in lost:
            self.assertIn("lost", n.get("message", ""))
        self.assertEqual(self.integrity(), "ok")
        return name, phase, deps

    def test_power_cut_loses_running_steps_and_only_retries_on_error_recover(self):
        """Engine and steps killed together: a step whose end cannot be known is Error
        "lost", never started again by itself; a retryStrategy that retries errors runs it anew."""
        for policy in ("OnError", "Always"):
            with self.scenario(f"power cut with retryPolicy {policy}"):
                name, phase, deps = self.kill_all_while_steps_run(policy, f"cut-{policy.lower()}")
                self.assertEqual(phase, "Succeeded", self.run_phase(name))
                ledger = self.ledger()
                for tid in deps:
                    self.assertIn(("end", tid), ledger, f"{tid} never completed")
                self.stop_engine_cleanly()
                self.assert_no_process_left()
        for policy in (None, "OnFailure"):
            with self.scenario(f"power cut with retryPolicy {policy}"):
                name, phase, _ = self.kill_all_while_steps_run(policy, f"cut-{(policy or 'none').lower()}")
                self.assertIn(phase, ("Failed", "Error"))
                self.stop_engine_cleanly()
                self.assert_no_process_left()

    def test_second_engine_is_refused_naming_the_pid(self):
        with self.scenario("second engine refused"):
            self.use_home(os.path.join(self.home, "second"))
            self.start_engine()
            r = self.tether("server", "--no-http", timeout=30)
            self.assertEqual(r.rc, 1, r)
            self.assertIn(f"pid {self.engine.pid}", r.err)
            self.assertIsNone(self.engine.poll(), "the first engine must go on")

    def test_workflow_deadline_passed_while_the_engine_was_down(self):
        """activeDeadlineSeconds counts from the stored start: an engine that comes back after
        the deadline fails the run at once instead of letting its step run on."""
        with self.scenario("deadline across downtime"):
            self.use_home(os.path.join(self.home, "deadline"))
            main = {"name": "main", "steps": [[{"name": "long", "template": "step", "arguments": {
                "parameters": [{"name": "id", "value": "long"}, {"name": "secs", "value": "120"}]}}]]}
            bye = step_template(self.cur_home, name="bye")
            bye["inputs"]["parameters"][0]["value"] = "bye"
            self.start_engine()
            name = self.submit(workflow("deadline", self.cur_home, [main, step_template(self.cur_home), bye],
                                        activeDeadlineSeconds=3, onExit="bye"))
            deadline = time.monotonic() + 60
            while ("start", "long") not in self.ledger():
                self.assertLess(time.monotonic(), deadline, "the step never started")
                time.sleep(0.02)
            self.kill_engine()
            time.sleep(4)
            self.assertTrue(processes_of(self.cur_home), "the step should outlive the engine")
            self.start_engine()
            phase, _ = self.wait_final(name, timeout=60)
            self.assertEqual(phase, "Failed")
            self.assertNotIn(("end", "long"), self.ledger(), "the step ran to its end")
            self.assertEqual(self.ledger().count(("end", "bye")), 1, "the exit handler runs after a deadline")
            self.stop_engine_cleanly()
            self.assert_no_process_left()


if __name__ == "__main__":
    unittest.main()
