"""Connecting to Microsoft and choosing a group: every app here talks to the simulator."""
import pytest


@pytest.fixture(autouse=True)
def simulator_for_every_test(microsoft):
    """Points each test's app at the simulator (see app_config_overrides in tests/conftest.py)."""
    return microsoft
