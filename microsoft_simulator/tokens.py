"""Token issuing and validation: JWTs, authorization codes, refresh tokens, consent."""
import base64
import hashlib
import json
import secrets
import threading
import time
import uuid

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
GRAPH_AUDIENCES = {GRAPH_APP_ID, "https://graph.microsoft.com"}
OIDC_SCOPES = {"openid", "profile", "email", "offline_access"}
GRAPH_SCOPES = {"User.Read", "User.ReadBasic.All", "User.Read.All", "GroupMember.Read.All",
                "Group.Read.All", "Directory.Read.All"}
ADMIN_ONLY_SCOPES = {"User.Read.All", "GroupMember.Read.All", "Group.Read.All", "Directory.Read.All"}
GRAPH_DEFAULT_SCOPE = "https://graph.microsoft.com/.default"
CODE_LIFETIME = 600
REFRESH_INACTIVITY_LIFETIME = 90 * 24 * 3600


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def short_scope(scope):
    """'https://graph.microsoft.com/User.Read' -> 'User.Read'; case as Entra spells it."""
    name = scope.rsplit("/", 1)[-1] if scope.lower().startswith("https://graph.microsoft.com/") else scope
    for known in GRAPH_SCOPES | OIDC_SCOPES:
        if known.lower() == name.lower():
            return known
    return name


def pkce_s256(verifier: str) -> str:
    return b64url(hashlib.sha256(verifier.encode("ascii")).digest())


