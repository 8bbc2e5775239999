"""A passkey authenticator in software, for route tests: what a browser and a platform
authenticator send (WebAuthn's JSON: clientDataJSON, a "none" attestation, signed assertions),
made from the options the server hands out, with an ES256 key of its own. Each answer can be
bent the way an attacker or a broken device would: another origin, another challenge, a counter
that goes backwards, no user verification. (The browser test uses Chromium's own virtual
authenticator instead.)"""
import hashlib
import json
import os
import struct

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url

UP, UV, AT = 0x01, 0x04, 0x40


class SoftAuthenticator:
    def __init__(self, origin, rp_id=None):
        self.origin = origin
        self.rp_id = rp_id or origin.split("://", 1)[1].split(":")[0]
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.sign_count = 0
        self.user_handle = None

    def _cose_public_key(self):
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                            -3: numbers.y.to_bytes(32, "big")})

    def _auth_data(self, flags, count, attested=b""):
        return (hashlib.sha256(self.rp_id.encode()).digest() + bytes([flags])
                + struct.pack(">I", count) + attested)

    def _client_data(self, kind, options, origin=None, challenge=None):
        return json.dumps({"type": kind, "challenge": challenge or options["challenge"],
                           "origin": origin or self.origin, "crossOrigin": False}).encode()

    def register(self, options_json, origin=None, challenge=None, verified=True):
        """The JSON answer to navigator.credentials.create(options)."""
        options = json.loads(options_json)
        self.user_handle = base64url_to_bytes(options["user"]["id"])
        attested = (bytes(16) + struct.pack(">H", len(self.credential_id))
                    + self.credential_id + self._cose_public_key())
        flags = UP | AT | (UV if verified else 0)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {},
                                   "authData": self._auth_data(flags, 0, attested)})
        client_data = self._client_data("webauthn.create", options, origin, challenge)
        return json.dumps({
            "id": bytes_to_base64url(self.credential_id),
            "rawId": bytes_to_base64url(self.credential_id), "type": "public-key",
            "response": {"clientDataJSON": bytes_to_base64url(client_data),
                         "attestationObject": bytes_to_base64url(attestation),
                         "transports": ["internal"]},
            "clientExtensionResults": {}})

    def assert_(self, options_json, origin=None, challenge=None, count=None, verified=True,
                user_handle=None):
        """The JSON answer to navigator.credentials.get(options), signed; the counter goes up
        by one unless `count` says what it is."""
        options = json.loads(options_json)
        self.sign_count = self.sign_count + 1 if count is None else count
        auth_data = self._auth_data(UP | (UV if verified else 0), self.sign_count)
        client_data = self._client_data("webauthn.get", options, origin, challenge)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                  ec.ECDSA(hashes.SHA256()))
        handle = user_handle if user_handle is not None else self.user_handle
        return json.dumps({
            "id": bytes_to_base64url(self.credential_id),
            "rawId": bytes_to_base64url(self.credential_id), "type": "public-key",
            "response": {"clientDataJSON": bytes_to_base64url(client_data),
                         "authenticatorData": bytes_to_base64url(auth_data),
                         "signature": bytes_to_base64url(signature),
                         "userHandle": bytes_to_base64url(handle) if handle else None},
            "clientExtensionResults": {}})
