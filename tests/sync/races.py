"""Staging two requests at once on PostgreSQL: each in a thread with its own session, and the
test's own transaction holding a lock both need, so the overlap is made certain by the
database rather than by sleeps (tests/sync/test_review_races.py, test_slot_races.py)."""
import threading
import time

from sqlalchemy import text

from webapp.extensions import db


def in_a_thread_of_its_own(app, work, outcome, key):
    """outcome[key] = work() (or the exception it raised) in a thread with an app context and
    database session of its own, as a second web request or the clock's tick would have."""
    def request():
        with app.app_context():
            try:
                outcome[key] = work()
            except Exception as error:  # noqa: BLE001 (a deadlock must fail the test)
                outcome[key] = error
            finally:
                db.session.remove()
    thread = threading.Thread(target=request)
    thread.start()
    return thread


def lock_waiters():
    """Asked inside the test's open transaction, which keeps its first read of
    pg_stat_activity unless told to read it afresh."""
    db.session.execute(text("SELECT pg_stat_clear_snapshot()"))
    return db.session.execute(text(
        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE NOT l.granted AND a.datname = current_database()")).scalar()


def wait_for_waiters(count, *threads):
    deadline = time.monotonic() + 30
    while lock_waiters() < count and all(thread.is_alive() for thread in threads):
        assert time.monotonic() < deadline, f"fewer than {count} requests waited"
        time.sleep(0.02)
    assert lock_waiters() >= count, "a request finished instead of waiting"
