"""Fixtures every fault test shares: the simulator with fast retries, and a synced school of
2,500 people with one real leaver waiting in the tenant."""
import pytest

from tests.faults.helpers import school_with_a_leaver


@pytest.fixture
def school(app, factory, client, microsoft):
    return school_with_a_leaver(factory, client, microsoft)
