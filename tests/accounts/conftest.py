"""Every test here has a real SMTP server on loopback as the app's mail server (MAIL_*, with
PUBLIC_URL https://rostersync.example.test); mail jobs run in-process (run_quick_jobs)."""
import pytest


@pytest.fixture
def extra_config(smtp_server):
    return smtp_server.config()


@pytest.fixture
def head(factory):
    """Hill School's head, its admin (password "password"): the two-step tests' account."""
    from tests.accounts.two_step_helpers import HEAD
    return factory.user(HEAD, [factory.organisation("Hill School")], role="admin")
