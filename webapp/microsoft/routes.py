"""Import settings › Microsoft: connect, reconnect, disconnect, and the OAuth callback.

The callback lives at one fixed URL, /microsoft/callback (Entra needs an exact redirect URI);
the organisation travels in the stored flow, never in the URL. Sign-ins to rostersync itself
come back to it too and are handed on (webapp.microsoft.callbacks).
"""
from flask import abort, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user

from webapp.auth.sessions import signed_in_microsoft_account
from webapp.extensions import db
from webapp.microsoft import admin_consent, callbacks, connect, groups, services
from webapp.microsoft.blueprint import bp, callback_bp
from webapp.microsoft.identity import callback_url
from webapp.microsoft.models import CONNECTED, connection_for_organisation
from webapp.microsoft.picker import Stored, gone_groups
from webapp.microsoft.selection import connection_state, gone_words, selection_sentence
from webapp.orgs.access import admin_required
from webapp.orgs.models import Organisation
from webapp.orgs.services import membership_for

FLOW_SESSION_KEY = "microsoft_flow_id"
# Provider tabs on Import settings; another provider adds a row and its own tab template.
PROVIDERS = [("microsoft", "Microsoft", "microsoft.import_microsoft")]


@bp.route("/")
@admin_required
def index():
    return redirect(url_for("microsoft.import_microsoft"))


@bp.route("/microsoft")
@admin_required
def import_microsoft():
    connection = connection_for_organisation(g.organisation)
    stored = Stored.load(connection, g.organisation)
    selection = stored.selection()
    state = connection_state(connection, bool(selection.synced))
    return render_template("microsoft/import_settings.html", providers=PROVIDERS,
                           active_provider="microsoft", connection=connection,
                           selection=selection, groups_text=selection_sentence(selection),
                           can_sync=state == CONNECTED,
                           gone_groups=gone_groups(stored),
                           last_attempt=services.last_attempt_for(g.organisation))


@bp.route("/microsoft/connect", methods=["POST"])
@admin_required
def start_connect():
    different = request.form.get("different_account") == "1"
    try:
        auth_uri, flow_id = connect.begin_connect(g.organisation, current_user, callback_url(),
                                                  different_account=different,
                                                  login_hint=signed_in_microsoft_account())
    except connect.MicrosoftUnreachable as error:
        return render_outcome(connect.Outcome(connect.UNREACHABLE, detail=str(error))), 502
    session[FLOW_SESSION_KEY] = flow_id
    return redirect(auth_uri)


@bp.route("/microsoft/disconnect")
@admin_required
def confirm_disconnect():
    """Disconnecting cuts off every school of the trust, so it is asked about on a page first."""
    connection = connection_for_organisation(g.organisation)
    if connection is None:
        return redirect(url_for("microsoft.import_microsoft"))
    return render_template("microsoft/disconnect.html", connection=connection,
                           schools=g.organisation.trust_organisations())


@bp.route("/microsoft/disconnect", methods=["POST"])
@admin_required
def disconnect():
    if request.form.get("confirmed") != "1":  # an old page's one-click button: ask first
        return redirect(url_for("microsoft.confirm_disconnect"), 303)
    if services.disconnect(g.organisation):
        flash("Disconnected from Microsoft. The saved Microsoft sign-in was deleted; people "
              "already synced stay as they are.", "success")
    return redirect(url_for("microsoft.import_microsoft"))


def render_outcome(outcome):
    organisation = getattr(g, "organisation", None)
    consent_url = (admin_consent.consent_link(organisation, callback_url())
                   if organisation is not None and outcome.code in connect.CONSENT_LINK_OUTCOMES
                   else None)
    return render_template("microsoft/outcome.html", outcome=outcome, consent_url=consent_url,
                           who_can_approve=admin_consent.WHO_CAN_APPROVE)


@callback_bp.route("/microsoft/callback")
def callback():
    if "admin_consent" in request.args:  # Microsoft sends it on approval and on refusal alike
        return _admin_consent_answer()
    sign_in = callbacks.sign_in_handler(request.args.get("state"), current_user.is_authenticated)
    if sign_in is not None:
        return sign_in()
    if not current_user.is_authenticated:
        return _flow_missing_page()
    stored = connect.take_flow(session.pop(FLOW_SESSION_KEY, None))
    if stored is None or stored["user_id"] != current_user.id:
        return _flow_missing_page()
    organisation = _admin_organisation(stored["organisation_id"])
    outcome = connect.complete_connect(stored, organisation, current_user, request.args.to_dict())
    if outcome.connected:
        groups.request_snapshot(outcome.connection)
        cleared = outcome.groups_cleared
        flash(f"Connected to Microsoft as {outcome.account}. " + (
            f"This is a different Microsoft organisation (tenant) from before, so the groups "
            f"chosen for {cleared} school{'s' if cleared != 1 else ''} were cleared (they belong "
            "to the other one), and their automatic syncs wait until groups are chosen again. "
            if cleared else "") + "Now choose the groups to sync.",
              "warning" if cleared else "success")
        return redirect(url_for("microsoft.groups_page"))
    return render_outcome(outcome)


def _admin_consent_answer():
    answer = admin_consent.judge(request.args.to_dict())
    retry_url = None
    if answer.code != admin_consent.APPROVED and answer.organisation is not None:
        retry_url = admin_consent.consent_link(answer.organisation, callback_url())
    status = 400 if answer.code in (admin_consent.FAILED, admin_consent.UNCONFIRMED) else 200
    return render_template("microsoft/admin_consent_answer.html", answer=answer,
                           retry_url=retry_url, who_can_approve=admin_consent.WHO_CAN_APPROVE,
                           link_days=admin_consent.LINK_DAYS), status


def _admin_organisation(organisation_id):
    organisation = db.session.get(Organisation, organisation_id)
    membership = membership_for(current_user, organisation) if organisation else None
    if membership is None or membership.status != "active" or not membership.is_admin:
        abort(404)
    g.organisation, g.membership = organisation, membership
    return organisation


def _flow_missing_page():
    """A reused, expired or foreign callback: say so and offer a fresh start."""
    org_id = session.get("org_id") if current_user.is_authenticated else None
    organisation = db.session.get(Organisation, org_id) if org_id else None
    if organisation is not None and membership_for(current_user, organisation) is not None:
        g.organisation, g.membership = organisation, membership_for(current_user, organisation)
    detail = connect.aadsts_summary(request.args.get("error_description", "")) or None
    return render_outcome(connect.Outcome(connect.FLOW_MISSING, detail=detail)), 400


@bp.app_context_processor
def microsoft_status():
    """Every screen of an organisation says so when the Microsoft connection needs reconnecting
    (asked by the page's banner only: an HTMX partial never pays for it)."""
    return {"connection_to_reconnect": _connection_to_reconnect}


def _connection_to_reconnect():
    """The current school's connection if it needs reconnecting and an admin is looking."""
    organisation, membership = getattr(g, "organisation", None), getattr(g, "membership", None)
    if organisation is None or membership is None or not membership.is_admin \
            or not current_user.is_authenticated:
        return None
    connection = connection_for_organisation(organisation)
    return connection if connection is not None and connection.needs_reconnect else None


@bp.app_template_filter("attempt_outcome")
def attempt_outcome(attempt):
    return connect.attempt_outcome_label(attempt)


@bp.app_template_filter("group_kind")
def group_kind_label(kind):
    return groups.KIND_LABELS.get(kind, kind)


@bp.app_template_filter("gone_words")
def gone_words_of(picked):
    """selection.gone_words of PickedGroups, each in the role it is ticked for."""
    return gone_words([group.chosen() for group in picked])
