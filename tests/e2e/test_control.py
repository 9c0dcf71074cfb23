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


class Control(TetherTest):
    def submit(self, name, first_secs):
        path = os.path.join(self.home, name + ".yaml")
        with open(path, "w") as f:
            f.write(WORKFLOW.format(name=name, first_secs=first_secs))
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


if __name__ == "__main__":
    unittest.main()
