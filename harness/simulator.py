"""The Microsoft simulator as a real subprocess, for tests, benchmarks and `make run`."""
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from harness.processes import ManagedProcess
from microsoft_simulator.control import SimulatorControl

PROJECT_ROOT = Path(__file__).resolve().parent.parent
READY_PREFIX = "SIMULATOR READY "


class SimulatorProcess(ManagedProcess):
    """with SimulatorProcess(state_dir=tmp_path) as sim: ... sim.base_url, sim.env, sim.control

    `sim.env` holds the settings it printed (MICROSOFT_AUTHORITY, MICROSOFT_GRAPH_URL, the client
    id and secret, REQUESTS_CA_BUNDLE); port=0 lets the system choose a free port."""

    def __init__(self, state_dir, users=None, latency_ms=0, token_lifetime=None, extra_args=(),
                 startup_timeout=20.0, groups=None, port=0, env=None):
        self.state_dir = Path(state_dir)
        self.users, self.groups, self.port = users, groups, port
        self.latency_ms, self.token_lifetime = latency_ms, token_lifetime
        self.extra_args, self.startup_timeout = list(extra_args), startup_timeout
        self.base_env = env
        self.output, self._lines = [], queue.Queue()
        self.base_url = self.ca_path = self.control = None
        self.env = {}

    def command(self):
        cmd = [sys.executable, "-m", "microsoft_simulator", "--port", str(self.port),
               "--state-dir", str(self.state_dir)]
        for option, value in (("--users", self.users), ("--groups", self.groups),
                              ("--latency-ms", self.latency_ms),
                              ("--token-lifetime", self.token_lifetime)):
            if value:
                cmd += [option, str(value)]
        return cmd + self.extra_args

    def start(self):
        env = dict(self.base_env if self.base_env is not None else os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        self.popen(stdout=subprocess.PIPE, text=True, env=env, cwd=str(PROJECT_ROOT))
        threading.Thread(target=self._drain, daemon=True).start()
        if self.wait_until_ready(self.startup_timeout):
            return self
        self.kill()
        raise RuntimeError("Microsoft simulator did not start:\n" + "".join(self.output))

    def ready(self):
        """Reads what the simulator printed so far; ready once it printed its address."""
        deadline = time.monotonic() + 0.1
        while time.monotonic() < deadline:
            try:
                line = self._lines.get(timeout=0.05)
            except queue.Empty:
                return False
            if line.startswith("export "):
                name, _, value = line[len("export "):].partition("=")
                self.env[name] = value.strip("'\"")
            elif line.startswith(READY_PREFIX):
                self.base_url = line[len(READY_PREFIX):].strip()
                self.ca_path = self.env["REQUESTS_CA_BUNDLE"]
                self.control = SimulatorControl(self.base_url, self.ca_path)
                return True
        return False

    def _drain(self):
        for line in self.process.stdout:
            self.output.append(line)
            self._lines.put(line.rstrip("\n"))
