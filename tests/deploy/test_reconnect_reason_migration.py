"""Migration 0011_i20b: a saved reconnect reason loses the advice it used to end with, so the
pages that add their own advice give it once."""
from flask_migrate import upgrade
from sqlalchemy import text

from harness.app_config import make_test_config
from webapp import create_app
from webapp.extensions import db

OLD = "Microsoft no longer accepts the saved sign-in for it@school.example (invalid_grant)."


def test_a_saved_reason_loses_its_old_advice(tmp_path, redis_url):
    app = create_app(make_test_config(f"sqlite:///{tmp_path / 'm.sqlite3'}", redis_url))
    with app.app_context():
        upgrade(revision="0010_i23")
        with db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO microsoft_connections (account_email, account_object_id, tenant_id, "
                "home_account_id, granted_scopes, status, status_reason, connected_at, updated_at)"
                " VALUES ('it@school.example', 'a', 't', 'h', '', 'reconnect_needed', :reason, "
                "'2026-12-01 00:00:00', '2026-12-01 00:00:00')"),
                {"reason": OLD + " Reconnect to Microsoft."})
        upgrade()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT status_reason FROM microsoft_connections")
                                ).scalar() == OLD
        db.engine.dispose()
