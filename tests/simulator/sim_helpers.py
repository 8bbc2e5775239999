"""Helpers that drive the simulator like a browser and MSAL do (imported by the tests)."""
import html.parser
import urllib.parse

import msal
import requests

from microsoft_simulator import demo

REDIRECT_URI = "http://localhost:5000/auth/callback"
APP_SCOPES = ["User.Read", "User.Read.All", "GroupMember.Read.All"]


class Form(html.parser.HTMLParser):
    """Collects forms, inputs and buttons from one page."""

    def __init__(self, text):
        super().__init__()
        self.forms, self.labels, self._label_for, self.text = [], {}, None, text
        self._button = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action"), "inputs": {}, "buttons": []})
        elif tag == "input" and self.forms:
            if attrs.get("type") != "checkbox" or "checked" in attrs:  # as browsers submit forms
                self.forms[-1]["inputs"][attrs.get("name")] = attrs.get("value", "")
        elif tag == "button" and self.forms:
            self._button = {"name": attrs.get("name"), "value": attrs.get("value"),
                            "aria_label": attrs.get("aria-label"), "text": ""}
            self.forms[-1]["buttons"].append(self._button)
        elif tag == "label":
            self._label_for = attrs.get("for")

    def handle_endtag(self, tag):
        if tag == "button":
            self._button = None
        if tag == "label":
            self._label_for = None

    def handle_data(self, data):
        if self._button is not None:
            self._button["text"] += data.strip()
        if self._label_for:
            self.labels[data.strip()] = self._label_for

    def button(self, accessible_name):
        for form in self.forms:
            for button in form["buttons"]:
                if accessible_name in ((button["aria_label"] or button["text"]), button["text"]):
                    return form, button
        raise AssertionError(f"no button named {accessible_name!r} in:\n{self.text}")


class Browser:
    """A requests.Session that stops at the app's redirect URI, like a real browser would arrive there."""

    def __init__(self, sim):
        self.sim = sim
        self.session = requests.Session()
        self.session.verify = sim.ca_path
        self.page = None

    def _follow(self, response):
        while response.is_redirect:
            location = urllib.parse.urljoin(response.url, response.headers["Location"])
            if location.startswith(REDIRECT_URI):
                self.page = None
                return dict(urllib.parse.parse_qsl(urllib.parse.urlparse(location).query))
            response = self.session.get(location, allow_redirects=False)
        self.last_response = response
        self.page = Form(response.text)
        return self.page

    def open(self, url):
        return self._follow(self.session.get(url, allow_redirects=False))

    def click(self, accessible_name, **fields):
        form, button = self.page.button(accessible_name)
        data = dict(form["inputs"])
        data.update({self.page.labels.get(k, k): v for k, v in fields.items()})
        if button["name"]:
            data[button["name"]] = button["value"]
        url = urllib.parse.urljoin(self.last_response.url, form["action"])
        return self._follow(self.session.post(url, data=data, allow_redirects=False))

    def sign_in(self, email, password=demo.PASSWORD):
        return self.click("Sign in", Email=email, Password=password)


def msal_app(sim, cache=None):
    return msal.ConfidentialClientApplication(
        sim.env["MICROSOFT_CLIENT_ID"], client_credential=sim.env["MICROSOFT_CLIENT_SECRET"],
        authority=sim.env["MICROSOFT_AUTHORITY"], instance_discovery=False, token_cache=cache)


def approve_for_organisation(sim, state="approved"):
    """What a tenant's administrator does once: the admin consent endpoint, Accept. Returns the
    answer Microsoft sent back to the app. Ordinary users can then sign in to the app."""
    admin = Browser(sim)
    admin.open(f"{sim.base_url}/organizations/v2.0/adminconsent?" + urllib.parse.urlencode(
        {"client_id": demo.CLIENT_ID, "redirect_uri": REDIRECT_URI, "state": state}))
    admin.sign_in(demo.ADMIN_UPN)
    return admin.click("Accept")


def sign_in_with_msal(sim, browser, account=demo.ADMIN_UPN, scopes=APP_SCOPES, **flow_kwargs):
    """Full interactive flow; returns (app, MSAL result). Accepts consent if asked."""
    app = msal_app(sim)
    flow = app.initiate_auth_code_flow(scopes, redirect_uri=REDIRECT_URI, **flow_kwargs)
    outcome = browser.open(flow["auth_uri"])
    if isinstance(outcome, Form) and "Password" in outcome.labels:
        outcome = browser.sign_in(account)
    if isinstance(outcome, Form) and "Permissions requested" in outcome.text:
        outcome = browser.click("Accept")
    assert isinstance(outcome, dict), browser.page.text
    return app, app.acquire_token_by_auth_code_flow(flow, outcome)
