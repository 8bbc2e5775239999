"""Every route the app serves, classified by who may use it.

tests/security/test_authorization_matrix.py fails for any (endpoint, method) missing here, so a
new route cannot land without someone deciding who may call it. Keys are (endpoint, method).

Access levels:
  PUBLIC     anyone, signed in or not
  SIGNED_IN  any signed-in account; not tied to one organisation
  MEMBER     active members of the organisation in the URL (or in the form, see ORG)
  ADMIN      admins of the organisation in the URL only

`form` is what a browser would post; the value ORG stands for the target organisation's id and
ID(name) for a real id from the filler of that name (see test_authorization_matrix.FILLERS).
GET routes must leave the database and the job queues untouched; `mutating_get` names the
reason when a GET must change state (only redirects from Microsoft qualify).
"""
from dataclasses import dataclass, field

PUBLIC, SIGNED_IN, MEMBER, ADMIN = "public", "signed-in", "member", "admin"
ORG = object()


@dataclass(frozen=True)
class ID:
    name: str


@dataclass(frozen=True)
class Route:
    access: str
    form: dict = field(default_factory=dict)
    mutating_get: str = ""
    html: bool = True


ROUTES = {
    ("health.healthz", "GET"): Route(PUBLIC, html=False),
    ("auth.login", "GET"): Route(PUBLIC),
    ("auth.login", "POST"): Route(PUBLIC, form={"email": "nobody@example.com", "password": "x"}),
    ("auth.logout", "POST"): Route(SIGNED_IN),
    ("main.home", "GET"): Route(SIGNED_IN),
    ("main.favicon", "GET"): Route(PUBLIC, html=False),
    ("main.switch_organisation", "POST"): Route(MEMBER, form={"org_id": ORG}),
    ("org_home.dashboard", "GET"): Route(MEMBER),
    ("org_home.settings", "GET"): Route(ADMIN),
    ("users.index", "GET"): Route(ADMIN),
    ("users.add", "POST"): Route(ADMIN, form={"email": "new.person@school.example",
                                              "display_name": "New Person", "role": "member"}),
    ("users.change_role", "POST"): Route(ADMIN, form={"role": "admin"}),
    ("users.confirm_remove", "GET"): Route(ADMIN),
    ("users.remove", "POST"): Route(ADMIN, form={"confirmed": "1"}),
    ("user_sync.index", "GET"): Route(ADMIN),
}

# Connect with Microsoft, the group picker and Troubleshooting (branch `connect`).
ROUTES.update({
    ("microsoft.index", "GET"): Route(ADMIN),
    ("microsoft.import_microsoft", "GET"): Route(ADMIN),
    ("microsoft.start_connect", "POST"): Route(ADMIN),
    ("microsoft.confirm_disconnect", "GET"): Route(ADMIN),
    ("microsoft.disconnect", "POST"): Route(ADMIN, form={"confirmed": "1"}),
    ("microsoft.groups_page", "GET"): Route(ADMIN),
    ("microsoft.refresh_groups", "POST"): Route(ADMIN),
    ("microsoft.save_groups", "POST"): Route(ADMIN, form={"sync": "not-a-group", "action": "save"}),
    # Microsoft redirects the browser here with a GET; the stored flow (not the URL) names the
    # school and the account, and a replayed or foreign state changes nothing.
    ("microsoft_callback.callback", "GET"): Route(PUBLIC),
    ("troubleshooting.index", "GET"): Route(ADMIN),
    ("troubleshooting.start_remote_checks", "POST"): Route(ADMIN),
    ("troubleshooting.results", "GET"): Route(ADMIN),
})

