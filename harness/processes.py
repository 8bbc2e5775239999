"""Child processes for tests, benchmarks and scripts: free ports, waiting, a clean stop."""
import socket
import subprocess
import time
from pathlib import Path


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, timeout=30.0, interval=0.05, what="condition"):
    """Polls condition() until it returns something true, which is returned; else TimeoutError."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


def is_listening(port, host="127.0.0.1"):
    try:
        socket.create_connection((host, port), timeout=0.5).close()
        return True
    except OSError:
        return False


def stop_process(process, timeout=10):
    """SIGTERM, then SIGKILL if it has not gone within `timeout` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start_logged(command, log_path, **popen_options):
    """Popen of command with its stdout and stderr written to log_path (output_of reads it).

    Never a pipe that nobody reads while the child runs: once a pipe's 64 KiB are full, the
    child stops at its next log line and waits for ever (a worker logging tracebacks, a
    gunicorn logging every request)."""
    with open(log_path, "wb") as log:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, **popen_options)
    process.log_path = Path(log_path)
    return process


def output_of(process):
    """What a start_logged child has written so far."""
    return process.log_path.read_text("utf-8", "replace")


def kill_process(process):
    """SIGKILL: nothing is saved and every client is cut off, as in a crash."""
    if process is not None and process.poll() is None:
        process.kill()
        process.wait(timeout=10)


class ManagedProcess:
    """A server started as a child process: `with Server(...) as server:` starts it and waits
    until it is ready, and stops it on the way out. Subclasses give command() and ready()."""

    process = None

    def command(self):
        raise NotImplementedError

    def ready(self):
        """True once the server answers; False to keep waiting."""
        raise NotImplementedError

    def popen(self, **kwargs):
        kwargs.setdefault("stdout", subprocess.DEVNULL)
        kwargs.setdefault("stderr", subprocess.STDOUT)
        self.process = subprocess.Popen(self.command(), **kwargs)
        return self.process

    def wait_until_ready(self, timeout=30.0):
        """True when ready() said so in time; False if the process died or time ran out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if self.ready():
                return True
            time.sleep(0.05)
        return False

    @property
    def pid(self):
        return self.process.pid if self.process else None

    def stop(self):
        stop_process(self.process)

    def kill(self):
        kill_process(self.process)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False
