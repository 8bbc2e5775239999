"""The user-sync tests' school: Northfield Academy connected to the simulator, Northfield
Staff chosen (see tests/sync_helpers.py for the helpers that go with it)."""
import pytest

from tests.sync_helpers import connected_school


@pytest.fixture
def school(app, factory, client, microsoft):
    return connected_school(factory, client, microsoft)
