"""One Redis connection per app, created lazily (never at import time), and the job queues.

Enqueue background work with `enqueue(kind, func, *ids)`: it applies the queue's timeout and the
result/failure TTLs from the configuration, so no caller inherits RQ's 180-second default.
"""
import redis
from flask import current_app
from rq import Queue

from webapp.config import ConfigError

QUEUE_KINDS = ("quick", "sync")


def redis_tls_options(config):
    """TLS settings for a rediss:// URL: verify against a CA, or (explicitly) not at all."""
    ca_cert = (config.get("REDIS_TLS_CA_CERT") or "").strip()
    if ca_cert:
        # The managed service's own CA: full verification, hostname included.
        if ca_cert.startswith("-----BEGIN"):
            return {"ssl_cert_reqs": "required", "ssl_ca_data": ca_cert}
        return {"ssl_cert_reqs": "required", "ssl_ca_certs": ca_cert}
    if not config.get("REDIS_TLS_VERIFY", True):
        # Heroku-style Redis add-ons present self-signed certificates and publish no CA; the
        # operator opted out with REDIS_TLS_VERIFY=false. Traffic stays encrypted.
        return {"ssl_cert_reqs": "none", "ssl_check_hostname": False}
    return {"ssl_cert_reqs": "required"}


def redis_from_config(config):
    url = config["REDIS_URL"]
    options = {"socket_timeout": 10, "socket_connect_timeout": 5, "health_check_interval": 30}
    if not url.startswith("unix://"):  # a Unix socket connection refuses TCP's keep-alive option
        options["socket_keepalive"] = True
    if url.startswith("rediss://"):
        options.update(redis_tls_options(config))
    return redis.Redis.from_url(url, **options)


def get_redis(app=None):
    app = app or current_app
    conn = app.extensions.get("rostersync_redis")
    if conn is None:
        conn = redis_from_config(app.config)
        app.extensions["rostersync_redis"] = conn
    return conn


def redis_key(*parts):
    return current_app.config["REDIS_KEY_PREFIX"] + ":".join(str(p) for p in parts)


def queue_name(kind, config):
    if kind not in QUEUE_KINDS:
        raise ConfigError(f"Unknown queue kind {kind!r}; use one of {QUEUE_KINDS}.")
    return config["QUEUE_QUICK"] if kind == "quick" else config["QUEUE_SYNC"]


def get_queue(kind, app=None):
    """kind is 'quick' (snapshots, checks) or 'sync' (long-running syncs)."""
    app = app or current_app
    timeout = app.config[f"JOB_TIMEOUT_{kind.upper()}_SECONDS"] if kind in QUEUE_KINDS else None
    return Queue(queue_name(kind, app.config), connection=get_redis(app),
                 default_timeout=timeout)


def job_options(kind, config):
    """The enqueue options every job of this kind gets."""
    queue_name(kind, config)
    return {"job_timeout": config[f"JOB_TIMEOUT_{kind.upper()}_SECONDS"],
            "result_ttl": config["JOB_RESULT_TTL_SECONDS"],
            "failure_ttl": config["JOB_FAILURE_TTL_SECONDS"]}


def enqueue(kind, func, *args, job_id=None, description=None, app=None, **options):
    """Enqueues func(*args) on the 'quick' or 'sync' queue with the configured timeouts and TTLs.

    Pass ids, never objects or secrets: arguments are stored in Redis and shown by RQ tools.
    Extra RQ options (on_failure=..., meta=...) pass through and may override the defaults.
    """
    app = app or current_app
    settings = job_options(kind, app.config) | options
    return get_queue(kind, app).enqueue(func, *args, job_id=job_id, description=description,
                                        **settings)


def enqueue_many(kind, calls, app=None):
    """Enqueues many jobs in one Redis round trip (a pipeline), each with the kind's options.

    calls: (func, args, job_id, description) tuples. Job ids must be new: unlike `enqueue`,
    RQ's enqueue_many cannot check uniqueness.
    """
    app = app or current_app
    settings = job_options(kind, app.config)
    queue = get_queue(kind, app)
    return queue.enqueue_many([
        Queue.prepare_data(func, args, job_id=job_id, description=description,
                           timeout=settings["job_timeout"], result_ttl=settings["result_ttl"],
                           failure_ttl=settings["failure_ttl"])
        for func, args, job_id, description in calls])


def explain_redis_error(error, config):
    """A sentence an operator can act on, for start-up and /healthz (never the URL's password)."""
    text = str(error)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return ("Redis presented a TLS certificate that does not verify. Set REDIS_TLS_CA_CERT to "
                "your Redis provider's CA certificate, or, if the provider publishes none (as "
                "with Heroku Redis), set REDIS_TLS_VERIFY=false.")
    if config["REDIS_URL"].startswith("redis://") and ("reset by peer" in text
                                                        or "Connection closed" in text):
        return ("Redis closed the connection: if it only accepts TLS, use the rediss:// URL.")
    return f"Redis is not reachable ({type(error).__name__}). Check REDIS_URL."


def check_redis(app):
    """Pings Redis; raises ConfigError with an actionable message (used by the worker at start)."""
    try:
        get_redis(app).ping()
    except redis.RedisError as error:
        raise ConfigError(explain_redis_error(error, app.config)) from None
