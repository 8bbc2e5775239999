"""Fixtures that run the simulator as a subprocess and drive it like a browser and MSAL do."""
import os
import sys
from pathlib import Path

import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root
sys.path.insert(0, str(Path(__file__).resolve().parent))  # sim_helpers

from harness.simulator import SimulatorProcess  # noqa: E402
from sim_helpers import Browser, sign_in_with_msal  # noqa: E402


@pytest.fixture(scope="session")
def sim(tmp_path_factory):
    with SimulatorProcess(state_dir=tmp_path_factory.mktemp("simulator-state")) as process:
        previous = os.environ.get("REQUESTS_CA_BUNDLE")
        os.environ["REQUESTS_CA_BUNDLE"] = process.ca_path  # what the app does: trust our CA
        yield process
        if previous is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = previous


@pytest.fixture(autouse=True)
def fresh_tenant(request):
    if "sim" in request.fixturenames:
        sim = request.getfixturevalue("sim")
        sim.control.reset()
    yield


@pytest.fixture
def browser(sim):
    return Browser(sim)


@pytest.fixture
def admin_token(sim, browser):
    _, result = sign_in_with_msal(sim, browser)
    assert "access_token" in result, result
    return result["access_token"]


@pytest.fixture
def graph(sim, admin_token):
    session = requests.Session()
    session.verify = sim.ca_path
    session.headers["Authorization"] = f"Bearer {admin_token}"
    session.base = sim.env["MICROSOFT_GRAPH_URL"]
    return session
