"""Memoization: a step whose key is in the cache ConfigMap (and young enough) is not run
again; its outputs come from the cache, and `get` shows the hit."""
import json
import os
import unittest

from harness import EXAMPLES, TetherTest


class Memoize(TetherTest):
    def run_example(self, *params):
        args = []
        for p in params:
            args += ["-p", p]
        r = self.ok("submit", os.path.join(EXAMPLES, "memoize.yaml"), "--wait", "-o", "name", *args)
        wf = self.get_json(r.out.split()[0])
        self.assertEqual(wf["status"]["phase"], "Succeeded")
        return wf, self.nodes_by_display(wf)["expensive"]

    def test_second_run_with_the_same_key_takes_the_cached_outputs(self):
        first, step1 = self.run_example()
        self.assertEqual(step1["memoizationStatus"], {"hit": False, "key": "report-2026-12-04", "cacheName": "report-cache"})
        second, step2 = self.run_example()
        self.assertEqual(step2["memoizationStatus"]["hit"], True)
        self.assertEqual(step2["outputs"]["parameters"][0]["value"], step1["outputs"]["parameters"][0]["value"])
        # It did not run: no log of its own.
        logs = self.ok("logs", second["metadata"]["name"]).out
        self.assertNotIn("computing", logs)
        self.assertIn("total is " + step1["outputs"]["parameters"][0]["value"], logs)
        cache = json.loads(self.ok("configmap", "get", "report-cache", "-o", "json").out)
        entry = json.loads(cache["data"]["report-2026-12-04"])
        self.assertEqual(entry["outputs"]["parameters"][0]["value"], step1["outputs"]["parameters"][0]["value"])

    def test_another_key_misses(self):
        self.run_example()
        _, step = self.run_example("day=2026-12-05")
        self.assertEqual(step["memoizationStatus"]["hit"], False)
        self.assertEqual(step["memoizationStatus"]["key"], "report-2026-12-05")

    def test_an_entry_older_than_max_age_misses(self):
        old = {"nodeID": "x", "outputs": {"parameters": [{"name": "total", "value": "stale"}], "exitCode": "0"},
               "creationTimestamp": "2020-01-01T00:00:00Z", "lastHitTimestamp": "2020-01-01T00:00:00Z"}
        path = os.path.join(self.home, "cache.yaml")
        with open(path, "w") as f:
            json.dump({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "report-cache"},
                       "data": {"report-2026-12-04": json.dumps(old)}}, f)
        self.ok("apply", "-f", path)
        _, step = self.run_example()
        self.assertEqual(step["memoizationStatus"]["hit"], False)
        self.assertNotEqual(step["outputs"]["parameters"][0]["value"], "stale")

    def test_an_invalid_key_is_an_error(self):
        r = self.tether("submit", os.path.join(EXAMPLES, "memoize.yaml"), "--wait", "-o", "name", "-p", "day=a b")
        self.assertEqual(r.rc, 1)
        wf = self.get_json(r.out.split()[0])
        step = self.nodes_by_display(wf)["expensive"]
        self.assertEqual(step["phase"], "Error")
        self.assertIn("invalid memoization key", step["message"])


if __name__ == "__main__":
    unittest.main()
