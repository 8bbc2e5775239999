"""Why a passkey's answer was refused, in words a person can act on.

py_webauthn says only that an answer failed; this reads the answer's client data and
authenticator data again (they are the browser's, nothing secret) to tell a wrong web address
(PUBLIC_URL not the address people use, or a phishing site) from an expired challenge, a
counter that went backwards (a copied passkey) and the rest.
"""
import json
import struct

from webauthn.helpers import base64url_to_bytes

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


def _sign_count(credential):
    response = credential.get("response") if isinstance(credential, dict) else None
    try:
        data = base64url_to_bytes(str(response.get("authenticatorData") or ""))
        return struct.unpack(">I", data[33:37])[0], data[32]
    except (ValueError, AttributeError, IndexError, struct.error):
        return None, 0


def classify(credential, challenge, party, stored_count=None):
    """The REASONS key that fits a refused answer best."""
    data = _client_data(credential)
    if data is None:
        return "unreadable"
    if data.get("origin") != party.origin:
        return "wrong_origin"
    try:
        seen_challenge = base64url_to_bytes(str(data.get("challenge") or ""))
    except ValueError:
        seen_challenge = b""
    if seen_challenge != challenge:
        return "wrong_challenge"
    count, flags = _sign_count(credential)
    if stored_count is not None and count is not None and (count or stored_count) \
            and count <= stored_count:
        return "counter"
    if count is not None and not flags & 0x04:
        return "not_verified"
    return "invalid"


def seen_origin(credential):
    data = _client_data(credential)
    return str(data.get("origin"))[:200] if data else ""
