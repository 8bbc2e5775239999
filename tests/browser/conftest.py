"""Browser tests: the test app served for real, driven by Chromium through Playwright.

Fixtures for any browser test:
- `live_server`: base URL of this test's app, served by a threaded werkzeug server on an
  ephemeral port (the test's database and Redis; start a worker with `start_worker`).
- `production_stack`: the app started as in production instead (tests/browser/production.py):
  Procfile `release`, gunicorn `web` and app.json's `worker`s as real processes, on a fresh
  PostgreSQL database, with the simulator (`microsoft`) as Microsoft. `.base_url`, `.run(cmd)`
  for one-off CLI commands, `.jobs()` for the workers' job log lines. Its processes' logs are
  printed when the test fails. Do not combine it with `app`: it has its own database.
- `chromium`: one Chromium per test session (/usr/bin/chromium; `.ci/run` installs it).
- `browser_page`: a fresh browser context and page per test (no cookies carried over), with
  HTTPS errors ignored for the Microsoft simulator's self-signed certificate.
Find elements by accessible name: page.get_by_role("button", name="..."), get_by_label(...).
"""
import os
import threading

import pytest
from werkzeug.serving import make_server

from harness.deploy import logs_in
from tests import services
from tests.browser.production import production_stack as start_production_stack

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


@pytest.fixture
def failing_view(app):
    """/_broken raises. Rules can only be added before an app's first request, and apps last
    the session: this fixture's app is one of its own (tests/conftest.py's app_config_overrides
    gives it PROPAGATE_EXCEPTIONS off, as in production: the error page, not a trace)."""
    def broken():
        raise RuntimeError("a bug")
    if "broken" not in app.view_functions:
        app.add_url_rule("/_broken", "broken", broken)
    return "/_broken"


PHASE_REPORTS = pytest.StashKey()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keeps each phase's report on the test, so a fixture can tell the test failed."""
    report = yield
    item.stash.setdefault(PHASE_REPORTS, {})[report.when] = report
    return report


@pytest.fixture
def production_stack(request, microsoft, redis_url, tmp_path):
    workdir = tmp_path / "processes"
    started = False
    try:
        with start_production_stack(workdir, microsoft, redis_url) as stack:
            started = True
            yield stack
    finally:
        reports = request.node.stash.get(PHASE_REPORTS, {}).values()
        if not started or any(report.failed for report in reports):
            print(logs_in(workdir))  # pytest shows it with the failure


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
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(lambda url: "/login" not in url)
