"""The SQL statements a piece of work sends, for tests that pin what a page or a query costs."""
from contextlib import contextmanager

from sqlalchemy import event

from webapp.extensions import db


@contextmanager
def statements_sent():
    """Yields a list that collects the SQL of every statement sent inside the block."""
    sent = []

    def record(conn, cursor, statement, *_):
        sent.append(statement)
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
