"""Guesses sent at once, on PostgreSQL (the test holds the users table, so every guess is inside
its sign-in at the same moment): each counts before its password is checked, so no more than
the limit are checked, and a right one beyond it does not get in."""
import pytest
from sqlalchemy import text

from tests.sync.races import in_a_thread_of_its_own, wait_for_waiters
from webapp.auth import services
from webapp.extensions import db

pytestmark = pytest.mark.backends("postgresql")  # the table lock holds every guess in place
EMAIL, RIGHT, LIMIT = "burst.target@school.example", "Right-Horse-Battery-9", 2


@pytest.fixture
def extra_config():
    return {"LOGIN_FAILURES_PER_ACCOUNT": LIMIT}


def test_guesses_sent_at_once_are_checked_no_more_than_the_limit(app, factory):
    factory.user(EMAIL, [factory.organisation()], password=RIGHT)
    guesses = [f"wrong-{n}" for n in range(4)] + [RIGHT]
    outcome = {}
    db.session.execute(text("LOCK TABLE users IN ACCESS EXCLUSIVE MODE"))
    threads = []
    try:
        for i, guess in enumerate(guesses):
            threads.append(in_a_thread_of_its_own(
                app, lambda guess=guess, i=i: services.authenticate(
                    EMAIL, guess, f"203.0.113.{i}").email, outcome, i))
        wait_for_waiters(len(guesses), *threads)
    finally:
        db.session.rollback()
        for thread in threads:
            thread.join(timeout=30)
    kinds = [type(outcome[i]).__name__ for i in range(len(guesses))]
    assert kinds.count("TooManyAttempts") == len(guesses) - LIMIT, kinds
    checked = [i for i, kind in enumerate(kinds) if kind != "TooManyAttempts"]
    assert all(outcome[i] == EMAIL for i in checked if guesses[i] == RIGHT)
