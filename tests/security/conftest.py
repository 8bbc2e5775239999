"""Every security test runs against an app pointed at the Microsoft simulator, so that routes
which talk to Microsoft behave as they do in production."""
import pytest


@pytest.fixture(autouse=True)
def simulator_for_every_test(microsoft):
    """The app of every test here is pointed at the simulator (see tests/conftest.py)."""
    return microsoft
