"""Throwaway PostgreSQL databases, so that parallel test runs and benchmarks never collide."""
import os
import uuid

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


class PostgresUnavailable(Exception):
    pass


def admin_connection(url=POSTGRES_URL):
    import psycopg
    return psycopg.connect(url, autocommit=True, connect_timeout=3)


def create_database(prefix="rostersync_test"):
    """(name, SQLAlchemy URL) of a new empty database; PostgresUnavailable says why not."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        with admin_connection() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as error:
        raise PostgresUnavailable(
            f"PostgreSQL is not reachable at {POSTGRES_URL}: {type(error).__name__}") from error
    return name, sqlalchemy_url(name)


def sqlalchemy_url(name):
    base = POSTGRES_URL.rsplit("/", 1)[0]
    return f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)


def drop_database(name):
    with admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
