"""End-to-end: the argo-style verbs on real workflows, through the real binary."""
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import EXAMPLES, TetherTest


def example(name):
    return os.path.join(EXAMPLES, name)


class SubmitListGetLogsDelete(TetherTest):
    def test_lifecycle(self):
        r = self.ok("submit", example("hello-world.yaml"), "-p", "message=hi from e2e", "--wait", "-o", "name")
        name = r.out.strip().splitlines()[0]
        self.assertTrue(name.startswith("hello-world-"), r)

        listing = self.ok("list").out.splitlines()
        self.assertEqual(listing[0].split(), ["NAME", "STATUS", "AGE", "DURATION", "PRIORITY", "MESSAGE"])
        self.assertIn(name, listing[1])
        self.assertIn("Succeeded", listing[1])
        self.assertEqual(self.ok("list", "-o", "name").out.split(), [name])

        wf = self.get_json(name)
        self.assertEqual(wf["status"]["phase"], "Succeeded")
        root = wf["status"]["nodes"][name]
        self.assertEqual(root["type"], "Pod")
        self.assertEqual(root["templateName"], "hello")

        text = self.ok("get", name).out
        self.assertIn("Status:              Succeeded", text)
        self.assertRegex(text, r"✔ " + name + r"\s+hello\s+" + name)

        logs = self.ok("logs", name).out
        self.assertEqual(logs, f"{name}: hi from e2e\n")
        self.assertEqual(self.ok("logs", "@latest").out, logs)

        self.ok("delete", name)
        self.assertEqual(self.ok("list").out.strip(), "No workflows found")
        r = self.tether("get", name)
        self.assertEqual(r.rc, 1)
        self.assertIn("not found", r.err)


class ProgramsUnderTmp(TetherTest):
    def test_a_command_found_on_path_under_tmp_runs(self):
        # Each step has a private /tmp; a tool (or tether itself, in a clone under /tmp) that
        # the step finds through PATH in a folder under the host's /tmp must stay visible.
        tools = tempfile.mkdtemp(prefix="tether-e2e-tools-", dir="/tmp")
        self.addCleanup(shutil.rmtree, tools, ignore_errors=True)
        tool = os.path.join(tools, "hello-from-tmp")
        scratch = os.path.basename(tools) + "-scratch"
        with open(tool, "w") as f:
            f.write("#!/bin/sh\n"
                    "echo \"found under tmp: $1\"\n"
                    "touch \"$0.written\" 2>/dev/null || echo read-only\n"
                    f"echo x > /tmp/{scratch} && echo private tmp\n")
        os.chmod(tool, 0o755)
        wf = self.write("tool.yaml", """apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: tool-
spec:
  entrypoint: main
  templates:
  - name: main
    container:
      image: busybox
      command: [hello-from-tmp, hi]
""")
        env = dict(self.env, PATH=tools + ":" + os.environ.get("PATH", "/usr/bin:/bin"))
        name = self.ok("submit", wf, "--wait", "-o", "name", env=env).out.split()[0]
        self.assertEqual(self.ok("logs", name).out,
                         f"{name}: found under tmp: hi\n{name}: read-only\n{name}: private tmp\n")
        self.assertFalse(os.path.exists(tool + ".written"))
        self.assertFalse(os.path.exists("/tmp/" + scratch))


class WaitExitCodes(TetherTest):
    def test_wait_is_zero_only_for_success(self):
        ok = self.write("ok.yaml", """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: ok-}
spec:
  entrypoint: main
  templates:
  - name: main
    container: {image: busybox, command: [sh, -c, "exit 0"]}
""")
        bad = self.write("bad.yaml", """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: bad-}
spec:
  entrypoint: main
  templates:
  - name: main
    container: {image: busybox, command: [sh, -c, "exit 3"]}
""")
        self.assertEqual(self.tether("submit", ok, "--wait").rc, 0)
        r = self.tether("submit", bad, "--wait")
        self.assertEqual(r.rc, 1, r)
        self.assertRegex(r.out, r"bad-\w+ Failed at ")
        name = self.ok("list", "--status", "Failed", "-o", "name").out.strip()
        wf = self.get_json(name)
        self.assertEqual(wf["status"]["nodes"][name]["message"], "main: Error (exit code 3)")
        self.assertEqual(self.tether("wait", name).rc, 1)

    def test_submit_then_watch_from_another_command(self):
        slow = self.write("slow.yaml", """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {name: slow}
spec:
  entrypoint: main
  templates:
  - name: main
    container: {image: busybox, command: [sh, -c, "sleep 1; echo done"]}
""")
        self.ok("submit", slow)
        running = self.ok("list", "--running", "-o", "name").out.split()
        self.assertEqual(running, ["slow"])
        r = self.ok("wait", "slow")
        self.assertRegex(r.out, r"^slow Succeeded at ")
        self.assertEqual(self.ok("list", "--completed", "-o", "name").out.split(), ["slow"])

    def test_two_workflows_at_once(self):
        procs = [subprocess.Popen([self.bin(), "submit", example("dag-artifacts.yaml"), "--wait", "-o", "name"],
                                  env=self.env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
        names = []
        for p in procs:
            out, _ = p.communicate(timeout=120)
            self.assertEqual(p.returncode, 0)
            names.append(out.split()[0])
        self.assertEqual(len(set(names)), 2)
        for n in names:
            logs = self.ok("logs", n).out
            self.assertIn("left: rows of data", logs)
            self.assertIn("right: rows of data", logs)

    def bin(self):
        from harness import BIN
        return BIN


class BadInput(TetherTest):
    def test_submit_of_invalid_file_names_file_line_and_field(self):
        path = os.path.join(self.home, "broken.yaml")
        with open(path, "w") as f:
            f.write("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: x}\nspec:\n  entrypoint: main\n"
                    "  templates:\n  - name: main\n    containr: {image: busybox}\n")
        r = self.tether("submit", path)
        self.assertEqual(r.rc, 1)
        self.assertIn("broken.yaml:8:", r.err)
        self.assertIn("containr", r.err)
        self.assertEqual(self.ok("list").out.strip(), "No workflows found")

    def test_parameter_needs_name_and_value(self):
        r = self.tether("submit", example("hello-world.yaml"), "-p", "novalue")
        self.assertEqual(r.rc, 1)
        self.assertIn("NAME=VALUE", r.err)

    def test_p_fills_an_argument_the_file_leaves_without_value(self):
        # argo applies -p before it validates: the file alone is invalid, with -p it runs.
        path = self.write("needs-p.yaml", """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: needs-p-}
spec:
  entrypoint: main
  arguments:
    parameters:
    - name: message
  templates:
  - name: main
    inputs: {parameters: [{name: message}]}
    container: {image: busybox, command: [echo, "{{inputs.parameters.message}}"]}
""")
        r = self.tether("submit", path)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("needs-p.yaml:9:", r.err)
        self.assertIn("spec.arguments.message.value or spec.arguments.message.valueFrom is required", r.err)
        self.assertEqual(self.ok("list").out.strip(), "No workflows found")

        r = self.ok("submit", path, "-p", "message=supplied", "--wait", "-o", "name")
        name = r.out.split()[0]
        self.assertEqual(self.ok("logs", name).out, f"{name}: supplied\n")
        params = {"message": "from a file"}
        pfile = self.write("params.json", json.dumps(params))
        r = self.ok("submit", path, "--parameter-file", pfile, "--wait", "-o", "name")
        name = r.out.split()[0]
        self.assertEqual(self.ok("logs", name).out, f"{name}: from a file\n")


if __name__ == "__main__":
    unittest.main()
