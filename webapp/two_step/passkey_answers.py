"""Why a passkey's answer was refused, in words a person can act on.

py_webauthn says only that an answer failed; this reads the answer's client data and
authenticator data again (they are the browser's, nothing secret) to tell a wrong web address
(PUBLIC_URL not the address people use, or a phishing site) from an expired challenge, a
counter that went backwards (a copied passkey) and the rest.
"""
import json

from webauthn.helpers import base64url_to_bytes, parse_attestation_object, parse_authenticator_data
from webauthn.helpers.exceptions import WebAuthnException

WHAT_NEXT = " Try again, or use another way to verify."
REASONS = {
    "expired": "That passkey request expired or was already used (they last 5 minutes and work "
               "once).",
    "unreadable": "The browser's answer could not be read.",
    "wrong_origin": "The passkey answered for another web address ({seen}) than this "
                    "installation's ({expected}). Open rostersync at {expected} and try again.",
    "wrong_challenge": "That answer was for another passkey request (another tab or window?).",
    "not_yours": "That passkey is not one of this account's.",
    "known": "That passkey is already added to a rostersync account.",
    "counter": "That passkey's use counter went backwards, which happens when a passkey has been "
               "copied, so it was refused. If you trust the device, remove the passkey on "
               "Sign-in and security and add it again.",
    "not_verified": "The passkey did not check it was you (a PIN, fingerprint or face). Use a "
                    "passkey that asks for one.",
    "invalid": "The passkey's answer could not be verified.",
}
FINAL = {"wrong_origin", "counter"}  # their own advice says what to do


def refusal_reason(reason, party=None, seen=""):
    text = REASONS.get(reason, REASONS["invalid"])
    if reason == "wrong_origin":
        text = text.format(seen=seen or "another address",
                           expected=party.origin if party else "its usual address")
    return text if reason in FINAL else text + WHAT_NEXT


def _client_data(credential):
    response = credential.get("response") if isinstance(credential, dict) else None
    if not isinstance(response, dict):
        return None
    try:
        data = json.loads(base64url_to_bytes(str(response.get("clientDataJSON") or "")))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _authenticator_data(credential):
    """The authenticator data of an assertion, or of a registration's attestation; or None."""
    response = credential.get("response") if isinstance(credential, dict) else None
    if not isinstance(response, dict):
        return None
    try:
        if response.get("authenticatorData"):
            return parse_authenticator_data(base64url_to_bytes(str(response["authenticatorData"])))
        attestation = base64url_to_bytes(str(response.get("attestationObject") or ""))
        return parse_attestation_object(attestation).auth_data
    except (WebAuthnException, ValueError, TypeError, KeyError, IndexError):
        return None


def classify(credential, challenge, party, stored_count=None):
    """The REASONS key that fits a refused answer best."""
    client = _client_data(credential)
    if client is None:
        return "unreadable"
    if client.get("origin") != party.origin:
        return "wrong_origin"
    try:
        seen_challenge = base64url_to_bytes(str(client.get("challenge") or ""))
    except ValueError:
        seen_challenge = b""
    if seen_challenge != challenge:
        return "wrong_challenge"
    data = _authenticator_data(credential)
    if data is None:
        return "invalid"
    if stored_count is not None and (data.sign_count or stored_count) \
            and data.sign_count <= stored_count:
        return "counter"
    if not data.flags.uv:
        return "not_verified"
    return "invalid"


def seen_origin(credential):
    data = _client_data(credential)
    return str(data.get("origin"))[:200] if data else ""
