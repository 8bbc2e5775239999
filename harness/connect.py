"""Connect with Microsoft end to end from a Flask test client: the app runs in-process, the
simulator's sign-in pages are driven over HTTPS as a browser would (MicrosoftBrowser), and
real MSAL redeems the code inside the app.

    response = connect_organisation(client, org, sim)   # the callback's response
    assert response.status_code == 302                   # -> the group picker
"""
import urllib.parse

from harness.factory import csrf_token_from
from harness.microsoft_browser import CALLBACK_PATH, MicrosoftBrowser
from microsoft_simulator import demo

# With the simulator, Graph retries and the sync's liveness grace need not take real-world time.
FAST_RETRIES = {"GRAPH_BASE_BACKOFF_SECONDS": 0.05, "SYNC_LIVENESS_SECONDS": 2.0}
FAST_WORKER_ENV = {key: str(value) for key, value in FAST_RETRIES.items()}  # for a real worker


def simulator_config(sim):
    """The settings that point an app (or a worker) at this simulator."""
    return {name: sim.env[name] for name in (
        "MICROSOFT_AUTHORITY", "MICROSOFT_GRAPH_URL", "MICROSOFT_CLIENT_ID",
        "MICROSOFT_CLIENT_SECRET")}


def import_settings_url(org):
    return f"/o/{org.id}/settings/user-sync/import/microsoft"


def start_connect(client, org, different_account=False):
    """Presses Connect with Microsoft; returns the Microsoft sign-in URL the app redirected to."""
    page = client.get(import_settings_url(org))
    data = {"csrf_token": csrf_token_from(page.text)}
    if different_account:
        data["different_account"] = "1"
    response = client.post(f"{import_settings_url(org)}/connect", data=data)
    assert response.status_code == 302, response.text
    return response.headers["Location"]


def return_to_app(client, callback_url):
    """The browser arriving back at the app's fixed redirect URI."""
    parts = urllib.parse.urlsplit(callback_url)
    return client.get(f"{parts.path}?{parts.query}")


def sign_in_at_microsoft(sim, auth_uri, account=None, browser=None, accept_consent=True):
    """Returns (browser, the callback URL, or the Page the flow stopped on)."""
    browser = browser or MicrosoftBrowser(sim)
    browser.open(auth_uri)
    return browser, browser.sign_in_as(account or demo.ADMIN_UPN, accept_consent=accept_consent)


def approve_for_organisation(sim):
    """What a school's Microsoft 365 administrator does once, in their own browser: open the
    admin-consent link, sign in, Accept. Returns where Microsoft sent them back. Afterwards
    User.Read.All and GroupMember.Read.All are granted for everyone in the tenant."""
    it_admin = MicrosoftBrowser(sim)
    query = urllib.parse.urlencode({"client_id": demo.CLIENT_ID,
                                    "redirect_uri": f"http://localhost{CALLBACK_PATH}",
                                    "state": "approved-by-the-test-tenant's-administrator"})
    it_admin.open(f"{sim.base_url}/organizations/v2.0/adminconsent?{query}")
    it_admin.sign_in_as(demo.ADMIN_UPN, accept_consent=False)
    return it_admin.click("Accept")


def connect_organisation(client, org, sim, account=None, browser=None, different_account=False):
    """Connect with Microsoft for `org` as the signed-in admin; returns the callback response.

    Microsoft asks an administrator to approve the app before anyone else may use it, so when
    `account` is not the tenant's administrator, the administrator approves first (as a school
    does once). On success that is a 302 to the group picker, and a group snapshot job is queued.
    """
    if account not in (None, demo.ADMIN_UPN):
        approve_for_organisation(sim)
    auth_uri = start_connect(client, org, different_account=different_account)
    browser, outcome = sign_in_at_microsoft(sim, auth_uri, account, browser)
    assert isinstance(outcome, str), f"Microsoft stopped on a page:\n{outcome.text}"
    return return_to_app(client, outcome)
