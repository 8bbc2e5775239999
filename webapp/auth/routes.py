from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from webapp.auth.services import SignInRefused, TooManyAttempts, authenticate
from webapp.orgs.context import default_organisation_id
from webapp.security import safe_next_url

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("main.home"))
    if request.method == "GET":
        return render_template("auth/login.html", next=request.args.get("next", ""))
    email = request.form.get("email", "")
    try:
        user = authenticate(email, request.form.get("password", ""), request.remote_addr)
    except TooManyAttempts as error:
        return render_template("auth/login.html", error=str(error), email=email,
                               next=request.form.get("next", "")), 429
    except SignInRefused as error:
        return render_template("auth/login.html", error=str(error), email=email,
                               next=request.form.get("next", "")), 401
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
