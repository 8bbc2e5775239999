"""One Redis connection per app, created lazily (never at import time)."""
import ssl

import redis
from flask import current_app
from rq import Queue


def redis_from_config(config):
    url = config["REDIS_URL"]
    options = {"socket_timeout": 10, "socket_connect_timeout": 5, "health_check_interval": 30}
    if url.startswith("rediss://") and not config.get("REDIS_TLS_VERIFY", True):
        # Managed Redis add-ons present self-signed certificates; the operator opted out of
        # verification explicitly with REDIS_TLS_VERIFY=false (traffic stays encrypted).
        options["ssl_cert_reqs"] = ssl.CERT_NONE
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


def get_queue(kind, app=None):
    """kind is 'quick' (snapshots, checks) or 'sync' (long-running syncs)."""
    app = app or current_app
    name = app.config["QUEUE_QUICK"] if kind == "quick" else app.config["QUEUE_SYNC"]
    return Queue(name, connection=get_redis(app))
