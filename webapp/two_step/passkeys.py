"""Passkeys: WebAuthn with py_webauthn, user verification required, relying party from PUBLIC_URL
(its host is the relying party id, its scheme, host and port the only origin accepted).

Each ceremony (adding a passkey, or using one at sign-in) starts with a challenge of 32 random
bytes kept in Redis for CHALLENGE_SECONDS under the account, the ceremony and a random id that
only this browser's (signed) session holds, and taken with GETDEL when the browser's answer
comes: a challenge works once, for that account, that ceremony and that browser only. py_webauthn checks the answer (type, challenge, origin, relying party, user
presence and verification, signature, a counter that must go up); a credential is only ever
looked up among the account's own passkeys. Neither a challenge nor a credential goes into a
log or an audit entry.
"""
import hashlib
import ipaddress
import json
import logging
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app, session
from sqlalchemy import delete, select, update
from webauthn import (generate_authentication_options, generate_registration_options,
                      options_to_json, verify_authentication_response,
                      verify_registration_response)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (AttestationConveyancePreference,
                                      AuthenticatorSelectionCriteria,
                                      PublicKeyCredentialDescriptor, ResidentKeyRequirement,
                                      UserVerificationRequirement)

from webapp import audit
from webapp.audit import actions
from webapp.clock import utcnow
from webapp.errors import InvalidFields, ServiceError
from webapp.extensions import db
from webapp.redis_conn import get_redis, redis_key
from webapp.two_step.models import PASSKEY_NAME_MAX_LENGTH, Passkey
from webapp.two_step.passkey_answers import classify, refusal_reason, seen_origin

REGISTRATION, AUTHENTICATION = "registration", "authentication"
CHALLENGE_SECONDS = 300
RP_NAME = "rostersync"
CREDENTIAL_MAX_BYTES = 64 * 1024
log = logging.getLogger(__name__)


class PasskeyRefused(ServiceError):
    """The browser's answer was not accepted; str() says why and what to do."""


class PasskeysUnavailable(ServiceError):
    """PUBLIC_URL cannot be a relying party (an IP address, or not set)."""


@dataclass(frozen=True)
class RelyingParty:
    id: str
    origin: str


def relying_party(config=None):
    url = (config or current_app.config).get("PUBLIC_URL") or ""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host or _is_ip_address(host):
        raise PasskeysUnavailable(
            "Passkeys need this installation's PUBLIC_URL to be its web address with a domain "
            "name, such as https://rostersync.example.org (or http://localhost:5000 on your own "
            f"computer); it is {url or 'not set'!r}. Ask whoever runs rostersync to set it; "
            "until then use an authenticator app.")
    return RelyingParty(host, f"{parts.scheme}://{parts.netloc}")


def unavailable_reason(config=None):
    """Why passkeys cannot be used on this installation, or None when they can."""
    try:
        relying_party(config)
    except PasskeysUnavailable as problem:
        return str(problem)
    return None


def _is_ip_address(host):
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def user_handle(user):
    """The WebAuthn user id: the same for every passkey of the account, and no personal data."""
    return hashlib.sha256(f"rostersync account {user.id}".encode()).digest()


def passkeys_of(user):
    return db.session.scalars(select(Passkey).where(Passkey.user_id == user.id)
                              .order_by(Passkey.created_at, Passkey.id)).all()


# ----- challenges -----

def _challenge_key(ceremony, user, request_id):
    return redis_key("webauthn-challenge", ceremony, user.id, request_id)


def _keep_challenge(ceremony, user, **context):
    challenge, request_id = secrets.token_bytes(32), secrets.token_urlsafe(16)
    stored = {"challenge": bytes_to_base64url(challenge), **context}
    get_redis().set(_challenge_key(ceremony, user, request_id), json.dumps(stored),
                    ex=CHALLENGE_SECONDS)
    session[f"webauthn_{ceremony}"] = request_id
    return challenge


def _take_challenge(ceremony, user):
    request_id = session.pop(f"webauthn_{ceremony}", None)
    raw = get_redis().getdel(_challenge_key(ceremony, user, request_id)) \
        if isinstance(request_id, str) else None
    if not raw:
        raise PasskeyRefused(refusal_reason("expired"))
    stored = json.loads(raw)
    return base64url_to_bytes(stored.pop("challenge")), stored


# ----- adding a passkey -----

def checked_name(name):
    name = " ".join((name or "").split())
    if not name:
        raise InvalidFields({"name": "Give the passkey a name you will recognise, such as "
                                     "Office laptop."})
    if len(name) > PASSKEY_NAME_MAX_LENGTH:
        raise InvalidFields({"name": f"Use at most {PASSKEY_NAME_MAX_LENGTH} characters for the "
                                     f"name; this one has {len(name):,}."})
    return name


def registration_options(user, name):
    """The options for navigator.credentials.create(), as JSON; the name waits with the
    challenge. Raises InvalidFields (name) or PasskeysUnavailable."""
    name = checked_name(name)
    party = relying_party()
    challenge = _keep_challenge(REGISTRATION, user, name=name)
    return options_to_json(generate_registration_options(
        rp_id=party.id, rp_name=RP_NAME, user_id=user_handle(user), user_name=user.email,
        user_display_name=user.name_or_email, challenge=challenge,
        timeout=CHALLENGE_SECONDS * 1000, attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=row.credential_id)
                             for row in passkeys_of(user)]))


