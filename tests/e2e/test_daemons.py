"""Daemon steps, sidecars, init containers and containerSet templates with the host executor.

Processes report their own pid into a PersistentVolumeClaim ($TETHER_HOME/volumes/NAME),
so the tests can check by pid that nothing is left running once a scope or a step ended.
"""
import hashlib
import os
import signal
import socket
import subprocess
import time
import unittest

from harness import BIN, EXAMPLES, Tally, TetherTest

TALLY = Tally("daemons")


def tearDownModule():
    TALLY.report()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def final_phase(r):
    """The phase in submit --wait's last line, "NAME PHASE at TIME"."""
    lines = [line for line in r.out.splitlines() if line.strip()]
    return lines[-1].split()[1] if lines and len(lines[-1].split()) > 1 else ""


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is not running; a reused pid would not be ours, but within a test it is.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


PIDS = """
  volumes:
  - name: pids
    persistentVolumeClaim:
      claimName: pids
"""

def head(name, pids=False):
    """A Workflow's first lines, up to its templates; pids: with the "pids" claim as a volume."""
    return (f"apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nmetadata:\n  name: {name}\n"
            f"spec:\n  entrypoint: main\n") + (PIDS if pids else "")


# A main container that ends by itself soon, for the pods whose other containers are tested.
SHORT_MAIN = """
  templates:
  - name: main
    container:
      image: alpine
      command: [sh, -c, "sleep 0.5; echo main done"]
"""

# A steps template: a daemon http.server that records its pid, a client that fetches from it
# at {{steps.server.ip}}, then a step that takes a while (the daemon must still be up).
DAEMON_STEPS = head("NAME", pids=True) + """
  templates:
  - name: main
    steps:
    - - name: server
        template: server
    - - name: client
        template: client
        arguments:
          parameters:
          - name: ip
            value: "{{steps.server.ip}}"
    - - name: later
        template: later
        arguments:
          parameters:
          - name: ip
            value: "{{steps.server.ip}}"
  - name: server
    daemon: true
    container:
      image: python:3.12
      command: [sh, -c, "echo $$ > /pids/server; mkdir -p /srv; echo served > /srv/x; cd /srv; exec python3 -m http.server --bind 127.0.0.1 PORT"]
      volumeMounts: [{name: pids, mountPath: /pids}]
      readinessProbe:
        httpGet: {path: /x, port: PORT}
        periodSeconds: 1
  - name: client
    inputs: {parameters: [{name: ip}]}
    container:
      image: python:3.12
      command: [python3, -c, "import urllib.request; print(urllib.request.urlopen('http://{{inputs.parameters.ip}}:PORT/x').read().decode().strip())"]
  - name: later
    inputs: {parameters: [{name: ip}]}
    container:
      image: python:3.12
      command: [sh, -c, "sleep SLEEP; python3 -c \\"import urllib.request; urllib.request.urlopen('http://{{inputs.parameters.ip}}:PORT/x')\\" && echo still-up"]
"""


