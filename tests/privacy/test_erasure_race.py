"""The erasure and an undo at the same moment, on PostgreSQL (row locks: SQLite has one writer
at a time): someone the undo reinstates is never erased under it."""
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from tests.privacy.erasure_helpers import LEAVER, N, with_a_leaver
from tests.sync_helpers import person
from webapp.auth.models import User
from webapp.extensions import db
from webapp.orgs.models import Membership
from webapp.user_sync import models as m

pytestmark = pytest.mark.backends("postgresql")


def test_an_undo_started_while_the_erasure_reads_is_not_erased_under_it(app, school):
    """The erasure looked for a running sync, then read who is due. An undo that started in
    between reinstated the leavers, and the erasure deleted them (accounts and all) by id.
    Made certain by starting the undo right after the erasure's read of the due people."""
    from sqlalchemy import event
    from tests.sync.races import in_a_thread_of_its_own
    from webapp.orgs.models import Organisation
    from webapp.clock import as_utc
    from webapp.privacy.erasure import SYNC_RUNNING, erase_due as erase_school
    from webapp.user_sync.engine.undo import run_undo, start_undo
    leaver = with_a_leaver(school)
    bad = db.session.scalars(select(m.SyncRun).order_by(m.SyncRun.id.desc())).first()
    assert bad.suspended == 1
    org_id, admin_id, outcome = school.org.id, school.admin.id, {}
    threads = []

    def undo_now():
        undo = start_undo(db.session.get(Organisation, org_id), bad.id,
                          db.session.get(User, admin_id))
        return run_undo(undo.id).status

    def start_the_undo_after_the_due_read(conn, cursor, statement, *_):
        if "FROM synced_people" in statement and "suspended_at <" in statement and not threads:
            threads.append(in_a_thread_of_its_own(app, undo_now, outcome, "undo"))
            with db.engine.connect() as other:  # until it waits for a lock, or has finished
                while threads[0].is_alive() and not other.scalar(text(
                        "SELECT count(*) FROM pg_locks WHERE NOT granted")):
                    other.rollback()
                    time.sleep(0.02)

    event.listen(db.engine, "after_cursor_execute", start_the_undo_after_the_due_read)
    try:
        result = erase_school(org_id, as_utc(leaver.suspended_at) + timedelta(days=N + 1))
    finally:
        event.remove(db.engine, "after_cursor_execute", start_the_undo_after_the_due_read)
        for thread in threads:
            thread.join(timeout=60)
    assert threads and outcome["undo"] == m.COMPLETE, outcome
    assert result == {"outcome": SYNC_RUNNING}
    back = person(school.org, LEAVER)
    assert back is not None and back.status == "active"
    assert db.session.get(Membership, back.membership_id).status == "active"
