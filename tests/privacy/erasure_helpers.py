"""A synced school with one leaver, and a search of every text column of every table."""
from datetime import timedelta

from sqlalchemy import String, Text, func, select

from tests.microsoft_flow import demo
from tests.sync_helpers import NORTHFIELD, person, sync_in_process
from webapp.extensions import db
from webapp.privacy.retention import save_retention

LEAVER = demo.OBRIEN_ID
LEAVER_EMAIL = "s.o'brien@oaklearning.example"
LEAVER_NAME = "Siobhán O'Brien"
N = 30


def with_a_leaver(school, days=N):
    """First sync, the leaver leaves the group, a second sync suspends them; retention N days."""
    assert sync_in_process(school).status == "complete"
    assert school.sim.control.remove_member(NORTHFIELD, LEAVER)
    run = sync_in_process(school)
    assert run.suspended == 1, run.reason
    save_retention(school.org.id, "days", str(days))
    db.session.expire_all()
    return person(school.org, LEAVER)


def days_after(leaver, days, seconds=0):
    return (leaver.suspended_at + timedelta(days=days, seconds=seconds)).isoformat()


def erase_due(app, as_of):
    result = app.test_cli_runner().invoke(args=["privacy", "erase-due", "--as-of", as_of])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result.output


def places_holding(text):
    """(table, column, rows) wherever any text column of any table contains text (any case)."""
    db.session.expire_all()
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, (String, Text)):
                count = db.session.scalar(select(func.count()).select_from(table).where(
                    func.lower(column).contains(text.lower(), autoescape=True)))
                if count:
                    found.append((table.name, column.name, count))
    return found