def register(user, credential_json):
    """Checks the browser's answer to this account's registration challenge and keeps the new
    passkey. Raises PasskeyRefused. The caller commits."""
    party = relying_party()
    credential = _parsed(credential_json)
    challenge, stored = _take_challenge(REGISTRATION, user)
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=party.id,
            expected_origin=party.origin, require_user_verification=True)
    except (WebAuthnException, ValueError, TypeError, KeyError, IndexError):
        raise _refused(user, REGISTRATION, credential, challenge, party) from None
    if db.session.scalar(select(Passkey.id).where(
            Passkey.credential_id == verified.credential_id)) is not None:
        raise _refused(user, REGISTRATION, credential, challenge, party, "known")
    row = Passkey(user_id=user.id, credential_id=verified.credential_id,
                  public_key=verified.credential_public_key, sign_count=verified.sign_count,
                  name=stored["name"], created_at=utcnow())
    db.session.add(row)
    audit.record(actions.PASSKEY_ADDED, actor=user, after={"name": row.name})
    return row


# ----- using one at sign-in -----

def authentication_options(user):
    """The options for navigator.credentials.get(), limited to the account's passkeys."""
    party = relying_party()
    challenge = _keep_challenge(AUTHENTICATION, user)
    return options_to_json(generate_authentication_options(
        rp_id=party.id, challenge=challenge, timeout=CHALLENGE_SECONDS * 1000,
        allow_credentials=[PublicKeyCredentialDescriptor(id=row.credential_id)
                           for row in passkeys_of(user)],
        user_verification=UserVerificationRequirement.REQUIRED))


def authenticate(user, credential_json):
    """The account's passkey that answered this account's challenge, its counter moved on.
    Raises PasskeyRefused. The caller commits."""
    party = relying_party()
    credential = _parsed(credential_json)
    challenge, _ = _take_challenge(AUTHENTICATION, user)
    row = _own_passkey(user, credential)
    if row is None or not _handle_matches(user, credential):
        raise _refused(user, AUTHENTICATION, credential, challenge, party, "not_yours")
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=challenge, expected_rp_id=party.id,
            expected_origin=party.origin, credential_public_key=row.public_key,
            credential_current_sign_count=row.sign_count, require_user_verification=True)
    except (WebAuthnException, ValueError, TypeError, KeyError, IndexError):
        raise _refused(user, AUTHENTICATION, credential, challenge, party,
                       stored_count=row.sign_count) from None
    # Only from the count this check was made against: a racing use of a copy loses here.
    moved = db.session.execute(update(Passkey).where(
        Passkey.id == row.id, Passkey.sign_count == row.sign_count)
        .values(sign_count=verified.new_sign_count, last_used_at=utcnow())).rowcount
    if moved != 1:
        raise _refused(user, AUTHENTICATION, credential, challenge, party, "counter")
    return row


def _parsed(credential_json):
    text = credential_json or ""
    if len(text) > CREDENTIAL_MAX_BYTES:
        raise PasskeyRefused(refusal_reason("unreadable"))
    try:
        credential = json.loads(text)
    except ValueError:
        raise PasskeyRefused(refusal_reason("unreadable")) from None
    if not isinstance(credential, dict):
        raise PasskeyRefused(refusal_reason("unreadable"))
    return credential


def _credential_id(credential):
    try:
        return base64url_to_bytes(str(credential.get("rawId") or credential.get("id") or ""))
    except ValueError:
        return b""


def _own_passkey(user, credential):
    credential_id = _credential_id(credential)
    if not credential_id:
        return None
    return db.session.scalar(select(Passkey).where(Passkey.user_id == user.id,
                                                   Passkey.credential_id == credential_id))


def _handle_matches(user, credential):
    """A discoverable passkey says which account it was made for: it must be this one."""
    response = credential.get("response")
    handle = response.get("userHandle") if isinstance(response, dict) else None
    if not handle:
        return True
    try:
        return base64url_to_bytes(str(handle)) == user_handle(user)
    except ValueError:
        return False


def _refused(user, ceremony, credential, challenge, party, reason=None, stored_count=None):
    reason = reason or classify(credential, challenge, party, stored_count)
    # The reason code only: never the challenge, the credential or the library's words.
    log.warning("passkey %s refused for account %s: %s", ceremony, user.id, reason)
    return PasskeyRefused(refusal_reason(reason, party, seen_origin(credential)))


def remove(user, passkey_id):
    """Removes one of the account's own passkeys; the caller commits. Returns its name."""
    row = db.session.get(Passkey, passkey_id)
    if row is None or row.user_id != user.id:
        raise ServiceError("That passkey is not one of yours (any more).")
    db.session.execute(delete(Passkey).where(Passkey.id == row.id))
    audit.record(actions.PASSKEY_REMOVED, actor=user, after={"name": row.name})
    return row.name
