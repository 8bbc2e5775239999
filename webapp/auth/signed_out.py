"""The answer to a request that needs a signed-in admin when nobody is signed in.

An HTMX request gets `HX-Redirect` to the sign-in page, which htmx follows as a whole-page visit:
following an ordinary redirect would swap the sign-in page, header and all, into a fragment.
A session that ended at this request (signed out elsewhere, idle, no school left) says why.
"""
from flask import current_app, flash, redirect, request, url_for
from flask_login import current_user

from webapp.auth.next_page import page_to_return_to, same_site_path
from webapp.auth.sessions import session_end_message
from webapp.htmx import came_from_htmx, htmx_redirect

SIGN_IN_TO_CONTINUE = "Sign in to continue."
SIGNED_OUT = ("You were signed out (in another tab or window, for example), so nothing was "
              "changed. Sign in again to carry on where you were.")


def public_form(view):
    """Marks a view whose form is posted by people who are not signed in (sign in, Forgot your
    password, an invitation): a refused CSRF token there is the CSRF page, not "signed out"."""
    view.public_form = True
    return view


def _was_on_this_site():
    """An HTMX request, or a click from one of this site's pages: someone who was signed in."""
    return came_from_htmx() or same_site_path(request.referrer) is not None


def sign_in_again():
    message = session_end_message() or (SIGNED_OUT if _was_on_this_site() else SIGN_IN_TO_CONTINUE)
    flash(message, "info")
    sign_in_url = url_for("auth.login", next=page_to_return_to())
    if came_from_htmx():
        return htmx_redirect(sign_in_url)
    return redirect(sign_in_url, 303 if request.method != "GET" else 302)


def is_signed_out_form_post():
    """A refused CSRF token after signing out: the session that held the token is gone.
    The public forms are left to the CSRF page (nobody was signed in to lose)."""
    view = current_app.view_functions.get(request.endpoint)
    return not current_user.is_authenticated and not getattr(view, "public_form", False)


def init_signed_out(login_manager):
    login_manager.login_view = "auth.login"
    login_manager.unauthorized_handler(sign_in_again)
