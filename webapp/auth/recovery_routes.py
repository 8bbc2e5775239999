"""Forgot your password: ask for a link, then choose a new password with it."""
from flask import flash, redirect, render_template, request, session, url_for

from webapp.auth import recovery, tokens
from webapp.auth.blueprint import bp
from webapp.auth.link_pages import opened, set_password_from_link
from webapp.auth.passwords import MAX_LENGTH, MIN_LENGTH
from webapp.auth.services import EMAIL_MAX_LENGTH
from webapp.auth.signed_out import public_form
from webapp.errors import ServiceError

REQUESTED_KEY = "reset_requested_for"


def _forgot_page(status=200, **context):
    return render_template("auth/forgot_password.html", email_max_length=EMAIL_MAX_LENGTH,
                           **context), status


@bp.route("/forgot-password")
def forgot_password():
    return _forgot_page(email=request.args.get("email", "")[:EMAIL_MAX_LENGTH])


@bp.route("/forgot-password", methods=["POST"])
@public_form
def request_reset():
    email = request.form.get("email", "")
    try:
        recovery.request_reset(email, request.remote_addr)
    except ServiceError as error:
        return _forgot_page(422, error=str(error), email=email[:EMAIL_MAX_LENGTH])
    except recovery.TooManyRequests as error:
        return _forgot_page(429, error=str(error), email=email[:EMAIL_MAX_LENGTH])
    session[REQUESTED_KEY] = email.strip()[:EMAIL_MAX_LENGTH]
    return redirect(url_for("auth.reset_requested"), 303)


@bp.route("/forgot-password/sent")
def reset_requested():
    email = session.get(REQUESTED_KEY)
    if not email:
        return redirect(url_for("auth.forgot_password"))
    return render_template("auth/reset_requested.html", answer=recovery.neutral_answer(email))


def _reset_form(token, link, status=200, error=None):
    return render_template("auth/reset_password.html", token=token, user=link.user,
                           error=error, min_length=MIN_LENGTH, max_length=MAX_LENGTH), status


@bp.route("/reset-password")
def reset_password_page():
    token = request.args.get("token", "")
    link, refusal = opened(recovery.open_reset, token, tokens.PASSWORD_RESET)
    return refusal or _reset_form(token, link)


@bp.route("/reset-password", methods=["POST"])
@public_form
def reset_password():
    return set_password_from_link(tokens.PASSWORD_RESET, recovery.open_reset,
                                  recovery.reset_password, _reset_form, _signed_out_everywhere)


def _signed_out_everywhere(link, user):
    session.clear()  # this browser too: every session of the account has ended
    flash("Your new password is set, and every session of your account was signed out. Sign "
          "in with the new password.", "success")
    return redirect(url_for("auth.login", email=user.email), 303)
