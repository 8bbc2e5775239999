"""gunicorn settings, from the environment with defaults sized for a small dyno.

Each of WEB_CONCURRENCY processes serves GUNICORN_THREADS requests at once and holds a database
pool of DB_POOL_SIZE (default: GUNICORN_THREADS) connections; see the README's sizing note.
"""
import os

# Read here, before gunicorn builds its logging: a setting the app refuses (DB_POOL_SIZE=four)
# is then named in gunicorn's error, not hidden behind "Unable to configure formatter 'json'"
# (the formatter imports the app, and logging replaces the app's error with its own).
from webapp.config import env_int

bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"
workers = env_int("WEB_CONCURRENCY", 2)
threads = env_int("GUNICORN_THREADS", 4)
# The Heroku router gives up on a request after 30 s; gunicorn should not wait longer.
timeout = env_int("GUNICORN_TIMEOUT", 30)
graceful_timeout = env_int("GUNICORN_GRACEFUL_TIMEOUT", 20)
keepalive = env_int("GUNICORN_KEEPALIVE", 5)
# Recycling workers now and then bounds any slow leak; jitter stops them restarting together.
max_requests = env_int("GUNICORN_MAX_REQUESTS", 1000)
max_requests_jitter = env_int("GUNICORN_MAX_REQUESTS_JITTER", 100)
# Nothing here uses gunicorn's control socket; by default every gunicorn of the account shares
# one path under $HOME, so a second one (make run beside the tests) took the first one's.
control_socket_disable = True
# The app writes one structured line per request (webapp/logs.py); gunicorn's access log would
# repeat it without the request id. GUNICORN_ACCESS_LOG=- turns it back on.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
# gunicorn's own default (4094 bytes) answers a long address with a bare "URI Too Long" page; at
# its maximum the app sees the request and answers a search that is too long on its own page.
# The Heroku router refuses request lines over 8 KB itself.
limit_request_line = 8190
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "webapp.logs.JsonFormatter"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json",
                            "stream": "ext://sys.stdout"}},
    "root": {"handlers": ["stdout"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "gunicorn.error": {"handlers": ["stdout"], "level": os.environ.get("LOG_LEVEL", "INFO"),
                           "propagate": False},
        # With a logconfig gunicorn always emits access lines; WARNING silences them unless asked.
        "gunicorn.access": {"handlers": ["stdout"], "propagate": False,
                            "level": "INFO" if accesslog else "WARNING"},
    },
}
