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
