"""Every background job goes through redis_conn.enqueue, so the JOB_* settings reach all of them."""
import ast
from pathlib import Path

import pytest

from harness.factory import csrf_token_from
from tests.sync_helpers import connected_school
from webapp.redis_conn import get_queue

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = {"JOB_TIMEOUT_QUICK_SECONDS": 123, "JOB_TIMEOUT_SYNC_SECONDS": 4567,
            "JOB_RESULT_TTL_SECONDS": 89, "JOB_FAILURE_TTL_SECONDS": 1011}
pytestmark = pytest.mark.backends("sqlite")


@pytest.fixture
def extra_config():
    return SETTINGS


def post(client, page, path):
    token = csrf_token_from(client.get(page).text)
    return client.post(page + path, data={"csrf_token": token})


def test_every_job_the_product_queues_takes_its_limits_from_the_settings(app, factory, client,
                                                                          microsoft):
    school = connected_school(factory, client, microsoft)  # connecting queues a group snapshot
    base = f"/o/{school.org.id}/settings/user-sync/"
    assert post(client, base + "troubleshooting/", "microsoft-checks").status_code == 303
    assert post(client, base, "sync").status_code == 303
    jobs = {job.func_name: job for kind in ("quick", "sync") for job in get_queue(kind).jobs}
    assert set(jobs) == {"jobs.microsoft.snapshot_groups",
                         "jobs.microsoft.run_troubleshooting_checks", "jobs.sync.run_sync_job"}
    for name, job in jobs.items():
        kind = "sync" if name == "jobs.sync.run_sync_job" else "quick"
        assert job.origin == app.config[f"QUEUE_{kind.upper()}"], name
        assert job.timeout == SETTINGS[f"JOB_TIMEOUT_{kind.upper()}_SECONDS"], name
        assert (job.result_ttl, job.failure_ttl) == (89, 1011), name


def enqueue_calls_outside_redis_conn():
    """Calls of `.enqueue(...)` on anything (a Queue) anywhere but the one enqueue path."""
    found = []
    for path in list((ROOT / "webapp").rglob("*.py")) + list((ROOT / "jobs").rglob("*.py")):
        if path == ROOT / "webapp" / "redis_conn.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("enqueue", "enqueue_call", "enqueue_at", "enqueue_in")):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_no_code_enqueues_on_a_queue_directly():
    assert enqueue_calls_outside_redis_conn() == []
