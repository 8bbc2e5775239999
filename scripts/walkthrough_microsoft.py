"""The walk-through's last mile: Connect with Microsoft, choose a group, Sync now, all through
the router, with the Microsoft simulator standing in for Microsoft (its sign-in pages are driven
like a browser would) and the sync running on one of the worker processes."""
import re
import time
import urllib.parse

from microsoft_simulator import demo
from harness.microsoft_browser import MicrosoftBrowser

STATUS_POLL = re.compile(r'hx-get="([^"]+/status)"')


def csrf_token(page):
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def settings_version(page):
    """The version of the settings the page's form was drawn from, as a browser sends it."""
    found = re.search(r'name="version" value="(\d+)"', page.text)
    return found.group(1) if found else "0"


def connect(client, org_path, sim):
    import_page = client.request("GET", f"{org_path}settings/user-sync/import/microsoft")
    assert import_page.status_code == 200, f"Import settings: {import_page.status_code}"
    response = client.request("POST", f"{org_path}settings/user-sync/import/microsoft/connect",
                              data={"csrf_token": csrf_token(import_page)})
    assert response.status_code == 302, f"Connect with Microsoft: {response.status_code}"
    browser = MicrosoftBrowser(sim)
    browser.open(response.headers["Location"])
    callback = browser.sign_in_as(demo.ADMIN_UPN)
    assert isinstance(callback, str), f"Microsoft stopped on a page:\n{callback.text[:500]}"
    parts = urllib.parse.urlsplit(callback)
    back = client.request("GET", f"{parts.path}?{parts.query}")
    assert back.status_code == 302 and "groups" in back.headers["Location"], \
        f"callback answered {back.status_code} {back.headers.get('Location')}"
    return browser


def choose_group(client, org_path, group_id=demo.NORTHFIELD_STAFF_GROUP_ID):
    groups_path = f"{org_path}settings/user-sync/import/microsoft/groups"
    page = client.request("GET", groups_path)
    response = client.request("POST", groups_path, data={
        "sync": group_id, "action": "save", "csrf_token": csrf_token(page),
        "version": settings_version(page)})
    assert response.status_code == 302, f"choosing the group: {response.status_code}"


def sync_now(client, org_path, timeout=120):
    """Presses Sync now and follows the progress partial until the run ends; returns its text."""
    page = client.request("GET", f"{org_path}settings/user-sync/")
    status = client.request("POST", f"{org_path}settings/user-sync/sync",
                            data={"csrf_token": csrf_token(page)}, headers={"HX-Request": "true"})
    deadline = time.monotonic() + timeout
    while (poll := STATUS_POLL.search(status.text)) and time.monotonic() < deadline:
        time.sleep(0.5)
        status = client.request("GET", poll.group(1), headers={"HX-Request": "true"})
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", status.text)).strip()
    assert "Sync complete" in text, f"the sync did not complete: {text}"
    return text
