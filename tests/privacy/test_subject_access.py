"""Download data held: everything about one person in this school, nothing about anyone else;
compared with a direct search of every table. On SQLite and PostgreSQL."""
import json
import re
from types import SimpleNamespace

from sqlalchemy import false, or_, select

from harness.factory import post_form
from tests.privacy.audit_helpers import only_entry, values
from tests.privacy.erasure_helpers import LEAVER, LEAVER_EMAIL, places_holding
from tests.sync_helpers import person, sync_in_process
from webapp.audit import actions
from webapp.extensions import db
from webapp.audit.values import shown_values
from webapp.orgs.models import Membership
from webapp.privacy.data_held_words import field_label, field_value
from webapp.user_sync import models as m


def rows_found_directly(text, person_ids, user_id, org_id):
    """{table: ids} of rows naming the person (any text column) or pointing at them."""
    found = {}
    for table in db.metadata.sorted_tables:
        where = [c.contains(text, autoescape=True) for c in table.columns
                 if c.type.python_type is str]
        where += [table.c[name] == user_id for name in ("user_id", "actor_user_id",
                                                         "subject_user_id") if name in table.c]
        where += [table.c[name].in_(person_ids) for name in ("synced_person_id",
                  "subject_synced_person_id") if name in table.c]
        if table.name == "synced_people":
            where.append(table.c.id.in_(person_ids))
        if table.name == "users":
            where.append(table.c.id == user_id)
        if not where:  # nothing in it can name or point at a person (school_run_facts)
            continue
        ids = set(db.session.scalars(select(table.c.id).where(or_(false(), *where))))
        if ids:
            found[table.name] = ids
    return found


def test_the_export_holds_every_row_about_the_person_and_nobody_else(school):
    sync_in_process(school)
    subject = person(school.org, LEAVER)
    base = f"/o/{school.org.id}/settings/user-sync/"
    post_form(school.client, f"{base}people/{subject.id}/exclude", page_url=base)
    post_form(school.client, f"{base}people/{subject.id}/include", page_url=base)
    school.sim.control.update_user(LEAVER, jobTitle="Head of Year")
    assert sync_in_process(school).updated == 1  # their values before it are kept for Undo
    membership = db.session.get(Membership, subject.membership_id)
    expected = rows_found_directly(LEAVER_EMAIL, [subject.id], membership.user_id, school.org.id)
    expected.setdefault("memberships", set()).add(membership.id)

    response = school.client.get(f"/o/{school.org.id}/settings/privacy/synced-people/"
                                 f"{subject.id}/data.json")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    held = json.loads(response.get_data(as_text=True))
    exported = {table: {row["id"] for row in rows} for table, rows in held["tables"].items() if rows}
    assert exported == expected
    text = response.get_data(as_text=True)
    others = db.session.scalars(select(m.SyncedPerson.email).where(
        m.SyncedPerson.id != subject.id)).all()
    assert others and not [email for email in others if email in text]
    assert school.admin.email not in text  # who excluded them is not theirs to see
    assert "password_hash" not in text and "token_cache" not in text
    entry = only_entry(actions.SUBJECT_ACCESS_EXPORTED, school.org.id)
    assert entry.subject_synced_person_id == subject.id
    assert values(entry.after)["sync_changes"] == len(held["tables"]["sync_changes"])
    assert len(held["tables"]["sync_prior_values"]) == 1


def test_manage_users_offers_the_html_file_for_a_member(school):
    sync_in_process(school)
    subject = person(school.org, LEAVER)
    page = school.client.get(f"/o/{school.org.id}/settings/users/?q=brien").text
    url = f"/o/{school.org.id}/settings/privacy/members/{subject.membership_id}/data.html"
    assert url in page and "Download data held" in page
    response = school.client.get(url)
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert "Data held about" in html and "s.o&#39;brien@oaklearning.example" in html
    assert "What the sync holds about them (from Microsoft) (1)" in html
    assert places_holding(LEAVER_EMAIL)  # the download changed nothing but the audit log
    assert only_entry(actions.SUBJECT_ACCESS_EXPORTED).subject_user_id is not None


def test_the_html_file_is_a_styled_document_in_words_with_times_in_the_schools_zone(school):
    """Once an unstyled dump of column names (suspended_reason, created_at) and UTC times."""
    school.org.time_zone = "Europe/Paris"
    db.session.commit()
    sync_in_process(school)
    subject = person(school.org, LEAVER)
    html = school.client.get(
        f"/o/{school.org.id}/settings/privacy/synced-people/{subject.id}/data.html").text
    assert "<style>" in html and 'class="record"' in html
    assert "<h2 id=\"held-synced_people\">What the sync holds about them (from Microsoft) (1)</h2>" \
        in html
    labels = re.findall(r"<dt>([^<]+)</dt>", html)
    assert "Display name" in labels and "Microsoft ID" in labels and "Created" in labels
    assert not [label for label in labels if "_" in label]  # no column names
    moments = re.findall(r"<dd>(\d{1,2} \w{3} \d{4}, \d\d:\d\d [A-Z]+)</dd>", html)
    assert moments and {moment.rsplit(" ", 1)[1] for moment in moments} == {"CET"}
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", html)  # no ISO UTC times
    assert "Times are in the school's time zone" in html


def test_a_field_the_activity_page_also_shows_reads_the_same_in_the_file(school):
    """The file said "Microsoft tenant ID" where the Activity page says "Microsoft tenant", and
    showed "—" for an empty value the page left blank: both now ask webapp.field_words."""
    sent = {"tenant_id": "t-1", "object_id": "o-1", "reason": "", "status": "active",
            "run_id": 4, "sessions_signed_out": True, "valid_until": "2026-07-02T15:05:00+00:00"}
    entry = SimpleNamespace(action=actions.SIGN_IN_FAILED, before=None, after=json.dumps(sent))
    _, page = shown_values(entry, school.org)
    assert [(value.label, value.text) for value in page] == [
        (field_label(key), str(field_value(key, value, school.org))) for key, value in sent.items()]
    assert [value.label for value in page][:3] == ["Microsoft tenant", "Microsoft object ID", "Reason"]
    assert [value.text for value in page][2:] == ["—", "active", "4", "Yes",
                                                  "2 Jul 2026, 16:05 BST"]