class Signer:
    def __init__(self, private_key):
        self.key = private_key
        numbers = private_key.public_key().public_numbers()
        self.kid = b64url(hashlib.sha256(str(numbers.n).encode()).digest()[:16])
        self.jwk = {"kty": "RSA", "use": "sig", "kid": self.kid, "x5t": self.kid,
                    "n": b64url(numbers.n.to_bytes(256, "big")), "e": b64url(numbers.e.to_bytes(3, "big"))}

    def sign(self, claims: dict) -> str:
        header = {"typ": "JWT", "alg": "RS256", "kid": self.kid}
        signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return signing_input + "." + b64url(signature)

    def verify(self, token: str):
        """Return claims, or raise ValueError with Graph's message."""
        parts = token.split(".")
        if len(parts) != 3:
            raise ValueError("Invalid JWT token. Token format not valid.")
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            self.key.public_key().verify(b64url_decode(parts[2]), f"{parts[0]}.{parts[1]}".encode(),
                                         padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise ValueError("Access token validation failure. Invalid signature.")
        except ValueError:
            raise ValueError("Invalid JWT token. Token format not valid.")
        if header.get("kid") != self.kid:
            raise ValueError("Access token validation failure. Invalid signature.")
        return claims


class TokenStore:
    def __init__(self):
        self.lock = threading.Lock()
        self.codes = {}
        self.refresh_tokens = {}
        self.user_consents = set()    # (user_id, client_id, scope)
        self.tenant_consents = set()  # (client_id, scope)
        # Apps whose enterprise application (service principal) the tenant's admin deleted.
        self.removed_apps = set()
        # Apps whose service principal the tenant's admin disabled (Enabled for users to
        # sign-in: No); consent does not enable them again, only the admin does.
        self.disabled_apps = set()
        self.issued = 0

    def new_code(self, **grant):
        code = "1.AQ" + secrets.token_urlsafe(48)
        with self.lock:
            if len(self.codes) > 10000:  # drop expired codes now and then
                now = time.time()
                self.codes = {c: g for c, g in self.codes.items() if g["expires"] > now}
            self.codes[code] = dict(grant, expires=time.time() + CODE_LIFETIME, used=False)
        return code

    def new_refresh_token(self, user_id, client_id, scopes):
        token = "1.AR" + secrets.token_urlsafe(64)
        with self.lock:
            self.refresh_tokens[token] = dict(user_id=user_id, client_id=client_id, scopes=scopes,
                                              last_used=time.time(), revoked=False, expired=False)
        return token

    def revoke_user(self, user_id):
        with self.lock:
            hits = [t for t in self.refresh_tokens.values() if t["user_id"] == user_id]
            for grant in hits:
                grant["revoked"] = True
        return len(hits)

    def expire_user(self, user_id=None):
        with self.lock:
            hits = [t for t in self.refresh_tokens.values() if user_id in (None, t["user_id"])]
            for grant in hits:
                grant["expired"] = True
        return len(hits)

    def has_consent(self, user_id, client_id, scopes):
        return all((client_id, s) in self.tenant_consents or (user_id, client_id, s) in self.user_consents
                   for s in scopes if s in GRAPH_SCOPES)

    def grant_consent(self, user_id, client_id, scopes):
        with self.lock:
            self.removed_apps.discard(client_id)  # consent creates the service principal again
            self.user_consents.update((user_id, client_id, s) for s in scopes if s in GRAPH_SCOPES)

    def grant_tenant_consent(self, client_id, scopes):
        with self.lock:
            self.removed_apps.discard(client_id)
            self.tenant_consents.update((client_id, s) for s in scopes)

    def remove_app(self, client_id):
        """The tenant's admin deletes the app's enterprise application (service principal): its
        consents go with it, and the token endpoint no longer finds the app in this tenant."""
        with self.lock:
            self.removed_apps.add(client_id)
            self.user_consents = {c for c in self.user_consents if c[1] != client_id}
            self.tenant_consents = {c for c in self.tenant_consents if c[0] != client_id}

    def set_app_enabled(self, client_id, enabled):
        """The tenant's admin turns the app's enterprise application off or on again
        (Enterprise applications › the app › Properties › Enabled for users to sign-in)."""
        with self.lock:
            if enabled:
                self.disabled_apps.discard(client_id)
            else:
                self.disabled_apps.add(client_id)

    def needs_admin(self, client_id, scopes):
        return [s for s in scopes if s in ADMIN_ONLY_SCOPES and (client_id, s) not in self.tenant_consents]

    def granted_graph_scopes(self, user_id, client_id):
        """Entra returns every Graph scope the user has consented for this client."""
        granted = {s for (u, c, s) in self.user_consents if u == user_id and c == client_id}
        granted |= {s for (c, s) in self.tenant_consents if c == client_id}
        return granted


def id_token_claims(issuer, client_id, tenant_id, user, nonce, lifetime, scopes=("profile",)):
    """A v2.0 ID token, as Entra documents it: name, preferred_username and oid only with the
    profile scope; email only with the email scope, for an account that has one."""
    now = int(time.time())
    claims = {"aud": client_id, "iss": issuer, "iat": now, "nbf": now, "exp": now + lifetime,
              "rh": "0.AQ" + b64url(user["id"].encode())[:20],
              "sub": b64url(hashlib.sha256(f"{user['id']}:{client_id}".encode()).digest()),
              "tid": tenant_id, "uti": b64url(uuid.uuid4().bytes), "ver": "2.0"}
    if "profile" in scopes:
        claims.update(name=user["displayName"], oid=user["id"],
                      preferred_username=user["userPrincipalName"])
    if nonce is not None:
        claims["nonce"] = nonce
    if "email" in scopes and user.get("mail"):
        claims["email"] = user["mail"]
    return claims


def access_token_claims(tenant_id, client_id, app_name, user, scopes, lifetime):
    now = int(time.time())
    return {"aud": GRAPH_APP_ID, "iss": f"https://sts.windows.net/{tenant_id}/", "iat": now,
            "nbf": now, "exp": now + lifetime, "app_displayname": app_name, "appid": client_id,
            "idtyp": "user", "name": user["displayName"], "oid": user["id"],
            "scp": " ".join(sorted(scopes)), "sub": b64url(user["id"].encode()),
            "tid": tenant_id, "unique_name": user["userPrincipalName"],
            "upn": user["userPrincipalName"], "uti": b64url(uuid.uuid4().bytes), "ver": "1.0"}


def app_token_claims(tenant_id, client_id, app_name, lifetime):
    """An app-only token (client credentials): no user, no scp; roles only for application
    permissions, of which the demo app has none."""
    now = int(time.time())
    return {"aud": GRAPH_APP_ID, "iss": f"https://sts.windows.net/{tenant_id}/", "iat": now,
            "nbf": now, "exp": now + lifetime, "app_displayname": app_name, "appid": client_id,
            "idtyp": "app", "oid": client_id, "sub": client_id, "tid": tenant_id,
            "uti": b64url(uuid.uuid4().bytes), "ver": "1.0"}


def client_info(user_id, tenant_id):
    return b64url(json.dumps({"uid": user_id, "utid": tenant_id}).encode())
