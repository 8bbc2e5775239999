"""Sign in with Microsoft, from the sign-in page; Microsoft answers at /microsoft/callback.

It signs in the platform account linked to the Microsoft account (tenant id + object id) and
never creates one: an unlinked Microsoft account gets a page saying who to ask.
"""
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from webapp import audit
from webapp.audit import actions
from webapp.auth import links, microsoft, sessions
from webapp.auth.blueprint import bp
from webapp.auth.microsoft_pages import go_to_microsoft, microsoft_problem_page
from webapp.auth.next_page import signed_in_response
from webapp.auth.signed_out import public_form
from webapp.extensions import db
from webapp.microsoft import callbacks
from webapp.security import safe_next_url


# The audit log's reason for each way a Microsoft account opens no account (links.sign_in_account).
REFUSAL_REASONS = {links.NOT_LINKED: "microsoft_not_linked",
                   links.SEVERAL: "microsoft_several_accounts",
                   links.ALSO_ELSEWHERE: "microsoft_sync_link_not_enough"}


@bp.route("/login/microsoft", methods=["POST"])
@public_form
def microsoft_sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    if not microsoft.is_configured():
        flash("Sign in with Microsoft is not set up on this installation. Sign in with your "
              "email and password.", "error")
        return redirect(url_for("auth.login"))
    return go_to_microsoft(microsoft.SIGN_IN, next=safe_next_url(request.form.get("next")))


@callbacks.handles(microsoft.SIGN_IN)
def finish_microsoft_sign_in(stored):
    try:
        account = microsoft.finish(stored, request.args.to_dict())
    except microsoft.MicrosoftSignInProblem as problem:
        return microsoft_problem_page(problem)
    found = links.sign_in_account(account)
    user = found.user
    if user is None or not user.active_memberships():
        _record_refusal(account, user, REFUSAL_REASONS.get(found.refusal, "no_active_organisation"))
        return render_template("auth/microsoft_refused.html", account=account,
                               refusal=found.refusal), 403
    links.note_sign_in(user, account)
    return signed_in_response(user, sessions.MICROSOFT, stored.get("next"), account)


def _record_refusal(account, user, reason):
    """Who tried is the Microsoft account (its username and ids; no token)."""
    audit.record(actions.SIGN_IN_FAILED, actor=user, actor_email=account.username or None,
                 after={"reason": reason, "tenant_id": account.tenant_id,
                        "object_id": account.object_id})
    db.session.commit()
