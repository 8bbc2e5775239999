"""Between tests Redis is emptied of this run's keys and jobs, on both Redis versions the README
allows (the machine's 7 and the embedded 6.2). Finished jobs once piled up for the whole
session, and every later scan of Redis (the secrecy tests read all of it) slowed down with them.
"""
import pytest
from rq import Queue

from harness.app_config import REDIS_NAMES, clear_redis
from tests.microsoft_flow import run_quick_jobs
from webapp.redis_conn import enqueue, get_redis

pytestmark = pytest.mark.backends("sqlite")
OTHER_RUN = {"REDIS_KEY_PREFIX": "someone-else:", "QUEUE_QUICK": "someone-else-quick",
             "QUEUE_SYNC": "someone-else-sync"}


@pytest.fixture(params=["machine", "embedded"])
def extra_config(request, redis_url, embedded_redis):
    return {"REDIS_URL": {"machine": redis_url, "embedded": embedded_redis}[request.param]}


def job_keys(conn, job):
    return [key for key in (f"rq:job:{job.id}", f"rq:results:{job.id}") if conn.exists(key)]


def test_finished_jobs_and_our_keys_go_and_another_runs_stay(app):
    conn = get_redis(app)
    finished = enqueue("quick", "builtins.len", "abc")
    queued = enqueue("sync", "builtins.len", "abcd")
    assert run_quick_jobs(app) == []
    conn.set(f"{REDIS_NAMES['REDIS_KEY_PREFIX']}lockout", 1)
    theirs = Queue(OTHER_RUN["QUEUE_QUICK"], connection=conn).enqueue("builtins.len", "xyz")
    assert job_keys(conn, finished) and job_keys(conn, queued)

    clear_redis(conn, app.config)

    assert job_keys(conn, finished) == [] and job_keys(conn, queued) == []
    assert not conn.exists(f"{REDIS_NAMES['REDIS_KEY_PREFIX']}lockout")
    assert job_keys(conn, theirs)
    clear_redis(conn, OTHER_RUN)
    assert job_keys(conn, theirs) == []
