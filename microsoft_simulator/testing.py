"""Run the simulator as a real subprocess from tests and benchmarks."""
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from .control import SimulatorControl

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
READY_PREFIX = "SIMULATOR READY "


class SimulatorProcess:
    """with SimulatorProcess(state_dir=tmp_path) as sim: ... sim.base_url, sim.env, sim.control"""

    def __init__(self, state_dir, users=None, latency_ms=0, token_lifetime=None, extra_args=(),
                 startup_timeout=20.0, groups=None):
        self.state_dir = Path(state_dir)
        self.users, self.groups = users, groups
        self.latency_ms, self.token_lifetime = latency_ms, token_lifetime
        self.extra_args, self.startup_timeout = list(extra_args), startup_timeout
        self.process = None
        self.output = []
        self.base_url = self.ca_path = self.control = None
        self.env = {}

    def command(self):
        cmd = [sys.executable, "-m", "microsoft_simulator", "--port", "0", "--state-dir", str(self.state_dir)]
        if self.users:
            cmd += ["--users", str(self.users)]
        if self.groups:
            cmd += ["--groups", str(self.groups)]
        if self.latency_ms:
            cmd += ["--latency-ms", str(self.latency_ms)]
        if self.token_lifetime:
            cmd += ["--token-lifetime", str(self.token_lifetime)]
        return cmd + self.extra_args

    def start(self):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PACKAGE_ROOT), env.get("PYTHONPATH")]))
        env["PYTHONUNBUFFERED"] = "1"
        self.process = subprocess.Popen(self.command(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, env=env, cwd=str(PACKAGE_ROOT))
        lines = queue.Queue()
        threading.Thread(target=self._drain, args=(lines,), daemon=True).start()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.1)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            if line.startswith("export "):
                name, _, value = line[len("export "):].partition("=")
                self.env[name] = value
            elif line.startswith(READY_PREFIX):
                self.base_url = line[len(READY_PREFIX):].strip()
                self.ca_path = self.env["REQUESTS_CA_BUNDLE"]
                self.control = SimulatorControl(self.base_url, self.ca_path)
                return self
        self.kill()
        raise RuntimeError("Microsoft simulator did not start:\n" + "".join(self.output))

    def _drain(self, lines):
        for line in self.process.stdout:
            self.output.append(line)
            lines.put(line.rstrip("\n"))

    @property
    def pid(self):
        return self.process.pid if self.process else None

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False
