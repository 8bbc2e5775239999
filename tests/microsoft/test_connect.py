"""Connect with Microsoft: the whole flow with real MSAL against the simulator over HTTPS."""
import html
import json
import re
import urllib.parse

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select, text

from harness.factory import sign_in
from tests.microsoft_flow import (MicrosoftBrowser, connect_organisation, demo, return_to_app,
                                  run_quick_jobs, sign_in_at_microsoft, start_connect)
from tests.schedule_helpers import due_moment, run_queued_syncs, run_tick, runs_of, save_schedule
from webapp.microsoft.identity import ReconnectNeeded, access_token_for
from webapp.microsoft.models import ConnectAttempt, connection_for_organisation
from webapp.notifications import events
from webapp.notifications.messages import compose
from webapp.notifications.models import NotificationEvent


def attempts(db):
    return db.session.query(ConnectAttempt).order_by(ConnectAttempt.id).all()


def test_connect_stores_one_connection_for_the_trust_and_opens_the_group_picker(app, db, oak, oak_client, microsoft):
    response = connect_organisation(oak_client, oak.north, microsoft)
    assert response.status_code == 302, response.text
    assert response.headers["Location"].endswith(
        f"/o/{oak.north.id}/settings/user-sync/import/microsoft/groups")
    connection = connection_for_organisation(oak.north)
    assert connection.trust_id == oak.trust.id
    assert connection_for_organisation(oak.south).id == connection.id  # one for the whole trust
    assert (connection.account_email, connection.tenant_id) == (demo.ADMIN_UPN, demo.TENANT_ID)
    assert connection.status == "connected"
    assert {"GroupMember.Read.All", "User.Read.All", "User.Read"} <= set(connection.granted_scopes.split())
    [attempt] = attempts(db)
    assert (attempt.outcome, attempt.returned_account, attempt.returned_tenant_id) == (
        "connected", demo.ADMIN_UPN, demo.TENANT_ID)
    assert attempt.user_id == oak.admin.id and attempt.finished_at is not None
    settings = oak_client.get(f"/o/{oak.south.id}/settings/user-sync/import/microsoft")
    assert f"as <strong>{demo.ADMIN_UPN}</strong>" in settings.text
    for button in ("Reconnect", "Connect with a different Microsoft account"):
        assert f">{button}</button>" in settings.text
    assert ">Disconnect…</a>" in settings.text  # asks on its own page first


def test_connect_reads_the_organisations_name_and_shows_it_with_the_tenant_id(app, db, oak,
                                                                             oak_client, microsoft):
    microsoft.control.clear_request_log()
    connect_organisation(oak_client, oak.north, microsoft)
    asked = [r for r in microsoft.control.request_log() if r["path"].startswith("/v1.0/organization")]
    assert len(asked) == 1 and asked[0]["query"]["$select"] == "id,displayName"
    connection = connection_for_organisation(oak.north)
    assert (connection.tenant_name, connection.tenant_id) == (demo.TENANT_NAME, demo.TENANT_ID)
    secondary = f'{demo.TENANT_NAME} <span class="muted">(tenant ID <code>{demo.TENANT_ID}</code>)'
    for path in ("user-sync/import/microsoft", "user-sync/"):
        assert secondary in oak_client.get(f"/o/{oak.north.id}/settings/{path}").text, path


def test_a_connection_without_the_organisations_name_shows_the_tenant_id_alone(app, db, oak,
                                                                               oak_client, microsoft):
    connect_organisation(oak_client, oak.north, microsoft)
    connection = connection_for_organisation(oak.north)
    connection.tenant_name = None  # connected before the name was read
    db.session.commit()
    page = oak_client.get(f"/o/{oak.north.id}/settings/user-sync/").text
    assert f"<code>{demo.TENANT_ID}</code>" in page and "its name shows after the next Reconnect" in page


