"""Structured logs: one JSON object per line on stdout, with a request or job id, never a secret.

Every request gets one `request` line (method, path without its query, status, duration) and
every RQ job one `job` line (jobs/worker.py). Other log lines carry the same id, so
`grep <id>` shows everything one request or job did. The request id is the router's
X-Request-ID when it sends one (Heroku does), otherwise a new one; it is echoed back.
"""
import contextvars
import json
import logging
import re
import sys
import time
import uuid
from datetime import datetime, timezone

from flask import g, request

request_id_var = contextvars.ContextVar("request_id", default=None)
job_id_var = contextvars.ContextVar("job_id", default=None)

SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,200}$")
# Anything that looks like a credential is masked before a line is written, whoever logged it.
SECRET_PATTERNS = [
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 [redacted]"),
    (re.compile(r"(?i)((?:access|refresh|id)_token|client_secret|client_assertion|password|"
                r"authorization|secret|token_cache)([\"']?\s*[:=]\s*[\"']?)"
                r"[^\s\"'&,;}]+"), r"\1\2[redacted]"),
    (re.compile(r"([?&](?:code|state|session_state|token)=)[^&\s\"']+"), r"\1[redacted]"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*"), "[redacted-jwt]"),
]
STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
# A record logged with extra={DEVELOPMENT_LINK: True} keeps its message unredacted: only the
# stand-in for email outside production without MAIL_SERVER (`make run`) does that, so that an
# invitation or password-reset link can be followed from the log (webapp.notifications.account_mail).
DEVELOPMENT_LINK = "_development_link"


def redact(text):
    for pattern, replacement in SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage() if getattr(record, DEVELOPMENT_LINK, False)
            else redact(record.getMessage()),
        }
        for name, var in (("request_id", request_id_var), ("job_id", job_id_var)):
            if var.get():
                entry[name] = var.get()
        for key, value in record.__dict__.items():
            if key not in STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = redact(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


def configure_logging(level="INFO", stream=None):
    """Routes every logger through one JSON handler on stdout (idempotent)."""
    logging.captureWarnings(True)  # library warnings become JSON lines too, not raw stderr
    root = logging.getLogger()
    for handler in root.handlers:
        # gunicorn's logconfig (gunicorn.conf.py) may have installed one already.
        if getattr(handler, "rostersync", False) or isinstance(handler.formatter, JsonFormatter):
            handler.setLevel(level)
            return handler
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.rostersync = True
    handler.setFormatter(JsonFormatter())
    handler.setLevel(level)
    root.addHandler(handler)
    root.setLevel(min(root.level or logging.WARNING, logging.getLevelName(level)))
    return handler


def incoming_request_id():
    candidate = request.headers.get("X-Request-ID", "")
    return candidate if SAFE_REQUEST_ID.match(candidate) else uuid.uuid4().hex


def init_request_logging(app):
    configure_logging(app.config.get("LOG_LEVEL", "INFO"))
    request_log = logging.getLogger("rostersync.request")

    @app.before_request
    def start_request_log():
        g.request_id = incoming_request_id()
        g.request_started = time.perf_counter()
        g.request_id_token = request_id_var.set(g.request_id)

    @app.after_request
    def write_request_log(response):
        started = g.pop("request_started", None)
        if started is None:
            return response
        from flask_login import current_user
        response.headers["X-Request-ID"] = g.request_id
        request_log.info("request", extra={
            "method": request.method, "path": request.path, "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "user_id": current_user.get_id() if current_user else None,
            "remote_addr": request.remote_addr,
        })
        return response

    @app.teardown_request
    def forget_request_id(error=None):
        token = g.pop("request_id_token", None)
        if token is not None:
            try:
                request_id_var.reset(token)
            except ValueError:  # set in another context (a test client quirk); nothing to undo
                pass
