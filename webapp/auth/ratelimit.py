"""Counting attempts in Redis, shared by every web process: failed sign-ins (the lock-out) and
Forgot your password requests, each per account (the address typed) and per network address."""
from flask import current_app

from webapp.redis_conn import get_redis, redis_key

SIGN_IN_FAILURES = ("login-failures", "LOGIN_FAILURES_PER_ACCOUNT", "LOGIN_FAILURES_PER_ADDRESS",
                    "LOGIN_FAILURE_WINDOW_SECONDS")
RESET_REQUESTS = ("reset-requests", "PASSWORD_RESETS_PER_ACCOUNT", "PASSWORD_RESETS_PER_ADDRESS",
                  "PASSWORD_RESET_WINDOW_SECONDS")


def _keys(email_normalised, address, counter=SIGN_IN_FAILURES):
    name = counter[0]
    return (redis_key(name, "account", email_normalised),
            redis_key(name, "address", address or "unknown"))


def is_locked_out(email_normalised, address, counter=SIGN_IN_FAILURES):
    """True when either counter is at its limit."""
    return any(over_limit(email_normalised, address, counter))


def over_limit(email_normalised, address, counter=SIGN_IN_FAILURES):
    """(the account's counter is at its limit, the network address's is)."""
    account_key, address_key = _keys(email_normalised, address, counter)
    account_count, address_count = get_redis().mget(account_key, address_key)
    config = current_app.config
    return (int(account_count or 0) >= config[counter[1]],
            int(address_count or 0) >= config[counter[2]])


def count_attempt(email_normalised, address, counter=SIGN_IN_FAILURES):
    """Counts one attempt; each counter's window starts at its first attempt and is not extended.
    Returns (the account's count, the network address's), this attempt included."""
    window = current_app.config[counter[3]]
    account_count, address_count = get_redis().eval(
        _COUNT, 2, *_keys(email_normalised, address, counter), window)
    return account_count, address_count


# INCR, then an expiry only for a counter that has none: the one INCR just made (its window
# starts now), or one left without (it would otherwise never end). One script, so no key can
# expire between the two. (SET NX EX then INCR could: a counter expiring between them came back
# from INCR with no expiry, locking its account out for good. EXPIRE's NX option would say the
# same in one command, but it needs Redis 7 and `make run` embeds 6.2.)
_COUNT = """
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('INCR', key)
  if redis.call('TTL', key) < 0 then redis.call('EXPIRE', key, ARGV[1]) end
end
return counts
"""


def reserve_attempt(email_normalised, address, counter=SIGN_IN_FAILURES):
    """Counts the attempt before its password or code is checked, and says whether it may be
    checked. Counted after the check, guesses sent at once were all checked (each saw the
    count below the limit), and a right one among them got in. A right answer gives its count
    back (release_attempt)."""
    account_count, address_count = count_attempt(email_normalised, address, counter)
    config = current_app.config
    return account_count <= config[counter[1]] and address_count <= config[counter[2]]


# DECR only a counter that still exists: one that expired meanwhile would come back at -1,
# with no expiry, and so never end.
_GIVE_BACK = """
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then redis.call('DECR', key) end
end
return 0
"""


def release_attempt(email_normalised, address, counter=SIGN_IN_FAILURES):
    """A reserved attempt that was right: it is no failure (the counts before it stay)."""
    get_redis().eval(_GIVE_BACK, 2, *_keys(email_normalised, address, counter))


def clear_account_failures(email_normalised):
    get_redis().delete(_keys(email_normalised, None)[0])


def lockout_minutes(counter=SIGN_IN_FAILURES):
    return max(1, current_app.config[counter[3]] // 60)
