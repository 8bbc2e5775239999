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


@pytest.mark.backends("sqlite")
def test_email_links_reach_the_port_make_run_serves_on(app, admin):
    from scripts.run_local import serve_address
    from webapp.config import public_url_from_env
    from webapp.notifications import events
    from webapp.notifications.messages import compose
    from webapp.notifications.models import NotificationEvent
    environment = {"PORT": "5123"}  # `PORT=5123 make run`
    assert serve_address(environment) == "5123"
    assert environment["PUBLIC_URL"] == "http://127.0.0.1:5123"  # given to the web, worker, clock
    assert public_url_from_env({"PORT": "5123"}) == "http://127.0.0.1:5123"  # a CLI by hand
    chosen = {"PORT": "5123", "PUBLIC_URL": "https://rostersync.school.example"}
    serve_address(chosen)
    assert chosen["PUBLIC_URL"] == "https://rostersync.school.example"  # a set one is kept
    app.config["PUBLIC_URL"] = public_url_from_env(environment)
    mail = compose(NotificationEvent(event=events.SYNC_FAILED, payload='{"reason": "Gone."}'),
                   admin.org)
    assert mail.action_url == f"http://127.0.0.1:5123/o/{admin.org.id}/settings/user-sync/"
