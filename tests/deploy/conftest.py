"""Fixtures of the deployment tests: a database built by the migrations themselves."""
import pytest
from flask_migrate import upgrade

from tests import services
from harness.app_config import make_test_config
from tests.conftest import IsolatedClient
from tests.microsoft_flow import FAST_RETRIES, simulator_config
from webapp import create_app
from webapp.extensions import db


@pytest.fixture(params=["sqlite", "postgresql"])
def migrated_app(request, tmp_path, redis_url, microsoft):
    """An app whose database the migrations built (not create_all)."""
    if request.param == "sqlite":
        url, name = f"sqlite:///{tmp_path / 'migrated.sqlite3'}", None
    else:
        name, url = services.create_postgres_database()
    app = create_app(make_test_config(url, redis_url, **simulator_config(microsoft), **FAST_RETRIES))
    app.test_client_class = IsolatedClient
    with app.app_context():
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()
    if name:
        services.drop_postgres_database(name)
