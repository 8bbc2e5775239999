"""Configuration comes from the environment and fails loudly when a secret is missing."""
import pytest

from webapp.config import ConfigError, ProductionConfig, database_url_from_env


def test_heroku_postgres_scheme_is_accepted():
    url = database_url_from_env({"DATABASE_URL": "postgres://u:p@db.example:5432/app"})
    assert url == "postgresql+psycopg://u:p@db.example:5432/app"


def test_default_database_is_sqlite_under_instance():
    assert database_url_from_env({}).endswith("instance/rostersync.sqlite3")


def test_production_without_secret_key_stops_with_a_message_naming_it(monkeypatch):
    monkeypatch.setattr(ProductionConfig, "SECRET_KEY", None)
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        ProductionConfig.validate()
