"""Changing a running workflow from the CLI: stop, terminate, suspend and resume, with
argo's words and Argo's outcomes. Steps append to a ledger on a volume the run shares, so
the test sees exactly which steps and exit handlers ran."""
import os
import time
import unittest

from harness import TetherTest

WORKFLOW = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: {name}
spec:
  entrypoint: main
  onExit: bye
  volumes:
  - name: ledger
    persistentVolumeClaim: {{claimName: ledger}}
  templates:
  - name: main
    steps:
    - - name: first
        template: note
        arguments: {{parameters: [{{name: id, value: first}}, {{name: secs, value: "{first_secs}"}}]}}
    - - name: second
        template: note
        arguments: {{parameters: [{{name: id, value: second}}]}}
  - name: bye
    steps:
    - - name: handler
        template: note
        arguments: {{parameters: [{{name: id, value: "exit-{{{{workflow.status}}}}"}}]}}
  - name: note
    inputs:
      parameters:
      - name: id
      - name: secs
        value: "0"
    container:
      image: busybox
      command: [sh, -c, 'echo "start $0" >> /ledger/ledger; sleep $1; echo "end $0" >> /ledger/ledger']
      args: ["{{{{inputs.parameters.id}}}}", "{{{{inputs.parameters.secs}}}}"]
      volumeMounts:
      - {{name: ledger, mountPath: /ledger}}
"""


RETRYABLE = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: {name}
spec:
  entrypoint: main
  onExit: bye
  arguments:
    parameters:
    - {{name: fail, value: "yes"}}
  volumes:
  - name: ledger
    persistentVolumeClaim: {{claimName: ledger}}
  templates:
  - name: main
    dag:
      tasks:
      - {{name: a, template: note, arguments: {{parameters: [{{name: id, value: a}}]}}}}
      - {{name: b, template: note, dependencies: [a],
         arguments: {{parameters: [{{name: id, value: b}}, {{name: fail, value: "{{{{workflow.parameters.fail}}}}"}},
                                  {{name: token, value: "{{{{tasks.a.outputs.result}}}}"}}]}}}}
      - {{name: c, template: note, dependencies: [b], arguments: {{parameters: [{{name: id, value: c}}]}}}}
  - name: bye
    container:
      image: busybox
      command: [sh, -c, 'echo "exit {{{{workflow.status}}}}" >> /ledger/ledger']
      volumeMounts:
      - {{name: ledger, mountPath: /ledger}}
  - name: note
    inputs:
      parameters:
      - name: id
      - name: fail
        value: "no"
      - name: token
        value: ""
    # Each run prints a fresh random token: its outputs.result, which b takes as an input.
    container:
      image: busybox
      command: [sh, -c, 'echo "ran $0" >> /ledger/ledger; cat /proc/sys/kernel/random/uuid; [ "$1" != yes ]']
      args: ["{{{{inputs.parameters.id}}}}", "{{{{inputs.parameters.fail}}}}"]
      volumeMounts:
      - {{name: ledger, mountPath: /ledger}}
"""


