"""Before the Microsoft client secret expires, admins, /healthz and the worker log say so."""
import datetime

import pytest

from harness.app_config import make_test_config
from webapp import create_app
from webapp.config import ConfigError
from webapp.microsoft.client_secret import secret_expiry_notice

pytestmark = pytest.mark.backends("sqlite")
TODAY = datetime.date(2027, 3, 1)


def test_notice_only_inside_the_warning_window():
    config = {"MICROSOFT_CLIENT_SECRET_WARN_DAYS": 30}
    assert secret_expiry_notice(config, TODAY) is None
    assert secret_expiry_notice(config | {"MICROSOFT_CLIENT_SECRET_EXPIRES": "2027-06-01"},
                                TODAY) is None
    soon = secret_expiry_notice(config | {"MICROSOFT_CLIENT_SECRET_EXPIRES": "2027-03-10"}, TODAY)
    assert (soon.days_left, soon.expired) == (9, False)
    assert "10 Mar 2027 (in 9 days)" in soon.message
    gone = secret_expiry_notice(config | {"MICROSOFT_CLIENT_SECRET_EXPIRES": "2027-02-27"}, TODAY)
    assert gone.expired and "expired on 27 Feb 2027" in gone.message


def expiring_in(days):
    return (datetime.date.today() + datetime.timedelta(days=days)).isoformat()


@pytest.fixture
def extra_config():
    return {"MICROSOFT_CLIENT_SECRET_EXPIRES": expiring_in(12)}


def test_admins_see_the_banner_and_members_do_not(app, admin, factory, sign_in):
    member = factory.user("member@school.example", [admin.org])
    admin_client, member_client = app.test_client(), app.test_client()
    sign_in(admin_client, admin.user.email)
    page = admin_client.get("/", follow_redirects=True).text
    assert "Microsoft syncing will stop on" in page and "(in 12 days)" in page
    sign_in(member_client, member.email)
    assert "Microsoft syncing will stop" not in member_client.get("/", follow_redirects=True).text


def test_healthz_lists_the_warning_but_stays_200(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "expires on" in response.json["warnings"][0]


def test_a_malformed_expiry_date_stops_start_up_naming_the_variable(backend, redis_url):
    config = make_test_config(backend[1], redis_url, MICROSOFT_CLIENT_SECRET_EXPIRES="31/03/2027")
    with pytest.raises(ConfigError, match="MICROSOFT_CLIENT_SECRET_EXPIRES"):
        create_app(config)
