"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
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
