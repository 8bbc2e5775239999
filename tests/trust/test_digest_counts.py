"""The weekly digest's numbers and words from runs written as rows: every run that changed
people counts (a Sync this person now adds a joiner, an undo brings people back), and an admin
of one school is not told about "all 1 schools"."""
import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from tests.trust.helpers import run
from webapp.extensions import db
from webapp.notifications import digest, events
from webapp.notifications.models import DigestSubscription, NotificationEvent
from webapp.user_sync import models as m

pytestmark = pytest.mark.both_databases  # the week's counts compare times in SQL
MONDAY = datetime(2026, 12, 7, 7, 5, tzinfo=timezone.utc)  # just after 07:00 GMT


def raised_payload(user):
    db.session.add(DigestSubscription(user_id=user.id, organisation_id=None,
                                      created_at=MONDAY - timedelta(days=30)))
    db.session.commit()
    assert digest.raise_weekly_digests(MONDAY) == 1
    row = db.session.scalar(select(NotificationEvent).where(
        NotificationEvent.event == events.WEEKLY_DIGEST, NotificationEvent.user_id == user.id))
    return row, json.loads(row.payload)


def test_joiners_and_leavers_count_one_person_syncs_and_undos_not_only_full_syncs(factory):
    north, south = factory.organisation("North", "Oak"), factory.organisation("South", "Oak")
    admin = factory.user("trust.admin@oak.example", [north, south], role="admin")
    run(north, m.COMPLETE, MONDAY - timedelta(days=5), added=2, suspended=40)
    undo = run(north, m.COMPLETE, MONDAY - timedelta(days=4), reinstated=40)
    undo.kind = m.KIND_UNDO
    person = run(south, m.COMPLETE, MONDAY - timedelta(days=3), added=1)
    person.kind = m.KIND_PERSON
    preview = run(south, m.COMPLETE, MONDAY - timedelta(days=2), added=9)
    preview.kind = m.KIND_PREVIEW  # changes nobody
    db.session.commit()
    _, payload = raised_payload(admin)
    counts = {school["name"]: (school["joiners"], school["leavers"], school["failed"])
              for school in payload["schools"]}
    assert counts == {"North": (42, 40, 0), "South": (1, 0, 0)}


def test_an_admin_of_one_school_gets_a_subject_about_their_school(app, factory):
    single = factory.school_with_admin("Lone School", email="lone@school.example")
    row, _ = raised_payload(single.user)
    with app.test_request_context():
        mail = digest.compose(row)
    assert "1 schools" not in mail.subject and "1 of 1" not in mail.subject
    assert mail.subject == "Weekly sync digest: Lone School needs attention"
