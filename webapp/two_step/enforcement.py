"""Every request of an admin whom a policy asks for two-step and who has none goes to set-up.

Only the set-up itself (the authenticator app and passkey pages and their forms), signing out,
signing in as someone else and the static files stay reachable; everything else, HTMX requests
included (htmx follows HX-Redirect as a whole-page visit), lands on the set-up page. A form
posted meanwhile changes nothing.
"""
from flask import redirect, request, url_for
from flask_login import current_user

from webapp.auth.sessions import current_session_row
from webapp.htmx import came_from_htmx, htmx_redirect
from webapp.two_step.policy import must_set_up

SET_UP_PAGE = "account_security.two_step_setup"
REACHABLE_WHILE_SETTING_UP = {
    SET_UP_PAGE, "account_security.start_authenticator", "account_security.authenticator_setup",
    "account_security.verify_authenticator", "account_security.passkey_registration_options",
    "account_security.add_passkey", "auth.logout", "auth.login", "static", "main.favicon",
    "health.healthz",
}


def send_to_set_up():
    if request.endpoint in REACHABLE_WHILE_SETTING_UP or not current_user.is_authenticated:
        return None
    if not must_set_up(current_user, current_session_row()):
        return None
    url = url_for(SET_UP_PAGE)
    if came_from_htmx():
        return htmx_redirect(url)
    return redirect(url, 303 if request.method != "GET" else 302)


def init_two_step_policy(app):
    app.before_request(send_to_set_up)
