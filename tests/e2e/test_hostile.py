"""Hostile input: a parameter value is data, never shell and never a template.

Each value goes from `tether submit` into a step's argv and its environment; the step is a
python one-liner that prints both back as JSON, so the test compares them byte for byte.
Values that would run `touch MARKER` if anything on the way handed them to a shell point at
a fresh directory outside /tmp (a step's /tmp is its own), which must stay empty.

What cannot be delivered is refused where it is seen first: a NUL byte (no program can
receive one) and an image that would read as a flag at submit, a value too large for argv
as the step's error while the engine goes on.
"""
import json
import os
import shutil
import tempfile
import unittest

from harness import Tally, TetherTest

TALLY = Tally("hostile")


def tearDownModule():
    TALLY.report()


# Prints what the step received: its arguments and $PAYLOAD. JSON keeps the bytes exact
# (non-ASCII as \u escapes, undecodable bytes as surrogates).
SHOW = 'import json, os, sys; print(json.dumps({"argv": sys.argv[1:], "env": os.environ.get("PAYLOAD")}))'

# A script template gets its source's path after its args, as in Argo; this command runs
# that last argument as the program and leaves it the arguments before.
RUN_LAST = "import runpy, sys; runpy.run_path(sys.argv.pop(), run_name='__main__')"

# `x` is there so that a value naming {{inputs.parameters.x}} shows whether it was expanded.
WORKFLOW = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: hostile-
spec:
  entrypoint: main
  templates:
  - name: show
    inputs:
      parameters:
      - name: payload
      - name: x
        value: expanded-x
    container:
      image: python:3
      command: [python3, -c, '@SHOW@']
      args: ["{{inputs.parameters.payload}}"]
      env:
      - name: PAYLOAD
        value: "{{inputs.parameters.payload}}"
  - name: show-script
    inputs:
      parameters:
      - name: payload
      - name: x
        value: expanded-x
    script:
      image: python:3
      command: [python3, -c, "@RUN_LAST@"]
      args: ["{{inputs.parameters.payload}}"]
      env:
      - name: PAYLOAD
        value: "{{inputs.parameters.payload}}"
      source: |
        @SHOW@
  - name: main
""".replace("@SHOW@", SHOW).replace("@RUN_LAST@", RUN_LAST)


def payloads(marker):
    big_unit = "$(touch " + marker + ") `x` 'y' \"z\" ; | && \\ * {{workflow.name}} "
    return {
        "quotes": "it's a \"quoted\" 'value'",
        "command substitution": f"$(touch {marker})",
        "backticks": f"`touch {marker}`",
        "semicolon": f"; touch {marker}",
        "and": f"&& touch {marker}",
        "pipe": f"| touch {marker}",
        "newlines": f"first line\ntouch {marker}\n\nlast line\n",
        "quote breakout": f"'; touch {marker}; echo '",
        "workflow name template": "{{workflow.name}}",
        "input template": "{{inputs.parameters.x}}",
        "expression template": "{{=sprig.upper('x')}}",
        "$HOME": "$HOME",
        "${PATH}": "${PATH}",
        "glob": "*",
        "backslashes": "\\\\\\\\ \\n \\0 \\",
        "utf-8": "naïve café — 日本語 🚀 Ω",
        "leading dash": "-oops",
        "long flag": "--flag=value",
        "empty": "",
        "100 KB": (big_unit * (100 * 1024 // len(big_unit) + 1))[:100 * 1024],
    }


def workflow_text(count, template, default=""):
    """WORKFLOW with parameters p0..pN, each given to a task of `template`; the DAG's outputs
    name every task's result, which is what makes it captured."""
    args, tasks, outputs = [], [], []
    for i in range(count):
        args.append(f"    - {{name: p{i}, value: {json.dumps(default)}}}\n")
        tasks.append(f"      - name: p{i}\n        template: {template}\n"
                     f"        arguments:\n          parameters:\n"
                     f"          - {{name: payload, value: \"{{{{workflow.parameters.p{i}}}}}\"}}\n")
        outputs.append(f"      - name: r{i}\n        valueFrom: {{parameter: \"{{{{tasks.p{i}.outputs.result}}}}\"}}\n")
    return (WORKFLOW.replace("  templates:", "  arguments:\n    parameters:\n" + "".join(args) + "  templates:", 1)
            + "    dag:\n      tasks:\n" + "".join(tasks) + "    outputs:\n      parameters:\n" + "".join(outputs))