def test_sign_in_request_asks_which_account_and_hints_the_signed_in_address(app, oak, oak_client, microsoft):
    auth_uri = start_connect(oak_client, oak.north)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(auth_uri).query))
    assert query["prompt"] == "select_account" and query["login_hint"] == demo.ADMIN_UPN
    assert query["code_challenge_method"] == "S256" and query["state"] and query["nonce"]
    assert query["redirect_uri"] == "http://localhost/microsoft/callback"  # one fixed URL
    assert query["response_mode"] == "query"  # SameSite=Lax: a cross-site form_post would lose the session
    assert {"User.Read", "GroupMember.Read.All", "User.Read.All"} <= set(query["scope"].split())
    different = start_connect(oak_client, oak.north, different_account=True)
    assert "prompt=login" in different


def test_tokens_are_encrypted_at_rest_and_never_in_the_session(app, db, oak, oak_client, microsoft):
    connect_organisation(oak_client, oak.north, microsoft)
    raw = db.session.execute(text("SELECT token_cache_encrypted FROM microsoft_connections")).scalar()
    raw = bytes(raw)
    cache = json.loads(Fernet(app.config["TOKEN_ENCRYPTION_KEY"]).decrypt(raw))
    assert cache["RefreshToken"] and cache["AccessToken"]
    # Each token's own text is absent (a bare "eyJ" can occur by chance in random ciphertext).
    secrets = [entry["secret"] for kind in ("AccessToken", "RefreshToken", "IdToken")
               for entry in cache.get(kind, {}).values()]
    assert secrets and not any(secret.encode() in raw for secret in secrets)
    assert b"RefreshToken" not in raw and b"refresh_token" not in raw
    cookie = oak_client.get_cookie("session")
    assert cookie is None or "eyJ" not in cookie.value and len(cookie.value) < 1000


def test_cancelled_sign_in_says_so_and_keeps_nothing(app, db, oak, oak_client, microsoft):
    browser, page = sign_in_at_microsoft(microsoft, start_connect(oak_client, oak.north),
                                         accept_consent=False)
    response = return_to_app(oak_client, browser.click("Cancel"))
    assert response.status_code == 200
    assert "Connection cancelled" in response.text and "Troubleshooting" in response.text
    assert connection_for_organisation(oak.north) is None
    assert attempts(db)[-1].outcome == "cancelled"


def test_admin_approval_needed_gives_a_consent_link_that_works(app, db, factory, client, microsoft):
    """A fresh tenant, as Microsoft ships it: User.Read.All and GroupMember.Read.All need an
    administrator's approval, so a teacher's account is stopped until one gives it."""
    school = factory.organisation("Jo's School")
    factory.user(demo.PERSONAL_UPN, [school], role="admin")
    sign_in(client, demo.PERSONAL_UPN)
    browser, page = sign_in_at_microsoft(microsoft, start_connect(client, school),
                                         account=demo.PERSONAL_UPN)
    assert "Need admin approval" in page.text
    response = return_to_app(client, browser.click("Return to the application without granting consent"))
    assert "An administrator must approve rostersync first" in response.text
    assert "send this link to a Global Administrator or a Privileged Role Administrator" in response.text
    assert attempts(db)[-1].outcome == "admin_consent_needed"
    consent_url = _input_value(response.text, "consent-link")
    assert "/v2.0/adminconsent?" in consent_url and demo.CLIENT_ID in consent_url
    assert "state=" in consent_url  # only an answer carrying it can say "approved"

    it_admin = MicrosoftBrowser(microsoft)  # the IT team, in their own browser
    it_admin.open(consent_url)
    it_admin.sign_in_as(demo.ADMIN_UPN, accept_consent=False)
    done = return_to_app(client, it_admin.click("Accept"))
    assert "rostersync is approved for your organisation" in done.text

    response = connect_organisation(client, school, microsoft, account=demo.PERSONAL_UPN)
    assert response.status_code == 302 and connection_for_organisation(school) is not None


def _input_value(html, element_id):
    marker = f'id="{element_id}"'
    start = html.index(marker)
    value = html[start:].split('value="', 1)[1].split('"', 1)[0]
    return value.replace("&amp;", "&")


