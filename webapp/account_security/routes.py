"""Sign-in and security: every account's own page. Each section is a partial template
(templates/account_security/_*.html) with its own form and route here; a new way in (a second
factor) adds a section and its routes beside these."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from webapp.account_security.two_step_context import two_step_context
from webapp.auth import links, microsoft, recovery, sessions
from webapp.auth.microsoft_pages import go_to_microsoft, microsoft_problem_page
from webapp.auth.passwords import MAX_LENGTH, MIN_LENGTH, PasswordRefused
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.microsoft import callbacks
from webapp.words import counted

bp = Blueprint("account_security", __name__, url_prefix="/account/security")


@bp.before_request
@login_required
def _signed_in_only():
    return None


def security_page(status=200, **context):
    user = current_user
    return render_template(
        "account_security/index.html", user=user, has_password=bool(user.password_hash),
        microsoft_links=links.links_of(user), microsoft_sign_in=microsoft.is_configured(),
        other_sessions=len(sessions.open_sessions_elsewhere(user)),
        sign_ins=sessions.recent_sign_ins(user), session_limits=sessions.limits_text(),
        min_length=MIN_LENGTH, max_length=MAX_LENGTH,
        **two_step_context(user, **context)), status


@bp.route("/")
def index():
    return security_page()


@bp.route("/password", methods=["POST"])
def change_password():
    form = request.form
    try:
        ended = recovery.change_password(current_user, form.get("current", ""),
                                         form.get("password", ""), form.get("confirmation", ""),
                                         request.remote_addr)
    except PasswordRefused as error:
        return security_page(422, error=error)
    except recovery.TooManyRequests as error:
        return security_page(429, error=PasswordRefused(str(error), field="current"))
    others = f" {counted(ended, 'other session')} signed out." if ended else ""
    flash(f"Password changed.{others}", "success")
    return redirect(url_for("account_security.index"), 303)


@bp.route("/sessions/sign-out-others", methods=["POST"])
def sign_out_others():
    ended = sessions.sign_out_other_sessions(current_user)
    flash(f"Signed out {counted(ended, 'other session')}. This one stays signed in."
          if ended else "There were no other sessions to sign out.", "success")
    return redirect(url_for("account_security.index"), 303)


@bp.route("/microsoft/link", methods=["POST"])
def link_microsoft():
    if not microsoft.is_configured():
        flash("Microsoft sign-in is not set up on this installation.", "error")
        return redirect(url_for("account_security.index"), 303)
    return go_to_microsoft(microsoft.LINK, login_hint=current_user.email,
                           again_url=url_for("account_security.index"), user_id=current_user.id)


@bp.route("/microsoft/<int:link_id>/unlink", methods=["POST"])
def unlink_microsoft(link_id):
    try:
        username = links.unlink(current_user, link_id)
    except ServiceError as error:
        flash(str(error), "error")
    else:
        flash(f"Unlinked {username or 'the Microsoft account'}: it no longer signs you in.",
              "success")
    return redirect(url_for("account_security.index"), 303)


@callbacks.handles(microsoft.LINK)
def finish_link(stored):
    again = url_for("account_security.index")
    if stored is None or not current_user.is_authenticated \
            or stored.get("user_id") != current_user.id:
        return microsoft_problem_page(microsoft.MicrosoftSignInProblem(microsoft.FLOW_MISSING),
                                      again)
    try:
        account = microsoft.finish(stored, request.args.to_dict())
        added = links.link(current_user, account)
        db.session.commit()
    except microsoft.MicrosoftSignInProblem as problem:
        return microsoft_problem_page(problem, again)
    except ServiceError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(again, 303)
    flash(f"Linked {account.username}: you can now use Sign in with Microsoft." if added
          else f"{account.username} was already linked to your account.", "success")
    return redirect(again, 303)
