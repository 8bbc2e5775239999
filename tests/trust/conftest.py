"""The Schools page's tests: an admin of a school in every Status, signed in (tests/trust/helpers.py)."""
import pytest

from harness.factory import sign_in
from tests.trust.helpers import school_in_every_status


@pytest.fixture
def world(factory, client):
    world = school_in_every_status(factory)
    sign_in(client, world.admin.email)
    world.client = client
    world.url = f"/o/{world.schools['ok'].id}/settings/schools/"
    return world
