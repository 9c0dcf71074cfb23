"""Synchronization across workflows: a workflow-level mutex lets one run at a time in,
a template-level semaphore bounds how many steps run at once, with Argo's waiting messages."""
import json
import os
import time
import unittest

from harness import EXAMPLES, TetherTest

LEDGER_STEP = 'echo "start $0 $(date +%s.%N)" >> /ledger/ledger; sleep 0.4; echo "end $0 $(date +%s.%N)" >> /ledger/ledger'


def workflow(name, wf_sync=None, tmpl_sync=None, items=("x",)):
    tmpl = {"name": "work", "inputs": {"parameters": [{"name": "id"}]},
            "container": {"image": "busybox", "command": ["sh", "-c", LEDGER_STEP, "{{inputs.parameters.id}}"],
                          "volumeMounts": [{"name": "ledger", "mountPath": "/ledger"}]}}
    if tmpl_sync:
        tmpl["synchronization"] = tmpl_sync
    spec = {"entrypoint": "main",
            "volumes": [{"name": "ledger", "persistentVolumeClaim": {"claimName": "ledger"}}],
            "templates": [{"name": "main", "steps": [[{"name": "w", "template": "work", "withItems": list(items),
                                                       "arguments": {"parameters": [
                                                           {"name": "id", "value": name + "-{{item}}"}]}}]]},
                          tmpl]}
    if wf_sync:
        spec["synchronization"] = wf_sync
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": {"name": name}, "spec": spec}


class Sync(TetherTest):
    def submit(self, wf):
        path = os.path.join(self.home, wf["metadata"]["name"] + ".json")
        with open(path, "w") as f:
            json.dump(wf, f)
        return self.ok("submit", path, "-o", "name").out.strip()

    def intervals(self):
        with open(os.path.join(self.home, "volumes", "ledger", "ledger")) as f:
            events = [line.split() for line in f if line.strip()]
        spans = {}
        for what, who, at in events:
            spans.setdefault(who, {})[what] = float(at)
        return spans

    def most_at_once(self):
        points = []
        for s in self.intervals().values():
            points += [(s["start"], 1), (s["end"], -1)]
        now = top = 0
        for _, d in sorted(points):
            now += d
            top = max(top, now)
        return top

    def test_workflow_level_mutex_lets_one_run_in_at_a_time(self):
        sync = {"mutexes": [{"name": "test"}]}
        first = self.submit(workflow("first", wf_sync=sync, items=("a", "b")))
        second = self.submit(workflow("second", wf_sync=sync, items=("a", "b")))
        deadline = time.monotonic() + 30
        while True:
            wf = self.get_json(second)
            if wf["status"].get("message", "").startswith("Waiting"):
                break
            self.assertLess(time.monotonic(), deadline, wf["status"])
            time.sleep(0.05)
        self.assertEqual(wf["status"]["phase"], "Pending")
        self.assertEqual(wf["status"]["message"], "Waiting for default/Mutex/test lock. Lock status: 0/1")
        self.ok("wait", first, second)
        spans = self.intervals()
        first_end = max(spans[f"first-{i}"]["end"] for i in "ab")
        second_start = min(spans[f"second-{i}"]["start"] for i in "ab")
        self.assertLess(first_end, second_start, "the second run started while the first held the mutex")

    def test_template_level_semaphore_bounds_parallel_steps(self):
        self.ok("configmap", "create", "limits", "--from-literal", "workers=2")
        sync = {"semaphores": [{"configMapKeyRef": {"name": "limits", "key": "workers"}}]}
        name = self.submit(workflow("bounded", tmpl_sync=sync, items=("a", "b", "c", "d", "e")))
        self.ok("wait", name)
        self.assertEqual(len(self.intervals()), 5)
        self.assertEqual(self.most_at_once(), 2)

    def test_template_level_mutex_is_shared_across_workflows(self):
        sync = {"mutexes": [{"name": "one-at-a-time"}]}
        a = self.submit(workflow("wa", tmpl_sync=sync, items=("1", "2")))
        b = self.submit(workflow("wb", tmpl_sync=sync, items=("1", "2")))
        self.ok("wait", a, b)
        self.assertEqual(len(self.intervals()), 4)
        self.assertEqual(self.most_at_once(), 1)

    def test_missing_semaphore_config_map_is_an_error(self):
        sync = {"semaphores": [{"configMapKeyRef": {"name": "absent", "key": "k"}}]}
        name = self.submit(workflow("nolimit", wf_sync=sync))
        self.assertEqual(self.tether("wait", name).rc, 1)
        wf = self.get_json(name)
        self.assertEqual(wf["status"]["phase"], "Error")
        self.assertIn('configmap "absent" not found', wf["status"]["message"])

    def test_example(self):
        self.ok("configmap", "create", "sync-limits", "--from-literal", "loaders=2")
        r = self.ok("submit", os.path.join(EXAMPLES, "synchronization.yaml"), "--wait", "-o", "name")
        self.assertEqual(self.get_json(r.out.split()[0])["status"]["phase"], "Succeeded")


if __name__ == "__main__":
    unittest.main()
