"""`tether pgcopy` against a real PostgreSQL (tests/testlib/pg_harness.sh).

One server for the module; every test loads into its own tables. The input is a generated
100k-row CSV with quoted delimiters, quotes, newlines, NULLs, empty strings and non-ASCII
text; a load is right when the table's checksum equals the one computed from the rows.
"""
import hashlib
import os
import random
import shlex
import shutil
import subprocess
import tempfile
import unittest

SOURCE = os.environ.get("TETHER_SOURCE", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BIN = os.environ.get("TETHER_BIN", os.path.join(SOURCE, "build", "src", "cli", "tether"))
PGCOPY_BIN = os.path.join(os.path.dirname(os.path.dirname(BIN)), "pgcopy", "tether-pgcopy")
HARNESS = os.path.join(SOURCE, "tests", "testlib", "pg_harness.sh")
ROWS = 100_000

_server = {}


def setUpModule():
    if not shutil.which("initdb") and not any(os.path.exists(f"/usr/lib/postgresql/{v}/bin/initdb") for v in range(10, 20)):
        raise unittest.SkipTest("PostgreSQL server binaries not installed")
    _server["dir"] = tempfile.mkdtemp(prefix="pgcopy-e2e-")
    os.chmod(_server["dir"], 0o755)
    out = subprocess.run([HARNESS, "start", os.path.join(_server["dir"], "pg")], capture_output=True, text=True,
                         check=True).stdout
    env = dict(line.split("=", 1) for line in out.splitlines() if "=" in line)
    _server["env"] = {k: v.strip("'") for k, v in env.items()}
    _server["conninfo"] = _server["env"]["TETHER_PG_CONNINFO"]
    _server["data"] = Data(_server["dir"])


def tearDownModule():
    if "dir" in _server:
        subprocess.run([HARNESS, "stop", os.path.join(_server["dir"], "pg")], check=False)
        shutil.rmtree(_server["dir"], ignore_errors=True)


VALUES = ["plain", "with,comma", 'quote"inside', '""', "multi\nline\nvalue", "héllo wörld ✓ 日本語", "", None,
          "\\.", "trailing space ", "tab\there", "cr\r\nlf", "a" * 300]


def csv_field(v):
    if v is None:
        return ""
    if v == "" or any(c in v for c in ',"\n\r') or v.startswith("\\"):
        return '"' + v.replace('"', '""') + '"'
    return v


class Data:
    """The generated rows, their CSV files and the checksum a correct load produces."""

    def __init__(self, folder):
        rnd = random.Random(7)
        self.rows = []
        for i in range(1, ROWS + 1):
            a = rnd.choice(VALUES)
            b = None if rnd.random() < 0.05 else rnd.randint(-1000, 1000)
            self.rows.append((i, a, b))
        self.lines = ["%d,%s,%s\n" % (i, csv_field(a), "" if b is None else b) for i, a, b in self.rows]
        self.plain = os.path.join(folder, "rows.csv")
        self.header = os.path.join(folder, "rows_header.csv")
        with open(self.plain, "w", encoding="utf-8", newline="") as f:
            f.writelines(self.lines)
        with open(self.header, "w", encoding="utf-8", newline="") as f:
            f.write("id,a,b\n")
            f.writelines(self.lines)
        self.folder = folder

    def checksum(self, rows=None):
        parts = ["%d:%s:%s" % (i, "N" if a is None else hashlib.md5(a.encode()).hexdigest(), "N" if b is None else b)
                 for i, a, b in (rows or self.rows)]
        return hashlib.md5(",".join(parts).encode()).hexdigest()

    def line_of(self, record):
        """1-based file line where 0-based record `record` starts (without header)."""
        return 1 + sum(line.count("\n") for line in self.lines[:record])

    def write(self, name, lines):
        path = os.path.join(self.folder, name)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.writelines(lines)
        return path


class PgcopyTest(unittest.TestCase):
    def setUp(self):
        self.data = _server["data"]
        self.env = dict(os.environ, **_server["env"])
        self.table = self.id().split(".")[-1][5:][:40]
        self.sql(f"DROP TABLE IF EXISTS {self.table}; CREATE TABLE {self.table} (id int, a text, b int)")

    def sql(self, query, db="postgres"):
        r = subprocess.run(["psql", "-qXAt", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", query], capture_output=True,
                           text=True, env=self.env, check=True)
        return r.stdout.strip()

    def pgcopy(self, *args, binary=None):
        cmd = [binary] if binary else [BIN, "pgcopy"]
        cmd += ["--connection", _server["conninfo"], "--table", self.table, *args]
        return subprocess.run(cmd, capture_output=True, text=True, env=self.env, timeout=300)

    def ok(self, *args, **kw):
        r = self.pgcopy(*args, **kw)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def table_checksum(self):
        return self.sql(f"SELECT md5(string_agg(id || ':' || coalesce(md5(a), 'N') || ':' || coalesce(b::text, 'N'), "
                        f"',' ORDER BY id)) FROM {self.table}")

    def count(self):
        return int(self.sql(f"SELECT count(*) FROM {self.table}"))

    def assert_loaded(self, rows=None):
        rows = rows or self.data.rows
        self.assertEqual(self.count(), len(rows))
        self.assertEqual(self.table_checksum(), self.data.checksum(rows))

    def test_workers_with_and_without_header(self):
        for workers in ("1", "2", "4", "8"):
            for header in (False, True):
                with self.subTest(workers=workers, header=header):
                    args = ["--truncate", "--workers", workers, "--batch-size", "3000"]
                    # With a header, CSV text only; without, values go as COPY BINARY where they can.
                    args += ["--file", self.data.header, "--skip-header", "--binary=false"] if header else \
                        ["--file", self.data.plain]
                    r = self.ok(*args)
                    self.assertEqual(r.stdout, f"COPY {ROWS}\n")
                    self.assert_loaded()

    def test_stdin_small_byte_batches_and_verbose_summary(self):
        with open(self.data.plain, "rb") as f:
            r = subprocess.run([BIN, "pgcopy", "--connection", _server["conninfo"], "--table", self.table,
                                "--workers", "3", "--batch-byte-size", "65536", "--verbose"],
                               stdin=f, capture_output=True, text=True, env=self.env, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"^COPY 100000, took \S+ with 3 worker\(s\) \(mean rate [0-9.]+/sec\)\n$")
        self.assert_loaded()

    def test_bad_value_names_file_line_and_column(self):
        lines = list(self.data.lines)
        bad = 70_000
        i, a, _ = self.data.rows[bad]
        lines[bad] = "%d,%s,notanumber\n" % (i, csv_field(a))
        path = self.data.write("bad_value.csv", lines)
        r = self.pgcopy("--file", path, "--workers", "1", "--batch-size", "1000")
        self.assertEqual(r.returncode, 1, r.stderr)
        line = self.data.line_of(bad)
        self.assertIn(f"line {line}, column b: invalid input syntax for type integer: \"notanumber\"", r.stderr)
        # One worker commits batch by batch in file order: exactly the batches before the bad one.
        self.assertIn("70000 rows committed before the failure", r.stderr)
        self.assertEqual(self.count(), 70_000)
        self.assertEqual(r.stdout, "")

    def test_wrong_column_counts(self):
        for extra, message in (("1,x,2,3\n", "extra data after last expected column"),
                               ("1\n", 'missing data for column "a"')):
            with self.subTest(message=message):
                path = self.data.write("columns.csv", self.data.lines[:10] + [extra] + self.data.lines[10:20])
                r = self.pgcopy("--file", path, "--truncate")
                self.assertEqual(r.returncode, 1)
                self.assertIn(f"line {self.data.line_of(10)}", r.stderr)
                self.assertIn(message, r.stderr)
                self.assertEqual(self.count(), 0, "the batch is one transaction")

    def test_unterminated_quote_at_eof(self):
        path = self.data.write("open_quote.csv", self.data.lines[:5] + ['6,"never closed,1\n', "7,x,1\n"])
        r = self.pgcopy("--file", path)
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"line {self.data.line_of(5)}: unterminated quoted field", r.stderr)
        self.assertEqual(self.count(), 0)

    def test_end_of_data_marker_line_is_refused(self):
        self.sql(f"DROP TABLE {self.table}; CREATE TABLE {self.table} (v text)")
        path = self.data.write("marker.csv", ["a\n", "b\n", "\\.\n", "c\n"])
        r = self.pgcopy("--file", path)
        self.assertEqual(r.returncode, 1)
        self.assertIn('line 3: a line holding only "\\." would end', r.stderr)
        self.assertEqual(self.count(), 0)
        quoted = self.data.write("marker_quoted.csv", ["a\n", '"\\."\n', "c\n"])
        self.ok("--file", quoted)
        self.assertEqual(self.sql(f"SELECT string_agg(v, '|' ORDER BY v) FROM {self.table}"), "\\.|a|c")

    def test_truncate_and_limit(self):
        self.ok("--file", self.data.plain, "--workers", "2")
        self.ok("--file", self.data.plain, "--workers", "2")
        self.assertEqual(self.count(), 2 * ROWS)
        self.ok("--file", self.data.plain, "--workers", "2", "--truncate")
        self.assert_loaded()
        r = self.ok("--file", self.data.header, "--skip-header", "--truncate", "--limit", "12345", "--workers", "4")
        self.assertEqual(r.stdout, "COPY 12345\n")
        self.assert_loaded(self.data.rows[:12345])

    def test_import_id_resumes_and_reruns_are_noops(self):
        # A load that fails half way, with several workers in flight...
        lines = list(self.data.lines)
        lines[60_000] = "60001,broken,x\n"
        broken = self.data.write("import_broken.csv", lines)
        args = ["--import-id", "nightly-1", "--workers", "4", "--batch-size", "2000"]
        r = self.pgcopy("--file", broken, *args)
        self.assertEqual(r.returncode, 1)
        partial = self.count()
        self.assertGreater(partial, 0)
        self.assertLess(partial, ROWS)
        # ...then the fixed file under the same import id loads exactly the missing rows.
        r = self.ok("--file", self.data.plain, *args)
        self.assertEqual(r.stdout, f"COPY {ROWS - partial}\n")
        self.assert_loaded()
        r = self.ok("--file", self.data.plain, *args)
        self.assertEqual(r.stdout, "COPY 0\n")
        self.assert_loaded()
        # Different batch boundaries cannot be matched to what is already there.
        r = self.pgcopy("--file", self.data.plain, "--import-id", "nightly-1", "--batch-size", "1500")
        self.assertEqual(r.returncode, 1)
        self.assertIn("differently cut batches", r.stderr)
        self.assert_loaded()

    def test_usage_errors_exit_2(self):
        r = self.pgcopy("--no-such-flag")
        self.assertEqual(r.returncode, 2)
        self.assertIn("flag provided but not defined: -no-such-flag", r.stderr)
        self.assertIn("Usage of tether pgcopy:", r.stderr)
        r = self.pgcopy("--workers", "two")
        self.assertEqual(r.returncode, 2)
        r = self.pgcopy("--copy-options", "CSV HEADER", "--file", self.data.plain)
        self.assertEqual(r.returncode, 1)
        self.assertIn("-skip-header", r.stderr)

    def test_seed_command_line_with_unquoted_connection(self):
        """The seed workflow's import step, verbatim: $CONNECTION unquoted, --db-name."""
        self.sql("DROP DATABASE IF EXISTS metrics")
        self.sql("CREATE DATABASE metrics")
        self.sql("CREATE TABLE clicks_x (campaign_id uuid, num_clicks integer not null, "
                 "start_time timestamp with time zone, end_time timestamp with time zone)", db="metrics")
        csv = os.path.join(self.data.folder, "clicks.csv")
        subprocess.run(["python3", os.path.join(SOURCE, "tools", "gen_clicks.py"), "20000", csv], check=True)
        env = _server["env"]
        loader = shlex.quote(PGCOPY_BIN) if os.path.exists(PGCOPY_BIN) else shlex.quote(BIN) + " pgcopy"
        script = f"""
            set -e
            tail -n +2 {shlex.quote(csv)} > {shlex.quote(csv)}.nohead
            CONNECTION="host={env['PGHOST']} user=postgres sslmode=disable"
            CONNECTION="${{CONNECTION}} port={env['PGPORT']}"
            COLUMNS="campaign_id,num_clicks,start_time,end_time"
            {loader} --db-name metrics \\
                --table clicks_x \\
                --connection $CONNECTION --reporting-period 2s --columns $COLUMNS \\
                --copy-options "CSV NULL ''" --workers 4 --file {shlex.quote(csv)}.nohead
        """
        r = subprocess.run(["sh", "-c", script], capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "COPY 20000\n")
        self.assertIn("There will be reports every 2s", r.stderr)
        self.assertEqual(self.sql("SELECT count(*), count(end_time) < count(*) FROM clicks_x", db="metrics"), "20000|t")

    def test_binary_fast_path_equals_text_copy(self):
        """Values converted on the client load exactly as the server's own parsing would."""
        ddl = "(u uuid, i2 smallint, i4 int, i8 bigint, tz timestamptz, ts timestamp, t text, v varchar(20))"
        self.sql(f"DROP TABLE {self.table}; CREATE TABLE {self.table} {ddl}; CREATE TABLE {self.table}_text {ddl}")
        rnd = random.Random(3)
        stamps = ["2018-12-20 10:11:12+00", "2018-12-20T10:11:12.5Z", "1999-12-31 23:59:59.123456-01",
                  "2024-02-29 12:00:00+05:30", "0001-01-01 00:00:00+0130", "2018-12-20 10:11:12",
                  "2018-12-20 10:11:12.1234567+00", "epoch", ""]
        lines = []
        for k in range(5000):
            u = "%08x-%04x-%04x-%04x-%012x" % tuple(rnd.getrandbits(n) for n in (32, 16, 16, 16, 48))
            u = u.upper() if k % 7 == 0 else u
            ints = [str(rnd.randint(-32768, 32767)), str(rnd.randint(-2**31, 2**31 - 1)), str(rnd.randint(-2**63, 2**63 - 1))]
            if k % 11 == 0:
                ints[1] = " 42"  # the server trims, the client leaves it to the server
            tz = rnd.choice(stamps)
            ts = rnd.choice(["2018-12-20 10:11:12", "2020-06-01 00:00:00.000001", ""])
            t = csv_field(rnd.choice(VALUES))
            lines.append(",".join([u, *ints, tz, ts, t, "short"]) + "\n")
        path = self.data.write("types.csv", lines)
        r = self.ok("--file", path, "--workers", "2", "--batch-size", "100", "--verbose")
        self.assertIn("COPY BINARY", r.stderr)
        self.ok("--file", path, "--table", f"{self.table}_text", "--binary=false")
        for a, b in ((self.table, f"{self.table}_text"), (f"{self.table}_text", self.table)):
            self.assertEqual(self.sql(f"SELECT count(*) FROM (SELECT * FROM {a} EXCEPT ALL SELECT * FROM {b}) d"), "0")
        self.assertEqual(self.count(), 5000)

    @unittest.skipUnless(os.path.exists(PGCOPY_BIN), "tether-pgcopy not built")
    def test_tether_pgcopy_binary_and_version(self):
        r = self.ok("--file", self.data.plain, "--workers", "2", binary=PGCOPY_BIN)
        self.assertEqual(r.stdout, f"COPY {ROWS}\n")
        self.assert_loaded()
        r = subprocess.run([PGCOPY_BIN, "--version"], capture_output=True, text=True)
        self.assertRegex(r.stdout, r"^tether-pgcopy v\S+ \(linux \S+\)\n$")


if __name__ == "__main__":
    unittest.main()
