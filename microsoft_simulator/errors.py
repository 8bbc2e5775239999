"""Error bodies in the shapes Microsoft documents for Entra and Graph."""
import datetime
import uuid

from flask import jsonify, request

AADSTS = {
    50011: "The redirect URI '{redirect_uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'.",
    50034: "The user account {login} does not exist in the '{tenant}' directory. To sign into this application, the account must be added to the directory.",
    50057: "The user account is disabled.",
    50058: "A silent sign-in request was sent but no user is signed in.",
    50126: "Error validating credentials due to invalid username or password.",
    50196: "The server terminated an operation because it encountered a loop while processing a request.",
    50148: "The code_verifier does not match the code_challenge supplied in the authorization request for PKCE.",
    50173: "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password. The grant was issued on '{issued}' and the TokensValidFrom date (before which tokens are not valid) for this user is '{now}'.",
    54005: "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
    65001: "The user or administrator has not consented to use the application with ID '{client_id}' named '{client_name}'. Send an interactive authorization request for this user and resource.",
    65004: "User declined to consent to access the app.",
    # The admin consent endpoint's decline ("Admin consent on the Microsoft identity platform").
    (65004, "adminconsent"): "The resource owner or authorization server denied the request.",
    70008: "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
    70011: "The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid.",
    90002: "Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.",
    90094: "The grant requires admin permission.",
    500112: "The reply address '{redirect_uri}' does not match the reply address '{expected}' provided when requesting Authorization code.",
    700016: "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.",
    700082: "The refresh token has expired due to inactivity. The token was issued on {issued} and was inactive for 90.00:00:00.",
    7000112: "Application '{client_id}'({client_name}) is disabled.",
    7000222: "The provided client secret keys for app '{client_id}' are expired. Visit the Azure portal to create new keys for your app, or consider using certificate credentials for added security.",
    9001023: "The grant type is not supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.",
    7000215: "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'.",
    9002313: "Invalid request. Request is malformed or invalid.",
}


def now_iso(precise=True):
    moment = datetime.datetime.now(datetime.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S") + "Z" if precise else moment.strftime("%Y-%m-%dT%H:%M:%S")


def aadsts_description(code, variant=None, **details):
    """Microsoft's error_description: AADSTS code, message, trace, correlation and timestamp.
    variant picks the wording one endpoint documents for a code another words differently."""
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    message = AADSTS.get((code, variant), AADSTS[code]).format_map(_Default(details))
    text = f"AADSTS{code}: {message} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {now_iso()}"
    return text, trace, correlation


class _Default(dict):
    def __missing__(self, key):
        return "{" + key + "}"


def token_error(status, error, code, **details):
    description, trace, correlation = aadsts_description(code, **details)
    body = {"error": error, "error_description": description, "error_codes": [code],
            "timestamp": now_iso(), "trace_id": trace, "correlation_id": correlation,
            "error_uri": f"https://login.microsoftonline.com/error?code={code}"}
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store, no-cache"
    return response


def graph_error(status, code, message, headers=None):
    request_id = getattr(request, "graph_request_id", None) or str(uuid.uuid4())
    body = {"error": {"code": code, "message": message, "innerError": {
        "date": now_iso(precise=False), "request-id": request_id,
        "client-request-id": request.headers.get("client-request-id", request_id)}}}
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class GraphError(Exception):
    """Raised anywhere in a Graph request; the app turns it into Graph's error body."""

    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def graph_error_response(exc):
    """The error handler for GraphError and odata.QueryError (which has no headers)."""
    return graph_error(exc.status, exc.code, exc.message, getattr(exc, "headers", None))