def test_state_mismatch_stops_and_says_start_again(app, db, oak, oak_client, microsoft):
    browser, callback = sign_in_at_microsoft(microsoft, start_connect(oak_client, oak.north))
    forged = callback.replace("state=", "state=forged")
    response = return_to_app(oak_client, forged)
    assert "This sign-in did not match" in response.text and "start again" in response.text
    assert connection_for_organisation(oak.north) is None
    assert attempts(db)[-1].outcome == "state_mismatch"


def test_a_reused_callback_is_refused_with_a_way_to_start_again(app, oak, oak_client, microsoft):
    browser, callback = sign_in_at_microsoft(microsoft, start_connect(oak_client, oak.north))
    assert return_to_app(oak_client, callback).status_code == 302
    again = return_to_app(oak_client, callback)
    assert again.status_code == 400
    assert "already been used or has expired" in again.text and "Import settings" in again.text


def test_microsoft_unreachable_when_redeeming_the_code(app, db, oak, oak_client, microsoft):
    browser, callback = sign_in_at_microsoft(microsoft, start_connect(oak_client, oak.north))
    microsoft.control.set_faults(drop_connection_count=5, include_token_endpoint=True)
    response = return_to_app(oak_client, callback)
    assert "We could not reach Microsoft" in response.text
    assert connection_for_organisation(oak.north) is None
    assert attempts(db)[-1].outcome == "unreachable"


def test_microsoft_sign_in_service_failing_when_redeeming_the_code(app, db, oak, oak_client,
                                                                   microsoft):
    """The token endpoint answers 503 (an outage at Microsoft): MSAL raises MsalServiceError for
    any 5xx, which must land on the "could not reach Microsoft" page, not a server error."""
    browser, callback = sign_in_at_microsoft(microsoft, start_connect(oak_client, oak.north))
    microsoft.control.set_faults(error_status=503, error_count=1, include_token_endpoint=True)
    response = return_to_app(oak_client, callback)
    assert response.status_code == 200 and "We could not reach Microsoft" in response.text
    assert connection_for_organisation(oak.north) is None
    assert attempts(db)[-1].outcome == "unreachable"


def test_microsoft_sign_in_service_failing_at_a_refresh_asks_nobody_to_reconnect(
        app, db, oak, oak_client, microsoft):
    connect_organisation(oak_client, oak.north, microsoft)
    connection = connection_for_organisation(oak.north)
    for fault in ({"error_status": 503, "error_count": 1}, {"drop_connection_count": 5},
                  {"throttle_count": 1}):  # Entra's throttling: invalid_grant AADSTS50196
        microsoft.control.set_faults(include_token_endpoint=True, **fault)
        with pytest.raises(ConnectionError, match="Microsoft sign-in service error"):
            access_token_for(connection.id, force_refresh=True)
        db.session.refresh(connection)
        assert connection.status == "connected"
    microsoft.control.clear_faults()
    assert access_token_for(connection.id, force_refresh=True)


def test_wrong_account_chosen_in_the_account_picker(app, db, oak, oak_client, microsoft):
    response = connect_organisation(oak_client, oak.north, microsoft, account=demo.PERSONAL_UPN)
    assert response.status_code == 200
    assert (f"You are signed in here as <strong>{demo.ADMIN_UPN}</strong>, but Microsoft "
            f"connected <strong>{demo.PERSONAL_UPN}</strong>") in response.text
    assert ">Connect with a different Microsoft account</button>" in response.text
    assert connection_for_organisation(oak.north) is None
    attempt = attempts(db)[-1]
    assert (attempt.outcome, attempt.returned_account) == ("wrong_account", demo.PERSONAL_UPN)


