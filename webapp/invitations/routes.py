"""The invitation link: Set your password, or Sign in with Microsoft instead."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.auth import microsoft, sessions, tokens
from webapp.auth.link_pages import (link_problem_page, opened, set_password_from_link,
                                     someone_elses)
from webapp.auth.microsoft_pages import go_to_microsoft, microsoft_problem_page
from webapp.auth.next_page import signed_in_response
from webapp.auth.passwords import MAX_LENGTH, MIN_LENGTH
from webapp.auth.signed_out import public_form
from webapp.errors import ServiceError
from webapp.invitations import services
from webapp.microsoft import callbacks

bp = Blueprint("invitations", __name__, url_prefix="/invitation")


def _accept_page(token, invitation, status=200, error=None):
    return render_template("invitations/accept.html", token=token, invitation=invitation,
                           error=error, min_length=MIN_LENGTH, max_length=MAX_LENGTH,
                           microsoft_sign_in=microsoft.is_configured()), status


@bp.route("/")
def accept():
    token = request.args.get("token", "")
    try:
        invitation = services.open_invitation(token)
    except tokens.LinkProblem as problem:
        return link_problem_page(problem, tokens.INVITATION)
    if current_user.is_authenticated and current_user.id == invitation.user_id:
        return redirect(url_for("main.home"))
    return someone_elses(invitation) or _accept_page(token, invitation)


@bp.route("/", methods=["POST"])
@public_form
def set_password():
    return set_password_from_link(tokens.INVITATION, services.open_invitation,
                                  services.accept_with_password, _accept_page, _accepted)


def _accepted(invitation, user):
    flash(f"Your password is set. Sign in to {invitation.organisation.name} with it now.",
          "success")
    return redirect(url_for("auth.login", email=user.email), 303)


@bp.route("/microsoft", methods=["POST"])
@public_form
def accept_with_microsoft():
    token = request.form.get("token", "")
    invitation, refusal = opened(services.open_invitation, token, tokens.INVITATION)
    if refusal:
        return refusal
    return go_to_microsoft(microsoft.INVITATION, login_hint=invitation.user.email,
                           again_url=url_for("invitations.accept", token=token),
                           invitation_id=invitation.id)


@callbacks.handles(microsoft.INVITATION)
def finish_with_microsoft(stored):
    try:
        account = microsoft.finish(stored, request.args.to_dict())
        user = services.accept_with_microsoft(stored["invitation_id"], account)
    except microsoft.MicrosoftSignInProblem as problem:
        return microsoft_problem_page(problem)
    except tokens.LinkProblem as problem:
        return link_problem_page(problem, tokens.INVITATION)
    except ServiceError as error:
        flash(str(error), "error")
        return redirect(url_for("auth.login"), 303)
    return signed_in_response(user, sessions.MICROSOFT, None, account)


@bp.route("/renew", methods=["POST"])
@public_form
def renew():
    try:
        invitation = services.renew_expired(request.form.get("token", ""))
    except tokens.LinkProblem as problem:
        return link_problem_page(problem, tokens.INVITATION)
    except ServiceError as error:
        flash(str(error), "error")
        return redirect(url_for("auth.login"), 303)
    return render_template("invitations/renewed.html", email=invitation.user.email)
