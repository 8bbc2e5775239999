"""A private redis-server for tests that restart Redis: the shared one on 6379 serves everyone
else's suites and is never restarted. It keeps nothing on disk, so a restart empties it the way
a crashed or replaced Redis without persistence does (queues, jobs, liveness keys all gone)."""
import shutil
import signal
import subprocess
from contextlib import contextmanager

import pytest

from scripts.tls_redis import free_port
from tests.faults.helpers import wait_for
from tests.services import redis_ping


class PrivateRedis:
    def __init__(self, directory):
        self.directory, self.port, self.process = directory, free_port(), None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        wait_for(lambda: redis_ping(self.url), timeout=30, interval=0.05,
                 what=f"redis-server on port {self.port}")

    def stop(self):
        """Killed, not shut down: nothing is saved and every client is cut off."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    @contextmanager
    def paused(self):
        """Stopped with SIGSTOP: connections stay open but nothing answers (a hung Redis)."""
        self.process.send_signal(signal.SIGSTOP)
        try:
            yield
        finally:
            self.process.send_signal(signal.SIGCONT)

    def restart(self):
        self.stop()
        self.start()


@pytest.fixture
def private_redis(tmp_path):
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()
