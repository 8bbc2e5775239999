"""Finding the real services tests talk to: PostgreSQL and Redis.

Locally a missing service skips the tests that need it, with the reason. With CI=true the
same absence is a failure: a test that skips in CI is a test that did not run.
"""
import os
import uuid

import pytest

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def in_ci():
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def unavailable(reason):
    if in_ci():
        pytest.fail(f"{reason} (CI=true: services are required, not optional)")
    pytest.skip(reason)


def redis_ping(url=REDIS_URL):
    import redis
    try:
        return redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except Exception:
        return False


def postgres_admin_connection():
    import psycopg
    return psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)


def create_postgres_database():
    """A throwaway database for one test session, so parallel runs never collide."""
    name = f"rostersync_test_{uuid.uuid4().hex[:10]}"
    try:
        with postgres_admin_connection() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as error:
        unavailable(f"PostgreSQL is not reachable at {POSTGRES_URL}: {type(error).__name__}")
    base = POSTGRES_URL.rsplit("/", 1)[0]
    return name, f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)


def drop_postgres_database(name):
    with postgres_admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
