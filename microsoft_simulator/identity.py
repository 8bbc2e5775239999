"""Identity platform v2.0 endpoints: discovery, keys and the token endpoint."""
import base64
import hashlib
import hmac
import time
import urllib.parse

from flask import Blueprint, current_app, jsonify, request

from . import demo
from .errors import token_error
from .tokens import (GRAPH_DEFAULT_SCOPE, GRAPH_SCOPES, REFRESH_INACTIVITY_LIFETIME,
                     access_token_claims, app_token_claims, client_info, id_token_claims, pkce_s256,
                     short_scope)

bp = Blueprint("identity", __name__)


def _state():
    return current_app.config["SIM_STATE"]


def _issuer_for(tenant):
    # Multi-tenant metadata carries a template issuer, exactly as Entra publishes it.
    tid = "{tenantid}" if tenant.lower() in ("organizations", "common") else demo.TENANT_ID
    return _state().issuer(tid)


@bp.get("/<tenant>/v2.0/.well-known/openid-configuration")
def openid_configuration(tenant):
    state = _state()
    if not state.is_known_tenant(tenant):
        return token_error(400, "invalid_tenant", 90002, tenant=tenant)
    base = f"{state.base_url}/{tenant}"
    return jsonify({
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "jwks_uri": f"{base}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": _issuer_for(tenant),
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "acr", "nonce",
                             "preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"],
        "kerberos_endpoint": f"{base}/kerberos",
        "tenant_region_scope": "EU",
        "cloud_instance_name": urllib.parse.urlparse(state.base_url).netloc,
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": urllib.parse.urlparse(state.base_url).netloc,
    })


@bp.get("/")
def home():
    from . import pages
    return pages.home(demo.TENANT_NAME, _state().base_url)


@bp.get("/<tenant>/discovery/v2.0/keys")
def keys(tenant):
    return jsonify({"keys": [_state().signer.jwk]})


@bp.get("/common/discovery/instance")
def instance_discovery():
    """Lets MSAL's instance discovery succeed if an app points it here explicitly."""
    netloc = urllib.parse.urlparse(_state().base_url).netloc
    return jsonify({
        "tenant_discovery_endpoint": f"{_state().base_url}/organizations/v2.0/.well-known/openid-configuration",
        "api-version": "1.1",
        "metadata": [{"preferred_network": netloc, "preferred_cache": netloc, "aliases": [netloc]}]})


def _client_credentials():
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("basic "):
        raw = base64.b64decode(auth[6:]).decode()
        cid, _, secret = raw.partition(":")
        return urllib.parse.unquote(cid), urllib.parse.unquote(secret)
    return request.form.get("client_id", ""), request.form.get("client_secret")


@bp.post("/<tenant>/oauth2/v2.0/token")
def token(tenant):
    state = _state()
    if not state.is_known_tenant(tenant):
        return token_error(400, "invalid_request", 90002, tenant=tenant)
    client_id, secret = _client_credentials()
    client = state.clients.get(client_id)
    if client is None or client_id in state.tokens.removed_apps:
        # An app the tenant does not hold: never registered, or its enterprise application
        # deleted there ("Delete an enterprise application"); Entra answers AADSTS700016
        # UnauthorizedClient_DoesNotMatchRequest ("Microsoft Entra authentication and
        # authorization error codes"), for a refresh token too.
        return token_error(400, "unauthorized_client", 700016, client_id=client_id, tenant=demo.TENANT_ID)
    if client_id in state.tokens.disabled_apps:
        # Its service principal disabled in the tenant: AADSTS7000112
        # UnauthorizedClientApplicationDisabled ("Error AADSTS7000112 - Application is
        # disabled", Entra troubleshooting; "Microsoft Entra authentication and authorization
        # error codes"), for a refresh token too; tokens already issued stay valid until they
        # expire ("Deactivate an enterprise application").
        return token_error(400, "unauthorized_client", 7000112, client_id=client_id,
                           client_name=client["name"])
    if secret is None or not hmac.compare_digest(secret, client["secret"]):
        return token_error(401, "invalid_client", 7000215, client_id=client_id)
    if client["secret_expired"]:
        return token_error(401, "invalid_client", 7000222, client_id=client_id)
    grant_type = request.form.get("grant_type")
    if grant_type == "authorization_code":
        return _redeem_code(client_id)
    if grant_type == "refresh_token":
        return _redeem_refresh_token(client_id)
    if grant_type == "client_credentials":
        return _client_credentials_token(tenant, client_id)
    return token_error(400, "unsupported_grant_type", 9002313)


