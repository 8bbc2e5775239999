"""A delegated Graph access token from the simulator, the way the app gets one (auth-code flow).

Benchmarks only: the sign-in pages are driven with `requests`, as tests/microsoft_flow does.
"""
import os
import urllib.parse

import msal

from microsoft_simulator import demo
from harness.microsoft_browser import MicrosoftBrowser

SCOPES = ["User.Read", "GroupMember.Read.All", "User.Read.All"]
REDIRECT_URI = "http://localhost/microsoft/callback"


def access_token(sim, account=demo.ADMIN_UPN):
    # requests lets REQUESTS_CA_BUNDLE override `verify`, so the variable itself must name the CA.
    os.environ["REQUESTS_CA_BUNDLE"] = sim.ca_path
    app = msal.ConfidentialClientApplication(
        sim.env["MICROSOFT_CLIENT_ID"], client_credential=sim.env["MICROSOFT_CLIENT_SECRET"],
        authority=sim.env["MICROSOFT_AUTHORITY"], instance_discovery=False)
    flow = app.initiate_auth_code_flow(SCOPES, redirect_uri=REDIRECT_URI)
    browser = MicrosoftBrowser(sim)
    browser.open(flow["auth_uri"])
    callback = browser.sign_in_as(account)
    assert isinstance(callback, str), "the simulator stopped on a sign-in page"
    answer = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(callback).query))
    result = app.acquire_token_by_auth_code_flow(flow, answer)
    if "access_token" not in result:
        raise RuntimeError(f"no token from the simulator: {result.get('error')}")
    return result["access_token"]
