"""When Microsoft refuses the platform's own app credentials: the operators' problem, not a school's.

The token endpoint answers `invalid_client` when the app registration's client secret has
expired (AADSTS7000222) or is wrong (AADSTS7000215): "the Application Administrator updates the
credentials" (Microsoft Entra authentication and authorization error codes). Every school's token
request fails the same way, and reconnecting cannot help. So a refusal:

- fails the run with REFUSED_MESSAGE (no school is told to reconnect);
- sends OPERATIONS_EMAIL one mail per day and code (the notifications' own dedupe);
- pauses automatic syncs platform-wide: a flag in Redis that the schedule tick honours, with a
  probe after FIRST_PROBE_AFTER, then twice as long each time, up to LONGEST_PAUSE;
- clears as soon as any token request succeeds (a probe, Sync now, the operator's check).
"""
import json
import logging
import re
from datetime import datetime, timedelta

from redis.exceptions import RedisError

from webapp.clock import as_utc, utcnow
from webapp.redis_conn import get_redis, redis_key

REFUSED_MESSAGE = ("The platform's Microsoft app credentials were refused (expired or wrong client "
                   "secret); the platform's operators have been told; nothing to do here.")
CODE_WORDS = {
    "AADSTS7000222": "the client secret has expired: create a new one in Microsoft Entra "
                     "(App registrations › Certificates & secrets) and set MICROSOFT_CLIENT_SECRET "
                     "and MICROSOFT_CLIENT_SECRET_EXPIRES",
    "AADSTS7000215": "the client secret is wrong: MICROSOFT_CLIENT_SECRET must hold the secret's "
                     "Value (shown once when it was created), not its Secret ID",
}
FIRST_PROBE_AFTER = timedelta(minutes=5)
LONGEST_PAUSE = timedelta(hours=6)
log = logging.getLogger(__name__)


class AppCredentialsRefused(Exception):
    """Microsoft refused the platform's client id and secret. str() is safe to show anyone."""

    def __init__(self, code=""):
        super().__init__(REFUSED_MESSAGE)
        self.code = code


def aadsts_code(result):
    """'AADSTS7000222' from a token endpoint error body (error_codes, else the description)."""
    codes = result.get("error_codes") or []
    if codes:
        return f"AADSTS{codes[0]}"
    found = re.match(r"(AADSTS\d+)", result.get("error_description") or "")
    return found.group(1) if found else ""


def plain_words(code):
    return CODE_WORDS.get(code, "Microsoft refused the app's client id or secret "
                                "(check MICROSOFT_CLIENT_ID and MICROSOFT_CLIENT_SECRET)")


def _key():
    return redis_key("microsoft-app-credentials-refused")


def refusal():
    """The recorded refusal (code, since, failures, next_probe_at), or None when accepted. With
    Redis out of reach nothing is known to be paused: ticks, pages and runs go on as before."""
    try:
        raw = get_redis().get(_key())
    except RedisError as error:
        log.warning("could not read the app credentials flag (%s)", type(error).__name__)
        return None
    return json.loads(raw) if raw else None


def _pause_longer(record, now):
    record["failures"] += 1
    pause = min(FIRST_PROBE_AFTER * 2 ** (record["failures"] - 1), LONGEST_PAUSE)
    record["next_probe_at"] = (now + pause).isoformat()
    try:
        get_redis().set(_key(), json.dumps(record))
    except RedisError as error:  # the run still fails with the message; the next one records it
        log.warning("could not record the app credentials pause (%s)", type(error).__name__)


def refused(result, now=None):
    """Record Microsoft's invalid_client answer; returns the exception the caller raises."""
    now, code = now or utcnow(), aadsts_code(result)
    record = refusal() or {"since": now.isoformat(), "failures": 0}
    record.update(code=code, last_refused_at=now.isoformat())
    _pause_longer(record, now)
    log.error("Microsoft refused the app credentials (%s: %s); automatic syncs paused until %s",
              code or "invalid_client", plain_words(code), record["next_probe_at"])
    _tell_operators(code, now)
    return AppCredentialsRefused(code)


def accepted():
    """A token request succeeded: the credentials work again and automatic syncs resume."""
    try:
        resumed = get_redis().delete(_key())
    except RedisError:
        return  # nothing could have been paused that Redis cannot tell us about
    if resumed:
        log.warning("Microsoft accepts the app credentials again; automatic syncs resume")


def postpone(now=None):
    """The probe could not ask Microsoft (unreachable, nobody connected): wait longer."""
    record = refusal()
    if record is not None:
        _pause_longer(record, now or utcnow())


def probe_due(record, now):
    """True when a paused platform should try one token request again."""
    return as_utc(datetime.fromisoformat(record["next_probe_at"])) <= now


def operator_message(record):
    code = record.get("code") or "invalid_client"
    return (f"Microsoft refuses the platform's app credentials ({code}: {plain_words(code)}). "
            f"Automatic syncs are paused for every school since {record['since']}; "
            "they resume once a token request succeeds (run `flask --app wsgi microsoft check`).")


def _tell_operators(code, now):
    from webapp.notifications import events  # notifications read Microsoft settings too
    record = refusal() or {"code": code, "since": now.isoformat()}
    events.raise_event(None, events.APP_CREDENTIALS, f"{events.APP_CREDENTIALS}:{code}",
                       now.date(), {"message": operator_message(record)})
