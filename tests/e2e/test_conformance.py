"""Argo's own examples, run with the host executor: each must reach Succeeded.

Argo's e2e suite submits every example without the workflows.argoproj.io/no-test label and
requires Succeeded. We run those that need nothing but sh, coreutils and python3. Every
example left out is listed in SKIPPED with its reason. The folder comes from ../shared and
is absent in a user's clone: then the test skips, saying so.
"""
import json
import os
import unittest

from harness import ARGO_EXAMPLES, ServerTest, TetherTest

# Examples that run here, and the node display names (beyond the root) Argo gives them,
# where the example's shape pins them down.
RUN = {
    "hello-world.yaml": {},
    "steps.yaml": {"nodes": {"hello1": "Succeeded", "hello2a": "Succeeded", "hello2b": "Succeeded"}},
    "dag-diamond.yaml": {"nodes": {"A": "Succeeded", "B": "Succeeded", "C": "Succeeded", "D": "Succeeded"}},
    "dag-diamond-steps.yaml": {},
    "dag-multiroot.yaml": {"nodes": {"A": "Succeeded", "B": "Succeeded", "C": "Succeeded", "D": "Succeeded"}},
    # target "E C": only the chain to the targets runs, as with make.
    "dag-targets.yaml": {"nodes": {"A": "Succeeded", "C": "Succeeded", "E": "Succeeded"}, "absent": ["B", "D"]},
    "dag-enhanced-depends.yaml": {},
    "dag-conditional-parameters.yaml": {},
    "dag-inline-workflow.yaml": {},
    "arguments-parameters.yaml": {},
    "global-parameters.yaml": {},
    "output-parameter.yaml": {},
    "loops.yaml": {},
    "coinflip.yaml": {},
    "coinflip-recursive.yaml": {},
    "conditionals.yaml": {},
    "conditionals-complex.yaml": {},
    "conditional-parameters.yaml": {},
    "artifact-passing.yaml": {"nodes": {"generate-artifact": "Succeeded", "consume-artifact": "Succeeded"}},
    "artifact-passing-subpath.yaml": {},
    "artifact-path-placeholders.yaml": {},
    "input-artifact-raw.yaml": {},
    "exit-code-output-variable.yaml": {},
    "exit-handler-step-level.yaml": {},
    "exit-handler-with-param.yaml": {},
    "expression-destructure-json.yaml": {},
    "expression-destructure-json-complex.yaml": {},
    "expression-reusing-verbose-snippets.yaml": {},
    "global-outputs.yaml": {},
    "label-value-from-workflow.yaml": {},
    "parameter-aggregation.yaml": {},
    "parameter-aggregation-dag.yaml": {},
    "parameter-aggregation-script.yaml": {},
    "scripts-bash.yaml": {},
    "scripts-python.yaml": {},
    "scripts-javascript.yaml": {},
    "status-reference.yaml": {},
    "steps-inline-workflow.yaml": {},
    "title-and-description-with-markdown.yaml": {},
    "withsequence-nested-result.yaml": {},
    "volumes-emptydir.yaml": {},
    "volumes-pvc.yaml": {},
    "pod-metadata.yaml": {},
    "pod-metadata-wf-field.yaml": {},
    "pod-resources.yaml": {},
    "default-pdb-support.yaml": {},
    "dns-config.yaml": {},
    "gc-ttl.yaml": {},
    "archive-location.yaml": {},
    "skipped-output-defaults/consumer-input-default.yaml": {},
    "skipped-output-defaults/expression-fallback.yaml": {},
    "skipped-output-defaults/producer-output-default.yaml": {},
    "dag-custom-metrics.yaml": {},
    "pod-spec-patch.yaml": {},
    "pod-spec-patch-wf-tmpl.yaml": {},
    "pod-spec-yaml-patch.yaml": {},
    "pod-spec-from-previous-step.yaml": {},
    "workflow-template/workflow-archive-logs.yaml": {},
    "init-container.yaml": {},
    # containerSet templates: the containers of one pod, in the order of their dependencies,
    # each with a Container node named after it, as Argo makes them.
    "container-set-template/graph-workflow.yaml": {"nodes": {c: "Succeeded" for c in "abcd"}},
    "container-set-template/outputs-result-workflow.yaml": {
        "nodes": {"a": "Succeeded", "main": "Succeeded", "b": "Succeeded"}},
    "container-set-template/parallel-workflow.yaml": {"nodes": {"a": "Succeeded", "b": "Succeeded"}},
    "container-set-template/sequence-workflow.yaml": {"nodes": {c: "Succeeded" for c in "abc"}},
    "container-set-template/workspace-workflow.yaml": {"nodes": {"a": "Succeeded", "main": "Succeeded"}},
    # The sidecar (sleep 10) is stopped once main (sleep 5) ends.
    "pod-resources-template-override.yaml": {"nodes": {"small": "Succeeded", "large": "Succeeded"}},
    # One of heads/tails is Skipped by its when; the workflow's artifact comes from the other.
    "conditional-artifacts.yaml": {"nodes": {"flip-coin": "Succeeded"}},
    "dag-conditional-artifacts.yaml": {"nodes": {"flip-coin": "Succeeded"}},
    "expression-tag-template-workflow.yaml": {},
    "exit-handler-with-artifacts.yaml": {"nodes": {"step-1": "Succeeded", "step-1.onExit": "Succeeded"}},
    # These read the ConfigMaps and (Cluster)WorkflowTemplates of APPLIED, stored first.
    "arguments-parameters-from-configmap.yaml": {},
    "global-parameters-from-configmap.yaml": {},
    "global-parameters-from-configmap-referenced-as-local-variable.yaml": {},
    "cluster-workflow-template/cluster-wftmpl-dag.yaml": {},
    "cluster-workflow-template/mixed-cluster-namespaced-wftmpl-steps.yaml": {},
    "cluster-workflow-template/workflow-template-ref-with-entrypoint-arg-passing.yaml": {},
    "cluster-workflow-template/workflow-template-ref.yaml": {},
    "workflow-template/dag.yaml": {},
    "workflow-template/hello-world.yaml": {},
    "workflow-template/steps.yaml": {},
    "workflow-template/workflow-template-ref-with-entrypoint-arg-passing.yaml": {},
    "workflow-template/workflow-template-ref.yaml": {},
    # Steps that fail at random (2 times in 3) until a retry succeeds (retryStrategy limit 10):
    # all 11 attempts fail about once in 90 runs, so a run that ran out of retries is submitted
    # again, up to 3 times.
    "retry-container.yaml": {"random": True},
    "retry-script.yaml": {"random": True},
    "memoize-simple.yaml": {},
    "synchronization-mutex-wf-level.yaml": {},
}

