"""Connecting an organisation to the Microsoft simulator, end to end, for any test.

The app runs in-process (Flask test client); the simulator's sign-in pages are driven over
HTTPS with `requests`, as a browser would, and real MSAL redeems the code inside the app.

    def test_x(client, microsoft, ...):                          # the app talks to the simulator
        response = connect_organisation(client, org, microsoft)  # the callback's response
        assert response.status_code == 302                        # -> the group picker

Fixtures (registered for every test by tests/conftest.py, so there is one simulator process
per session): `simulator` (the process; sets REQUESTS_CA_BUNDLE), `microsoft` (the same, reset
to the demo tenant for this test; a test that uses it gets an app pointed at the simulator),
`oak` and `oak_client` (the demo trust and its signed-in admin).
"""
import os
from types import SimpleNamespace

import pytest

# The connect helpers live in the harness (benchmarks use them too); tests import them from here.
from harness.connect import (  # noqa: F401
    FAST_RETRIES, FAST_WORKER_ENV, approve_for_organisation, connect_organisation,
    import_settings_url, return_to_app, sign_in_at_microsoft, simulator_config, start_connect)
from harness.factory import sign_in
from harness.microsoft_browser import MicrosoftBrowser, Page  # noqa: F401
from harness.simulator import SimulatorProcess
from microsoft_simulator import demo


@pytest.fixture(scope="session")
def simulator(tmp_path_factory):
    with SimulatorProcess(state_dir=tmp_path_factory.mktemp("microsoft-simulator")) as sim:
        previous = os.environ.get("REQUESTS_CA_BUNDLE")
        os.environ["REQUESTS_CA_BUNDLE"] = sim.ca_path  # MSAL and Graph calls trust its CA
        yield sim
        if previous is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = previous


@pytest.fixture
def microsoft(simulator, monkeypatch):
    # Set per test too: another session-wide simulator (tests/simulator) may hold the variable.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", simulator.ca_path)
    simulator.control.reset()
    yield simulator
    simulator.control.clear_faults()


def oak_trust(factory, admin_email=None):
    """The demo trust: Northfield Academy and Southfield Primary, it-sync@ an admin of both."""
    north = factory.organisation("Northfield Academy", "Oak Learning Trust")
    south = factory.organisation("Southfield Primary", "Oak Learning Trust")
    admin = factory.user(admin_email or demo.ADMIN_UPN, [north, south], role="admin",
                         name="IT Sync Admin")
    return SimpleNamespace(north=north, south=south, admin=admin, trust=north.trust)


@pytest.fixture
def oak(factory):
    """The demo trust (see oak_trust)."""
    return oak_trust(factory)


@pytest.fixture
def oak_client(client, oak):
    """A test client signed in as the demo trust's admin."""
    sign_in(client, oak.admin.email)
    return client


def run_queued_jobs(app, kinds=("quick", "sync")):
    """Runs every queued job of those queues in this process with RQ's SimpleWorker (no fork,
    the test's own app context), until the queues are empty; returns the jobs that failed."""
    from rq import SimpleWorker
    from rq.registry import FailedJobRegistry

    from jobs.worker import PromptStop
    from webapp.redis_conn import get_queue, get_redis

    class InProcessWorker(PromptStop, SimpleWorker):
        pass
    queues = [get_queue(kind, app) for kind in kinds]
    worker = InProcessWorker(queues, connection=get_redis(app))
    worker.work(burst=True)
    return [job_id for queue in queues for job_id in FailedJobRegistry(queue=queue).get_job_ids()]


def run_quick_jobs(app):
    """Runs every queued quick job (group snapshots, emails, checks) in this process."""
    return run_queued_jobs(app, ("quick",))
