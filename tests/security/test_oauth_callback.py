"""The OAuth callback accepts only the flow this browser started: a callback URL carried to
another browser (someone else's session, or nobody's) is refused and changes nothing."""
from harness.factory import sign_in
from tests.microsoft_flow import oak_trust, return_to_app, sign_in_at_microsoft, start_connect
from tests.security.world import database_snapshot
from webapp.microsoft.models import connection_for_organisation


def test_a_callback_delivered_to_another_browser_is_refused(app, factory, microsoft):
    oak = oak_trust(factory)
    owner = app.test_client()
    sign_in(owner, oak.admin.email)
    other_admin = factory.school_with_admin("Elsewhere School", trust="Another Trust")
    victim = app.test_client()
    sign_in(victim, other_admin.user.email)
    _, callback = sign_in_at_microsoft(microsoft, start_connect(owner, oak.north))
    before = database_snapshot()
    for foreign_browser in (victim, app.test_client()):
        refused = return_to_app(foreign_browser, callback)
        assert refused.status_code == 400 and "already been used or has expired" in refused.text
        assert database_snapshot() == before
    # The URL itself was good: the browser that started the flow completes it, once.
    assert return_to_app(owner, callback).status_code == 302
    assert connection_for_organisation(oak.north) is not None
    assert return_to_app(owner, callback).status_code == 400


def test_a_flow_started_for_one_school_cannot_be_finished_by_a_member_who_is_not_admin(
        app, factory, microsoft, db):
    oak = oak_trust(factory)
    owner = app.test_client()
    sign_in(owner, oak.admin.email)
    _, callback = sign_in_at_microsoft(microsoft, start_connect(owner, oak.north))
    # The admin is demoted after starting: finishing must re-check the role, not trust the flow.
    for membership in oak.admin.memberships:
        membership.role = "member"
    factory.user("keeper@oak.example", [oak.north, oak.south], role="admin")  # not the last admin
    db.session.commit()
    before = database_snapshot()
    response = return_to_app(owner, callback)
    assert response.status_code == 404
    assert connection_for_organisation(oak.north) is None
    assert database_snapshot() == before
