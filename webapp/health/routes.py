from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from webapp.extensions import csrf, db
from webapp.microsoft import app_credentials
from webapp.microsoft.client_secret import secret_expiry_notice
from webapp.redis_conn import explain_redis_error, get_redis

bp = Blueprint("health", __name__)


def _check(probe, explain=None):
    try:
        probe()
    except Exception as error:  # any failure means unreachable; report its kind, not secrets
        result = {"ok": False, "error": type(error).__name__}
        if explain:
            result["hint"] = explain(error)
        return result
    return {"ok": True}


@bp.route("/healthz")
@csrf.exempt
def healthz():
    checks = {
        "database": _check(lambda: db.session.execute(text("SELECT 1"))),
        "redis": _check(lambda: get_redis().ping(),
                        lambda error: explain_redis_error(error, current_app.config)),
    }
    db.session.rollback()
    healthy = all(check["ok"] for check in checks.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": checks}
    warnings = []
    notice = secret_expiry_notice(current_app.config)
    if notice:  # worth an alert, but the app itself is up: the status code stays 200
        warnings.append(notice.message)
    refusal = app_credentials.refusal()  # None when Redis is down (the check above says so)
    if refusal is not None:
        body["microsoft_app_credentials"] = {"ok": False, "code": refusal.get("code"),
                                             "since": refusal["since"],
                                             "automatic_syncs": "paused",
                                             "next_try": refusal["next_probe_at"]}
        warnings.append(app_credentials.operator_message(refusal))
    if warnings:
        body["warnings"] = warnings
    return jsonify(body), 200 if healthy else 503
