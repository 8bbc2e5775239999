"""The operator interface: CLI commands and /healthz."""
from webapp.orgs.models import Organisation
from webapp.orgs.services import find_user_by_email


def test_org_create_makes_the_organisation_and_its_trust(app):
    result = app.test_cli_runner().invoke(args=["org", "create", "Northfield Academy",
                                                "--trust", "Oak Learning Trust"])
    assert result.exit_code == 0, result.output
    org = Organisation.query.filter_by(name="Northfield Academy").one()
    assert org.trust.name == "Oak Learning Trust"


def test_org_create_refuses_an_existing_name_with_status_1(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["org", "create", "Northfield Academy"])
    result = runner.invoke(args=["org", "create", "northfield academy"])
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_user_create_then_again_adds_memberships(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["org", "create", "A School", "--trust", "T"])
    runner.invoke(args=["org", "create", "B School", "--trust", "T"])
    first = runner.invoke(args=["user", "create", "Head@School.example", "--password", "pw-123456",
                                "--org", "A School", "--admin", "--name", "The Head"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["user", "create", "head@school.example", "--org", "B School"])
    assert second.exit_code == 0, second.output
    user = find_user_by_email("head@school.example")
    assert user.display_name == "The Head" and user.check_password("pw-123456")
    roles = {m.organisation.name: m.role for m in user.memberships}
    assert roles == {"A School": "admin", "B School": "member"}


def test_user_create_names_an_unknown_organisation(app):
    result = app.test_cli_runner().invoke(args=["user", "create", "x@school.example",
                                                "--org", "Nowhere"])
    assert result.exit_code == 1
    assert '"Nowhere"' in result.output


def test_healthz_reports_database_and_redis(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": {"ok": True}, "redis": {"ok": True}}


def test_healthz_is_503_when_redis_is_unreachable(backend, redis_url):
    from harness.app_config import make_test_config
    from webapp import create_app
    app = create_app(make_test_config(backend[1], "redis://127.0.0.1:1/0"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"]["redis"]["ok"] is False
    assert response.json["checks"]["database"]["ok"] is True
