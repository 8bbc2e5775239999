"""Signing in with a password, and signing out."""
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, logout_user

from webapp import demo
from webapp.auth import microsoft, sessions
from webapp.auth.blueprint import bp
from webapp.auth.next_page import signed_in_response
from webapp.auth.services import EMAIL_MAX_LENGTH, SignInRefused, TooManyAttempts, authenticate
from webapp.auth.signed_out import public_form


def login_page(status=200, **context):
    """In demo mode the page gives the demo admin's sign-in; never otherwise."""
    if current_app.config["DEMO_MODE"]:
        context["demo_account"] = (demo.DEMO_ADMIN_EMAIL, demo.DEMO_ADMIN_PASSWORD)
    context.setdefault("microsoft_sign_in", microsoft.is_configured())
    return render_template("auth/login.html", **context), status


@bp.route("/login", methods=["GET", "POST"])
@public_form
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("main.home"))
    if request.method == "GET":
        return login_page(next=request.args.get("next", ""),
                          email=request.args.get("email", "")[:EMAIL_MAX_LENGTH])
    email = request.form.get("email", "")[:EMAIL_MAX_LENGTH]
    next_url = request.form.get("next", "")
    try:
        user = authenticate(email, request.form.get("password", ""), request.remote_addr)
    except TooManyAttempts as error:
        return login_page(429, error=str(error), email=email, next=next_url)
    except SignInRefused as error:
        return login_page(401, error=str(error), email=email, next=next_url)
    return signed_in_response(user, sessions.PASSWORD, next_url)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    sessions.end_this_session()
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("auth.login"))