# Manage user sync (branch `sync`). Sync now and Preview on an unconnected school answer with
# a message and queue nothing; review answers on a finished run are refused with a message.
ROUTES.update({
    ("user_sync.people_table", "GET"): Route(ADMIN),
    ("user_sync.connection_summary", "GET"): Route(ADMIN),
    ("user_sync.export_csv", "GET"): Route(ADMIN, html=False, mutating_get="records the export in the audit log"),
    ("user_sync.sync_now", "POST"): Route(ADMIN),
    ("user_sync.preview", "POST"): Route(ADMIN),
    ("user_sync.preview_groups", "POST"): Route(ADMIN, form={"sync": "not-a-group"}),
    ("user_sync.run_status", "GET"): Route(ADMIN),
    ("user_sync.apply_removals", "POST"): Route(ADMIN),
    ("user_sync.cancel_review", "POST"): Route(ADMIN),
    ("user_sync.history_page", "GET"): Route(ADMIN),
    ("user_sync.run_detail", "GET"): Route(ADMIN),
    ("user_sync.exclude", "POST"): Route(ADMIN),
    ("user_sync.include", "POST"): Route(ADMIN),
    ("user_sync.exclude_microsoft_user", "POST"): Route(ADMIN, form={
        "microsoft_id": "a0000000-0000-4000-8000-0000000000aa", "email": "x@school.example",
        "display_name": "Someone"}),
    ("user_sync.update_settings", "POST"): Route(ADMIN, form={
        "include_guests": "1", "removal_threshold_percent": "20",
        "removal_threshold_minimum": "3"}),
    ("user_sync.why_not", "GET"): Route(ADMIN),
})

# Sync this person now and Undo this sync. On the matrix's unconnected school Sync this person
# now answers that Microsoft must be connected first and queues nothing; the undo of a run that
# changed nobody is refused with the reason; the changes CSV records itself in the audit log.
ROUTES.update({
    ("user_sync.sync_person", "POST"): Route(ADMIN, form={"person": "new.joiner@school.example"}),
    ("user_sync.person_sync_status", "GET"): Route(ADMIN),
    ("user_sync.person_page", "GET"): Route(ADMIN),
    ("user_sync.undo_preview", "GET"): Route(ADMIN),
    ("user_sync.undo_sync", "POST"): Route(ADMIN),
    ("user_sync.run_changes_csv", "GET"): Route(ADMIN, html=False,
                                                mutating_get="records the export in the audit log"),
})

# Data protection: the Activity page (audit log), leaver retention, a person's data on request.
# Exports record themselves in the audit log, so those GETs add exactly one audit entry.
EXPORT_RECORDED = "records the export in the audit log"
ROUTES.update({
    ("audit.index", "GET"): Route(ADMIN),
    ("audit.export_csv", "GET"): Route(ADMIN, html=False, mutating_get=EXPORT_RECORDED),
    ("privacy.retention_page", "GET"): Route(ADMIN),
    ("privacy.save_retention", "POST"): Route(ADMIN, form={"mode": "days", "days": "30"}),
    ("privacy.member_data", "GET"): Route(ADMIN, html=False, mutating_get=EXPORT_RECORDED),
    ("privacy.synced_person_data", "GET"): Route(ADMIN, html=False, mutating_get=EXPORT_RECORDED),
})

# Automatic sync and the Notifications page.
ROUTES.update({
    ("schedule.save", "POST"): Route(ADMIN, form={"frequency": "off", "time_of_day": ""}),
    ("schedule.dismiss_suggestion", "POST"): Route(ADMIN),
    ("schedule.time_zones", "GET"): Route(ADMIN),
    ("notifications.preferences", "GET"): Route(ADMIN),
    ("notifications.save_preferences", "POST"): Route(ADMIN, form={"events": "sync_failed"}),
})

# Settings › Schools (an admin of two or more schools; the world's admin of School A also
# administers School A2). The bulk forms carry the page's signed list of shown schools; a
# foreign or forged id is refused with nothing done (tests/trust/test_schools_actions.py).
ROUTES.update({
    ("trust.schools", "GET"): Route(ADMIN),
    ("trust.school_row", "GET"): Route(ADMIN),
    ("trust.export_csv", "GET"): Route(ADMIN, html=False, mutating_get=EXPORT_RECORDED),
    ("trust.sync_now", "POST"): Route(ADMIN, form={"school": ORG, "shown": ID("shown")}),
    ("trust.apply_schedule", "POST"): Route(ADMIN, form={
        "school": ORG, "shown": ID("shown"), "frequency": "off", "time_of_day": "",
        "time_zone": "Europe/London"}),
})

