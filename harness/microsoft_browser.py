"""A browser at Microsoft's sign-in pages (the simulator's), driven over HTTPS with `requests`
as a person would: open the sign-in URL, pick or type the account, accept the consent; it stops
when Microsoft sends it back to the app's redirect URI (CALLBACK_PATH)."""
import html.parser
import urllib.parse

import requests

from microsoft_simulator import demo

CALLBACK_PATH = "/microsoft/callback"
ORG_CONSENT = "org_consent"  # "Consent on behalf of your organization" on the consent page


class Page(html.parser.HTMLParser):
    """The forms and buttons of one simulator page."""

    def __init__(self, response):
        super().__init__()
        self.response, self.text, self.forms, self._button = response, response.text, [], None
        self.feed(response.text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action"), "inputs": {}, "buttons": [],
                               "checkboxes": {}})
        elif tag == "input" and self.forms and attrs.get("name"):
            if attrs.get("type") == "checkbox":  # submitted only when ticked, as browsers do
                self.forms[-1]["checkboxes"][attrs["name"]] = attrs.get("value", "on")
                if "checked" not in attrs:
                    return
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

    def has_checkbox(self, name):
        return any(name in form["checkboxes"] for form in self.forms)


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
            outcome = self.accept_consent()
        return outcome

    def accept_consent(self):
        """Accept, as an administrator does it: for the whole organisation when the page offers
        that (Entra shows the box to Global Administrators), so nobody else is asked again."""
        if self.page.has_checkbox(ORG_CONSENT):
            return self.click("Accept", **{ORG_CONSENT: "1"})
        return self.click("Accept")


def _inputs(page):
    return {name for form in page.forms for name in form["inputs"]}
