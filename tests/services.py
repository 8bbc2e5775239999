"""Finding the real services tests talk to: PostgreSQL and Redis.

Locally a missing service skips the tests that need it, with the reason. With CI=true the
same absence is a failure: a test that skips in CI is a test that did not run.
"""
import os

import pytest

from harness import postgres
from harness.postgres import POSTGRES_URL  # noqa: F401  (the tests' PostgreSQL server)
from harness.redis_servers import redis_ping as _ping

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def in_ci():
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(reason):
    if in_ci():
        pytest.fail(f"{reason} (CI=true: services are required, not optional)")
    pytest.skip(reason)


def redis_ping(url=REDIS_URL):
    return _ping(url)


def postgres_admin_connection():
    return postgres.admin_connection()


def create_postgres_database():
    """A throwaway database (name, SQLAlchemy URL); unavailable() when PostgreSQL is not there."""
    try:
        return postgres.create_database()
    except postgres.PostgresUnavailable as error:
        unavailable(str(error))


def drop_postgres_database(name):
    postgres.drop_database(name)
