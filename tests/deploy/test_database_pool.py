"""The database pool survives PostgreSQL dropping the app's connections (failover, restart)."""
import uuid

import pytest
import sqlalchemy
from sqlalchemy import text

from tests import services
from webapp.config import engine_options

pytestmark = pytest.mark.backends("postgresql")
APPLICATION_NAME = f"rostersync-pool-test-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def extra_config():
    return {"DB_APPLICATION_NAME": APPLICATION_NAME}


def terminate_app_connections():
    with services.postgres_admin_connection() as admin:
        rows = admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE application_name = %s", (APPLICATION_NAME,)).fetchall()
    return len(rows)


def test_a_request_still_works_after_postgresql_drops_every_app_connection(app, client, db):
    assert client.get("/healthz").json["checks"]["database"] == {"ok": True}
    db.session.remove()
    assert terminate_app_connections() >= 1
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["checks"]["database"] == {"ok": True}


def test_without_pre_ping_the_same_drop_breaks_the_next_query(app):
    options = engine_options(app.config) | {"pool_pre_ping": False}
    engine = sqlalchemy.create_engine(app.config["SQLALCHEMY_DATABASE_URI"], **options)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        terminate_app_connections()
        with pytest.raises(sqlalchemy.exc.OperationalError), engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    finally:
        engine.dispose()


def test_pool_is_sized_from_the_environment_for_postgresql_only():
    config = {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://db/app", "DB_POOL_SIZE": 6,
              "DB_MAX_OVERFLOW": 1, "DB_POOL_RECYCLE_SECONDS": 300, "DB_POOL_TIMEOUT_SECONDS": 10,
              "DB_CONNECT_TIMEOUT_SECONDS": 5, "DB_APPLICATION_NAME": "rostersync-web"}
    options = engine_options(config)
    assert options["pool_pre_ping"] is True and options["pool_recycle"] == 300
    assert (options["pool_size"], options["max_overflow"]) == (6, 1)
    assert options["connect_args"]["application_name"] == "rostersync-web"
    sqlite = engine_options(config | {"SQLALCHEMY_DATABASE_URI": "sqlite:///x.sqlite3"})
    assert "pool_size" not in sqlite and sqlite["pool_pre_ping"] is True
