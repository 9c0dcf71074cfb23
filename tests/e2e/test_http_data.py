"""http and data templates, end to end: requests go to a server this test starts on loopback.

The server records every request it gets, so each check looks at both sides: what the
workflow says (phase, message, outputs.result) and what actually went over the wire.
"""
import glob
import http.server
import os
import threading
import unittest

from harness import EXAMPLES, TetherTest

SECRET = "s3cret-token-9f2c41"


class Recorder(http.server.BaseHTTPRequestHandler):
    """GET /hello, POST /echo (201, the body back), /status/N, /slow (never answers)."""

    def log_message(self, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        self.server.requests.append({"method": self.command, "path": self.path,
                                     "headers": dict(self.headers.items()), "body": body})
        if self.path == "/slow":
            self.server.release.wait(60)
            return
        if self.path == "/hello":
            self.reply(200, "hello from loopback")
        elif self.path == "/echo":
            self.reply(201, body)
        elif self.path.startswith("/status/"):
            code = int(self.path.rsplit("/", 1)[1])
            self.reply(code, f"status {code}")
        else:
            self.reply(404, "no such page")

    def reply(self, code, text):
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = handle_any


class HttpAndData(TetherTest):
    def setUp(self):
        super().setUp()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
        self.server.daemon_threads = True
        self.server.requests = []
        self.server.release = threading.Event()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def tearDown(self):
        self.server.release.set()
        self.server.shutdown()
        self.server.server_close()
        super().tearDown()

    def requests_to(self, path):
        return [r for r in self.server.requests if r["path"] == path]

    def submit(self, path, *args):
        r = self.tether("submit", path, "--wait", "-o", "name", "-p", f"url={self.url}", *args, timeout=120)
        name = r.out.split()[0] if r.out.split() else ""
        self.assertTrue(name, repr(r))
        return r.rc, self.get_json(name)

    def workflow(self, templates):
        """A workflow whose entrypoint runs each template as a parallel step that may fail."""
        steps = "\n".join(f"        - name: {t}\n          template: {t}\n          continueOn: {{failed: true}}"
                          for t in templates)
        return self.write("wf.yaml", f"""apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: http-
spec:
  entrypoint: main
  arguments:
    parameters: [{{name: url, value: unset}}]
  templates:
    - name: main
      steps:
      -
{steps}
""" + "".join(templates.values()))

    def run_template(self, name, text):
        """Runs one template of the given YAML text as the only step; returns its node."""
        _, wf = self.submit(self.workflow({name: text}))
        return self.nodes_by_display(wf)[name]

    def test_example_get_then_post_with_headers_and_body(self):
        rc, wf = self.submit(os.path.join(EXAMPLES, "http-template.yaml"))
        nodes = self.nodes_by_display(wf)
        self.assertEqual(rc, 0, nodes)
        self.assertEqual(wf["status"]["phase"], "Succeeded")
        self.assertEqual(nodes["get"]["type"], "HTTP")
        self.assertEqual(nodes["get"]["outputs"]["result"], "hello from loopback")
        self.assertNotIn("exitCode", nodes["get"]["outputs"])
        self.assertEqual(nodes["post"]["outputs"]["result"], "hello from loopback")
        self.assertEqual(nodes["show"]["type"], "Pod")
        (get,) = self.requests_to("/hello")
        self.assertEqual(get["method"], "GET")
        self.assertEqual(get["headers"].get("X-Request-From"), "tether")
        (post,) = self.requests_to("/echo")
        self.assertEqual(post["method"], "POST")
        self.assertEqual(post["body"], "hello from loopback")
        self.assertEqual(post["headers"].get("Content-Type"), "text/plain")
        logs = self.ok("logs", wf["metadata"]["name"]).out
        self.assertIn("the server answered: hello from loopback", logs)

    def test_success_condition_true_false_and_non_2xx(self):
        path = self.workflow({
            "created": """    - name: created
      http:
        url: "{{workflow.parameters.url}}/status/201"
        successCondition: "response.statusCode == 201"
""",
            "wanted-200": """    - name: wanted-200
      http:
        url: "{{workflow.parameters.url}}/status/201"
        successCondition: "response.statusCode == 200"
""",
            "accepts-404": """    - name: accepts-404
      http:
        url: "{{workflow.parameters.url}}/status/404"
        method: PUT
        successCondition: 'response.body == "status 404" && request.method == "PUT"'
""",
            "missing": """    - name: missing
      http:
        url: "{{workflow.parameters.url}}/status/404"
""",
        })
        _, wf = self.submit(path)
        nodes = self.nodes_by_display(wf)
        self.assertEqual(nodes["created"]["phase"], "Succeeded")
        self.assertEqual(nodes["accepts-404"]["phase"], "Succeeded")
        self.assertEqual(nodes["wanted-200"]["phase"], "Failed")
        self.assertEqual(nodes["wanted-200"]["message"], "successCondition 'response.statusCode == 200' evaluated false")
        self.assertEqual(nodes["wanted-200"]["outputs"]["result"], "status 201")
        self.assertEqual(nodes["missing"]["phase"], "Failed")
        self.assertEqual(nodes["missing"]["message"], "received non-2xx response code: 404")
        self.assertEqual([r["method"] for r in self.requests_to("/status/404")].count("PUT"), 1)

    def test_timeout_against_a_server_that_never_answers(self):
        node = self.run_template("slow", """    - name: slow
      http:
        url: "{{workflow.parameters.url}}/slow"
        timeoutSeconds: 1
""")
        self.assertEqual(node["phase"], "Failed")
        self.assertEqual(node["message"], f'Get "{self.url}/slow": context deadline exceeded')
        self.assertEqual(len(self.requests_to("/slow")), 1)

    def test_refused_connection_fails_the_node(self):
        path = self.write("refused.yaml", """apiVersion: argoproj.io/v1alpha1
kind: Workflow
metadata:
  generateName: refused-
spec:
  entrypoint: call
  arguments:
    parameters: [{name: url, value: unset}]
  templates:
    - name: call
      http:
        url: "http://127.0.0.1:1/"
""")
        rc, wf = self.submit(path)
        self.assertEqual(rc, 1)
        node = self.nodes_by_display(wf)[wf["metadata"]["name"]]
        self.assertEqual(node["phase"], "Failed")
        self.assertEqual(node["message"], 'Get "http://127.0.0.1:1/": dial tcp 127.0.0.1:1: connect: connection refused')

    def test_secret_header_reaches_the_server_and_nowhere_else(self):
        self.ok("secret", "create", "api-token", "--from-literal", f"token={SECRET}")
        path = self.workflow({"authorized": """    - name: authorized
      http:
        url: "{{workflow.parameters.url}}/hello"
        headers:
          - name: Authorization
            valueFrom:
              secretKeyRef: {name: api-token, key: token}
"""})
        rc, wf = self.submit(path)
        self.assertEqual(rc, 0, self.nodes_by_display(wf))
        (req,) = self.requests_to("/hello")
        self.assertEqual(req["headers"].get("Authorization"), SECRET)
        name = wf["metadata"]["name"]
        for args in (["get", name, "-o", "json"], ["get", name, "-o", "yaml"], ["logs", name]):
            self.assertNotIn(SECRET, self.ok(*args).out, args)
        self.stop_engine()
        for f in glob.glob(os.path.join(self.home, "tether.db*")):
            with open(f, "rb") as fh:
                self.assertNotIn(SECRET.encode(), fh.read(), f)

    def test_missing_secret_is_an_error_naming_the_header(self):
        node = self.run_template("no-secret", """    - name: no-secret
      http:
        url: "{{workflow.parameters.url}}/hello"
        headers:
          - name: Authorization
            valueFrom:
              secretKeyRef: {name: nope, key: token}
""")
        self.assertEqual(node["phase"], "Error")
        self.assertIn("http.headers[0] Authorization", node["message"])
        self.assertIn('secret "nope" not found', node["message"])
        self.assertEqual(self.requests_to("/hello"), [])

    def test_data_template_filters_and_maps_an_artifacts_files(self):
        rc, wf = self.submit(os.path.join(EXAMPLES, "data-template.yaml"))
        nodes = self.nodes_by_display(wf)
        self.assertEqual(rc, 0, nodes)
        self.assertEqual(nodes["list-logs"]["type"], "Pod")
        # notes.txt is filtered out; the map strips "/main.log".
        self.assertEqual(nodes["list-logs"]["outputs"]["result"], '["api","db","web"]')
        results = sorted(n["outputs"]["result"] for d, n in nodes.items() if d.startswith("process("))
        self.assertEqual(results, ["api: api started", "db: db started", "web: web started"])

    def test_data_template_without_its_input_artifact_is_a_clear_error(self):
        node = self.run_template("list", """    - name: list
      data:
        source:
          artifactPaths: {name: logs}
        transformation:
          - expression: "data"
""")
        self.assertEqual(node["phase"], "Error")
        self.assertIn("data.source.artifactPaths", node["message"])
        self.assertIn("'logs'", node["message"])

    def test_data_transformation_error_fails_the_node_with_its_message(self):
        node = self.run_template("bad", """    - name: bad
      inputs:
        artifacts: [{name: files, path: /in/a.txt, raw: {data: x}}]
      data:
        source:
          artifactPaths: {name: files}
        transformation:
          - expression: "data[5]"
""")
        self.assertEqual(node["phase"], "Failed")
        self.assertTrue(node["message"].startswith(
            "main: Error (exit code 1): unable to process data template: unable to process data transformation: "
            "error processing data step 0: "), node["message"])


if __name__ == "__main__":
    unittest.main()
