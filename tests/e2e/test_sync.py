"""Synchronization across workflows: a workflow-level mutex lets one run at a time in,
a template-level semaphore bounds how many steps run at once, with Argo's waiting messages."""
import json
import os
import time
import unittest

from harness import EXAMPLES, TetherTest

LEDGER_STEP = 'echo "start $0 $(date +%s.%N)" >> /ledger/ledger; sleep {}; echo "end $0 $(date +%s.%N)" >> /ledger/ledger'


def workflow(name, wf_sync=None, tmpl_sync=None, items=("x",), sleep=0.4):
    tmpl = {"name": "work", "inputs": {"parameters": [{"name": "id"}]},
            "container": {"image": "busybox",
                          "command": ["sh", "-c", LEDGER_STEP.format(sleep), "{{inputs.parameters.id}}"],
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
        # The first holds the mutex long enough for a loaded machine's `get` to see the second wait.
        first = self.submit(workflow("first", wf_sync=sync, items=("a", "b"), sleep=3))
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

    def test_database_semaphore_takes_its_limit_from_tether_sync(self):
        r = self.tether("sync", "create", "loaders", "--type", "database", "--limit", "0")
        self.assertEqual(r.rc, 1)
        self.assertIn("limit must be greater than zero", r.err)
        r = self.ok("sync", "create", "loaders", "--type", "database", "--limit", "2")
        self.assertEqual(r.out, "Sync limit created\nKey: loaders\nType: database\nNamespace: default\nLimit: 2\n")
        r = self.tether("sync", "create", "loaders", "--type", "database", "--limit", "3")
        self.assertEqual(r.rc, 1)
        self.assertIn('Database sync limit already exists in namespace "default".', r.err)
        sync = {"semaphores": [{"database": {"key": "loaders"}}]}
        name = self.submit(workflow("db-bounded", tmpl_sync=sync, items=("a", "b", "c", "d", "e")))
        waiting = ""
        deadline = time.monotonic() + 30
        while not waiting and time.monotonic() < deadline:
            wf = self.get_json(name)
            waiting = next((n.get("message", "") for n in wf["status"].get("nodes", {}).values()
                            if n.get("message", "").startswith("Waiting")), "")
            time.sleep(0.02)
        self.assertEqual(waiting, "Waiting for default/Database/loaders lock (sem/default/loaders). Lock status: 2/2")
        self.ok("wait", name)
        self.assertEqual(self.most_at_once(), 2)
        self.ok("sync", "update", "loaders", "--type", "database", "--limit", "1")
        self.assertIn("Limit: 1\n", self.ok("sync", "get", "loaders", "--type", "database").out)
        self.ok("sync", "delete", "loaders", "--type", "database")
        r = self.tether("sync", "get", "loaders", "--type", "database")
        self.assertEqual(r.rc, 1)
        self.assertIn('Database sync limit not found in namespace "default".', r.err)
        # Without a limit the semaphore cannot be set up: the run is an Error, as in Argo.
        name = self.submit(workflow("db-nolimit", wf_sync=sync))
        self.assertEqual(self.tether("wait", name).rc, 1)
        self.assertEqual(self.get_json(name)["status"]["message"],
                         "failed to initialize semaphore default/Database/loaders with limit")

    def test_database_mutex_is_a_mutex_apart_from_the_plain_one(self):
        db = {"mutexes": [{"name": "m", "database": True}]}
        plain = {"mutexes": [{"name": "m"}]}
        a = self.submit(workflow("dba", tmpl_sync=db, items=("1", "2")))
        b = self.submit(workflow("dbb", tmpl_sync=db, items=("1", "2")))
        c = self.submit(workflow("plain", tmpl_sync=plain, items=("1",)))
        self.ok("wait", a, b, c)
        spans = self.intervals()
        db_spans = [v for k, v in spans.items() if k.startswith("db")]
        self.assertEqual(len(db_spans), 4)
        for i, x in enumerate(db_spans):
            for y in db_spans[i + 1:]:
                self.assertTrue(x["end"] <= y["start"] or y["end"] <= x["start"], "two holders of one mutex")

    def test_configmap_sync_limits(self):
        r = self.tether("sync", "create", "workers", "--type", "configmap", "--limit", "2")
        self.assertEqual(r.rc, 1)
        self.assertIn("--cm-name is required when type is configmap", r.err)
        self.ok("sync", "create", "workers", "--type", "configmap", "--cm-name", "limits", "--limit", "2")
        self.assertIn('"workers": "2"', self.ok("configmap", "get", "limits", "-o", "json").out)
        self.ok("sync", "update", "workers", "--type", "ConfigMap", "--cm-name", "limits", "--limit", "3")
        out = self.ok("sync", "get", "workers", "--type", "configmap", "--cm-name", "limits").out
        self.assertEqual(out, "Key: workers\nType: configmap\nConfigMap Name: limits\nNamespace: default\nLimit: 3\n")
        self.ok("sync", "delete", "workers", "--type", "configmap", "--cm-name", "limits")
        r = self.tether("sync", "get", "workers", "--type", "configmap", "--cm-name", "limits")
        self.assertEqual(r.rc, 1)
        self.assertIn("key workers not found in configmap default/limits", r.err)
        r = self.tether("sync", "get", "workers", "--type", "redis")
        self.assertEqual(r.rc, 1)
        self.assertIn("--type must be either 'database' or 'configmap'", r.err)

    def test_example(self):
        self.ok("configmap", "create", "sync-limits", "--from-literal", "loaders=2")
        r = self.ok("submit", os.path.join(EXAMPLES, "synchronization.yaml"), "--wait", "-o", "name")
        self.assertEqual(self.get_json(r.out.split()[0])["status"]["phase"], "Succeeded")


if __name__ == "__main__":
    unittest.main()
