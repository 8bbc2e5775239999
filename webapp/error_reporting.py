"""Optional error reporting: Sentry, only when SENTRY_DSN is set (web and worker alike)."""
import logging

log = logging.getLogger(__name__)


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
    )
    log.info("error reporting to Sentry is on")
    return True
