"""One redirect URI, /microsoft/callback, for every trip to Microsoft's sign-in pages.

Entra accepts only redirect URIs registered exactly, so Connect with Microsoft and the sign-ins
to rostersync itself (Sign in with Microsoft, linking an account, accepting an invitation with
Microsoft) share the one the app registration already has. Connect keeps its flow as
webapp.microsoft.connect does. A sign-in flow waits in Redis under a random id; the cookie
session holds that id and the flow's state, so only the browser that started a flow can finish
it, once. The callback hands a request to the sign-in handler for the flow's purpose when the
state is that flow's, or when nobody is signed in (so nobody can be finishing a Connect).
"""
import hmac
import json
import secrets

from flask import session

from webapp.redis_conn import get_redis, redis_key

FLOW_TTL_SECONDS = 15 * 60
PENDING_KEY = "microsoft_sign_in_flow"
SIGN_IN = "sign_in"  # the purpose that answers a callback nobody else claims
_handlers = {}


def handles(purpose):
    """Registers view(stored_flow_or_None) to finish the sign-in flows of one purpose."""
    def register(view):
        _handlers[purpose] = view
        return view
    return register


def keep_flow(purpose, flow, **context):
    """Stores an MSAL flow with what its handler needs (ids only, never a token)."""
    flow_id = secrets.token_urlsafe(32)
    stored = {"purpose": purpose, "flow": flow, **context}
    get_redis().set(redis_key("msal-sign-in-flow", flow_id), json.dumps(stored),
                    ex=FLOW_TTL_SECONDS)
    session[PENDING_KEY] = {"id": flow_id, "state": flow.get("state", "")}


def _pending_matches(state):
    pending = session.get(PENDING_KEY)
    return bool(pending and state) and hmac.compare_digest(str(pending.get("state", "")),
                                                           str(state))


def sign_in_handler(state, signed_in):
    """The view that answers this callback, or None to leave it to Connect with Microsoft."""
    if not (_pending_matches(state) or not signed_in):
        return None
    stored = take_pending_flow()
    purpose = stored["purpose"] if stored else SIGN_IN
    handler = _handlers.get(purpose) or _handlers[SIGN_IN]
    return lambda: handler(stored)


def take_pending_flow():
    """This browser's pending flow, removed as it is read: a replayed callback finds nothing."""
    pending = session.pop(PENDING_KEY, None)
    if not pending or not pending.get("id"):
        return None
    raw = get_redis().getdel(redis_key("msal-sign-in-flow", str(pending["id"])))
    return json.loads(raw) if raw else None
