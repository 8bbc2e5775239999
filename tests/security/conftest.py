"""Every security test runs against an app pointed at the Microsoft simulator, so that routes
which talk to Microsoft behave as they do in production, and with a PUBLIC_URL that has a
domain name, so that the forms adding and using passkeys are on the pages (a passkey's relying
party cannot be an IP address)."""
import pytest


@pytest.fixture(autouse=True)
def simulator_for_every_test(microsoft):
    """The app of every test here is pointed at the simulator (see tests/conftest.py)."""
    return microsoft


@pytest.fixture
def extra_config():
    return {"PUBLIC_URL": "https://rostersync.example.test"}