# What a cluster would hold for the examples: applied before any example runs.
APPLIED = ["configmaps", "workflow-template/templates.yaml", "cluster-workflow-template/clustertemplates.yaml"]

# Every example without the no-test label that is not run, and why.
SKIPPED = {
    "artifact-gc-workflow.yaml": "needs an S3 artifact repository",
    "key-only-artifact.yaml": "needs an S3 artifact repository",
    "map-reduce.yaml": "needs an S3 artifact repository",
    "artifact-repository-ref.yaml": "needs the artifact-repositories ConfigMap of a cluster",
    "artifact-passing-explicit-plugin.yaml": "needs an artifact plugin",
    "daemon-nginx.yaml": "its daemon is nginx and its client curl; this host has neither (test_daemons runs examples/daemon-step.yaml)",
    "daemon-step.yaml": "its daemon is influxdb and its clients curl; this host has neither (test_daemons runs examples/daemon-step.yaml)",
    "sidecar.yaml": "its sidecar is influxdb; this host has none (test_daemons runs examples/sidecar.yaml)",
    "sidecar-nginx.yaml": "its sidecar is nginx and its main curl; this host has neither (test_daemons runs examples/sidecar.yaml)",
    "http-hello-world.yaml": "calls a public URL; this machine has no network (test_http_data runs examples/http-template.yaml against a loopback server)",
    "life-cycle-hooks-tmpl-level.yaml": "its hook is an http template calling a public URL; this machine has no network",
    "life-cycle-hooks-wf-level.yaml": "its hook is an http template calling a public URL; this machine has no network",
    "k8s-owner-reference.yaml": "resource templates need a Kubernetes API server",
    "k8s-patch-json-pod.yaml": "resource templates need a Kubernetes API server",
    "k8s-patch-merge-pod.yaml": "resource templates need a Kubernetes API server",
    "k8s-patch-pod.yaml": "resource templates need a Kubernetes API server",
    "variables-showcase.yaml": "its daemon runs 'nc -lk -p 9999 -e /bin/true' (busybox's nc); this host has no nc command",
    "volumes-existing.yaml": "needs a pre-existing PersistentVolumeClaim",
}


def no_test_label(path):
    import yaml
    with open(path) as f:
        for doc in yaml.safe_load_all(f):
            if doc and doc.get("kind") == "Workflow":
                labels = (doc.get("metadata") or {}).get("labels") or {}
                return "workflows.argoproj.io/no-test" in labels
    return True


