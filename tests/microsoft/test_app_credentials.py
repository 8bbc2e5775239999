"""Microsoft refusing the platform's own client secret (invalid_client: AADSTS7000222 expired,
AADSTS7000215 wrong) is the operators' problem: the run says so, the operators get one mail,
automatic syncs pause for every school until a token request succeeds, no school is told to
reconnect; /healthz and `flask --app wsgi microsoft check` show it."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from tests.microsoft_flow import (connect_organisation, demo, return_to_app, run_quick_jobs,
                                  sign_in_at_microsoft, start_connect)
from tests.mail_helpers import bodies
from tests.schedule_helpers import (due_moment, ran_as_queued, run_tick, runs_of, save_schedule,
                                    schedule_of)
from tests.sync_helpers import connected_school, sync_in_process
from webapp.clock import frozen_at, utcnow
from webapp.extensions import db
from webapp.microsoft import app_credentials
from webapp.microsoft import check as check_module
from webapp.microsoft.models import CONNECTED, ConnectAttempt, connection_for_organisation
from webapp.notifications import events
from webapp.notifications.models import NotificationEvent
from webapp.user_sync import models as m

OPERATIONS = "ops@platform.test"


@pytest.fixture
def extra_config(smtp_server):
    return {**smtp_server.config(), "OPERATIONS_EMAIL": [OPERATIONS],
            "MICROSOFT_HOME_TENANT_ID": demo.TENANT_ID}


@pytest.fixture
def school(app, factory, client, microsoft):
    """Connected with access tokens that live 2 minutes, under MSAL's 5-minute margin, so every
    token this app asks for is a request to Microsoft's token endpoint."""
    microsoft.control.set_tenant(token_lifetime=120)
    return connected_school(factory, client, microsoft)


def events_of(event):
    db.session.expire_all()
    return db.session.scalars(select(NotificationEvent).where(NotificationEvent.event == event)).all()


def test_an_expired_secret_pauses_every_school_tells_the_operators_once_and_resumes(
        app, school, microsoft, smtp_server, client):
    save_schedule(school, "1h")
    microsoft.control.set_client(secret_expired=True)
    moment = due_moment(school.org)
    run_tick(app, moment)
    run = ran_as_queued(app, school)
    assert run.status == m.FAILED and run.trigger == m.TRIGGER_AUTOMATIC
    assert run.reason.startswith(app_credentials.REFUSED_MESSAGE)
    assert connection_for_organisation(school.org).status == CONNECTED  # nobody must reconnect
    # On the tick's day: after 23:00 its next hour is tomorrow, and a refusal met on today's
    # date was a second day's news, a second mail (the test failed late in the evening).
    with frozen_at(moment):
        assert sync_in_process(school).reason.startswith(app_credentials.REFUSED_MESSAGE)

    with frozen_at(moment):  # the connect's group snapshot meets the refusal too, that day
        run_quick_jobs(app)
    (recipients, message), = smtp_server.wait_for(1)
    assert recipients == [OPERATIONS] and "app credentials" in message["Subject"]
    assert "AADSTS7000222: the client secret has expired" in bodies(message)[0]
    assert len(events_of(events.APP_CREDENTIALS)) == 1  # the second refusal was the same news
    assert events_of(events.SYNC_FAILED) == [] and events_of(events.RECONNECT_NEEDED) == []
    assert schedule_of(school.org).failures == 0  # the school is not backed off for it

    health = client.get("/healthz").get_json()
    assert health["microsoft_app_credentials"]["code"] == "AADSTS7000222"
    assert health["microsoft_app_credentials"]["automatic_syncs"] == "paused"
    card = client.get(f"/o/{school.org.id}/settings/user-sync/").text
    assert "paused for every school: the platform's Microsoft app credentials were refused" in card

    due = due_moment(school.org)
    output = run_tick(app, utcnow() + timedelta(seconds=30))
    assert "Every school: skipped, paused for every school" in output
    assert len(runs_of(school.org)) == 2  # nothing claimed, nothing queued

    microsoft.control.set_client(secret_expired=False)  # the operators set a new secret
    probe_at = datetime.fromisoformat(app_credentials.refusal()["next_probe_at"])
    output = run_tick(app, max(due, probe_at + timedelta(seconds=1)))
    assert app_credentials.refusal() is None  # the probe's token request succeeded
    assert "Northfield Academy: queued an automatic sync" in output


