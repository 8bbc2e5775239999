"""The settings of a test (or benchmark) app and of the worker processes that serve it."""
import os
import re
import uuid

from webapp.config import Config

RUN_ID = uuid.uuid4().hex[:8]
# This run's keys and queues in the shared Redis, so parallel runs never see each other's jobs.
REDIS_NAMES = {"REDIS_KEY_PREFIX": f"rostersync-test-{RUN_ID}:",
               "QUEUE_QUICK": f"rostersync-test-{RUN_ID}-quick",
               "QUEUE_SYNC": f"rostersync-test-{RUN_ID}-sync"}
TEST_TOKEN_ENCRYPTION_KEY = "p1VnWqHqV3qSx0k2rjv8lR5Qh5s1d4JbqYtq6o7mYxY="


def make_test_config(database_url, redis_url, **overrides):
    attributes = {
        "ENV_NAME": "testing",
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        # Fast hashing keeps hundreds of test accounts cheap; production uses scrypt.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": redis_url,
        **REDIS_NAMES,
        "TOKEN_ENCRYPTION_KEY": TEST_TOKEN_ENCRYPTION_KEY,
    }
    attributes.update(overrides)
    return type("TestConfig", (Config,), attributes)


WORKER_ENV_KEYS = ("SQLALCHEMY_DATABASE_URI", "REDIS_URL", "REDIS_KEY_PREFIX", "QUEUE_QUICK",
                   "QUEUE_SYNC", "TOKEN_ENCRYPTION_KEY", "SECRET_KEY", "MICROSOFT_CLIENT_ID",
                   "MICROSOFT_CLIENT_SECRET", "MICROSOFT_AUTHORITY", "MICROSOFT_GRAPH_URL",
                   "SUPPORT_URL", "MAIL_SERVER", "MAIL_PORT", "MAIL_DEFAULT_SENDER",
                   "MAIL_TIMEOUT_SECONDS", "PUBLIC_URL")


def worker_environment(app, extra=None):
    """The environment a real `python -m jobs.worker` (or clock) needs to serve this app."""
    env = dict(os.environ)
    for key in WORKER_ENV_KEYS:
        value = app.config.get(key)
        if value is not None:
            env["DATABASE_URL" if key == "SQLALCHEMY_DATABASE_URI" else key] = str(value)
    env.update(extra or {})
    return env


# One round trip: SCAN and DEL inside Redis (6.2 and 7 both replicate a script's effects). KEYS
# is empty; ARGV is the number of key patterns, the patterns, then this run's queue names: an RQ
# job (rq:job:<id>, its results rq:results:<id>) is this run's when its origin is one of them.
_DELETE_MATCHING = """
local deleted = 0
local pattern_count = tonumber(ARGV[1])
local ours = {}
for i = pattern_count + 2, #ARGV do ours[ARGV[i]] = true end
local function each_key(pattern, action)
  local cursor = "0"
  repeat
    local found = redis.call("SCAN", cursor, "MATCH", pattern, "COUNT", 1000)
    cursor = found[1]
    for _, key in ipairs(found[2]) do action(key) end
  until cursor == "0"
end
for i = 2, pattern_count + 1 do
  each_key(ARGV[i], function(key) redis.call("DEL", key); deleted = deleted + 1 end)
end
each_key("rq:job:*", function(key)
  local origin = redis.call("HGET", key, "origin")
  if origin and ours[origin] then
    local id = string.sub(key, 8)
    deleted = deleted + redis.call("DEL", key, "rq:results:" .. id, "rq:job:" .. id .. ":dependents")
  end
end)
return deleted
"""


def clear_redis(conn, names):
    """Deletes this run's keys, RQ queues and registries, and every RQ job taken from this run's
    queues (names: REDIS_KEY_PREFIX, QUEUE_QUICK, QUEUE_SYNC). A job kept from an earlier test
    would make RQ's unique=True refuse the next test's job of the same id (an email's id comes
    from its row id and creation time, which a frozen clock repeats), and kept jobs pile up over
    a session: every scan of Redis gets slower with each test."""
    job_prefix = re.sub(r"[^A-Za-z0-9_-]", "-", names["REDIS_KEY_PREFIX"])
    queues = [names["QUEUE_QUICK"], names["QUEUE_SYNC"]]
    patterns = [f"{names['REDIS_KEY_PREFIX']}*"] + [
        f"rq:*{pattern}*" for pattern in (*queues, job_prefix)]
    return conn.eval(_DELETE_MATCHING, 0, len(patterns), *patterns, *queues)
