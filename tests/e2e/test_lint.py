"""End-to-end: `tether lint` on files, directories and stdin; output formats and exit codes."""
import json
import os
import unittest

from harness import ARGO_EXAMPLES, TetherTest

GOOD = """apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: hello-
spec:
  entrypoint: main
  templates:
  - name: main
    container:
      image: alpine
      args: ["hello"]
"""

BAD = """apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: hello-
spec:
  entrypoint: abc
  templates:
  - name: abc
    steps:
    - - name: a
        template: whalesay
  - name: whalesay
    inputs:
      parameters:
      - name: message
    container:
      image: busybox
"""

MISSING_MESSAGE = "templates.abc.steps[0].a templates.whalesay inputs.parameters.message was not supplied"

LIBRARY = """apiVersion: argoproj.io/v1alpha1
kind: WorkflowTemplate
metadata:
  name: lib
spec:
  templates:
  - name: echo
    container:
      image: alpine
"""

USES_LIBRARY = """apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: ref-
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: a
        templateRef: {name: lib, template: echo}
"""

UNKNOWN_FIELD = GOOD.replace("      image: alpine\n", "      image: alpine\n      imagee: x\n")

PVC = """apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: data
spec:
  accessModes: [ReadWriteOnce]
"""

AGENT = """apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: agent-
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - {name: get, template: get}
    - - {name: list, template: list, arguments: {artifacts: [{name: logs, raw: {data: x}}]}}
  - name: get
    http:
      url: "http://127.0.0.1:9/{{workflow.name}}"
      headers:
      - {name: Accept, value: application/json}
      successCondition: "response.statusCode == 200 && request.method == 'GET'"
  - name: list
    inputs:
      artifacts:
      - {name: logs, path: /data/logs}
    data:
      source:
        artifactPaths: {name: logs}
      transformation:
      - expression: 'filter(data, {# endsWith ".log"})'
      - expression: ""
      - expression: "map(data, {# + '{{workflow.name}}'})"
"""

# Each breaks AGENT in one place: (what replaces, with what, line:col, message).
AGENT_ERRORS = [
    ('      url: "http://127.0.0.1:9/{{workflow.name}}"\n', "", "14:7", "templates.get.http.url is required"),
    ("{name: Accept, value", "{value", "16:9", "templates.get.http.headers[0].name is required"),
    ("response.statusCode == 200 &&", "response.statusCode == &&", "14:7",
     "templates.get.http.successCondition: unexpected token Operator(\"&&\")"),
    ("request.method == 'GET'", "req.method == 'GET'", "14:7", "templates.get.http.successCondition: unknown name req"),
    ("      source:\n        artifactPaths: {name: logs}\n", "", "23:7",
     "templates.list.data.source: no valid source is used for data template"),
    ("artifactPaths: {name: logs}", "{}", "24:9",
     "templates.list.data.source: no valid source is used for data template"),
    ('filter(data, {# endsWith ".log"})', 'filter(data, {# endsWith ".log"}', "26:9",
     "templates.list.data.transformation[0].expression: unexpected token EOF"),
    ('filter(data, {# endsWith ".log"})', 'filter(files, {# endsWith ".log"})', "26:9",
     "templates.list.data.transformation[0].expression: unknown name files"),
]