def test_browser_remembered_account_is_offered_not_used_silently_and_caught(app, db, oak, oak_client, microsoft):
    browser = MicrosoftBrowser(microsoft)  # this browser signed in to Microsoft as Jo before
    connect_organisation(oak_client, oak.north, microsoft, account=demo.PERSONAL_UPN, browser=browser)
    assert any(c.name == "sim_remembered" for c in browser.session.cookies)
    page = browser.open(start_connect(oak_client, oak.north))
    assert "Pick an account" in page.text and page.has_button(demo.PERSONAL_UPN)
    response = return_to_app(oak_client, browser.click(demo.PERSONAL_UPN))
    assert f"but Microsoft connected <strong>{demo.PERSONAL_UPN}</strong>" in response.text
    # The fix the page offers: a different account, with the password asked for again.
    page = browser.open(start_connect(oak_client, oak.north, different_account=True))
    assert page.forms[0]["inputs"]["login"] == demo.ADMIN_UPN
    response = return_to_app(oak_client, browser.sign_in_as(demo.ADMIN_UPN))
    assert response.status_code == 302 and connection_for_organisation(oak.north) is not None


def test_account_missing_from_a_school_of_the_trust_names_it(app, db, factory, client, microsoft):
    north = factory.organisation("Northfield Academy", "Oak Learning Trust")
    factory.organisation("Southfield Primary", "Oak Learning Trust")
    factory.user(demo.ADMIN_UPN, [north], role="admin")
    sign_in(client, demo.ADMIN_UPN)
    response = connect_organisation(client, north, microsoft)
    assert "It is missing from:" in response.text and "<li>Southfield Primary</li>" in response.text
    assert f'href="/o/{north.id}/settings/users/"' in response.text
    assert connection_for_organisation(north) is None
    assert attempts(db)[-1].outcome == "missing_organisations"


def test_disabled_microsoft_account_is_explained(app, db, oak, oak_client, microsoft):
    browser, callback = sign_in_at_microsoft(microsoft, start_connect(oak_client, oak.north))
    microsoft.control.update_user(demo.ADMIN_UPN, accountEnabled=False)
    response = return_to_app(oak_client, callback)
    assert "The Microsoft account is disabled" in response.text
    assert attempts(db)[-1].outcome == "account_disabled"


def test_revoked_refresh_token_marks_reconnect_needed_everywhere(app, db, oak, oak_client, microsoft):
    connect_organisation(oak_client, oak.north, microsoft)
    connection = connection_for_organisation(oak.north)
    assert access_token_for(connection.id, force_refresh=True)
    microsoft.control.revoke_refresh_tokens(demo.ADMIN_UPN)
    with pytest.raises(ReconnectNeeded):
        access_token_for(connection.id, force_refresh=True)
    db.session.refresh(connection)
    assert connection.status == "reconnect_needed"
    # Microsoft's code for it (AADSTS50173) in words: it once said only "(invalid_grant)".
    assert connection.status_reason == (
        f"Microsoft no longer accepts the saved sign-in for {demo.ADMIN_UPN}: its password was "
        "changed or reset since it connected (invalid_grant, AADSTS50173).")
    for path in ("/", f"/o/{oak.south.id}/settings/users/", f"/o/{oak.north.id}/settings/user-sync/"):
        page = oak_client.get(path, follow_redirects=True)
        assert "Reconnect needed" in page.text, path
    response = connect_organisation(oak_client, oak.north, microsoft)  # Reconnect fixes it
    assert response.status_code == 302
    db.session.refresh(connection)
    assert connection.status == "connected"


def test_app_removed_from_the_tenant_marks_reconnect_needed_and_says_what_happened(
        app, db, oak, oak_client, microsoft):
    connect_organisation(oak_client, oak.north, microsoft)
    connection = connection_for_organisation(oak.north)
    microsoft.control.set_tenant(remove_app=True)  # its admin deleted the enterprise application
    with pytest.raises(ReconnectNeeded) as refused:  # once "try again later", for ever
        access_token_for(connection.id, force_refresh=True)
    db.session.refresh(connection)
    reason = connection.status_reason
    assert connection.status == "reconnect_needed" and str(refused.value) == reason
    for words in ("rostersync app is no longer in your Microsoft tenant", demo.TENANT_NAME,
                  "Enterprise applications", "administrator of that tenant", "contact support"):
        assert words in reason, reason
    assert len(re.findall(r"\breconnect", reason, re.I)) == 0  # each page gives that advice once
    for path in ("/", f"/o/{oak.north.id}/settings/user-sync/import/microsoft"):
        page = oak_client.get(path, follow_redirects=True).text
        assert "Reconnect needed" in page and html.escape(reason) in page, path  # the banner too
        assert "no longer accepts" not in page, path
    response = connect_organisation(oak_client, oak.north, microsoft)  # consenting adds it back
    assert response.status_code == 302
    db.session.refresh(connection)
    assert connection.status == "connected" and access_token_for(connection.id, force_refresh=True)


