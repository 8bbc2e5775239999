"""An admin of a school in every Status, for the Schools page's tests.

The schools' state is written as rows (connections, chosen groups, schedules, runs, people):
the page only reads them, and the runs' own life is tested in tests/sync. Names say the status.
"""
import re
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from harness.factory import csrf_token_from
from webapp.extensions import db
from webapp.microsoft.models import RECONNECT_NEEDED, MicrosoftConnection
from webapp.microsoft.selection import GroupChoice
from webapp.schedule.models import SyncSchedule
from webapp.user_sync import models as m

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=timezone.utc)  # a Monday
STATUS_SCHOOLS = {
    "not_connected": "Ashby Free School", "reconnect": "Birch Primary",
    "no_group": "Cedar Academy", "needs_review": "Damson Primary", "failing": "Elm High",
    "stale": "Fir Infants", "never_synced": "Gorse Junior", "ok": "Hazel College",
}


def connection(trust=None, organisation=None, status="connected", email="sync@trust.example"):
    row = MicrosoftConnection(trust_id=trust.id if trust else None,
                              organisation_id=organisation.id if organisation else None,
                              account_email=email, account_object_id="object-1",
                              tenant_id="tenant-1", home_account_id="object-1.tenant-1",
                              status=status, status_reason="Access revoked by Microsoft."
                              if status == RECONNECT_NEEDED else None)
    db.session.add(row)
    return row


def choose(organisation, name="Staff"):
    db.session.add(GroupChoice(organisation_id=organisation.id, group_id=f"group-{organisation.id}",
                               display_name=name, kind="security"))


def run(organisation, status, finished, **counts):
    row = m.SyncRun(organisation_id=organisation.id, status=status, kind=m.KIND_SYNC,
                    group_name="Staff", created_at=finished - timedelta(minutes=1),
                    started_at=finished - timedelta(minutes=1), finished_at=finished,
                    active_slot=organisation.id if status in m.ACTIVE_STATES else None,
                    reason="Microsoft said the group does not exist." if status == m.FAILED else None,
                    **counts)
    db.session.add(row)
    return row


def schedule(organisation, enabled_at, frequency="daily"):
    db.session.add(SyncSchedule(organisation_id=organisation.id, frequency=frequency,
                                minute_of_day=120, enabled_at=enabled_at,
                                next_due_at=NOW + timedelta(hours=17), failures=0))


def person(organisation, number, status="active"):
    db.session.add(m.SyncedPerson(
        organisation_id=organisation.id, microsoft_id=f"person-{organisation.id}-{number}",
        email=f"p{number}@{organisation.id}.example", email_normalised=f"p{number}@{organisation.id}.example",
        display_name=f"Person {number}", sort_name=f"person {number}", status=status))


def school_in_every_status(factory, admin_email="trust.admin@trust.example"):
    """Eight schools, one per status, one admin of them all; plus a school of the same trust
    they are not an admin of (it must never appear)."""
    schools = {status: factory.organisation(name, None if status == "not_connected" else (
        "Birch Trust" if status == "reconnect" else "Oak Trust"))
        for status, name in STATUS_SCHOOLS.items()}
    other = factory.organisation("Zeal Academy", "Oak Trust")
    admin = factory.user(admin_email, list(schools.values()), role="admin", name="Trust Admin")
    factory.user("zeal.admin@trust.example", [other], role="admin")
    oak = schools["ok"].trust
    connection(trust=oak)
    connection(trust=schools["reconnect"].trust, status=RECONNECT_NEEDED)
    for status in ("reconnect", "needs_review", "failing", "stale", "never_synced", "ok"):
        choose(schools[status])
    choose(other)
    run(schools["needs_review"], m.COMPLETE, NOW - timedelta(days=2), added=10)
    run(schools["needs_review"], m.NEEDS_REVIEW, NOW - timedelta(hours=3), suspended=12, added=3)
    run(schools["failing"], m.COMPLETE, NOW - timedelta(days=3), added=5)
    run(schools["failing"], m.FAILED, NOW - timedelta(days=2))
    run(schools["failing"], m.FAILED, NOW - timedelta(days=1))
    run(schools["stale"], m.COMPLETE, NOW - timedelta(days=3), added=7, suspended=1)
    schedule(schools["stale"], enabled_at=NOW - timedelta(days=5))
    run(schools["ok"], m.COMPLETE, NOW - timedelta(hours=7), added=4, suspended=2)
    run(schools["ok"], m.COMPLETE, NOW - timedelta(hours=5), added=2, suspended=1)
    schedule(schools["ok"], enabled_at=NOW - timedelta(days=5))
    run(other, m.FAILED, NOW - timedelta(hours=1))
    for number in range(3):
        person(schools["ok"], number)
    person(schools["ok"], 9, status="suspended")
    db.session.commit()
    return SimpleNamespace(schools=schools, other=other, admin=admin)


def schools_page_form(client, url, query="?status=all"):
    """The Schools page's form as the browser would post it: its token and signed list."""
    page = client.get(url + query)
    shown = re.search(r'name="shown" value="([^"]+)"', page.text).group(1)
    return {"csrf_token": csrf_token_from(page.text), "shown": shown, "status": "all"}


def press_on_schools_page(client, url, action, schools, form, headers=None):
    """Sync now ("sync") or Apply schedule ("schedule") with these schools (or ids) ticked."""
    data = dict(form, school=[str(getattr(school, "id", school)) for school in schools])
    return client.post(url + action, data=data, headers=headers or {})
