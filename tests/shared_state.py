"""Starting states that cost seconds to build, built once per database per test session.

The first test that asks for one builds it for real (a Connect with Microsoft through MSAL, a
first sync...), then every row of every table is copied into memory. Each later test starts
from an empty database like any other and gets exactly those rows back, in one statement per
table, with the same ids: the same state the real build made, for a few milliseconds.

Only the database is restored. What lives elsewhere is the test's own business: the simulator
is reset for every test (its access tokens still verify, so a restored connection works until
its token expires; a test that needs Microsoft's refresh token makes a connection of its own),
and Redis starts empty.
"""
import time

from webapp.extensions import db

# A restored connection holds an access token of 3,599 s; rebuild well before it expires.
MAX_AGE_SECONDS = 40 * 60


class DatabaseSnapshot:
    def __init__(self, rows, value):
        self.rows, self.value, self.taken_at = rows, value, time.monotonic()

    @classmethod
    def take(cls, value):
        db.session.commit()
        with db.engine.connect() as conn:
            rows = [(table, [dict(row) for row in conn.execute(table.select()).mappings()])
                    for table in db.metadata.sorted_tables]
        return cls([(table, table_rows) for table, table_rows in rows if table_rows], value)

    @property
    def stale(self):
        return time.monotonic() - self.taken_at > MAX_AGE_SECONDS

    def restore(self):
        """Into an empty database. Ids are kept: PostgreSQL's sequences are already past them
        (tables are emptied, never reset) and SQLite numbers new rows after the largest."""
        with db.engine.begin() as conn:
            for table, rows in self.rows:
                conn.execute(table.insert(), rows)
        db.session.expire_all()
        return self.value


_snapshots = {}


def built_once(name, build):
    """build() the first time for this database (and when the snapshot grows stale), restore the
    snapshot otherwise; returns what build() returned (plain ids, not ORM objects)."""
    key = (str(db.engine.url), name)
    snapshot = _snapshots.get(key)
    if snapshot is None or snapshot.stale:
        value = build()
        _snapshots[key] = DatabaseSnapshot.take(value)
        return value
    return snapshot.restore()
