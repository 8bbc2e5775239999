"""What each outcome says after Microsoft stops accepting the saved sign-in: what happened, then
what to do, once. A failed sync once said "Reconnect to Microsoft. Reconnect to Microsoft in
Import settings." because the error carried advice and the run added its own."""
import json
import re

from sqlalchemy import select

from harness.factory import csrf_token_from
from tests.microsoft_flow import demo, run_quick_jobs
from tests.schedule_helpers import due_moment, run_queued_syncs, run_tick, runs_of, save_schedule
from webapp.extensions import db
from webapp.microsoft import groups
from webapp.microsoft.models import connection_for_organisation
from webapp.notifications import events
from webapp.notifications.messages import compose
from webapp.notifications.models import NotificationEvent
from webapp.troubleshooting.checks import connection_state
from webapp.troubleshooting.remote_checks import tokens_refresh
from webapp.user_sync import models as m

ADVICE = re.compile(r"\breconnect", re.I)


def sentences(text):
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", " ".join(text.split())) if s.strip()]


def advice_twice(message):
    """The sentences of one message that repeat one another or each say to reconnect."""
    said = sentences(message)
    repeated = {s for s in said if said.count(s) > 1}
    reconnecting = [s for s in said if ADVICE.search(s)]
    return sorted(repeated) + (reconnecting if len(reconnecting) > 1 else [])


def test_a_revoked_sign_in_gives_the_reconnect_advice_once_in_every_outcome(app, school,
                                                                             microsoft):
    base = f"/o/{school.org.id}/settings/user-sync"
    save_schedule(school, "1h")
    microsoft.control.revoke_refresh_tokens(demo.ADMIN_UPN)
    microsoft.control.set_faults(fail_on_page=1, fail_status=401, fail_count=5)  # token dies
    run_tick(app, due_moment(school.org))
    run_queued_syncs(app)
    run = runs_of(school.org)[-1]
    assert run.status == m.FAILED and connection_for_organisation(school.org).needs_reconnect
    microsoft.control.clear_faults()

    outcomes = {"the failed sync": run.reason}
    mail = compose(db.session.scalar(select(NotificationEvent).where(
        NotificationEvent.event == events.RECONNECT_NEEDED)), school.org)
    outcomes["the reconnect email"] = " ".join(mail.paragraphs)
    groups.request_snapshot(school.connection)
    run_quick_jobs(app)  # Refresh groups meets the same sign-in
    outcomes["the group list's refresh"] = groups.snapshot_for(school.connection).error
    why = school.client.get(f"{base}/why?q=Siobhan", headers={"HX-Request": "true"}).text
    outcomes["Why isn't this person synced?"] = re.sub(r"<[^>]+>", " ", why)
    connection = connection_for_organisation(school.org)
    for where, found in (("Troubleshooting's connection check", connection_state(connection)),
                         ("Troubleshooting's sign-in check", tokens_refresh(connection,
                                                                            school.org))):
        outcomes[where] = f"{found['message']} {found['fix']}"
    page = school.client.get(f"{base}/import/microsoft/groups").text
    saved = school.client.post(f"{base}/import/microsoft/groups", follow_redirects=True, data={
        "csrf_token": csrf_token_from(page), "sync": demo.NORTHFIELD_STAFF_GROUP_ID,
        "action": "save"}).text
    outcomes["Save groups"] = re.sub(r"<[^>]+>", " ", re.search(  # the refusal by the groups
        r'id="selection-error"[^>]*>(.*?)</', saved, re.S).group(1))

    for where, message in outcomes.items():
        assert message and "no longer accepts the saved sign-in" in message, (where, message)
        assert not advice_twice(message), (where, message)
    assert json.loads(db.session.scalar(select(NotificationEvent.payload)))["reason"] == \
        connection_for_organisation(school.org).status_reason
