"""`make run`'s demo trust, made ready the way an admin would: once the web process and the
worker are up, sign in as the demo admin, Connect with Microsoft (the simulator's sign-in pages,
driven like a browser), choose Northfield Staff for Northfield Academy and Southfield Staff for
Southfield Primary, and press Sync now for Northfield only. Settings › Schools then shows one
school that is fine and one that needs attention (never synced). Safe to run again: each step is
skipped when it has been done."""
import re
import time
from types import SimpleNamespace

import requests

from microsoft_simulator import demo as tenant
from scripts import walkthrough_microsoft as admin_steps
from webapp.demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD


class LocalClient:
    """The admin's browser: one session against the local web process, redirects not followed."""

    def __init__(self, base_url):
        self.base_url, self.session = base_url, requests.Session()

    def request(self, method, path, **kwargs):
        return self.session.request(method, self.base_url + path, allow_redirects=False,
                                    timeout=30, **kwargs)


def wait_until_up(base_url, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError("the web process did not answer /healthz")


def sign_in(client):
    page = client.request("GET", "/login")
    answer = client.request("POST", "/login", data={
        "email": DEMO_ADMIN_EMAIL, "password": DEMO_ADMIN_PASSWORD,
        "csrf_token": admin_steps.csrf_token(page)})
    if answer.status_code != 302:
        raise RuntimeError(f"signing in as {DEMO_ADMIN_EMAIL} answered {answer.status_code}")


def school_paths(client):
    """{school name: "/o/<id>/"} from the school switcher."""
    home = client.request("GET", "/")
    page = client.request("GET", home.headers["Location"])
    return {name: f"/o/{org_id}/" for org_id, name in
            re.findall(r'<option value="(\d+)"[^>]*>([^<]+)</option>', page.text)}


def prepare(base_url, ca_path):
    """Returns what it did, in words."""
    wait_until_up(base_url)
    client = LocalClient(base_url)
    sign_in(client)
    paths = school_paths(client)
    north, south = paths["Northfield Academy"], paths["Southfield Primary"]
    done = []
    import_page = client.request("GET", f"{north}settings/user-sync/import/microsoft")
    if "Disconnect" not in import_page.text:
        admin_steps.connect(client, north, SimpleNamespace(ca_path=ca_path))
        done.append("connected Oak Learning Trust to the simulated Microsoft")
    for path, group_id, name in ((north, tenant.NORTHFIELD_STAFF_GROUP_ID, "Northfield Staff"),
                                 (south, tenant.SOUTHFIELD_STAFF_GROUP_ID, "Southfield Staff")):
        if "None chosen" in client.request("GET", f"{path}settings/user-sync/").text:
            admin_steps.choose_group(client, path, group_id)
            done.append(f"chose {name}")
    if "Never synced" in client.request("GET", f"{north}settings/user-sync/summary",
                                        headers={"HX-Request": "true"}).text:
        admin_steps.sync_now(client, north)
        done.append("synced Northfield Academy")
    return done
