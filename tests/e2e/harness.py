"""Runs the real tether binary in a private TETHER_HOME, and cleans up after it.

Every test gets its own home, so its engine, store and artifacts are its own; at the end
the engine is stopped and no step process may be left behind.
"""
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

SOURCE = os.environ.get("TETHER_SOURCE", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BIN = os.environ.get("TETHER_BIN", os.path.join(SOURCE, "build", "src", "cli", "tether"))
SHARED = os.environ.get("TETHER_SHARED", os.path.join(SOURCE, "..", "shared"))
EXAMPLES = os.path.join(SOURCE, "examples")
ARGO_EXAMPLES = os.path.join(SHARED, "argo-examples")


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def __repr__(self):
        return f"rc={self.rc}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


class Tally:
    """Counts a module's checks, for the `MODULE: N passed, N failed` line it prints last.

    A check is a subTest, so one broken payload or promise does not hide the others."""

    def __init__(self, module):
        self.module = module
        self.passed = 0
        self.failed = 0

    @contextlib.contextmanager
    def check(self, test, label):
        with test.subTest(label):
            try:
                yield
            except BaseException:
                self.failed += 1
                print(f"FAILED: {label}")
                raise
            self.passed += 1

    def report(self, extra=""):
        print(f"\n{self.module}: {self.passed} passed, {self.failed} failed{extra}")


class TetherTest(unittest.TestCase):
    """Base class: self.tether(...) runs the binary in this test's home."""

    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="tether-e2e-")
        self.env = dict(os.environ, TETHER_HOME=self.home)
        self.env.pop("TERM", None)

    def tearDown(self):
        self.stop_engine()
        if os.environ.get("TETHER_KEEP_HOME") != "1":
            shutil.rmtree(self.home, ignore_errors=True)

    def tether(self, *args, input=None, timeout=120, env=None):
        proc = subprocess.run([BIN, *args], input=input, capture_output=True, text=True, timeout=timeout,
                              env=env or self.env)
        return Result(proc)

    def ok(self, *args, **kw):
        r = self.tether(*args, **kw)
        self.assertEqual(r.rc, 0, f"tether {' '.join(args)} failed: {r!r}")
        return r

    def fails(self, *args, **kw):
        """tether ARGS, which must exit 1 (a refusal); returns the result for its messages."""
        r = self.tether(*args, **kw)
        self.assertEqual(r.rc, 1, f"tether {' '.join(args)} did not fail: {r!r}")
        return r

    def write(self, name, text):
        """A file in this test's home; returns its path."""
        path = os.path.join(self.home, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def get_json(self, name):
        return json.loads(self.ok("get", name, "-o", "json").out)

    def engine_pid(self):
        try:
            with open(os.path.join(self.home, "engine.lock")) as f:
                return int(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0

    def stop_engine(self):
        pid = self.engine_pid()
        if not pid:
            return
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        for _ in range(200):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.025)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def nodes_by_display(self, wf):
        return {n["displayName"]: n for n in wf["status"].get("nodes", {}).values()}


class ServerTest(TetherTest):
    """A foreground `tether server` (which runs the CronWorkflows), its log in the home;
    TETHER_TEST_CLOCK_START sets where its scheduler's clock begins."""

    def setUp(self):
        super().setUp()
        self.server = None
        self.log_path = os.path.join(self.home, "server.log")

    def tearDown(self):
        self.stop_server()
        super().tearDown()

    def start_server(self, clock_start=None):
        env = dict(self.env)
        if clock_start is not None:
            env["TETHER_TEST_CLOCK_START"] = str(clock_start)
        self.log_mark = self.log_text().count("\n")
        log = open(self.log_path, "a")
        self.server = subprocess.Popen([BIN, "server"], env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.wait_log("serving")

    def stop_server(self):
        if self.server and self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)
            self.server.wait(timeout=30)
        self.server = None

    def log_text(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""

    def new_log(self):
        """The log of the current server process."""
        return "\n".join(self.log_text().split("\n")[self.log_mark:])

    def wait_for(self, what, check, timeout=90):
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                self.fail(f"timed out waiting for {what}\n--- server log\n{self.log_text()}")
            time.sleep(0.05)

    def wait_log(self, text, count=1):
        return self.wait_for(f"{count} x {text!r} in the server log", lambda: self.new_log().count(text) >= count)
