"""No token, secret or password in logs, pages or RQ job data, after a whole day's work:
sign in, connect (real MSAL), group snapshot, sync on a real worker, Troubleshooting, and a
refused refresh token."""
import json
import logging
import time
import zlib

import pytest

from harness.factory import csrf_token_from, sign_in
from harness.processes import output_of
from tests.json_log import captured_json_log
from tests.microsoft_flow import (FAST_WORKER_ENV, connect_organisation, demo, oak_trust,
                                  run_quick_jobs)
from webapp.extensions import db
from webapp.microsoft import tokens
from webapp.microsoft.selection import choose_group
from webapp.microsoft.models import connection_for_organisation
from webapp.microsoft.services import graph_client_for
from webapp.redis_conn import get_redis
from webapp.user_sync import models as m

PASSWORD = "Unique-Staffroom-Kettle-8841"


@pytest.fixture
def app_log():
    """What production writes: every record at DEBUG through the app's JSON formatter."""
    with captured_json_log(logging.DEBUG) as stream:
        yield stream


def token_strings(connection):
    """Every access, refresh and id token the saved MSAL cache holds."""
    cache = json.loads(tokens.decrypt_cache(connection.token_cache_encrypted))
    found = set()
    for kind in ("AccessToken", "RefreshToken", "IdToken"):
        found |= {entry["secret"] for entry in cache.get(kind, {}).values()}
    return found


def redis_dump(app):
    """Every value Redis holds for this test: RQ jobs (decompressed) and our own keys."""
    conn, chunks = get_redis(app), []
    patterns = [f"{app.config['REDIS_KEY_PREFIX']}*", "rq:job:*"]
    for pattern in patterns:
        for key in conn.scan_iter(match=pattern):
            kind = conn.type(key)
            if kind == b"hash":
                for field, value in conn.hgetall(key).items():
                    chunks.append(field + b"=" + _maybe_unzip(value))
            elif kind == b"string":
                chunks.append(_maybe_unzip(conn.get(key)))
            elif kind == b"list":
                chunks.extend(conn.lrange(key, 0, -1))
    return b"\n".join(chunks).decode("utf-8", "replace")


def _maybe_unzip(value):
    try:
        return zlib.decompress(value)
    except zlib.error:
        return value


def pages(client, org, run_id):
    base = f"/o/{org.id}/settings"
    urls = [f"{base}/", f"{base}/user-sync/", f"{base}/user-sync/history",
            f"{base}/user-sync/runs/{run_id}", f"{base}/user-sync/people.csv",
            f"{base}/user-sync/import/microsoft", f"{base}/user-sync/import/microsoft/groups",
            f"{base}/user-sync/troubleshooting/", "/no-such-page", "/healthz"]
    return "\n".join(client.get(url).get_data(as_text=True) for url in urls)


def wait_for(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


@pytest.mark.backends("postgresql")
def test_no_secret_reaches_logs_pages_or_job_data(app, factory, client, microsoft, start_worker,
                                                  caplog, app_log):
    caplog.set_level(logging.DEBUG)
    oak = oak_trust(factory)
    oak.admin.set_password(PASSWORD)
    db.session.commit()
    sign_in(client, oak.admin.email, PASSWORD)
    assert connect_organisation(client, oak.north, microsoft).status_code == 302
    run_quick_jobs(app)
    connection = connection_for_organisation(oak.north)
    choose_group(oak.north, oak.admin, demo.NORTHFIELD_STAFF_GROUP_ID, graph_client_for(connection))
    secrets = token_strings(connection)

    page = client.get(f"/o/{oak.north.id}/settings/user-sync/")
    client.post(f"/o/{oak.north.id}/settings/user-sync/sync",
                data={"csrf_token": csrf_token_from(page.text)})
    worker = start_worker({**FAST_WORKER_ENV, "LOG_LEVEL": "DEBUG"},
                          burst=True)
    assert worker.wait(timeout=120) == 0
    run = db.session.query(m.SyncRun).one()
    assert run.status == m.COMPLETE, run.reason
    db.session.refresh(connection)
    secrets |= token_strings(connection)

    troubleshooting = f"/o/{oak.north.id}/settings/user-sync/troubleshooting/"
    client.post(troubleshooting + "microsoft-checks",
                data={"csrf_token": csrf_token_from(client.get(troubleshooting).text)})
    run_quick_jobs(app)  # forces a token refresh: new tokens to look for
    db.session.refresh(connection)
    secrets |= token_strings(connection)

    microsoft.control.revoke_refresh_tokens(demo.ADMIN_UPN)
    microsoft.control.set_faults(fail_on_page=1, fail_status=401, fail_count=5)
    page = client.get(f"/o/{oak.north.id}/settings/user-sync/")
    client.post(f"/o/{oak.north.id}/settings/user-sync/sync",
                data={"csrf_token": csrf_token_from(page.text)})
    failing = start_worker({**FAST_WORKER_ENV, "LOG_LEVEL": "DEBUG"},
                           burst=True)
    assert failing.wait(timeout=120) == 0
    failed = db.session.query(m.SyncRun).order_by(m.SyncRun.id.desc()).first()
    assert failed.status == m.FAILED and "Reconnect" in failed.reason

    secrets |= {app.config["MICROSOFT_CLIENT_SECRET"], app.config["SECRET_KEY"],
                app.config["TOKEN_ENCRYPTION_KEY"], PASSWORD, demo.PASSWORD}
    assert len(secrets) >= 8 and all(len(s) >= 12 for s in secrets)
    places = {
        "raw log records": caplog.text,
        "app log output": app_log.getvalue(),
        "worker output": output_of(worker) + output_of(failing),
        "Redis (RQ jobs, progress, results)": redis_dump(app),
        "pages": pages(client, oak.north, run.id) + failed.reason,
    }
    assert "sync" in places["worker output"].lower() and '"job_id"' in places["worker output"]
    assert "run_sync_job" in places["Redis (RQ jobs, progress, results)"]
    for place, text in places.items():
        leaked = [s[:6] + "…" for s in secrets if s in text]
        assert not leaked, f"{place} contains secrets: {leaked}"
