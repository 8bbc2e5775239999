"""The Schools page's query: every school an admin administers, each in the right Status, in a
fixed number of statements however many schools (on both databases: it groups, joins on OR,
correlates subqueries and compares times in SQL)."""
from datetime import timedelta

import pytest

from tests.statements import statements_sent
from tests.trust.helpers import NOW, STATUS_SCHOOLS, run
from webapp.clock import frozen_at
from webapp.extensions import db
from webapp.trust import overview
from webapp.trust import status as st
from webapp.user_sync import models as m
from webapp.user_sync.engine.fleet import RunsNotLoaded

pytestmark = pytest.mark.both_databases


def rows_by_name(user):
    rows = overview.add_shown_details(overview.school_rows(user.id, NOW))
    return {row.name: row for row in rows}


def test_each_school_shows_the_status_the_products_rules_give_it(world):
    rows = rows_by_name(world.admin)
    assert {name: rows[name].status for name in rows} == {
        name: status for status, name in STATUS_SCHOOLS.items()}
    assert "Zeal Academy" not in rows  # same trust, not their school
    failing = rows["Elm High"]
    assert failing.facts.failing_since.replace(tzinfo=NOW.tzinfo) == NOW - timedelta(days=2)
    review = rows["Damson Primary"].facts.review
    assert (review.suspended, review.added) == (12, 3)
    ok = rows["Hazel College"]
    assert (ok.facts.last_complete.added, ok.facts.last_complete.suspended) == (2, 1)
    assert ok.active_people == 3 and ok.next_sync.at is not None
    assert rows["Fir Infants"].stale and not ok.stale
    assert rows["Birch Primary"].connection_label == "Reconnect needed"
    assert rows["Ashby Free School"].connection is None
    assert rows["Cedar Academy"].state_label == "No group chosen"


def test_a_later_complete_sync_ends_failing_and_a_waiting_run_shows_as_active(world):
    run(world.schools["failing"], m.COMPLETE, NOW - timedelta(hours=1), added=1)
    queued = run(world.schools["ok"], m.QUEUED, NOW - timedelta(minutes=1))
    db.session.commit()
    rows = rows_by_name(world.admin)
    assert rows["Elm High"].status == st.OK and rows["Elm High"].facts.failing_since is None
    assert rows["Hazel College"].facts.active.id == queued.id


def count_statements(call):
    with frozen_at(NOW), statements_sent() as sent:
        call()
    return len(sent)


def test_the_rows_cost_the_same_statements_for_eight_schools_or_forty(world, factory, app):
    from webapp.redis_conn import get_redis
    eight = count_statements(lambda: overview.school_rows(world.admin.id, NOW))
    more = [factory.organisation(f"Extra School {n:02d}", "Oak Trust") for n in range(32)]
    factory.user(world.admin.email, more, role="admin")
    for school in more[::3]:
        run(school, m.COMPLETE, NOW - timedelta(hours=2), added=1)
        run(school, m.FAILED, NOW - timedelta(hours=1))
    db.session.commit()
    assert count_statements(lambda: overview.school_rows(world.admin.id, NOW)) == eight
    for key in get_redis(app).scan_iter(f"{app.config['REDIS_KEY_PREFIX']}synced-people-counts:*"):
        get_redis(app).delete(key)
    rows = overview.school_rows(world.admin.id, NOW)
    assert count_statements(lambda: overview.add_active_people(rows)) == 1  # counted at once
    fresh = overview.school_rows(world.admin.id, NOW)
    assert count_statements(lambda: overview.add_active_people(fresh)) == 0  # cached in Redis
    assert {row.name: row.active_people for row in fresh}["Hazel College"] == 3
    # Every row's runs, then every row's groups.
    assert count_statements(lambda: overview.add_shown_details(fresh)) == 2
    extras = sorted((row for row in fresh if row.name.startswith("Extra")), key=lambda r: r.name)
    assert [row.facts.failing_since is not None for row in extras[:4]] == [True, False, False, True]


def test_active_people_are_counted_when_redis_cannot_be_read(world, monkeypatch):
    """The one field read from each school's cached counts; Redis refusing is a count from
    the database, never a blank column."""
    from redis.exceptions import ConnectionError as RedisDown

    from webapp.user_sync import people

    class Refusing:
        def pipeline(self, transaction=False):
            raise RedisDown("Connection refused")
    monkeypatch.setattr(people, "get_redis", Refusing)
    rows = overview.add_active_people(overview.school_rows(world.admin.id, NOW))
    assert {row.name: row.active_people for row in rows}["Hazel College"] == 3


def test_a_rows_runs_and_groups_are_read_only_for_rows_shown_and_never_guessed_blank(world):
    rows = {row.name: row for row in overview.school_rows(world.admin.id, NOW)}
    hazel, gorse = rows["Hazel College"], rows["Gorse Junior"]
    assert hazel.status == st.OK and hazel.can_sync  # the Status needs no run or group read
    for unread in (hazel.facts, gorse.facts):
        with pytest.raises(RunsNotLoaded):
            unread.active  # what is running is read with the runs, never guessed as nothing
    with pytest.raises(RunsNotLoaded):
        hazel.facts.last_complete
    with pytest.raises(overview.SelectionNotLoaded):
        hazel.groups_text
    assert gorse.facts.last_complete is None  # never synced: nothing to read
    overview.add_shown_details([hazel])
    assert hazel.groups_text.startswith("Syncing: ")
    assert hazel.facts.last_complete.added == 2
    # Read with every row (a sort by it needs it for all): the last complete run's own time,
    # and None only for a school never synced.
    assert hazel.facts.last_complete.finished_at == hazel.facts.last_sync_at
    assert gorse.facts.last_sync_at is None


def test_a_review_gone_between_the_two_reads_still_says_needs_review(world):
    """A school deleted between the ids and the runs being read: its words, not an error."""
    damson = {row.name: row for row in overview.school_rows(world.admin.id, NOW)}["Damson Primary"]
    damson.facts.runs = {damson.facts.review_id: None}
    assert st.status_words(damson, lambda moment, school: "") == "Needs review"
