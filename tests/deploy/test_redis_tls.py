"""Redis over TLS for real: a redis-server that only speaks TLS, with a self-signed CA."""
import json
from types import SimpleNamespace

import pytest

from harness.processes import output_of
from jobs.diagnostics import count_people
from harness.certificates import make_certificates
from harness.redis_servers import TlsRedisServer
from webapp.config import ConfigError
from webapp.redis_conn import check_redis, enqueue, redis_from_config

pytestmark = pytest.mark.backends("postgresql")


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory):
    with TlsRedisServer(tmp_path_factory.mktemp("tls-redis")) as server:
        yield server


def bare_app(config):
    """check_redis needs only .config and .extensions; no database for these checks."""
    return SimpleNamespace(config=config, extensions={})


@pytest.fixture
def extra_config(tls_redis):
    return {"REDIS_URL": tls_redis.url, "REDIS_TLS_CA_CERT": tls_redis.ca_file}


def test_rediss_connects_when_verification_is_explicitly_off(tls_redis):
    conn = redis_from_config({"REDIS_URL": tls_redis.url, "REDIS_TLS_VERIFY": False})
    assert conn.set("tls-check", "1") and conn.get("tls-check") == b"1"


def test_rediss_verifies_against_a_ca_file_or_pem_text(tls_redis):
    with open(tls_redis.ca_file) as pem:
        pem_text = pem.read()
    for ca in (tls_redis.ca_file, pem_text):
        assert redis_from_config({"REDIS_URL": tls_redis.url, "REDIS_TLS_CA_CERT": ca}).ping()


def test_verification_on_without_a_ca_fails_and_says_what_to_set(tls_redis):
    app = bare_app({"REDIS_URL": tls_redis.url, "REDIS_TLS_VERIFY": True})
    with pytest.raises(ConfigError) as failure:
        check_redis(app)
    message = str(failure.value)
    assert "does not verify" in message
    assert "REDIS_TLS_CA_CERT" in message and "REDIS_TLS_VERIFY=false" in message


def test_a_certificate_from_another_ca_is_refused(tls_redis, tmp_path):
    wrong_ca = make_certificates(tmp_path)["ca"]
    app = bare_app({"REDIS_URL": tls_redis.url, "REDIS_TLS_CA_CERT": str(wrong_ca)})
    with pytest.raises(ConfigError, match="does not verify"):
        check_redis(app)


def test_healthz_over_tls_is_ok_and_explains_a_plain_url(app, client, tls_redis):
    assert client.get("/healthz").json["checks"]["redis"] == {"ok": True}
    app.config["REDIS_URL"] = tls_redis.url.replace("rediss://", "redis://")
    app.extensions.pop("rostersync_redis")
    redis_check = client.get("/healthz").json["checks"]["redis"]
    app.config["REDIS_URL"] = tls_redis.url
    app.extensions.pop("rostersync_redis")
    assert redis_check["ok"] is False
    assert "rediss://" in redis_check["hint"]


def test_worker_process_runs_jobs_over_rediss_and_logs_one_line_per_job(
        app, factory, start_worker, tls_redis):
    org = factory.organisation("TLS School")
    factory.user("tls@school.example", [org])
    job = enqueue("quick", count_people, org.id)
    worker = start_worker(burst=True, extra_env={"REDIS_TLS_CA_CERT": tls_redis.ca_file})
    worker.wait(timeout=60)
    output = output_of(worker)
    job.refresh()
    assert job.get_status() == "finished", output
    assert job.return_value() == 1
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    job_lines = [line for line in lines if line["msg"] == "job"]
    assert len(job_lines) == 1, output
    assert job_lines[0]["job_id"] == job.id
    assert job_lines[0]["status"] == "finished"
    assert job_lines[0]["func"] == "jobs.diagnostics.count_people"


def test_worker_refuses_to_start_when_the_certificate_does_not_verify(app, start_worker):
    worker = start_worker(burst=True, extra_env={"REDIS_TLS_CA_CERT": "",
                                                 "REDIS_TLS_VERIFY": "true"})
    assert worker.wait(timeout=60) != 0
    output = output_of(worker)
    assert "REDIS_TLS_CA_CERT" in output and "does not verify" in output