@unittest.skipUnless(os.path.isdir(ARGO_EXAMPLES), f"Argo's examples are not at {ARGO_EXAMPLES}")
class ArgoExamples(TetherTest):
    def test_every_candidate_is_listed(self):
        """A new example is either run or left out with a reason: never silently ignored."""
        for root, _, files in os.walk(ARGO_EXAMPLES):
            for f in files:
                if not f.endswith((".yaml", ".yml")):
                    continue
                rel = os.path.relpath(os.path.join(root, f), ARGO_EXAMPLES)
                with open(os.path.join(root, f)) as fh:
                    if "kind: Workflow\n" not in fh.read():
                        continue
                if no_test_label(os.path.join(root, f)):
                    continue
                self.assertTrue(rel in RUN or rel in SKIPPED, f"{rel} is neither run nor skipped with a reason")

    def test_examples_succeed(self):
        for rel in APPLIED:
            self.ok("apply", "-f", os.path.join(ARGO_EXAMPLES, rel))
        failures = []
        for rel, expect in sorted(RUN.items()):
            with self.subTest(example=rel):
                path = os.path.join(ARGO_EXAMPLES, rel)
                for _ in range(3 if expect.get("random") else 1):
                    r = self.tether("submit", path, "--wait", "-o", "name", timeout=180)
                    name = r.out.split()[0] if r.out.split() else ""
                    if r.rc == 0 or not name or self.get_json(name)["status"].get("message") != "No more retries left":
                        break
                if r.rc != 0 or not name:
                    detail = self.tether("get", name).out if name else r.err
                    failures.append(f"{rel}: rc={r.rc}\n{detail}")
                    continue
                wf = self.get_json(name)
                self.assertEqual(wf["status"]["phase"], "Succeeded", rel)
                nodes = self.nodes_by_display(wf)
                for display, phase in expect.get("nodes", {}).items():
                    self.assertIn(display, nodes, f"{rel}: no node {display}")
                    self.assertEqual(nodes[display]["phase"], phase, f"{rel}: node {display}")
                for display in expect.get("absent", []):
                    self.assertNotIn(display, nodes, f"{rel}: node {display} should not exist")
        self.assertEqual(failures, [], "\n\n".join(failures))


# The CronWorkflow examples: each is linted and stored as `argo cron create` would; those
# whose steps run here are scheduled by a foreground server whose clock starts just before
# T (a minute boundary), so their runs are named from T.
T = 1800000000
CRON_STORED = {
    "cron-workflow.yaml": "hello-world",
    "cron-when.yaml": "sleep-when",
    "cron-workflow-multiple-schedules.yaml": "hello-world-multiple-schedules",
    "dag-inline-cronworkflow.yaml": "dag-inline",
}
CRON_LINTED = ["cron-backfill.yaml"]  # also holds Workflows, which `cron create` refuses
CRON_SCHEDULED = ["cron-workflow.yaml", "cron-when.yaml"]  # the others run cowsay or are daily


@unittest.skipUnless(os.path.isdir(ARGO_EXAMPLES), f"Argo's examples are not at {ARGO_EXAMPLES}")
class ArgoCronExamples(ServerTest):
    def runs(self, cron):
        r = self.ok("list", "-o", "name", "-l", f"workflows.argoproj.io/cron-workflow={cron}")
        return sorted(r.out.split()) if "No workflows" not in r.out else []

    def test_every_cron_example_is_listed(self):
        for f in os.listdir(ARGO_EXAMPLES):
            if not f.endswith(".yaml"):
                continue
            with open(os.path.join(ARGO_EXAMPLES, f)) as fh:
                if "kind: CronWorkflow\n" in fh.read():
                    self.assertTrue(f in CRON_STORED or f in CRON_LINTED, f"{f} is not checked")

    def test_cron_examples_lint_store_and_run(self):
        self.ok("apply", "-f", os.path.join(ARGO_EXAMPLES, "dag-inline-workflowtemplate.yaml"))
        for rel in list(CRON_STORED) + CRON_LINTED:
            self.ok("lint", os.path.join(ARGO_EXAMPLES, rel))
        self.stop_engine()  # the one `apply` started in the background: the server takes over
        self.start_server(clock_start=T - 2)
        for rel in CRON_SCHEDULED:
            self.ok("cron", "create", os.path.join(ARGO_EXAMPLES, rel))
        hello, when = f"hello-world-{T}", f"sleep-when-{T}"
        self.wait_for("the first runs", lambda: hello in self.runs("hello-world") and when in self.runs("sleep-when"))
        for rel in CRON_STORED:
            if rel not in CRON_SCHEDULED:
                self.ok("cron", "create", os.path.join(ARGO_EXAMPLES, rel))
        listed = self.ok("cron", "list", "-o", "name").out.split()
        self.assertEqual(sorted(listed), sorted(CRON_STORED.values()))
        self.ok("wait", hello, when)
        self.assertIn("hello world. Scheduled on: 2027-01-15", self.ok("logs", hello).out)

        # cron-when's `when` lets one run through per 6 minutes: the next minute is skipped.
        self.ok("cron", "suspend", "hello-world")
        self.stop_server()
        self.start_server(clock_start=T + 58)
        self.wait_log("cron sleep-when: when expression evaluated to false, skipping execution")
        self.assertEqual(self.runs("sleep-when"), [when])


if __name__ == "__main__":
    unittest.main()
