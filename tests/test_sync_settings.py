"""Sync settings: the safety limit's numbers are checked on the server (1-100 %, 1-10,000
people, whole numbers, never blank), each error is shown next to its field with what was
typed, and bad input saves nothing. 0 % and 1,000,000 people were once accepted, the second
switching the safety limit off, and a blank field's error appeared at the top of the page."""
import html
import re

import pytest

from harness.factory import csrf_token_from, version_for
from webapp.extensions import db
from webapp.user_sync import models as m
from webapp.user_sync.settings import whole_number_error

pytestmark = pytest.mark.backends("sqlite")

PERCENT, MINIMUM = "removal_threshold_percent", "removal_threshold_minimum"
SHARE_RANGE = "Enter the share of synced people as a whole number from 1 to 100."
SHARE_BLANK = "Enter the share of synced people: a whole number from 1 to 100."
PEOPLE_RANGE = "Enter the number of people as a whole number from 1 to 10,000."
PEOPLE_BLANK = "Enter the number of people: a whole number from 1 to 10,000."
NOT_WHOLE = "without decimals, spaces or other signs"


def save(client, org, **fields):
    page_url = f"/o/{org.id}/settings/user-sync/"
    page = client.get(page_url).text
    return client.post(f"{page_url}settings", data={
        "csrf_token": csrf_token_from(page), "version": version_for(page, f"{page_url}settings"),
        **fields})


def saved(org):
    db.session.expire_all()
    row = db.session.query(m.SyncSettings).filter_by(organisation_id=org.id).one_or_none()
    return row and (row.include_guests, row.removal_threshold_percent,
                    row.removal_threshold_minimum)


def field_html(page, input_id):
    """The markup of the settings field holding input_id, from its <div class="field"> on."""
    match = re.search(r'<div class="field[^"]*"><label for="%s">.*?</div>' % input_id, page, re.S)
    assert match, f"no field for {input_id}"
    return match.group(0)


@pytest.fixture
def saved_once(admin_client, admin):
    assert save(admin_client, admin.org, include_guests="1", **{PERCENT: "20", MINIMUM: "3"}
                ).status_code == 303
    assert saved(admin.org) == (True, 20, 3)
    return admin_client, admin.org


@pytest.mark.parametrize("percent, minimum", [("1", "1"), ("100", "10000"), (" 15 ", "7")])
def test_whole_numbers_within_bounds_are_saved(saved_once, percent, minimum):
    client, org = saved_once
    response = save(client, org, **{PERCENT: percent, MINIMUM: minimum})
    assert response.status_code == 303
    assert saved(org) == (False, int(percent), int(minimum))
    assert "Sync settings saved" in client.get(response.location).text


@pytest.mark.parametrize("field, input_id, typed, message", [
    (PERCENT, "threshold-percent", "0", SHARE_RANGE),
    (PERCENT, "threshold-percent", "101", SHARE_RANGE),
    (PERCENT, "threshold-percent", "", SHARE_BLANK),
    (PERCENT, "threshold-percent", "12.5", NOT_WHOLE),
    (PERCENT, "threshold-percent", "-5", NOT_WHOLE),
    (PERCENT, "threshold-percent", "٣", NOT_WHOLE),
    (MINIMUM, "threshold-minimum", "1000000", PEOPLE_RANGE),
    (MINIMUM, "threshold-minimum", "0", PEOPLE_RANGE),
    (MINIMUM, "threshold-minimum", "   ", PEOPLE_BLANK),
    (MINIMUM, "threshold-minimum", "1e3", NOT_WHOLE),
    (MINIMUM, "threshold-minimum", "1_000", NOT_WHOLE),
])
def test_bad_input_is_shown_next_to_its_field_and_saves_nothing(saved_once, field, input_id,
                                                                 typed, message):
    client, org = saved_once
    good = {PERCENT: "30", MINIMUM: "8"}
    response = save(client, org, **{**good, field: typed})  # include guests unticked too
    assert response.status_code == 422
    page = html.unescape(response.text)
    field_markup = field_html(page, input_id)
    assert message in field_markup
    assert f'aria-describedby="{input_id}-error"' in field_markup and "autofocus" in field_markup
    assert f'value="{typed}"' in field_markup  # what was typed, to correct
    assert message not in page.split('id="settings-heading"')[0]  # not at the top of the page
    assert "Nothing was saved" in page
    assert saved(org) == (True, 20, 3)


def test_both_numbers_wrong_shows_both_messages(saved_once):
    client, org = saved_once
    response = save(client, org, **{PERCENT: "0", MINIMUM: ""})
    page = html.unescape(response.text)
    assert "from 1 to 100" in field_html(page, "threshold-percent")
    assert "from 1 to 10,000" in field_html(page, "threshold-minimum")
    assert "autofocus" in field_html(page, "threshold-percent")
    assert "autofocus" not in field_html(page, "threshold-minimum")
    assert saved(org) == (True, 20, 3)


def test_a_first_save_with_bad_input_creates_no_settings(admin_client, admin):
    assert save(admin_client, admin.org, **{PERCENT: "", MINIMUM: "5"}).status_code == 422
    assert saved(admin.org) is None


@pytest.mark.parametrize("text, error", [
    ("7", False), ("0007", False), ("100", False), ("101", True), ("", True), (None, True),
    ("7.0", True), ("+7", True), ("seven", True), ("７", True)])
def test_whole_number_rule(text, error):
    assert (whole_number_error(text, 1, 100, "it") is not None) is error
