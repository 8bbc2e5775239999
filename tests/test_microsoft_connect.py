"""Connect with Microsoft: the whole flow with real MSAL against the simulator over HTTPS."""
import pytest

from tests.factory import sign_in
from tests.microsoft_flow import (app_config_overrides, connect_organisation, demo,  # noqa: F401
                                  microsoft, oak_trust, run_quick_jobs, simulator)
from webapp.microsoft.models import ConnectAttempt, MicrosoftConnection, connection_for_organisation


@pytest.fixture
def oak(factory):
    return oak_trust(factory)


@pytest.fixture
def oak_client(client, oak):
    sign_in(client, oak.admin.email, "password")
    return client


def test_connect_stores_one_connection_for_the_trust_and_opens_the_group_picker(app, db, oak, oak_client, microsoft):
    response = connect_organisation(oak_client, oak.north, microsoft)
    assert response.status_code == 302, response.text
    assert response.headers["Location"].endswith(f"/o/{oak.north.id}/settings/user-sync/import/microsoft/groups")
    connection = connection_for_organisation(oak.north)
    assert connection is not None and connection.trust_id == oak.trust.id
    assert connection_for_organisation(oak.south).id == connection.id
    assert connection.account_email == demo.ADMIN_UPN and connection.tenant_id == demo.TENANT_ID
    assert connection.status == "connected"
    attempt = db.session.query(ConnectAttempt).one()
    assert attempt.outcome == "connected" and attempt.returned_account == demo.ADMIN_UPN
    run_quick_jobs(app)
    page = oak_client.get(response.headers["Location"])
    assert "All 156 groups" in page.text and "Save group" in page.text
    page = oak_client.get(response.headers["Location"] + "?q=northfield+staff")
    assert "Northfield Staff" in page.text