def test_app_disabled_in_the_tenant_marks_reconnect_needed_and_says_who_can_enable_it(
        app, db, oak, oak_client, microsoft):
    connect_organisation(oak_client, oak.north, microsoft)
    connection = connection_for_organisation(oak.north)
    microsoft.control.set_tenant(app_enabled=False)  # Enabled for users to sign-in: No
    with pytest.raises(ReconnectNeeded) as refused:  # not "Microsoft sign-in service error"
        access_token_for(connection.id, force_refresh=True)
    db.session.refresh(connection)
    reason = connection.status_reason
    assert connection.status == "reconnect_needed" and str(refused.value) == reason
    for words in ("rostersync app is disabled in your Microsoft tenant", demo.TENANT_NAME,
                  "Enterprise applications", "Enabled for users to sign-in: Yes",
                  "administrator of that tenant", "contact support"):
        assert words in reason, reason
    assert len(re.findall(r"\breconnect", reason, re.I)) == 0  # each page gives that advice once
    for path in ("/", f"/o/{oak.north.id}/settings/user-sync/import/microsoft"):
        page = oak_client.get(path, follow_redirects=True).text
        assert "Reconnect needed" in page and html.escape(reason) in page, path
    microsoft.control.set_tenant(app_enabled=True)  # the tenant's admin turns it back on
    assert connect_organisation(oak_client, oak.north, microsoft).status_code == 302
    db.session.refresh(connection)
    assert connection.status == "connected" and access_token_for(connection.id, force_refresh=True)


def test_an_automatic_sync_after_the_app_was_removed_asks_for_a_reconnect_by_email(
        app, db, school, microsoft):
    save_schedule(school, "1h")
    microsoft.control.set_tenant(remove_app=True)
    microsoft.control.set_faults(fail_on_page=1, fail_status=401, fail_count=5)  # token refreshed
    run_tick(app, due_moment(school.org))
    run_queued_syncs(app)
    run = runs_of(school.org)[-1]
    connection = connection_for_organisation(school.org)
    assert run.status == "failed" and connection.needs_reconnect
    assert run.reason.startswith(
        f"{connection.status_reason} Reconnect to Microsoft in Import settings.")
    assert "try again later" not in run.reason.lower()
    assert len(re.findall(r"\breconnect", run.reason, re.I)) == 1
    [event] = db.session.scalars(select(NotificationEvent).where(
        NotificationEvent.event == events.RECONNECT_NEEDED)).all()
    mail = compose(event, school.org)
    assert mail.subject == "Reconnect Northfield Academy to Microsoft"
    assert f"What happened: {connection.status_reason}" in mail.paragraphs


def test_disconnect_deletes_tokens_and_keeps_people(app, db, oak, oak_client, microsoft):
    connect_organisation(oak_client, oak.north, microsoft)
    run_quick_jobs(app)
    page = oak_client.get(f"/o/{oak.north.id}/settings/user-sync/import/microsoft")
    from harness.factory import csrf_token_from
    response = oak_client.post(f"/o/{oak.north.id}/settings/user-sync/import/microsoft/disconnect",
                               data={"csrf_token": csrf_token_from(page.text), "confirmed": "1"},
                               follow_redirects=True)
    assert "Disconnected from Microsoft" in response.text and ">Connect with Microsoft</button>" in response.text
    assert db.session.execute(text("SELECT count(*) FROM microsoft_connections")).scalar() == 0
    assert oak.admin.active_memberships()  # people stay


