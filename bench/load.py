"""A page under concurrent load: the app started as in production (gunicorn with the Procfile's
settings), N signed-in clients requesting one URL as fast as they can for S seconds."""
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(app, workers=2, threads=4):
    from harness.app_config import worker_environment
    port = free_port()
    env = worker_environment(app, {"PORT": str(port), "WEB_CONCURRENCY": str(workers),
                                   "GUNICORN_THREADS": str(threads), "LOG_LEVEL": "WARNING"})
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "wsgi:app", "--config",
                                "gunicorn.conf.py"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or still importing
                time.sleep(0.2)
        else:
            raise RuntimeError("gunicorn did not start")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def signed_in(base, email, password="password"):
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = session.post(f"{base}/login", data={"email": email, "password": password,
                                                 "csrf_token": token}, timeout=10)
    answer.raise_for_status()
    return session


def hammer(session, url, deadline, timings, errors):
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            ok = session.get(url, timeout=30).status_code == 200
        except requests.RequestException:
            ok = False
        (timings if ok else errors).append(time.perf_counter() - started)


def under_load(app, email, path, clients=8, seconds=10):
    """Returns median and p95 latency (s), requests per second, and the error count."""
    with gunicorn(app) as base:
        sessions = [signed_in(base, email) for _ in range(clients)]
        url = base + path
        for session in sessions:  # warm every process and connection
            session.get(url, timeout=30)
        timings, errors = [], []
        deadline = time.monotonic() + seconds
        threads = [threading.Thread(target=hammer, args=(s, url, deadline, timings, errors))
                   for s in sessions]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    timings.sort()
    return {"median": statistics.median(timings), "p95": timings[int(0.95 * (len(timings) - 1))],
            "rps": len(timings) / elapsed, "requests": len(timings), "errors": len(errors),
            "clients": clients, "seconds": seconds}
