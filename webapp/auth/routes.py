from flask import Blueprint, current_app, flash, redirect, render_template, request, session, \
    url_for
from flask_login import current_user, login_required, login_user, logout_user

from webapp import demo
from webapp.auth.services import SignInRefused, TooManyAttempts, authenticate
from webapp.orgs.context import default_organisation_id
from webapp.security import safe_next_url

bp = Blueprint("auth", __name__)


def login_page(status=200, **context):
    """In demo mode the page gives the demo admin's sign-in; never otherwise."""
    if current_app.config["DEMO_MODE"]:
        context["demo_account"] = (demo.DEMO_ADMIN_EMAIL, demo.DEMO_ADMIN_PASSWORD)
    return render_template("auth/login.html", **context), status


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("main.home"))
    if request.method == "GET":
        return login_page(next=request.args.get("next", ""))
    email = request.form.get("email", "")
    try:
        user = authenticate(email, request.form.get("password", ""), request.remote_addr)
    except TooManyAttempts as error:
        return login_page(429, error=str(error), email=email, next=request.form.get("next", ""))
    except SignInRefused as error:
        return login_page(401, error=str(error), email=email, next=request.form.get("next", ""))
    session.clear()  # a fresh session at sign-in: nothing from before carries over
    login_user(user)
    session["org_id"] = default_organisation_id(user)
    return redirect(safe_next_url(request.form.get("next")) or url_for("main.home"))


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    logout_user()
    session.clear()
    flash("You have signed out.", "info")
    return redirect(url_for("auth.login"))