def test_only_admins_can_connect(app, factory, client, oak, microsoft):
    factory.user("teacher@oaklearning.example", [oak.north])
    sign_in(client, "teacher@oaklearning.example")
    assert client.get(f"/o/{oak.north.id}/settings/user-sync/import/microsoft").status_code == 404
    assert client.post(f"/o/{oak.north.id}/settings/user-sync/import/microsoft/connect").status_code in (400, 404)


def test_microsoft_unreachable_when_starting_says_so(app, db, oak, oak_client, microsoft):
    app.config["MICROSOFT_AUTHORITY"] = "https://127.0.0.1:9/organizations"  # nothing listens
    from harness.factory import csrf_token_from
    page = oak_client.get(f"/o/{oak.north.id}/settings/user-sync/import/microsoft")
    response = oak_client.post(f"/o/{oak.north.id}/settings/user-sync/import/microsoft/connect",
                               data={"csrf_token": csrf_token_from(page.text)})
    assert response.status_code == 502 and "We could not reach Microsoft" in response.text
    assert attempts(db)[-1].outcome == "unreachable"


def test_a_reconnect_during_a_token_refresh_waits_for_it_and_keeps_the_new_account(
        app, db, factory, client, microsoft):
    """Jo reconnected with another account while a sync was refreshing the token: the refresh
    then saved the cache it had read (the old account's) over Jo's, and within the hour the
    connection said Reconnect needed. The reconnect now waits for the refresh (the token lock,
    held here as a refresh holds it), and a refresh reads the row afresh under that lock."""
    import threading
    from harness.factory import sign_in as sign_in_client
    from tests.microsoft_flow import oak_trust
    from webapp.extensions import db as session_db
    from webapp.microsoft.identity import token_lock
    oak = oak_trust(factory)
    factory.user(demo.PERSONAL_UPN, [oak.north, oak.south], role="admin")
    sign_in_client(client, demo.ADMIN_UPN)
    assert connect_organisation(client, oak.north, microsoft).status_code == 302
    connection = connection_for_organisation(oak.north)  # this session now holds the old row
    jo, outcome = app.test_client(), {}

    def jo_reconnects():
        with app.app_context():
            sign_in_client(jo, demo.PERSONAL_UPN)
            outcome["status"] = connect_organisation(jo, oak.north, microsoft,
                                                     account=demo.PERSONAL_UPN).status_code
    with token_lock(connection.id):
        thread = threading.Thread(target=jo_reconnects)
        thread.start()
        thread.join(timeout=3)
        assert thread.is_alive(), "the reconnect did not wait for the refresh under way"
    thread.join(timeout=60)
    assert outcome == {"status": 302}
    assert access_token_for(connection.id, force_refresh=True)  # read afresh: Jo's tokens
    session_db.session.expire_all()
    assert connection_for_organisation(oak.north).account_email == demo.PERSONAL_UPN
    assert access_token_for(connection.id, force_refresh=True)


def test_a_reconnect_into_another_tenant_says_whose_groups_it_cleared(
        app, db, oak, oak_client, microsoft, monkeypatch):
    """Every school's chosen groups were forgotten (they belong to the other tenant), and the
    admin was told only "Connected ... Now choose the groups to sync"."""
    from webapp.microsoft import identity
    from webapp.microsoft.selection import choose_group, saved_selection
    from webapp.microsoft.services import graph_client_for
    connect_organisation(oak_client, oak.north, microsoft)
    client = graph_client_for(connection_for_organisation(oak.north))
    choose_group(oak.north, oak.admin, demo.NORTHFIELD_STAFF_GROUP_ID, client)
    choose_group(oak.south, oak.admin, demo.SOUTHFIELD_STAFF_GROUP_ID, client)
    real = identity.finish_auth_code_flow

    def in_another_tenant(flow, response):  # the simulator has one tenant: its answer, moved
        result, cache = real(flow, response)
        result["id_token_claims"]["tid"] = "11111111-2222-4333-8444-555555555555"
        return result, cache
    monkeypatch.setattr(identity, "finish_auth_code_flow", in_another_tenant)
    answer = connect_organisation(oak_client, oak.north, microsoft)
    page = oak_client.get(answer.location).text
    assert "different Microsoft organisation (tenant) from before" in html.unescape(page)
    assert "the groups chosen for 2 schools were cleared" in html.unescape(page)
    assert saved_selection(oak.north).groups == saved_selection(oak.south).groups == ()


