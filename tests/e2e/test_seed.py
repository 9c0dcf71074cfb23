"""The nightly click pipeline (examples/click-csv-to-pg.yaml) end to end, and the secret and
configmap verbs it relies on.

The pipeline runs twice against a throwaway PostgreSQL (tests/testlib/pg_harness.sh) with
100,000 rows each time. The second run must create a new table and move the `clicks` view
to it while a reader queries `clicks` in a loop: the reader must never see an error, a
missing view or a partial count.
"""
import os
import shutil
import subprocess
import tempfile
import threading
import time
import unittest

from harness import BIN, EXAMPLES, SOURCE, TetherTest

HARNESS = os.path.join(SOURCE, "tests", "testlib", "pg_harness.sh")
WORKFLOW = os.path.join(EXAMPLES, "click-csv-to-pg.yaml")
ROWS = 100_000
# Never accepted by the server (trust authentication), only carried to the steps: it must
# not show up in any output or in the store's files.
PASSWORD = "pw-7f3a91c2-never-printed"

_server = {}


def have_postgres():
    return shutil.which("psql") and (shutil.which("initdb") or any(
        os.path.exists(f"/usr/lib/postgresql/{v}/bin/initdb") for v in range(10, 20)))


def start_server():
    if "env" in _server:
        return _server["env"]
    _server["dir"] = tempfile.mkdtemp(prefix="seed-e2e-")
    os.chmod(_server["dir"], 0o755)
    out = subprocess.run([HARNESS, "start", os.path.join(_server["dir"], "pg")], capture_output=True, text=True,
                         check=True).stdout
    env = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    _server["env"] = {k: v.strip("'") for k, v in env.items()}
    return _server["env"]


def tearDownModule():
    if "dir" in _server:
        subprocess.run([HARNESS, "stop", os.path.join(_server["dir"], "pg")], check=False)
        shutil.rmtree(_server["dir"], ignore_errors=True)


class SecretVerbs(TetherTest):
    def test_secret_values_are_never_shown(self):
        outputs = []
        outputs.append(self.ok("secret", "create", "creds", "--from-literal", f"DB_PASSWORD={PASSWORD}",
                               "--from-literal", "DB_USER=app"))
        env_file = os.path.join(self.home, "creds.env")
        with open(env_file, "w") as f:
            f.write(f"# comment\nAPI_TOKEN={PASSWORD}-2\n\n")
        outputs.append(self.ok("secret", "create", "more", "--from-env-file", env_file))
        os.remove(env_file)
        listed = self.ok("secret", "list")
        outputs.append(listed)
        self.assertIn("creds", listed.out)
        self.assertIn("more", listed.out)
        got = self.ok("secret", "get", "creds")
        outputs.append(got)
        self.assertIn("DB_PASSWORD", got.out)
        self.assertIn("DB_USER", got.out)
        as_json = self.ok("secret", "get", "creds", "-o", "json")
        outputs.append(as_json)
        self.assertIn('"DB_PASSWORD"', as_json.out)
        for r in outputs:
            self.assertNotIn(PASSWORD, r.out + r.err)
        self.assert_home_has_no(PASSWORD)

        self.ok("secret", "delete", "creds")
        self.assertNotIn("creds", self.ok("secret", "list").out)
        missing = self.tether("secret", "get", "creds")
        self.assertNotEqual(missing.rc, 0)
        self.assertIn("not found", missing.err)
        self.assertNotEqual(self.tether("secret", "delete", "creds").rc, 0)
        bad = self.tether("secret", "create", "x", "--from-literal", "novalue")
        self.assertNotEqual(bad.rc, 0)
        self.assertIn("key=value", bad.err)

    def test_configmap_roundtrip(self):
        self.ok("configmap", "create", "settings", "--from-literal", "mode=fast", "--from-literal", "level=3")
        got = self.ok("configmap", "get", "settings", "-o", "json")
        self.assertIn('"mode": "fast"', got.out)
        self.assertIn("settings", self.ok("configmap", "list").out)
        self.ok("configmap", "delete", "settings")
        self.assertNotEqual(self.tether("configmap", "get", "settings").rc, 0)

    def assert_home_has_no(self, needle):
        """The value is in none of the home's files except the encrypted store's key."""
        data = needle.encode()
        for root, _, files in os.walk(self.home):
            for name in files:
                path = os.path.join(root, name)
                if name == "secret.key" or not os.path.isfile(path):
                    continue
                with open(path, "rb") as f:
                    self.assertNotIn(data, f.read(), f"{path} holds a secret value in plain text")