# Getting in (issue 18): invitations, Forgot your password, Sign in with Microsoft, and every
# account's Sign-in and security page. The public forms carry a one-time link's token, which
# these calls make up (each answers with a page saying the link cannot be used); the flows
# themselves are tested with real links in tests/accounts/.
MADE_UP_TOKEN = "made-up-token-that-matches-no-link-00000000000"
NEW_PASSWORD = "Kettle-Tulip-Harbour-Sky-7"
ROUTES.update({
    ("auth.forgot_password", "GET"): Route(PUBLIC),
    ("auth.request_reset", "POST"): Route(PUBLIC, form={"email": "nobody@example.com"}),
    ("auth.reset_requested", "GET"): Route(PUBLIC),
    ("auth.reset_password_page", "GET"): Route(PUBLIC),
    ("auth.reset_password", "POST"): Route(PUBLIC, form={
        "token": MADE_UP_TOKEN, "password": NEW_PASSWORD, "confirmation": NEW_PASSWORD}),
    ("auth.microsoft_sign_in", "POST"): Route(PUBLIC),
    ("invitations.accept", "GET"): Route(PUBLIC),
    ("invitations.set_password", "POST"): Route(PUBLIC, form={
        "token": MADE_UP_TOKEN, "password": NEW_PASSWORD, "confirmation": NEW_PASSWORD}),
    ("invitations.accept_with_microsoft", "POST"): Route(PUBLIC, form={"token": MADE_UP_TOKEN}),
    ("invitations.renew", "POST"): Route(PUBLIC, form={"token": MADE_UP_TOKEN}),
    ("account_security.index", "GET"): Route(SIGNED_IN),
    ("account_security.change_password", "POST"): Route(SIGNED_IN, form={
        "current": "password", "password": NEW_PASSWORD, "confirmation": NEW_PASSWORD}),
    ("account_security.sign_out_others", "POST"): Route(SIGNED_IN),
    ("account_security.link_microsoft", "POST"): Route(SIGNED_IN),
    # The link is the school admin's: anyone else's attempt is refused with a message.
    ("account_security.unlink_microsoft", "POST"): Route(SIGNED_IN),
    # The membership is a member who was never invited: refused with a message, nothing sent.
    ("users.resend_invitation", "POST"): Route(ADMIN),
    ("users.cancel_invitation", "POST"): Route(ADMIN),
})

# Two-step verification (issue 19). The second step's pages serve only a browser that has just
# given a right password for an account with two-step (webapp.two_step.second_step); anyone
# else is sent to the sign-in page with nothing changed, so they are public like the sign-in
# form. The passkey options answer JSON. On Sign-in and security the world's admin has one
# passkey (the passkey_id filler), so removing it and making new codes are served; the member
# has no two-step and is refused with a message. A reset asked for a member who has no two-step
# is refused with a message.
ROUTES.update({
    ("auth.second_step_page", "GET"): Route(PUBLIC),
    ("auth.second_step_code", "POST"): Route(PUBLIC, form={"code": "123456"}),
    ("auth.second_step_recovery_page", "GET"): Route(PUBLIC),
    ("auth.second_step_recovery", "POST"): Route(PUBLIC, form={"recovery_code": "abcd-efgh-jkmn-pqrs"}),
    ("auth.second_step_passkey_options", "POST"): Route(PUBLIC, html=False),
    ("auth.second_step_passkey", "POST"): Route(PUBLIC, form={"credential": "{}"}),
    ("account_security.two_step_setup", "GET"): Route(SIGNED_IN),
    ("account_security.start_authenticator", "POST"): Route(SIGNED_IN),
    ("account_security.authenticator_setup", "GET"): Route(SIGNED_IN),
    ("account_security.verify_authenticator", "POST"): Route(SIGNED_IN, form={"code": "123456"}),
    ("account_security.remove_authenticator", "POST"): Route(SIGNED_IN, form={"password": "password"}),
    ("account_security.passkey_registration_options", "POST"): Route(
        SIGNED_IN, form={"name": "Office laptop"}, html=False),
    ("account_security.add_passkey", "POST"): Route(SIGNED_IN, form={"credential": "{}"}),
    ("account_security.remove_passkey", "POST"): Route(SIGNED_IN, form={"password": "password"}),
    ("account_security.new_recovery_codes", "POST"): Route(SIGNED_IN, form={"password": "password"}),
    ("account_security.turn_off_two_step", "POST"): Route(SIGNED_IN, form={"password": "password"}),
    ("users.confirm_reset_two_step", "GET"): Route(ADMIN),
    ("users.reset_two_step", "POST"): Route(ADMIN, form={"confirmed": "1"}),
    ("two_step_policy.page", "GET"): Route(ADMIN),
    ("two_step_policy.save", "POST"): Route(ADMIN, form={"required": "1", "version": ""}),
})