@pytest.mark.parametrize("codes, description, expected", [
    ([53003], "AADSTS53003: Access has been blocked by Conditional Access policies.",
     "a Conditional Access policy of your tenant blocks rostersync's sign-in from the platform's "
     "servers (interaction_required, AADSTS53003). Reconnecting alone will not help"),
    ([50076], "AADSTS50076: Due to a configuration change ... you must use multi-factor "
     "authentication.", "Microsoft now asks it for multi-factor authentication"),
    ([9999], "AADSTS9999: Something new.\r\nTrace ID: 1", "(interaction_required). Microsoft "
     "said: AADSTS9999: Something new."),
], ids=["conditional access", "mfa", "unknown code"])
def test_a_refused_refresh_says_what_microsofts_code_means(app, db, oak, oak_client, microsoft,
                                                           codes, description, expected):
    """MSAL's error for a refused refresh, as the identity platform returns it (error,
    error_codes, error_description): the boundary, unit-tested; the simulator gives 50173."""
    from webapp.microsoft.identity import _token_or_reconnect
    connect_organisation(oak_client, oak.north, microsoft)
    connection = connection_for_organisation(oak.north)
    with pytest.raises(ReconnectNeeded) as refused:
        _token_or_reconnect(connection, {"error": "interaction_required", "error_codes": codes,
                                         "error_description": description})
    assert expected in str(refused.value)


def chose_a_group_then_disconnected(oak, oak_client, microsoft):
    from harness.factory import csrf_token_from
    from webapp.microsoft.selection import choose_group, saved_selection
    from webapp.microsoft.services import graph_client_for
    connect_organisation(oak_client, oak.north, microsoft)
    choose_group(oak.north, oak.admin, demo.NORTHFIELD_STAFF_GROUP_ID,
                 graph_client_for(connection_for_organisation(oak.north)))
    url = f"/o/{oak.north.id}/settings/user-sync/import/microsoft"
    oak_client.post(url + "/disconnect", data={
        "csrf_token": csrf_token_from(oak_client.get(url).text), "confirmed": "1"})
    assert connection_for_organisation(oak.north) is None
    assert saved_selection(oak.north).groups  # kept, for a reconnect to the same tenant


def test_disconnect_then_connect_another_tenant_clears_the_groups_too(
        app, db, oak, oak_client, microsoft, monkeypatch):
    """Disconnect keeps the chosen groups (a reconnect to the same tenant keeps them), and the
    tenant check needed the connection the disconnect had deleted: another tenant's connection
    kept them, and they were then said "deleted in Microsoft"."""
    from webapp.microsoft import identity
    from webapp.microsoft.selection import saved_selection
    chose_a_group_then_disconnected(oak, oak_client, microsoft)
    real = identity.finish_auth_code_flow

    def in_another_tenant(flow, response):
        result, cache = real(flow, response)
        result["id_token_claims"]["tid"] = "11111111-2222-4333-8444-555555555555"
        return result, cache
    monkeypatch.setattr(identity, "finish_auth_code_flow", in_another_tenant)
    answer = connect_organisation(oak_client, oak.north, microsoft)
    assert "the groups chosen for 1 school were cleared" in html.unescape(
        oak_client.get(answer.location).text)
    assert saved_selection(oak.north).groups == ()


def test_disconnect_then_connect_the_same_tenant_keeps_the_groups(app, db, oak, oak_client,
                                                                  microsoft):
    from webapp.microsoft.selection import saved_selection
    chose_a_group_then_disconnected(oak, oak_client, microsoft)
    connect_organisation(oak_client, oak.north, microsoft)
    assert [g.id for g in saved_selection(oak.north).groups] == [demo.NORTHFIELD_STAFF_GROUP_ID]
