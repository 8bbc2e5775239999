"""gunicorn settings, from the environment with defaults sized for a small dyno.

Each of WEB_CONCURRENCY processes serves GUNICORN_THREADS requests at once and holds a database
pool of DB_POOL_SIZE (default: GUNICORN_THREADS) connections; see the README's sizing note.
"""
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '5000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# The Heroku router gives up on a request after 30 s; gunicorn should not wait longer.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycling workers now and then bounds any slow leak; jitter stops them restarting together.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "1000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "100"))
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
