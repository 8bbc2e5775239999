"""The CLI contract, restarts, and the 50,000-user tenant."""
import signal
import time

import requests

from microsoft_simulator import demo
from microsoft_simulator.generator import build_tenant
from harness.simulator import SimulatorProcess

SYNC_QUERY = ("$select=id,displayName,mail,userPrincipalName,jobTitle,department,accountEnabled,userType"
              "&$top=999&$count=true")


def test_build_50000_user_tenant_in_under_10_seconds():
    started = time.perf_counter()
    directory = build_tenant(50000)
    assert time.perf_counter() - started < 10
    assert len(directory.transitive_users[demo.GENERATED_STAFF_GROUP_ID]) == 50000
    assert len(directory.members[demo.GENERATED_STAFF_GROUP_ID]) < 50  # reached only through nesting
    assert build_tenant(50000).user_ids[-1] == directory.user_ids[-1]  # deterministic


def test_sync_query_over_50000_members_in_51_pages(sim, graph):
    assert sim.control.reset(users=50000)["build_seconds"] < 10
    url = f"{graph.base}/groups/{demo.GENERATED_STAFF_GROUP_ID}/transitiveMembers/microsoft.graph.user?{SYNC_QUERY}"
    ids, pages, slowest = set(), 0, 0.0
    while url:
        started = time.perf_counter()
        body = graph.get(url, headers={"ConsistencyLevel": "eventual"}).json()
        slowest = max(slowest, time.perf_counter() - started)
        assert body["@odata.count"] == 50000
        ids.update(u["id"] for u in body["value"])
        url, pages = body.get("@odata.nextLink"), pages + 1
    assert pages == 51 and len(ids) == 50000
    assert slowest < 1.0
    server_ms = [e["ms"] for e in sim.control.request_log()[-51:]]
    assert max(server_ms) < 250, server_ms


def test_cli_prints_env_writes_env_sh_and_reuses_ca(tmp_path):
    with SimulatorProcess(state_dir=tmp_path) as first:
        assert set(first.env) == {"MICROSOFT_AUTHORITY", "MICROSOFT_GRAPH_URL", "MICROSOFT_CLIENT_ID",
                                  "MICROSOFT_CLIENT_SECRET", "REQUESTS_CA_BUNDLE"}
        assert first.env["MICROSOFT_AUTHORITY"] == f"{first.base_url}/organizations"
        assert first.base_url.startswith("https://localhost:")
        assert first.env["MICROSOFT_CLIENT_ID"] == demo.CLIENT_ID
        env_sh = (tmp_path / "env.sh").read_text()
        assert f"export REQUESTS_CA_BUNDLE={tmp_path.resolve() / 'ca.pem'}" in env_sh
        ip_url = first.base_url.replace("localhost", "127.0.0.1")
        assert requests.get(f"{ip_url}/common/v2.0/.well-known/openid-configuration",
                            verify=first.ca_path).status_code == 200
        ca_before = (tmp_path / "ca.pem").read_bytes()
        first.process.send_signal(signal.SIGTERM)
        assert first.process.wait(timeout=10) == 0
    with SimulatorProcess(state_dir=tmp_path, users=1000, latency_ms=5) as second:
        assert (tmp_path / "ca.pem").read_bytes() == ca_before
        stats = second.control.stats()
        assert stats["users"] == 1000 + 52 and stats["faults"]["latency_ms"] == 5
        second.kill()
        assert second.process.poll() is not None


def test_startup_failure_reports_output(tmp_path):
    process = SimulatorProcess(state_dir=tmp_path, extra_args=["--port", "not-a-port"], startup_timeout=10)
    try:
        process.start()
    except RuntimeError as exc:
        assert "invalid int value" in str(exc)
    else:
        raise AssertionError("expected a startup failure")
