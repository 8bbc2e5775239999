"""The README's first command, `make run` (scripts/run_local.py), on a copy of the project: an
embedded Redis, the Microsoft simulator, migrations, the demo trust, gunicorn and a worker, all
up together and all stopped together. A worker that crashed at start-up once stopped it all."""
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import requests

from scripts.tls_redis import free_port
from tests.faults.helpers import wait_for

ROOT = Path(__file__).resolve().parents[2]
# Settings a developer or this test session may have set; `make run` must not need any of them.
CLEARED = ("REDIS_URL", "DATABASE_URL", "SECRET_KEY", "TOKEN_ENCRYPTION_KEY", "MICROSOFT_CLIENT_ID",
           "MICROSOFT_CLIENT_SECRET", "MICROSOFT_AUTHORITY", "MICROSOFT_GRAPH_URL",
           "REQUESTS_CA_BUNDLE", "ROSTERSYNC_ENV")


def project_copy(tmp_path):
    copy = tmp_path / "rostersync"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(
        ".git", ".venv", "instance", "__pycache__", ".pytest_cache", "docs"))
    return copy


def collect(stream, lines):
    for line in stream:
        lines.append(line)


def healthy(base_url):
    try:
        answer = requests.get(f"{base_url}/healthz", timeout=2)
    except requests.RequestException:
        return False
    return answer.status_code == 200


def test_make_run_starts_everything_signs_in_and_stops_it_all(tmp_path):
    env = {name: value for name, value in os.environ.items() if name not in CLEARED}
    port = free_port()
    env.update(PORT=str(port), SIMULATOR_PORT=str(free_port()), PYTHONUNBUFFERED="1")
    process = subprocess.Popen([sys.executable, "-m", "scripts.run_local"],
                               cwd=project_copy(tmp_path), env=env, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    lines = []
    threading.Thread(target=collect, args=(process.stdout, lines), daemon=True).start()
    base_url = f"http://127.0.0.1:{port}"
    output = lambda: "".join(lines)  # noqa: E731
    try:
        wait_for(lambda: healthy(base_url) or process.poll() is not None, timeout=180,
                 what="make run's web process")
        wait_for(lambda: "Listening on" in output() or process.poll() is not None, timeout=60,
                 what="make run's worker")
        assert process.poll() is None, output()
        assert "Sign in to rostersync as: it-sync@oaklearning.example / demo-password" in output()
        session = requests.Session()
        page = session.get(f"{base_url}/login", timeout=10)
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        signed_in = session.post(f"{base_url}/login", timeout=10, allow_redirects=False, data={
            "email": "it-sync@oaklearning.example", "password": "demo-password",
            "csrf_token": token})
        assert signed_in.status_code == 302, output()
        assert requests.get(f"{base_url}/healthz", timeout=5).json()["checks"] == {
            "database": {"ok": True}, "redis": {"ok": True}}
        assert process.poll() is None, output()  # the worker is still up, so everything is
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # what Ctrl-C does
        try:
            process.wait(timeout=60)
        finally:
            try:
                os.killpg(process.pid, signal.SIGKILL)  # anything left behind
            except ProcessLookupError:
                pass
    assert "Stopped everything `make run` started." in output()
    assert process.returncode == 0, output()  # Ctrl-C is a clean stop; a crash exits 1