@unittest.skipUnless(have_postgres(), "PostgreSQL (initdb and psql) not installed")
class ClickPipeline(TetherTest):
    def setUp(self):
        super().setUp()
        self.pg = start_server()
        # Steps find `tether pgcopy` on the engine's PATH, which the first CLI call passes on.
        self.env["PATH"] = os.path.dirname(BIN) + os.pathsep + self.env.get("PATH", "")

    def psql(self, sql):
        env = dict(os.environ, **self.pg)
        return subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql], capture_output=True,
                              text=True, env=env, timeout=60)

    def view_table(self):
        r = self.psql("SELECT DISTINCT c.relname FROM pg_rewrite r JOIN pg_depend d ON d.objid = r.oid "
                      "JOIN pg_class c ON c.oid = d.refobjid "
                      "WHERE r.ev_class = 'clicks'::regclass AND c.relname <> 'clicks'")
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()

    def run_pipeline(self, rows=ROWS):
        r = self.ok("submit", WORKFLOW, "-p", f"rows={rows}", "--wait", "-o", "name", timeout=300)
        name = r.out.strip().splitlines()[-1].split()[-1]
        wf = self.get_json(name)
        self.assertEqual(wf["status"]["phase"], "Succeeded", wf["status"].get("message"))
        for out in (r.out + r.err, self.ok("get", name).out, self.ok("logs", name).out):
            self.assertNotIn(PASSWORD, out)
        return wf

    def create_secret(self):
        pg = self.pg
        self.ok("secret", "create", "secrets-for-click-analysis", "--from-literal", f"DB_HOST={pg['PGHOST']}",
                "--from-literal", f"DB_PORT={pg['PGPORT']}", "--from-literal", f"DB_USER={pg['PGUSER']}",
                "--from-literal", f"DB_PASSWORD={PASSWORD}", "--from-literal", f"DB_NAME={pg['PGDATABASE']}",
                "--from-literal", "DB_SSLMODE=disable")

    def test_two_nightly_runs_move_the_view_without_readers_noticing(self):
        self.create_secret()
        self.run_pipeline()
        self.assertEqual(self.psql("SELECT count(*) FROM clicks").stdout.strip(), str(ROWS))
        first = self.view_table()
        self.assertRegex(first, r"^clicks_\d{8}\d{6}\d*z$")
        idx = self.psql(f"SELECT count(*) FROM pg_indexes WHERE tablename = '{first}'").stdout.strip()
        self.assertEqual(idx, "1")

        # The table name comes from the creation time in seconds: make the second differ.
        time.sleep(1.1)
        seen, errors, stop = [], [], threading.Event()

        def reader():
            while not stop.is_set():
                r = self.psql("SELECT count(*) FROM clicks")
                if r.returncode != 0:
                    errors.append(r.stderr.strip())
                else:
                    seen.append(r.stdout.strip())

        t = threading.Thread(target=reader)
        t.start()
        try:
            self.run_pipeline()
        finally:
            stop.set()
            t.join()
        second = self.view_table()
        self.assertNotEqual(first, second)
        self.assertEqual(errors, [])
        self.assertGreater(len(seen), 5)
        self.assertEqual(set(seen), {str(ROWS)})
        self.assertEqual(self.psql(f"SELECT count(*) FROM {first}").stdout.strip(), str(ROWS))

    def test_secret_env_values_stay_out_of_the_store_and_api(self):
        self.create_secret()
        self.run_pipeline(rows=10)
        name = self.ok("list", "-o", "name").out.split()[0]
        self.assertNotIn(PASSWORD, self.ok("get", name, "-o", "json").out)
        self.assertNotIn(PASSWORD, self.ok("logs", name).out)
        # Nothing under TETHER_HOME holds it in plain text: the database, its WAL, the node
        # directories (the step's spec with its environment), logs, artifacts.
        for root, _, files in os.walk(self.home):
            for f in files:
                path = os.path.join(root, f)
                if not os.path.isfile(path):
                    continue
                with open(path, "rb") as fh:
                    self.assertFalse(PASSWORD.encode() in fh.read(), f"{path} holds the password in plain text")


if __name__ == "__main__":
    unittest.main()
