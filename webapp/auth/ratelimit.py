"""Failed sign-in counting in Redis, shared by every web process."""
from flask import current_app

from webapp.redis_conn import get_redis, redis_key


def _keys(email_normalised, address):
    return (redis_key("login-failures", "account", email_normalised),
            redis_key("login-failures", "address", address or "unknown"))


def is_locked_out(email_normalised, address):
    account_key, address_key = _keys(email_normalised, address)
    account_failures, address_failures = get_redis().mget(account_key, address_key)
    config = current_app.config
    return (int(account_failures or 0) >= config["LOGIN_FAILURES_PER_ACCOUNT"]
            or int(address_failures or 0) >= config["LOGIN_FAILURES_PER_ADDRESS"])


def record_failure(email_normalised, address):
    """Counts a failure; each counter's window starts at its first failure and is not extended.

    SET NX EX then INCR, in one MULTI: INCR keeps the expiry SET gave the new key. (EXPIRE's NX
    option would say the same in one command, but it needs Redis 7 and `make run` embeds 6.2.)
    """
    window = current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"]
    pipe = get_redis().pipeline(transaction=True)
    for key in _keys(email_normalised, address):
        pipe.set(key, 0, ex=window, nx=True)
        pipe.incr(key)
    pipe.execute()


def clear_account_failures(email_normalised):
    get_redis().delete(_keys(email_normalised, None)[0])


def lockout_minutes():
    return max(1, current_app.config["LOGIN_FAILURE_WINDOW_SECONDS"] // 60)
