"""Optional error reporting: Sentry, only when SENTRY_DSN is set (web and worker alike)."""
import logging

from webapp.logs import redact

log = logging.getLogger(__name__)


def scrub_event(event, hint=None):
    """No one-time link or OAuth code in an error report: the request's query string and URL
    are masked as the logs are (an invitation or reset link carries its token there)."""
    request = event.get("request") or {}
    query = request.get("query_string")
    if isinstance(query, str) and query:
        request["query_string"] = redact("?" + query)[1:]
    if isinstance(request.get("url"), str):
        request["url"] = redact(request["url"])
    return event


def init_error_reporting(app):
    dsn = app.config.get("SENTRY_DSN")
    if not dsn:
        return False
    try:
        import sentry_sdk
    except ImportError:
        log.warning("SENTRY_DSN is set but the sentry-sdk package is not installed; "
                    "errors are only logged. Add sentry-sdk to requirements.txt.")
        return False
    sentry_sdk.init(
        dsn=dsn,
        environment=app.config.get("ENV_NAME"),
        traces_sample_rate=app.config.get("SENTRY_TRACES_SAMPLE_RATE", 0.0),
        # No personal data, no request bodies (sign-in forms, OAuth codes); the default
        # scrubber also drops Authorization headers and cookies.
        send_default_pii=False,
        max_request_body_size="never",
        before_send=scrub_event,
    )
    log.info("error reporting to Sentry is on")
    return True
