"""Migration 0009 on a school synced from one group: its next sync changes nobody."""
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from tests import services
from harness.app_config import make_test_config
from tests.conftest import IsolatedClient
from harness.factory import Factory
from tests.microsoft_flow import FAST_RETRIES, simulator_config
from tests.sync_helpers import (NORTHFIELD_ADDED, changes, connected_school, people,
                                sync_in_process)
from webapp.auth.models import User
from webapp.extensions import db
from webapp.microsoft.selection import group_choices_for
from webapp.orgs.models import Organisation
from webapp.user_sync import models as m


def test_a_school_synced_from_one_group_keeps_it_as_a_one_group_selection(migrated_app, microsoft):
    school = connected_school(Factory(), migrated_app.test_client(), microsoft)
    first = sync_in_process(school)
    assert first.added == NORTHFIELD_ADDED
    org_id, admin_id = school.org.id, school.admin.id
    db.session.remove()
    downgrade(revision="0008")  # the school as it was before several groups: one group, no roles
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM microsoft_group_choices")).scalar() == 1
    db.engine.dispose()
    upgrade()
    school.org, school.admin = db.session.get(Organisation, org_id), db.session.get(User, admin_id)
    assert [(c.display_name, c.role) for c in group_choices_for(school.org)] == [
        ("Northfield Staff", "sync")]
    assert {p.synced_via for p in people(school.org)} == {"Northfield Staff"}
    quiet = sync_in_process(school)
    assert quiet.status == m.COMPLETE, quiet.reason
    assert (quiet.added, quiet.updated, quiet.suspended, quiet.reinstated) == (0, 0, 0, 0)
    assert quiet.unchanged == NORTHFIELD_ADDED
    # Not even a hidden write: no presence or "Synced through" change recorded.
    assert [c.action for c in changes(quiet) if c.action not in (m.SKIP,)] == []
