"""Stored (Cluster)WorkflowTemplates through argo's verbs: create, list, get, delete, and a
workflow that runs one with workflowTemplateRef and one template of it with templateRef."""
import json
import unittest

from harness import TetherTest

TEMPLATE = """
apiVersion: argoproj.io/v1alpha1
kind: {kind}
metadata:
  name: {name}
spec:
  entrypoint: say
  arguments:
    parameters: [{{name: message, value: hello}}]
  templates:
  - name: say
    inputs:
      parameters: [{{name: message, value: "{{{{workflow.parameters.message}}}}"}}]
    container: {{image: busybox, command: [echo, "{{{{inputs.parameters.message}}}}"]}}
"""


class Templates(TetherTest):
    def test_create_list_get_delete_and_run(self):
        path = self.write("t.yaml", TEMPLATE.format(kind="WorkflowTemplate", name="greeter"))
        r = self.ok("template", "create", path)
        self.assertIn("Name:                greeter", r.out)
        self.assertEqual(self.ok("template", "list").out.split(), ["NAME", "greeter"])
        got = json.loads(self.ok("template", "get", "greeter", "-o", "json").out)
        self.assertEqual(got["kind"], "WorkflowTemplate")

        wf = self.write("wf.yaml", """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: by-ref-}
spec:
  workflowTemplateRef: {name: greeter}
""")
        r = self.ok("submit", wf, "-p", "message=from the ref", "--wait", "-o", "name")
        name = r.out.split()[0]
        self.assertIn("from the ref", self.ok("logs", name).out)
        r = self.ok("submit", "--from", "workflowtemplate/greeter", "--wait", "-o", "name")
        self.assertIn("hello", self.ok("logs", r.out.split()[0]).out)

        self.assertEqual(self.ok("template", "delete", "greeter").out.strip(), "WorkflowTemplate 'greeter' deleted")
        r = self.tether("template", "get", "greeter")
        self.assertEqual(r.rc, 1)
        self.assertIn("not found", r.err)

    def test_cluster_template_and_wrong_kind(self):
        text = TEMPLATE.format(kind="ClusterWorkflowTemplate", name="cluster-greeter")
        path = self.write("c.yaml", text.replace(', value: "{{workflow.parameters.message}}"', ""))
        self.ok("cluster-template", "create", path)
        self.assertIn("cluster-greeter", self.ok("cluster-template", "list").out)
        wf = self.write("wf.yaml", """
apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata: {generateName: by-cluster-ref-}
spec:
  entrypoint: main
  templates:
  - name: main
    steps:
    - - name: greet
        templateRef: {name: cluster-greeter, template: say, clusterScope: true}
        arguments: {parameters: [{name: message, value: cluster hello}]}
""")
        r = self.ok("submit", wf, "--wait", "-o", "name")
        self.assertIn("cluster hello", self.ok("logs", r.out.split()[0]).out)
        r = self.tether("template", "create", path)
        self.assertEqual(r.rc, 1)
        self.assertIn("c.yaml:2:1: expected a WorkflowTemplate, not ClusterWorkflowTemplate", r.err)


if __name__ == "__main__":
    unittest.main()