def _client_credentials_token(tenant, client_id):
    """App-only token: a specific tenant and one resource's `.default` (client credentials flow).
    The demo app has no application permissions, so the token carries no roles."""
    if tenant.lower() in ("organizations", "common", "consumers"):
        return token_error(400, "invalid_request", 9001023)
    if request.form.get("scope", "").strip().lower() != GRAPH_DEFAULT_SCOPE:
        return token_error(400, "invalid_scope", 70011, scope=request.form.get("scope", ""))
    state = _state()
    lifetime = state.tenant.token_lifetime
    access_token = state.signer.sign(app_token_claims(demo.TENANT_ID, client_id,
                                                      state.clients[client_id]["name"], lifetime))
    state.counters["tokens_issued"] += 1
    response = jsonify({"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                        "access_token": access_token})
    response.headers["Cache-Control"] = "no-store, no-cache"
    return response


def _redeem_code(client_id):
    tokens = _state().tokens
    grant = tokens.codes.get(request.form.get("code", ""))
    if grant is None or grant["client_id"] != client_id:
        return token_error(400, "invalid_grant", 9002313)
    if grant["used"]:
        return token_error(400, "invalid_grant", 54005)
    if grant["expires"] < time.time():
        return token_error(400, "invalid_grant", 70008)
    if request.form.get("redirect_uri") != grant["redirect_uri"]:
        return token_error(400, "invalid_grant", 500112, redirect_uri=request.form.get("redirect_uri"),
                           expected=grant["redirect_uri"])
    if grant["code_challenge"] and not _pkce_ok(grant, request.form.get("code_verifier")):
        return token_error(400, "invalid_grant", 50148)
    with tokens.lock:
        if grant["used"]:
            return token_error(400, "invalid_grant", 54005)
        grant["used"] = True
    return _token_response(client_id, grant["user_id"], grant["scopes"], grant.get("nonce"))


def _pkce_ok(grant, verifier):
    if not verifier:
        return False
    if grant["code_challenge_method"] == "S256":
        return hmac.compare_digest(pkce_s256(verifier), grant["code_challenge"])
    return hmac.compare_digest(verifier, grant["code_challenge"])


def _redeem_refresh_token(client_id):
    tokens = _state().tokens
    grant = tokens.refresh_tokens.get(request.form.get("refresh_token", ""))
    if grant is None or grant["client_id"] != client_id:
        return token_error(400, "invalid_grant", 9002313)
    issued = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(grant["last_used"]))
    if grant["revoked"]:
        return token_error(400, "invalid_grant", 50173, issued=issued, now=time.strftime("%Y-%m-%dT%H:%M:%SZ"))
    if grant["expired"] or time.time() - grant["last_used"] > REFRESH_INACTIVITY_LIFETIME:
        return token_error(400, "invalid_grant", 700082, issued=issued)
    scopes = [short_scope(s) for s in request.form.get("scope", "").split()]
    granted = tokens.granted_graph_scopes(grant["user_id"], client_id)
    missing = [s for s in scopes if s in GRAPH_SCOPES and s not in granted]
    if missing:
        return token_error(400, "invalid_grant", 65001, client_id=client_id,
                           client_name=_state().clients[client_id]["name"])
    grant["last_used"] = time.time()
    return _token_response(client_id, grant["user_id"], scopes or grant["scopes"], None)


def _token_response(client_id, user_id, scopes, nonce):
    state = _state()
    user = state.directory.get_user(user_id)
    if user is None or not user.get("accountEnabled", True):
        return token_error(400, "invalid_grant", 50057)
    graph = sorted(state.tokens.granted_graph_scopes(user_id, client_id) | {s for s in scopes if s in GRAPH_SCOPES})
    oidc = [s for s in ("profile", "openid", "email") if s in scopes]
    lifetime = state.tenant.token_lifetime
    body = {
        "token_type": "Bearer", "scope": " ".join(graph + oidc),
        "expires_in": lifetime, "ext_expires_in": lifetime,
        "access_token": state.signer.sign(access_token_claims(
            demo.TENANT_ID, client_id, state.clients[client_id]["name"], user, graph, lifetime)),
    }
    if "offline_access" in scopes:
        body["refresh_token"] = state.tokens.new_refresh_token(user_id, client_id, scopes)
    if "openid" in scopes:
        body["id_token"] = state.signer.sign(id_token_claims(
            state.issuer(), client_id, demo.TENANT_ID, user, nonce, lifetime, scopes))
    body["client_info"] = client_info(user_id, demo.TENANT_ID)
    state.counters["tokens_issued"] += 1
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store, no-cache"
    return response


def code_challenge_for(verifier):
    """Exposed for tests that drive PKCE by hand."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