def test_a_connect_refused_for_the_platforms_secret_says_whose_problem_it_is(app, oak, oak_client,
                                                                             microsoft):
    microsoft.control.set_client(secret_expired=True)
    browser, callback = sign_in_at_microsoft(microsoft, start_connect(oak_client, oak.north))
    page = return_to_app(oak_client, callback)
    assert "Microsoft refused the platform's app credentials" in page.text
    assert "the platform's operators have been told; nothing to do here" in page.text
    assert "app_credentials_refused" == db.session.scalars(select(ConnectAttempt)).all()[-1].outcome
    assert app_credentials.refusal()["code"] == "AADSTS7000222"
    microsoft.control.set_client(secret_expired=False)
    assert connect_organisation(oak_client, oak.north, microsoft).status_code == 302
    assert app_credentials.refusal() is None  # a token request succeeded


def check(app):
    return app.test_cli_runner().invoke(args=["microsoft", "check"])


def test_microsoft_check_passes_and_says_what_to_register(app, microsoft):
    result = check(app)
    assert result.exit_code == 0, result.output
    assert "PASS  Discovery document" in result.output
    assert "PASS  App-only token for https://graph.microsoft.com/.default" in result.output
    assert "Register exactly https://rostersync.example.test/microsoft/callback" in result.output
    assert "GroupMember.Read.All (admin consent required)" in result.output
    assert "User.Read.All (admin consent required)" in result.output
    assert "WARN  Client secret expiry" in result.output  # no date recorded


@pytest.mark.parametrize("fault, words", [
    ("expired", "AADSTS7000222: the client secret has expired"),
    ("wrong", "AADSTS7000215: the client secret is wrong"),
    ("disabled", "AADSTS7000112: the app's enterprise application is disabled in that tenant"),
    ("no tenant", "MICROSOFT_HOME_TENANT_ID is not set")])
def test_microsoft_check_fails_in_plain_words(app, microsoft, fault, words):
    if fault == "expired":
        microsoft.control.set_client(secret_expired=True)
    elif fault == "wrong":
        app.config["MICROSOFT_CLIENT_SECRET"] = "the-secret-id-not-its-value"
    elif fault == "disabled":
        microsoft.control.set_tenant(app_enabled=False)
    else:
        app.config["MICROSOFT_HOME_TENANT_ID"] = ""
    result = check(app)
    assert result.exit_code == 1 and words in result.output
    assert "FAIL  App-only token" in result.output


def test_microsoft_check_and_the_pause_probe_survive_an_outage_of_the_token_endpoint(
        app, microsoft):
    """A 5xx from the token endpoint (MSAL raises MsalServiceError): the check says Microsoft
    could not be reached, and the probe of a paused platform waits for the next one."""
    microsoft.control.set_faults(error_status=503, error_count=1, include_token_endpoint=True)
    result = check(app)
    assert result.exit_code == 1, result.output
    assert "FAIL  App-only token" in result.output and "could not be reached" in result.output
    app.config["MICROSOFT_HOME_TENANT_ID"] = demo.TENANT_ID
    microsoft.control.set_client(secret_expired=True)
    app_credentials.refused({"error": "invalid_client", "error_codes": [7000222]})
    microsoft.control.set_faults(error_status=503, error_count=1, include_token_endpoint=True)
    before = app_credentials.refusal()
    check_module.probe(datetime.fromisoformat(before["next_probe_at"]) + timedelta(seconds=1))
    after = app_credentials.refusal()
    assert after["code"] == "AADSTS7000222" and after["next_probe_at"] > before["next_probe_at"]


def test_microsoft_check_reports_a_discovery_document_it_cannot_read(app, microsoft):
    app.config["MICROSOFT_AUTHORITY"] = microsoft.base_url + "/no-such-tenant.example"
    result = check(app)
    assert result.exit_code == 1 and "FAIL  Discovery document" in result.output


def test_sync_this_person_now_says_the_credentials_were_refused_not_an_unexpected_error(
        school, microsoft):
    from webapp.user_sync.engine.one_person import run_person_sync, start_person_sync
    microsoft.control.set_client(secret_expired=True)
    run = run_person_sync(start_person_sync(school.org, school.admin, demo.ADMIN_UPN).id)
    assert run.status == m.FAILED
    assert run.reason.startswith(app_credentials.REFUSED_MESSAGE), run.reason
    assert run.reason.endswith("Nothing was changed.")
