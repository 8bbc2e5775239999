from flask import Blueprint, jsonify
from sqlalchemy import text

from webapp.extensions import csrf, db
from webapp.redis_conn import get_redis

bp = Blueprint("health", __name__)


def _check(probe):
    try:
        probe()
    except Exception as error:  # any failure means unreachable; report its kind, not secrets
        return {"ok": False, "error": type(error).__name__}
    return {"ok": True}


@bp.route("/healthz")
@csrf.exempt
def healthz():
    checks = {
        "database": _check(lambda: db.session.execute(text("SELECT 1"))),
        "redis": _check(lambda: get_redis().ping()),
    }
    db.session.rollback()
    healthy = all(check["ok"] for check in checks.values())
    return jsonify(status="ok" if healthy else "unavailable", checks=checks), 200 if healthy else 503
