"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
import logging

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from tests import services
from harness.app_config import make_test_config
from webapp import create_app
from webapp.extensions import db


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path, redis_url):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    name, url = services.create_postgres_database()
    yield url
    services.drop_postgres_database(name)


def test_migrations_match_the_models(empty_database_url, redis_url):
    app = create_app(make_test_config(empty_database_url, redis_url))
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), db.metadata)
        db.engine.dispose()
    assert differences == [], f"models and migrations differ: {differences}"


def test_an_upgrade_inside_the_app_leaves_the_apps_loggers_working(empty_database_url, redis_url):
    """Alembic's logging set-up once disabled every logger that existed before it, so after an
    in-process upgrade the app's warnings (a sync's lost liveness beat...) went nowhere."""
    liveness_log = logging.getLogger("webapp.user_sync.engine.liveness")
    app = create_app(make_test_config(empty_database_url, redis_url))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    heard = logging.Handler(logging.WARNING)
    heard.emit = lambda record: heard.records.append(record.getMessage())
    heard.records = []
    liveness_log.addHandler(heard)
    try:
        liveness_log.warning("still heard after an upgrade")
    finally:
        liveness_log.removeHandler(heard)
    assert heard.records == ["still heard after an upgrade"]