class Hostile(TetherTest):
    maxDiff = 2000  # a 100 KB value's diff would bury the report

    def setUp(self):
        super().setUp()
        # Outside /tmp: a step's /tmp is private, a file it made there would go unseen.
        self.markers = tempfile.mkdtemp(prefix="tether-hostile-", dir="/var/tmp")
        self.marker = os.path.join(self.markers, "pwned")

    def tearDown(self):
        shutil.rmtree(self.markers, ignore_errors=True)
        super().tearDown()

    def workflow(self, template, count):
        return self.write("hostile.yaml", workflow_text(count, template))

    def assert_no_marker(self, route):
        with TALLY.check(self, f"{route}: no command ran"):
            self.assertEqual(os.listdir(self.markers), [])

    def assert_arrived(self, route, name, values):
        """Each step saw its value byte for byte in argv and in $PAYLOAD."""
        nodes = self.nodes_by_display(self.get_json(name))
        for i, (label, value) in enumerate(values.items()):
            node = nodes[f"p{i}"]
            got = json.loads(node["outputs"]["result"]) if node["phase"] == "Succeeded" else {}
            with TALLY.check(self, f"{route}: {label} in argv"):
                self.assertEqual(node["phase"], "Succeeded", node.get("message"))
                self.assertEqual(len(got["argv"]), 1, f"{got['argv']!r:.300}")
                self.assertEqual(got["argv"][0], value)
            with TALLY.check(self, f"{route}: {label} in env"):
                self.assertEqual(got.get("env"), value)
        self.assert_no_marker(route)

    def submit_and_wait(self, route, *args):
        r = self.tether("submit", *args, "--wait", "-o", "name", timeout=300)
        with TALLY.check(self, f"{route}: the run succeeded"):
            self.assertEqual(r.rc, 0, r)
        return r.out.split()[0]

    def run_with_p(self, route, template):
        values = payloads(self.marker)
        params = [a for i, v in enumerate(values.values()) for a in ("-p", f"p{i}={v}")]
        name = self.submit_and_wait(route, self.workflow(template, len(values)), *params)
        self.assert_arrived(route, name, values)

    def test_values_given_with_p(self):
        self.run_with_p("-p", "show")

    def test_values_from_a_parameter_file(self):
        values = payloads(self.marker)
        # JSON strings are YAML double-quoted scalars, escapes and all.
        lines = [f"p{i}: {json.dumps(v, ensure_ascii=False)}\n" for i, v in enumerate(values.values())]
        params = self.write("params.yaml", "".join(lines))
        name = self.submit_and_wait("parameter file", self.workflow("show", len(values)), "--parameter-file", params)
        self.assert_arrived("parameter file", name, values)

    def test_values_through_a_script_template(self):
        # What a script template's source says is not data (Argo substitutes into it); its
        # args and env are.
        self.run_with_p("script", "show-script")

    def test_nul_byte_is_refused_at_submit(self):
        wf = self.workflow("show", 1)
        refusals = {
            "a YAML parameter file": ("submit", wf, "--parameter-file", self.write("nul.yaml", 'p0: "a\\0b"\n')),
            "a JSON parameter file": ("submit", wf, "--parameter-file", self.write("nul.json", '{"p0": "a\\u0000b"}\n')),
            "the workflow's own argument": ("submit", self.write("nul-own.yaml", workflow_text(1, "show", "a\0b"))),
        }
        for route, args in refusals.items():
            with TALLY.check(self, f"NUL in {route} is refused, nothing stored"):
                r = self.tether(*args)
                self.assertEqual(r.rc, 1, r)
                self.assertIn("NUL byte", r.err)
                self.assertEqual(self.ok("list").out.strip(), "No workflows found")

    def test_image_starting_with_a_dash_is_refused(self):
        text = workflow_text(1, "show").replace("image: python:3", 'image: "-oops"', 1)
        path = self.write("dash.yaml", text)
        # The container's position: its first key, the image.
        line, col = next((i, t.index("image") + 1) for i, t in enumerate(text.splitlines(), 1) if "-oops" in t)
        for verb in ("lint", "submit"):
            with TALLY.check(self, f"{verb} refuses image -oops"):
                r = self.tether(verb, path)
                self.assertEqual(r.rc, 1, r)
                self.assertRegex(r.out + r.err, rf"dash\.yaml:{line}:{col}: .*image \"-oops\" must not start with '-'")
        with TALLY.check(self, "nothing stored after image -oops"):
            self.assertEqual(self.ok("list").out.strip(), "No workflows found")

    def test_value_too_large_for_argv_is_a_step_error(self):
        # 3 MB is over the kernel's limit for one argument (128 KiB) and for all of them.
        params = self.write("big.yaml", "p0: " + "y" * (3 << 20) + "\n")
        r = self.tether("submit", self.workflow("show", 1), "--parameter-file", params, "--wait", "-o", "name",
                        timeout=300)
        engine = self.engine_pid()
        with TALLY.check(self, "3 MB argument: the run is Error, the step says why"):
            self.assertEqual(r.rc, 1, r)
            step = self.nodes_by_display(self.get_json(r.out.split()[0]))["p0"]
            self.assertEqual(step["phase"], "Error")
            self.assertIn('failed to start: command "python3": argument list and environment too long',
                          step["message"])
        with TALLY.check(self, "3 MB argument: the engine lives on"):
            name = self.submit_and_wait("after 3 MB", self.workflow("show", 1), "-p", "p0=small")
            self.assertEqual(self.engine_pid(), engine)
            self.assertEqual(self.get_json(name)["status"]["phase"], "Succeeded")

    def test_namespace_is_not_shell(self):
        # --log follows the run with `tether logs -n NAMESPACE`; the namespace is user input.
        ns = f"x'; touch {self.marker}; echo '"
        self.tether("submit", self.workflow("show", 1), "-p", "p0=v", "-n", ns, "--log", timeout=300)
        self.assert_no_marker("--log with a hostile namespace")


if __name__ == "__main__":
    unittest.main()