class Daemons(TetherTest):
    def pid_file(self, name):
        with open(os.path.join(self.home, "volumes", "pids", name)) as f:
            return int(f.read().strip())

    def submit_text(self, name, text, *extra):
        path = self.write(name + ".yaml", text)
        return self.tether("submit", path, "--wait", *extra, timeout=180)

    def daemon_steps(self, name, sleep="0"):
        return DAEMON_STEPS.replace("NAME", name).replace("PORT", str(free_port())).replace("SLEEP", sleep)

    def test_example_daemon_reachable_by_the_next_step_and_stopped_at_scope_end(self):
        r = self.tether("submit", os.path.join(EXAMPLES, "daemon-step.yaml"), "--wait", "-p",
                        f"port={free_port()}", timeout=180)
        with TALLY.check(self, "examples/daemon-step.yaml succeeds"):
            self.assertEqual(final_phase(r), "Succeeded", r)
        logs = self.ok("logs", "@latest").out
        with TALLY.check(self, "the client fetched from the daemon at {{steps.server.ip}}"):
            self.assertIn("hello from the daemon", logs)
        nodes = self.nodes_by_display(self.get_json("@latest"))
        with TALLY.check(self, "a stopped daemon ends Succeeded, with its podIP, no longer daemoned"):
            self.assertEqual(nodes["server"]["phase"], "Succeeded")
            self.assertEqual(nodes["server"].get("podIP"), "127.0.0.1")
            self.assertNotIn("daemoned", nodes["server"])

    def test_daemon_stays_up_for_later_steps_and_its_process_is_gone_after(self):
        r = self.submit_text("d1", self.daemon_steps("d1", sleep="1"))
        with TALLY.check(self, "steps daemon workflow succeeds"):
            self.assertEqual(final_phase(r), "Succeeded", r)
        logs = self.ok("logs", "d1").out
        with TALLY.check(self, "the first client read the daemon's file"):
            self.assertIn("served", logs)
        with TALLY.check(self, "the daemon was still up two steps later"):
            self.assertIn("still-up", logs)
        with TALLY.check(self, "no daemon process is left once the steps ended (checked by pid)"):
            self.assertFalse(alive(self.pid_file("server")))

    def test_dag_daemon_with_retry_strategy_and_depends_daemoned(self):
        port = free_port()
        text = head("dagd", pids=True) + """
  templates:
  - name: main
    dag:
      tasks:
      - name: server
        template: server
      - name: probe-tcp
        template: tcp
      - name: client
        depends: server.Daemoned && probe-tcp
        template: client
        arguments:
          parameters: [{name: ip, value: "{{tasks.server.ip}}"}]
        withSequence: {count: "3"}
  - name: server
    retryStrategy: {limit: "3"}
    daemon: true
    container:
      image: python:3.12
      command: [sh, -c, "echo $$ > /pids/server; exec python3 -m http.server --bind 127.0.0.1 PORT"]
      volumeMounts: [{name: pids, mountPath: /pids}]
      readinessProbe:
        httpGet: {path: /, port: PORT}
        initialDelaySeconds: 1
        periodSeconds: 1
  - name: tcp
    daemon: true
    container:
      image: python:3.12
      command: [sh, -c, "echo $$ > /pids/tcp; exec python3 -c 'import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((\\"127.0.0.1\\", TCP)); s.listen(); time.sleep(600)'"]
      volumeMounts: [{name: pids, mountPath: /pids}]
      readinessProbe:
        tcpSocket: {port: TCP}
        periodSeconds: 1
  - name: client
    inputs: {parameters: [{name: ip}]}
    container:
      image: python:3.12
      command: [python3, -c, "import urllib.request; urllib.request.urlopen('http://{{inputs.parameters.ip}}:PORT/'); print('ok')"]
""".replace("PORT", str(port)).replace("TCP", str(free_port()))
        r = self.submit_text("dagd", text)
        with TALLY.check(self, "DAG daemons with retryStrategy, httpGet and tcpSocket probes succeed"):
            self.assertEqual(final_phase(r), "Succeeded", r)
        nodes = self.nodes_by_display(self.get_json("dagd"))
        with TALLY.check(self, "the retried daemon's Retry node and attempt end Succeeded"):
            self.assertEqual(nodes["server"]["type"], "Retry")
            self.assertEqual(nodes["server"]["phase"], "Succeeded")
            self.assertEqual(nodes["server(0)"]["phase"], "Succeeded")
        with TALLY.check(self, "three clients reached the daemon"):
            self.assertEqual(self.ok("logs", "dagd").out.count(": ok"), 3)
        with TALLY.check(self, "both daemons are gone once the DAG ended (by pid)"):
            self.assertFalse(alive(self.pid_file("server")))
            self.assertFalse(alive(self.pid_file("tcp")))

    def test_daemon_that_fails_before_it_is_ready_fails_the_run(self):
        text = head("dfail") + """  templates:
  - name: main
    steps:
    - - name: server
        template: server
    - - name: never
        template: never
  - name: server
    daemon: true
    container:
      image: alpine
      command: [sh, -c, "echo broken >&2; exit 3"]
      readinessProbe:
        exec: {command: [sh, -c, "exit 1"]}
        periodSeconds: 1
  - name: never
    container: {image: alpine, command: [echo, never]}
"""
        r = self.submit_text("dfail", text)
        with TALLY.check(self, "a daemon that exits before ready fails the run"):
            self.assertEqual(final_phase(r), "Failed", r)
        nodes = self.nodes_by_display(self.get_json("dfail"))
        with TALLY.check(self, "its node is Failed with the container's exit code"):
            self.assertEqual(nodes["server"]["phase"], "Failed")
            self.assertEqual(nodes["server"]["message"], "main: Error (exit code 3)")
            self.assertNotIn("never", nodes)

    def test_sidecar_shares_network_and_volume_and_is_killed_when_main_ends(self):
        r = self.tether("submit", os.path.join(EXAMPLES, "sidecar.yaml"), "--wait", timeout=120)
        with TALLY.check(self, "examples/sidecar.yaml succeeds"):
            self.assertEqual(final_phase(r), "Succeeded", r)
        logs = self.ok("logs", "@latest").out
        with TALLY.check(self, "main reached the sidecar on localhost and read its file"):
            self.assertIn("sidecar says: pong", logs)
            self.assertIn("sidecar wrote: hi from the sidecar", logs)
        with TALLY.check(self, "the sidecar's log is shown with -c"):
            self.assertIn("listening", self.ok("logs", "@latest", "-c", "cache").out)
        text = head("side", pids=True) + SHORT_MAIN + """    sidecars:
    - name: forever
      image: alpine
      command: [sh, -c, "echo $$ > /pids/sidecar; exec sleep 600"]
      volumeMounts: [{name: pids, mountPath: /pids}]
    - name: stubborn
      image: alpine
      command: [sh, -c, "trap '' TERM; echo $$ > /pids/stubborn; while true; do sleep 0.1; done"]
      volumeMounts: [{name: pids, mountPath: /pids}]
  podSpecPatch: '{"terminationGracePeriodSeconds": 2}'
"""
        started = time.monotonic()
        r = self.submit_text("side", text)
        with TALLY.check(self, "a step with sidecars that never end on their own succeeds"):
            self.assertEqual(final_phase(r), "Succeeded", r)
            self.assertLess(time.monotonic() - started, 60)
        with TALLY.check(self, "the sidecars are gone once main ended, even one ignoring SIGTERM (by pid)"):
            self.assertFalse(alive(self.pid_file("sidecar")))
            self.assertFalse(alive(self.pid_file("stubborn")))

    def test_secret_env_of_sidecars_and_init_containers_stays_off_disk(self):
        password = "pw-sidecar-5c1e9d-never-on-disk"
        self.ok("secret", "create", "db", "--from-literal", "password=" + password)
        text = head("sec") + SHORT_MAIN + """    initContainers:
    - name: init
      image: alpine
      command: [sh, -c, 'echo "init has $(printf %s "$PW" | md5sum | cut -c1-12)"']
      env: [{name: PW, valueFrom: {secretKeyRef: {name: db, key: password}}}]
    sidecars:
    - name: side
      image: alpine
      command: [sh, -c, 'echo "side has $(printf %s "$PW" | md5sum | cut -c1-12)"; exec sleep 600']
      env: [{name: PW, valueFrom: {secretKeyRef: {name: db, key: password}}}]
"""
        # The workflow names the Secret, never its value; the containers print a digest of it.
        digest = hashlib.md5(password.encode()).hexdigest()[:12]
        r = self.submit_text("sec", text)
        with TALLY.check(self, "init containers and sidecars get a Secret through env"):
            self.assertEqual(final_phase(r), "Succeeded", r)
            self.assertIn("init has " + digest, self.ok("logs", "@latest", "-c", "init").out)
            self.assertIn("side has " + digest, self.ok("logs", "@latest", "-c", "side").out)
        with TALLY.check(self, "no file under TETHER_HOME holds the Secret value (pod spec included)"):
            for root, _, files in os.walk(self.home):
                for f in files:
                    path = os.path.join(root, f)
                    if os.path.isfile(path):
                        with open(path, "rb") as fh:
                            self.assertFalse(password.encode() in fh.read(), path + " holds the Secret value")

    def test_init_containers_run_in_order_and_a_failure_fails_the_node(self):
        r = self.tether("submit", os.path.join(EXAMPLES, "init-containers.yaml"), "--wait", timeout=120)
        with TALLY.check(self, "examples/init-containers.yaml succeeds"):
            self.assertEqual(final_phase(r), "Succeeded", r)
        with TALLY.check(self, "main read what the init containers wrote, in order"):
            logs = self.ok("logs", "@latest").out
            self.assertLess(logs.index("config-v1"), logs.index("checked"))
        text = head("initfail", pids=True) + """
  templates:
  - name: main
    initContainers:
    - name: ok
      image: alpine
      command: [sh, -c, "touch /pids/init-ok"]
      mirrorVolumeMounts: true
    - name: bad
      image: alpine
      command: [sh, -c, "echo cannot fetch >&2; exit 3"]
    container:
      image: alpine
      command: [sh, -c, "touch /pids/main-ran"]
      volumeMounts: [{name: pids, mountPath: /pids}]
"""
        r = self.submit_text("initfail", text)
        with TALLY.check(self, "a failing init container fails the run"):
            self.assertEqual(final_phase(r), "Failed", r)
        wf = self.get_json("initfail")
        node = wf["status"]["nodes"]["initfail"]
        with TALLY.check(self, "with Argo's message naming the init container"):
            self.assertEqual(node["phase"], "Failed")
            self.assertEqual(node["message"], "bad: Error (exit code 3)")
        with TALLY.check(self, "the init container before it ran, main never did"):
            self.assertTrue(os.path.exists(os.path.join(self.home, "volumes", "pids", "init-ok")))
            self.assertFalse(os.path.exists(os.path.join(self.home, "volumes", "pids", "main-ran")))
        with TALLY.check(self, "the failed init container's log is kept"):
            self.assertIn("cannot fetch", self.ok("logs", "initfail", "-c", "bad").out)

    def test_container_set_orders_by_dependencies_and_takes_outputs_from_main(self):
        r = self.tether("submit", os.path.join(EXAMPLES, "container-set.yaml"), "--wait", timeout=120)
        with TALLY.check(self, "examples/container-set.yaml succeeds"):
            self.assertEqual(final_phase(r), "Succeeded", r)
        nodes = self.nodes_by_display(self.get_json("@latest"))
        with TALLY.check(self, "outputs.result is main's stdout"):
            self.assertEqual(nodes["build"]["outputs"]["result"], "built")
        with TALLY.check(self, "the next task follows the set's last container, as Argo links it"):
            self.assertIn(nodes["show"]["id"], nodes["main"]["children"])
        order = [p for p in nodes["build"]["outputs"]["parameters"] if p["name"] == "order"][0]["value"].split("\n")
        with TALLY.check(self, "dependencies order the containers: fetch first, main last"):
            self.assertEqual(order[0], "fetch")
            self.assertEqual(order[-1], "package")
            self.assertEqual(sorted(order[1:3]), ["lint", "test"])
        text = head("setfail") + """  templates:
  - name: main
    volumes: [{name: ws, emptyDir: {}}]
    containerSet:
      volumeMounts: [{name: ws, mountPath: /ws}]
      retryStrategy: {retries: "2"}
      containers:
      - name: flaky
        image: alpine
        command: [sh, -c, "echo x >> /ws/tries; test $(wc -l < /ws/tries) -ge 2"]
      - name: broken
        image: alpine
        command: [sh, -c, "exit 4"]
        dependencies: [flaky]
      - name: main
        image: alpine
        command: [sh, -c, "echo must-not-run"]
        dependencies: [broken]
"""
        r = self.submit_text("setfail", text)
        with TALLY.check(self, "a failing container fails the containerSet node"):
            self.assertEqual(final_phase(r), "Failed", r)
        node = self.get_json("setfail")["status"]["nodes"]["setfail"]
        with TALLY.check(self, "with the failing container's name in Argo's message"):
            self.assertEqual(node["message"], "broken: Error (exit code 4)")
        nodes = self.nodes_by_display(self.get_json("setfail"))
        with TALLY.check(self, "each container has Argo's Container node, ending as it did"):
            self.assertEqual({c: nodes[c]["type"] for c in ("flaky", "broken", "main")},
                             {c: "Container" for c in ("flaky", "broken", "main")})
            self.assertEqual(nodes["flaky"]["phase"], "Succeeded")
            self.assertEqual((nodes["broken"]["phase"], nodes["broken"]["message"]),
                             ("Failed", "broken: Error (exit code 4)"))
            self.assertEqual(nodes["main"]["phase"], "Failed")
            self.assertEqual(nodes["setfail"]["children"], [nodes["flaky"]["id"]])
            self.assertEqual(nodes["flaky"]["children"], [nodes["broken"]["id"]])
        with TALLY.check(self, "the set's retryStrategy retried the flaky container; main never ran"):
            self.assertIn("x", self.ok("logs", "setfail", "-c", "flaky").out + "x")
            self.assertNotIn("must-not-run", self.ok("logs", "setfail").out)
            self.assertEqual(self.ok("logs", "setfail", "-c", "broken").rc, 0)

    def test_engine_killed_while_a_daemon_runs_then_restarted(self):
        env = dict(self.env)
        log = open(os.path.join(self.home, "engine-test.log"), "ab")
        engine = subprocess.Popen([BIN, "server", "--no-http"], env=env, stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=log, start_new_session=True)
        try:
            for _ in range(600):
                if os.path.exists(os.path.join(self.home, "engine.sock")):
                    break
                time.sleep(0.05)
            path = self.write("crash.yaml", self.daemon_steps("crash", sleep="4"))
            self.ok("submit", path)
            daemoned = False
            for _ in range(600):
                wf = self.get_json("crash")
                server = self.nodes_by_display(wf).get("server")
                if server and server.get("daemoned"):
                    daemoned = True
                    break
                time.sleep(0.05)
            with TALLY.check(self, "the daemon became daemoned"):
                self.assertTrue(daemoned)
            engine.send_signal(signal.SIGKILL)
            engine.wait()
            with TALLY.check(self, "the daemon outlives a SIGKILLed engine"):
                self.assertTrue(alive(self.pid_file("server")))
            engine = subprocess.Popen([BIN, "server", "--no-http"], env=env, stdin=subprocess.DEVNULL, stdout=log,
                                      stderr=log, start_new_session=True)
            r = self.tether("wait", "crash", timeout=180)
            wf = self.get_json("crash")
            with TALLY.check(self, "the restarted engine re-adopted the daemon and the run succeeded"):
                self.assertEqual(wf["status"]["phase"], "Succeeded", r)
                self.assertIn("still-up", self.ok("logs", "crash").out)
            with TALLY.check(self, "the restarted engine stopped the daemon at its scope's end (by pid)"):
                self.assertFalse(alive(self.pid_file("server")))
                self.assertEqual(self.nodes_by_display(wf)["server"]["phase"], "Succeeded")
        finally:
            if engine.poll() is None:
                engine.send_signal(signal.SIGTERM)
                engine.wait(timeout=60)
            log.close()


if __name__ == "__main__":
    unittest.main()