class Lint(TetherTest):
    def test_http_and_data_templates(self):
        self.ok("lint", self.write("agent.yaml", AGENT))
        for i, (old, new, where, message) in enumerate(AGENT_ERRORS):
            with self.subTest(message=message):
                self.assertIn(old, AGENT)
                path = self.write(f"agent-{i}.yaml", AGENT.replace(old, new, 1))
                r = self.tether("lint", "-o", "simple", path)
                self.assertEqual(r.rc, 1, r)
                self.assertTrue(r.out.startswith(f"{path}:{where}: "), r.out)
                self.assertIn(message, r.out)
                # submit refuses it with the same words, and nothing runs.
                r = self.tether("submit", path)
                self.assertEqual(r.rc, 1, r)
                self.assertIn(message, r.err)

    def test_good_file(self):
        r = self.ok("lint", self.write("good.yaml", GOOD))
        self.assertEqual(r.out, "✔ no linting errors found!\n")

    def test_bad_file_pretty(self):
        path = self.write("bad.yaml", BAD)
        r = self.tether("lint", path)
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(r.out, f"{path}:\n   ✖ {path}:10:9: {MISSING_MESSAGE}\n\n✖ 1 linting errors found!\n")

    def test_bad_file_simple(self):
        path = self.write("bad.yaml", BAD)
        r = self.tether("lint", "-o", "simple", path)
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(r.out, f"{path}:10:9: {MISSING_MESSAGE}\n")

    def test_json_output(self):
        good = self.write("good.yaml", GOOD)
        bad = self.write("bad.yaml", BAD)
        r = self.tether("lint", "-o", "json", good, bad)
        self.assertEqual(r.rc, 1, r)
        out = json.loads(r.out)
        self.assertFalse(out["success"])
        self.assertEqual([x["file"] for x in out["results"]], [good, bad])
        self.assertEqual(out["results"][0]["errors"], [])
        self.assertEqual(out["results"][1]["errors"], [f"{bad}:10:9: {MISSING_MESSAGE}"])

    def test_stdin(self):
        r = self.ok("lint", "-", input=GOOD)
        self.assertEqual(r.out, "✔ no linting errors found!\n")
        r = self.tether("lint", "-o", "simple", "-", input=BAD)
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(r.out, f"stdin:10:9: {MISSING_MESSAGE}\n")

    def test_directory_resolves_template_refs_across_files(self):
        self.write("dir/a/lib.yaml", LIBRARY)
        self.write("dir/b/uses.yml", USES_LIBRARY)
        self.write("dir/notes.txt", "not yaml: [")
        self.ok("lint", os.path.join(self.home, "dir"))
        r = self.tether("lint", "-o", "simple", os.path.join(self.home, "dir", "b"))
        self.assertEqual(r.rc, 1, r)
        self.assertIn("template reference lib.echo not found", r.out)

    def test_strict_flag(self):
        path = self.write("unknown.yaml", UNKNOWN_FIELD)
        r = self.tether("lint", "-o", "simple", path)
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(r.out, f'{path}:11:7: json: unknown field "spec.templates[0].container.imagee"\n')
        self.ok("lint", "--strict=false", path)

    def test_skipped_kinds(self):
        path = self.write("pvc.yaml", PVC + "---\n" + GOOD)
        r = self.ok("lint", "-o", "simple", path)
        self.assertEqual(r.out, f'{path}: skipped PersistentVolumeClaim "data"\nno linting errors found!\n')

    def test_nothing_to_lint(self):
        r = self.tether("lint", self.write("pvc.yaml", PVC))
        self.assertEqual(r.rc, 1, r)
        self.assertTrue(r.out.endswith("✖ found nothing to lint in the specified paths, failing...\n"), r)

    def test_missing_file(self):
        r = self.tether("lint", "-o", "simple", os.path.join(self.home, "nope.yaml"))
        self.assertEqual(r.rc, 1, r)
        self.assertIn("nope.yaml", r.out)

    def test_argo_examples(self):
        if not os.path.isdir(ARGO_EXAMPLES):
            self.skipTest("no Argo examples at $TETHER_SHARED/argo-examples")
        r = self.tether("lint", "-o", "simple", ARGO_EXAMPLES)
        # One example writes `annotations:` twice; argo lint's strict mode rejects it too.
        self.assertEqual(r.rc, 1, r)
        errors = [line for line in r.out.splitlines() if ": skipped " not in line]
        self.assertEqual(len(errors), 1, r)
        self.assertIn('k8s-patch-json-workflow.yaml:13:3: mapping key "annotations" already defined', errors[0])
        self.ok("lint", "--strict=false", ARGO_EXAMPLES)


if __name__ == "__main__":
    unittest.main()
