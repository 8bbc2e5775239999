"""RQ defaults fit long syncs; error reporting turns on only with SENTRY_DSN."""
import http.server
import subprocess
import sys
import textwrap
import threading
import zlib
from pathlib import Path

import pytest

from jobs.diagnostics import count_people
from webapp.error_reporting import init_error_reporting
from webapp.redis_conn import enqueue, get_queue

pytestmark = pytest.mark.backends("sqlite")
ROOT = Path(__file__).resolve().parents[2]


def test_sync_jobs_get_at_least_an_hour_and_keep_results_and_failures(app):
    job = enqueue("sync", count_people, 1, job_id="sync-org-1", description="Sync org 1")
    assert job.origin == app.config["QUEUE_SYNC"]
    assert job.timeout >= 3600
    assert job.result_ttl == app.config["JOB_RESULT_TTL_SECONDS"] >= 3600
    assert job.failure_ttl == app.config["JOB_FAILURE_TTL_SECONDS"] >= 24 * 3600
    assert (job.id, job.description) == ("sync-org-1", "Sync org 1")


def test_quick_jobs_go_to_their_own_queue_with_a_short_timeout(app):
    job = enqueue("quick", count_people, 1)
    assert job.origin == app.config["QUEUE_QUICK"] != app.config["QUEUE_SYNC"]
    assert job.timeout == app.config["JOB_TIMEOUT_QUICK_SECONDS"] < 3600
    # Callers that use the queue directly still get the configured timeout, not RQ's 180 s.
    assert get_queue("sync").enqueue(count_people, 1).timeout >= 3600


def test_no_error_reporting_without_sentry_dsn(app):
    assert init_error_reporting(app) is False


class EnvelopeCollector(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
        EnvelopeCollector.received.append(body.decode("utf-8", "replace"))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_an_unhandled_error_reaches_sentry_without_credentials(tmp_path):
    server = http.server.HTTPServer(("127.0.0.1", 0), EnvelopeCollector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    dsn = f"http://publickey@127.0.0.1:{server.server_port}/1"
    script = textwrap.dedent(f"""
        import sentry_sdk
        from harness.app_config import make_test_config
        from webapp import create_app
        app = create_app(make_test_config("sqlite:///{tmp_path}/s.sqlite3", "redis://127.0.0.1:1/0",
                                          SENTRY_DSN="{dsn}", TESTING=False))
        @app.route("/boom")
        def boom():
            raise RuntimeError("boom for sentry")
        response = app.test_client().get("/boom", headers={{"Authorization": "Bearer SECRET-TOKEN"}})
        assert response.status_code == 500, response.status_code
        sentry_sdk.flush(timeout=5)
    """)
    try:
        result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                                timeout=60)
    finally:
        server.shutdown()
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    events = "\n".join(EnvelopeCollector.received)
    assert "boom for sentry" in events
    assert "SECRET-TOKEN" not in events
