"""Connecting an organisation to the Microsoft simulator, end to end, for any test.

The app runs in-process (Flask test client); the simulator's sign-in pages are driven over
HTTPS with `requests`, as a browser would, and real MSAL redeems the code inside the app.

    def test_x(client, microsoft, ...):                          # the app talks to the simulator
        response = connect_organisation(client, org, microsoft)  # the callback's response
        assert response.status_code == 302                        # -> the group picker

Fixtures (registered for every test by tests/conftest.py, so there is one simulator process
per session): `simulator` (the process; sets REQUESTS_CA_BUNDLE), `microsoft` (the same, reset
to the demo tenant for this test; a test that uses it gets an app pointed at the simulator),
`oak` and `oak_client` (the demo trust and its signed-in admin).
"""
import html.parser
import os
import urllib.parse
from types import SimpleNamespace

import pytest
import requests
from rq import SimpleWorker

from tests.factory import csrf_token_from, sign_in

try:
    from microsoft_simulator import demo
    from microsoft_simulator.testing import SimulatorProcess
except ImportError:  # pragma: no cover - the simulator is part of this repository
    demo = SimulatorProcess = None

CALLBACK_PATH = "/microsoft/callback"
# With the simulator, Graph retries and the sync's liveness grace need not take real-world time.
FAST_RETRIES = {"GRAPH_BASE_BACKOFF_SECONDS": 0.05, "SYNC_LIVENESS_SECONDS": 2.0}
FAST_WORKER_ENV = {key: str(value) for key, value in FAST_RETRIES.items()}  # for a real worker


@pytest.fixture(scope="session")
def simulator(tmp_path_factory):
    with SimulatorProcess(state_dir=tmp_path_factory.mktemp("microsoft-simulator")) as sim:
        previous = os.environ.get("REQUESTS_CA_BUNDLE")
        os.environ["REQUESTS_CA_BUNDLE"] = sim.ca_path  # MSAL and Graph calls trust its CA
        yield sim
        if previous is None:
            os.environ.pop("REQUESTS_CA_BUNDLE", None)
        else:
            os.environ["REQUESTS_CA_BUNDLE"] = previous


@pytest.fixture
def microsoft(simulator, monkeypatch):
    # Set per test too: another session-wide simulator (tests/simulator) may hold the variable.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", simulator.ca_path)
    simulator.control.reset()
    yield simulator
    simulator.control.clear_faults()


def simulator_config(sim):
    return {name: sim.env[name] for name in (
        "MICROSOFT_AUTHORITY", "MICROSOFT_GRAPH_URL", "MICROSOFT_CLIENT_ID",
        "MICROSOFT_CLIENT_SECRET")}


class Page(html.parser.HTMLParser):
    """The forms and buttons of one simulator page."""

    def __init__(self, response):
        super().__init__()
        self.response, self.text, self.forms, self._button = response, response.text, [], None
        self.feed(response.text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action"), "inputs": {}, "buttons": []})
        elif tag == "input" and self.forms and attrs.get("name"):
            self.forms[-1]["inputs"][attrs["name"]] = attrs.get("value", "")
        elif tag == "button" and self.forms:
            self._button = {"name": attrs.get("name"), "value": attrs.get("value"),
                            "label": attrs.get("aria-label"), "text": ""}
            self.forms[-1]["buttons"].append(self._button)

    def handle_endtag(self, tag):
        if tag == "button":
            self._button = None

    def handle_data(self, data):
        if self._button is not None:
            self._button["text"] += data.strip()

    def find_button(self, name):
        for form in self.forms:
            for button in form["buttons"]:
                if name in (button["label"], button["text"]):
                    return form, button
        return None, None

    def has_button(self, name):
        return self.find_button(name)[0] is not None


class MicrosoftBrowser:
    """A browser at Microsoft's sign-in pages; stops when it is sent back to the app."""

    def __init__(self, sim):
        self.session = requests.Session()
        self.verify = sim.ca_path
        self.page = None
        self.callback_url = None

    def open(self, url):
        return self._follow(self.session.get(url, allow_redirects=False, verify=self.verify))

    def click(self, name, **fields):
        form, button = self.page.find_button(name)
        assert form is not None, f"no button {name!r} on:\n{self.page.text}"
        data = {**form["inputs"], **fields}
        if button["name"]:
            data[button["name"]] = button["value"]
        url = urllib.parse.urljoin(self.page.response.url, form["action"])
        return self._follow(self.session.post(url, data=data, allow_redirects=False,
                                              verify=self.verify))

    def _follow(self, response):
        while response.is_redirect:
            location = urllib.parse.urljoin(response.url, response.headers["Location"])
            if urllib.parse.urlsplit(location).path == CALLBACK_PATH:
                self.callback_url, self.page = location, None
                return location
            response = self.session.get(location, allow_redirects=False, verify=self.verify)
        self.page = Page(response)
        return self.page

    def sign_in_as(self, account, password=None, accept_consent=True):
        """From wherever the flow is, sign in as `account`; returns the callback URL or a Page."""
        password = password or demo.PASSWORD
        outcome = self.page or self.callback_url
        if isinstance(outcome, Page) and "Pick an account" in outcome.text:
            outcome = self.click(account) if outcome.has_button(account) \
                else self.click("Use another account")
        if isinstance(outcome, Page) and "passwd" in _inputs(outcome):
            outcome = self.click("Sign in", login=account, passwd=password)
        if accept_consent and isinstance(outcome, Page) and "Permissions requested" in outcome.text:
            outcome = self.click("Accept")
        return outcome


def _inputs(page):
    return {name for form in page.forms for name in form["inputs"]}


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


def connect_organisation(client, org, sim, account=None, browser=None, different_account=False):
    """Connect with Microsoft for `org` as the signed-in admin; returns the callback response.

    On success that is a 302 to the group picker, and a group snapshot job is queued.
    """
    auth_uri = start_connect(client, org, different_account=different_account)
    browser, outcome = sign_in_at_microsoft(sim, auth_uri, account, browser)
    assert isinstance(outcome, str), f"Microsoft stopped on a page:\n{outcome.text}"
    return return_to_app(client, outcome)


def oak_trust(factory, admin_email=None):
    """The demo trust: Northfield Academy and Southfield Primary, it-sync@ an admin of both."""
    north = factory.organisation("Northfield Academy", "Oak Learning Trust")
    south = factory.organisation("Southfield Primary", "Oak Learning Trust")
    admin = factory.user(admin_email or demo.ADMIN_UPN, [north, south], role="admin",
                         name="IT Sync Admin")
    return SimpleNamespace(north=north, south=south, admin=admin, trust=north.trust)


@pytest.fixture
def oak(factory):
    """The demo trust (see oak_trust)."""
    return oak_trust(factory)


@pytest.fixture
def oak_client(client, oak):
    """A test client signed in as the demo trust's admin."""
    sign_in(client, oak.admin.email)
    return client


class InProcessWorker(SimpleWorker):
    """A SimpleWorker without RQ's command channel: nobody sends commands to a worker living
    inside a test, and stopping that channel's pubsub thread (it blocks 60 s per read) stalled
    one burst in a few by a whole minute (measured: 60.0 s for an empty queue, 2 runs of 8;
    none in 30 without it)."""

    def subscribe(self):
        pass

    def unsubscribe(self):
        pass


def run_quick_jobs(app):
    """Runs every queued quick job in this process with a real RQ SimpleWorker (no fork)."""
    from webapp.redis_conn import get_queue, get_redis
    InProcessWorker([get_queue("quick", app)], connection=get_redis(app)).work(burst=True)
