"""Migration 0013_i18 on a school already synced: each synced person gets their school's
Microsoft tenant, so they can use Sign in with Microsoft straight after the upgrade."""
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from harness.factory import Factory, csrf_token_from
from tests.microsoft_flow import demo, return_to_app, sign_in_at_microsoft
from tests.sync_helpers import connected_school, sync_in_process
from webapp.extensions import db
from webapp.user_sync import models as m


def test_people_synced_before_the_upgrade_can_sign_in_with_microsoft_after_it(
        migrated_app, microsoft):
    school = connected_school(Factory(), migrated_app.test_client(), microsoft)
    sync_in_process(school)
    db.session.remove()
    downgrade(revision="0012_i21")  # the school as it was: synced people without a tenant
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM synced_people")).scalar() > 0
    db.engine.dispose()
    upgrade()
    assert set(db.session.scalars(select(m.SyncedPerson.tenant_id))) == {demo.TENANT_ID}
    client = migrated_app.test_client()
    page = client.get("/login")
    started = client.post("/login/microsoft", data={"csrf_token": csrf_token_from(page.text)})
    _, callback = sign_in_at_microsoft(microsoft, started.location,
                                       "siobhan.obrien@oaklearning.example")
    assert return_to_app(client, callback).status_code == 302
    assert "Northfield Academy" in client.get("/", follow_redirects=True).text
