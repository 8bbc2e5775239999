"""The people counts cached in Redis (Manage user sync's "8 people.", the Schools page's Active
people) never keep a count from before a change: a page counting while a sync committed once
cached the old count after the sync had cleared it, and showed "0 people." over a table of
eight for an hour."""
import pytest
from sqlalchemy import event, insert

from tests.statements import statements_sent
from webapp.extensions import db
from webapp.user_sync import models as m
from webapp.user_sync import people

# Another connection writes while the count's statement is open: SQLite would lock it out.
pytestmark = pytest.mark.backends("postgresql")


@pytest.fixture(params=["machine", "embedded"])
def extra_config(request, redis_url, embedded_redis):
    """On both Redis versions the README allows (WATCH, MULTI, INCR: all of them have them)."""
    return {"REDIS_URL": {"machine": redis_url, "embedded": embedded_redis}[request.param]}


def person_row(organisation, number):
    return dict(organisation_id=organisation.id, microsoft_id=f"person-{number}",
                email=f"p{number}@school.example", email_normalised=f"p{number}@school.example",
                display_name=f"Person {number}", sort_name=f"person {number}", status="active")


def test_a_sync_committed_while_the_people_are_counted_is_never_hidden_by_the_cache(admin):
    school, engine = admin.org, db.engine
    db.session.execute(insert(m.SyncedPerson).values(person_row(school, 1)))
    db.session.commit()
    synced_meanwhile = []

    def sync_commits_and_clears_the_counts(conn, cursor, statement, *_):
        if "count(" in statement and not synced_meanwhile:
            synced_meanwhile.append(True)
            with engine.begin() as sync:  # the sync's own connection and transaction
                sync.execute(insert(m.SyncedPerson).values(person_row(school, 2)))
            people.forget_status_counts(school.id)  # what the sync does after committing
    event.listen(engine, "after_cursor_execute", sync_commits_and_clears_the_counts)
    try:
        during = people.status_counts(school.id)
    finally:
        event.remove(engine, "after_cursor_execute", sync_commits_and_clears_the_counts)
    assert synced_meanwhile and during["active"] == 1  # counted from before the sync's commit
    assert people.status_counts(school.id)["active"] == 2  # that count was not kept
    with statements_sent() as sent:
        assert people.status_counts(school.id)["active"] == 2  # the new one is kept
    assert sent == []
    assert people.active_people_of([school.id]) == {school.id: 2}
