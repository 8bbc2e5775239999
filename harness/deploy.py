"""Runs Procfile commands as a platform would: each its own process, its output in one log.

Shared by the deployment walk-through (scripts/walkthrough_deploy.py) and the browser walk's
`production_stack` fixture (tests/browser/production.py): read the Procfile and app.json, build
the environment a platform would give the processes, run `release`, then start the formation.
"""
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from harness.processes import free_port

ROOT = Path(__file__).resolve().parent.parent


def read_procfile():
    processes = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if ":" in line and not line.startswith("#"):
            name, command = line.split(":", 1)
            processes[name.strip()] = command.strip()
    return processes


def read_manifest():
    return json.loads((ROOT / "app.json").read_text())


def environment_from_manifest(manifest, addons, operator):
    """What the platform hands every process: app.json's values and generated secrets, the
    add-ons' URLs and the operator's own settings, and nothing else from this shell."""
    env = {key: value for key, value in os.environ.items()
           if key in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")}
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    for name, spec in manifest["env"].items():
        if spec.get("generator") == "secret":
            env[name] = secrets.token_hex(32)
        elif "value" in spec:
            env[name] = spec["value"]
        elif name in operator:
            env[name] = operator[name]
        elif spec.get("required", True):
            raise SystemExit(f"app.json requires {name} and there is no value for it")
    env.update(addons)
    env.update(operator)  # the operator's values win over app.json's suggestions
    return env


def simulated_operator_settings(sim, support_url="mailto:support@walkthrough.example"):
    """What the operator types into the deploy form when the Microsoft simulator stands in for
    Microsoft and their app registration. The simulator's CA stands in for the public CA that
    real Microsoft certificates chain to."""
    return {"SUPPORT_URL": support_url, "REQUESTS_CA_BUNDLE": sim.ca_path, **sim.env}


def start_formation(processes, env, manifest, procfile, say=lambda message: None):
    """Release, then the web process on a free PORT (as Heroku assigns one) and as many workers
    as app.json's formation asks for; returns (base_url, worker count, /healthz answer)."""
    say(f"Release phase: {procfile['release']}")
    processes.run_once("release", procfile["release"], env)
    port = processes.free_port()
    web_env = dict(env, PORT=str(port), FORWARDED_ALLOW_IPS="127.0.0.1")
    say(f"web x{manifest['formation']['web']['quantity']}: {procfile['web']} (PORT={port})")
    processes.start("web.1", procfile["web"], web_env)
    worker_count = manifest["formation"]["worker"]["quantity"]
    say(f"worker x{worker_count}: {procfile['worker']}")
    for index in range(1, worker_count + 1):
        processes.start(f"worker.{index}", procfile["worker"], env)
    if "clock" in manifest["formation"]:
        say(f"clock x1: {procfile['clock']}")
        processes.start("clock.1", procfile["clock"], env)
    base_url = f"http://127.0.0.1:{port}"
    return base_url, worker_count, wait_for_health(base_url, processes)


class ProcessSet:
    def __init__(self, workdir):
        self.workdir = Path(workdir)
        self.processes = {}
        self.commands = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop_all()

    free_port = staticmethod(free_port)

    def log_path(self, name):
        return self.workdir / f"{name}.log"

    def start(self, name, command, env):
        log = open(self.log_path(name), "ab")
        self.commands[name] = (command, env)
        self.processes[name] = subprocess.Popen(
            ["/bin/sh", "-c", f"exec {command}"], cwd=ROOT, env=env, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True)
        return self.processes[name]

    def restart_all(self, **changes):
        """Like a config change on the platform: every process restarts with the new values."""
        self.stop_all()
        for name, (command, env) in list(self.commands.items()):
            self.start(name, command, dict(env, **changes))

    def output_of(self, command, env):
        result = subprocess.run(["/bin/sh", "-c", command], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=120, check=True)
        return result.stdout.strip()

    def run_once(self, name, command, env, timeout=120):
        with open(self.log_path(name), "wb") as log:
            result = subprocess.run(["/bin/sh", "-c", command], cwd=ROOT, env=env, stdout=log,
                                    stderr=subprocess.STDOUT, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"`{command}` exited {result.returncode}:\n{self.tail(name)}")

    def tail(self, name, lines=20):
        path = self.log_path(name)
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def died(self):
        return [name for name, p in self.processes.items() if p.poll() is not None]

    def check_logs(self, request_id, secrets):
        """Every log is JSON lines; the request and job lines carry ids; no secret anywhere."""
        request_lines, job_lines, per_process = 0, 0, {}
        for name in self.processes:
            text = self.log_path(name).read_text(errors="replace")
            for secret in secrets:
                if secret in text:
                    raise AssertionError(f"a secret appears in the {name} log")
            for line in text.splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    raise AssertionError(f"{name} logged a line that is not JSON: {line}") from None
                if entry.get("msg") == "request":
                    request_lines += 1
                    assert entry.get("request_id"), f"request line without an id: {line}"
                if entry.get("msg") == "job":
                    job_lines += 1
                    per_process[name] = per_process.get(name, 0) + 1
                    assert entry.get("job_id"), f"job line without an id: {line}"
        web_log = self.log_path("web.1").read_text()
        assert request_id and request_id in web_log, "the sign-in request id is not in the web log"
        assert job_lines, "no job line in the worker logs"
        jobs_by_worker = ", ".join(f"{k}: {v}" for k, v in sorted(per_process.items()))
        return (f"{request_lines} request lines and {job_lines} job lines ({jobs_by_worker}), "
                "all JSON with ids; no secret in any log")

    def wait_forever(self):
        try:
            while not self.died():
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass

    def stop_all(self):
        """SIGTERM each process (gunicorn and RQ shut down gracefully), then SIGKILL whatever is
        left of its process group: a worker's work horse or a gunicorn worker never outlives it."""
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
            try:
                os.killpg(process.pid, signal.SIGKILL)  # each started its own session
            except ProcessLookupError:
                pass
            process.wait()


def logs_in(workdir, lines=200):
    """The end of every process's log in workdir (release and one-off runs too), for a failure."""
    paths = sorted(Path(workdir).glob("*.log"))
    if not paths:
        return f"(no process log in {workdir})"
    return "\n".join(f"----- {path.stem}: last {lines} lines of {path} -----\n"
                     + "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
                     for path in paths)


def wait_for_health(base_url, processes, timeout=60):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if processes.died():
            name = processes.died()[0]
            raise RuntimeError(f"{name} stopped during start-up:\n{processes.tail(name)}")
        try:
            last = requests.get(base_url + "/healthz", timeout=5)
            if last.status_code == 200:
                return last.json()
        except requests.RequestException:  # not listening yet, or still booting under load
            pass
        time.sleep(0.2)
    detail = last.text if last is not None else "no answer"
    raise RuntimeError(f"/healthz did not become healthy: {detail}")