class Control(TetherTest):
    def submit(self, name, first_secs=0, text=WORKFLOW):
        path = os.path.join(self.home, name + ".yaml")
        with open(path, "w") as f:
            f.write(text.format(name=name, first_secs=first_secs))
        self.ok("submit", path)
        return name

    def ledger(self):
        try:
            with open(os.path.join(self.home, "volumes", "ledger", "ledger")) as f:
                return [line.strip() for line in f if line.strip()]
        except FileNotFoundError:
            return []

    def wait_for_line(self, line, timeout=60):
        deadline = time.monotonic() + timeout
        while line not in self.ledger():
            self.assertLess(time.monotonic(), deadline, f"'{line}' never appeared: {self.ledger()}")
            time.sleep(0.02)

    def finish(self, name):
        self.tether("wait", name, timeout=120)
        return self.get_json(name)

    def test_stop_runs_the_exit_handler_once_and_starts_nothing_else(self):
        name = self.submit("to-stop", 60)
        self.wait_for_line("start first")
        r = self.ok("stop", name)
        self.assertEqual(r.out.strip(), f"workflow {name} stopped")
        wf = self.finish(name)
        self.assertEqual(wf["status"]["phase"], "Failed")
        self.assertEqual(wf["status"]["message"], "Stopped with strategy 'Stop'")
        ledger = self.ledger()
        self.assertEqual(ledger.count("end exit-Failed"), 1, ledger)
        self.assertNotIn("start second", ledger)
        self.assertNotIn("end first", ledger)
        nodes = self.nodes_by_display(wf)
        self.assertEqual(nodes["first"]["phase"], "Failed")
        self.assertNotIn("second", nodes)

    def test_terminate_runs_no_exit_handler(self):
        name = self.submit("to-terminate", 60)
        self.wait_for_line("start first")
        r = self.ok("terminate", name)
        self.assertEqual(r.out.strip(), f"workflow {name} terminated")
        wf = self.finish(name)
        self.assertEqual(wf["status"]["phase"], "Failed")
        self.assertEqual(wf["status"]["message"], "Stopped with strategy 'Terminate'")
        ledger = self.ledger()
        self.assertFalse([line for line in ledger if "exit-" in line], ledger)
        self.assertNotIn("start second", ledger)

    def test_suspend_holds_back_new_steps_until_resume(self):
        name = self.submit("to-suspend", 1)
        self.wait_for_line("start first")
        self.assertEqual(self.ok("suspend", name).out.strip(), f"workflow {name} suspended")
        self.wait_for_line("end first")
        time.sleep(1)  # time enough for the next step to start, were the run not suspended
        self.assertNotIn("start second", self.ledger())
        self.assertIn("Running (Suspended)", self.ok("get", name).out)
        self.assertEqual(self.ok("resume", name).out.strip(), f"workflow {name} resumed")
        wf = self.finish(name)
        self.assertEqual(wf["status"]["phase"], "Succeeded")
        self.assertEqual(self.ledger().count("end second"), 1)

    def test_verbs_on_a_missing_or_finished_workflow_fail(self):
        r = self.tether("stop", "nope")
        self.assertEqual(r.rc, 1)
        self.assertIn('"nope" not found', r.err)
        name = self.submit("done", 0)
        self.finish(name)
        r = self.tether("terminate", name)
        self.assertEqual(r.rc, 1)
        self.assertIn("cannot shutdown a completed workflow", r.err)

    def test_retry_runs_what_failed_and_keeps_what_succeeded(self):
        name = self.submit("flaky", text=RETRYABLE)
        self.assertEqual(self.finish(name)["status"]["phase"], "Failed")
        self.assertEqual(self.ledger(), ["ran a", "ran b", "exit Failed"])
        r = self.tether("retry", name, "-p", "fail=no", "--wait")
        self.assertEqual(r.rc, 0, r)
        wf = self.get_json(name)
        self.assertEqual(wf["status"]["phase"], "Succeeded")
        self.assertEqual(wf["spec"]["arguments"]["parameters"][0]["value"], "no")
        self.assertEqual(self.ledger(), ["ran a", "ran b", "exit Failed", "ran b", "ran c", "exit Succeeded"])
        nodes = self.nodes_by_display(wf)
        self.assertEqual({nodes[t]["phase"] for t in "abc"}, {"Succeeded"})

        r = self.tether("retry", name)
        self.assertEqual(r.rc, 1)
        self.assertIn("workflow must be Failed/Error to retry", r.err)

    def test_retry_restarts_successful_nodes_a_selector_names(self):
        name = self.submit("again", text=RETRYABLE)
        self.finish(name)
        self.ok("retry", name, "-p", "fail=no", "--restart-successful", "--node-field-selector", "displayName=a",
                "--wait")
        self.assertEqual(self.ledger().count("ran a"), 2)
        self.assertEqual(self.get_json(name)["status"]["phase"], "Succeeded")

    def test_resubmit_makes_a_new_run_of_the_same_workflow(self):
        name = self.submit("original", text=RETRYABLE)
        self.finish(name)
        r = self.ok("resubmit", name, "-p", "fail=no", "-o", "name", "--wait")
        new = r.out.split()[0]
        self.assertTrue(new.startswith("original-") and new != name, new)
        wf = self.get_json(new)
        self.assertEqual(wf["status"]["phase"], "Succeeded")
        self.assertEqual(wf["metadata"]["labels"]["workflows.argoproj.io/resubmitted-from-workflow"], name)
        self.assertEqual(self.get_json(name)["status"]["phase"], "Failed")

    def test_resubmit_memoized_reuses_what_succeeded(self):
        name = self.submit("memo", text=RETRYABLE)
        old = self.finish(name)
        self.assertEqual(old["status"]["phase"], "Failed")
        token = self.nodes_by_display(old)["a"]["outputs"]["result"]

        r = self.ok("resubmit", name, "--memoized", "-p", "fail=no", "-o", "name", "--wait")
        new = r.out.split()[0]
        self.assertTrue(new.startswith("memo-") and new != name, new)
        wf = self.get_json(new)
        self.assertEqual(wf["status"]["phase"], "Succeeded")
        self.assertEqual(wf["metadata"]["labels"]["workflows.argoproj.io/resubmitted-from-workflow"], name)
        # a is not run again; b and c are, and b reads a's output from the first run.
        self.assertEqual(self.ledger(), ["ran a", "ran b", "exit Failed", "ran b", "ran c", "exit Succeeded"])
        nodes = self.nodes_by_display(wf)
        self.assertEqual({nodes[t]["phase"] for t in "abc"}, {"Succeeded"})
        self.assertEqual(nodes["a"]["outputs"]["result"], token)
        b_inputs = {p["name"]: p["value"] for p in nodes["b"]["inputs"]["parameters"]}
        self.assertEqual(b_inputs["token"], token)
        for node_id, node in wf["status"]["nodes"].items():
            self.assertTrue(node["name"].startswith(new), node)
            self.assertEqual(node["id"], node_id)
            for ref in node.get("children", []) + [node.get("boundaryID", new)]:
                self.assertIn(ref, wf["status"]["nodes"])
        self.assertEqual(self.get_json(name)["status"]["phase"], "Failed")

        # Argo refuses a run that did not fail, and a plain resubmit runs everything again.
        r = self.tether("resubmit", new, "--memoized")
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(r.err.strip(), "workflow must be Failed/Error to resubmit in memoized mode")
        self.ok("resubmit", name, "-p", "fail=no", "--wait")
        self.assertEqual(self.ledger()[6:], ["ran a", "ran b", "ran c", "exit Succeeded"])

    def test_suspend_template_outputs_come_from_node_set(self):
        text = """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  name: {name}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: approve
        template: approve
    - - name: release
        template: say
        arguments: {{parameters: [{{name: message, value: "{{{{steps.approve.outputs.parameters.message}}}}"}}]}}
  - name: approve
    suspend: {{}}
    outputs:
      parameters:
      - name: message
        valueFrom: {{supplied: {{}}}}
  - name: say
    inputs: {{parameters: [{{name: message}}]}}
    container: {{image: busybox, command: [echo, "{{{{inputs.parameters.message}}}}"]}}
"""
        name = self.submit("approval", text=text)
        deadline = time.monotonic() + 30
        while "approve" not in self.nodes_by_display(self.get_json(name)):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.05)
        r = self.tether("node", "set", name, "--output-parameter", "nope=x", "--node-field-selector", "displayName=approve")
        self.assertEqual(r.rc, 1)
        self.assertIn('not expecting output parameter "nope"', r.err)
        r = self.ok("node", "set", name, "--output-parameter", "message=ship it", "--node-field-selector",
                    "displayName=approve")
        self.assertEqual(r.out.strip(), "workflow values set")
        self.ok("resume", name)
        wf = self.finish(name)
        self.assertEqual(wf["status"]["phase"], "Succeeded")
        self.assertIn("ship it", self.ok("logs", name).out)


if __name__ == "__main__":
    unittest.main()
