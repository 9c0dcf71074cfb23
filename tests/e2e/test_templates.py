"""Stored (Cluster)WorkflowTemplates through argo's verbs: create, list, get, delete, and a
workflow that runs one with workflowTemplateRef and one template of it with templateRef."""
import json
import os
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


OBJECTS = """
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {colour: blue}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: hunter2}
---
apiVersion: argoproj.io/v1alpha1
kind: CronWorkflow
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  workflowSpec:
    entrypoint: main
    templates:
    - name: main
      container: {image: busybox, command: [echo, hi]}
"""


class DeleteFromFiles(TetherTest):
    """`tether delete -f`, kubectl's counterpart of `apply -f`."""

    def listed(self, *verb):
        """The names a `list` verb prints, below its header."""
        return [line.split()[0] for line in self.ok(*verb, "list").out.splitlines()[1:] if line.strip()]

    def test_delete_what_the_files_define_and_report_the_missing(self):
        d = os.path.join(self.home, "objects")
        self.write("objects/templates.yaml", TEMPLATE.format(kind="WorkflowTemplate", name="greeter") + "---" +
                   TEMPLATE.format(kind="ClusterWorkflowTemplate", name="cluster-greeter"))
        self.write("objects/more.yaml", OBJECTS)
        self.ok("apply", "-f", d)
        run = self.ok("submit", "--from", "workflowtemplate/greeter", "--wait", "-o", "name").out.split()[0]
        self.assertIn("greeter", self.listed("template"))
        self.assertIn("creds", self.listed("secret"))

        r = self.ok("delete", "-f", d)
        self.assertEqual(r.out.splitlines(), [
            'configmap "settings" deleted',
            'secret "creds" deleted',
            'cronworkflow.argoproj.io "nightly" deleted',
            'workflowtemplate.argoproj.io "greeter" deleted',
            'clusterworkflowtemplate.argoproj.io "cluster-greeter" deleted',
        ])
        self.assertNotIn("hunter2", r.out + r.err)
        for verb in ("template", "cluster-template", "secret", "configmap"):
            self.assertEqual(self.listed(verb), [], verb)
        self.assertNotIn("nightly", self.ok("cron", "list").out)
        # Runs are not objects of the files: the run made from the template stays.
        self.assertIn(run, self.ok("list", "-o", "name").out)

        # Only the template file again: the objects of the other file are reported missing,
        # the templates are still deleted, and the exit code is 1.
        self.ok("apply", "-f", os.path.join(d, "templates.yaml"))
        r = self.tether("delete", "-f", os.path.join(d, "more.yaml"), "-f", os.path.join(d, "templates.yaml"))
        self.assertEqual(r.rc, 1, r)
        more = os.path.join(d, "more.yaml")
        self.assertIn(f'Error from server (NotFound): error when deleting "{more}": configmaps "settings" not found',
                      r.err)
        self.assertIn(f'error when deleting "{more}": secrets "creds" not found', r.err)
        self.assertIn(f'error when deleting "{more}": cronworkflows.argoproj.io "nightly" not found', r.err)
        self.assertIn('workflowtemplate.argoproj.io "greeter" deleted', r.out)
        self.assertIn('clusterworkflowtemplate.argoproj.io "cluster-greeter" deleted', r.out)
        self.assertEqual(self.listed("template"), [])

        # `delete NAME` still deletes runs; names and -f do not mix.
        r = self.tether("delete", run, "-f", d)
        self.assertEqual(r.rc, 1)
        self.assertIn("-f deletes the objects of files", r.err)
        self.assertEqual(self.ok("delete", run).out.strip(), f"Workflow '{run}' deleted")

    def test_bad_files_name_file_and_line(self):
        wf = self.write("wf.yaml", "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata: {name: w}\n"
                                   "spec: {entrypoint: main, templates: [{name: main, suspend: {}}]}\n")
        r = self.fails("delete", "-f", wf)
        self.assertIn("wf.yaml:1:1:", r.err)
        self.assertIn("not Workflow (use tether delete NAME)", r.err)
        nameless = self.write("nameless.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\ndata: {a: b}\n")
        r = self.fails("delete", "-f", nameless)
        self.assertIn("nameless.yaml:1:1: ConfigMap: metadata.name is required", r.err)
        r = self.fails("delete", "-f", os.path.join(self.home, "absent.yaml"))
        self.assertIn("absent.yaml", r.err)


if __name__ == "__main__":
    unittest.main()
