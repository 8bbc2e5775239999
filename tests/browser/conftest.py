"""Browser tests: the test app served for real, driven by Chromium through Playwright.

Fixtures for any browser test:
- `live_server`: base URL of this test's app, served by a threaded werkzeug server on an
  ephemeral port (the test's database and Redis; start a worker with `start_worker`).
- `chromium`: one Chromium per test session (/usr/bin/chromium; `.ci/run` installs it).
- `browser_page`: a fresh browser context and page per test (no cookies carried over), with
  HTTPS errors ignored for the Microsoft simulator's self-signed certificate.
Find elements by accessible name: page.get_by_role("button", name="..."), get_by_label(...).
"""
import os
import threading

import pytest
from werkzeug.serving import make_server

from tests import services

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()


@pytest.fixture(scope="session")
def chromium():
    if not os.path.exists(CHROMIUM):
        services.unavailable(f"Chromium is not installed at {CHROMIUM}")
    from playwright.sync_api import sync_playwright
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def browser_page(chromium):
    context = chromium.new_context(ignore_https_errors=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    yield page
    context.close()


def sign_in(page, base_url, email, password="password"):
    page.goto(f"{base_url}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
