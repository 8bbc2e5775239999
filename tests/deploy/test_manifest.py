"""app.json, the Procfile and the Python pin agree with each other and with the code."""
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Set by the platform or the add-ons, or kept only for old deployments: not in app.json.
NOT_IN_MANIFEST = {"DATABASE_URL", "REDIS_URL", "PORT", "FLASK_ENV", "SYNC_JOB_TIMEOUT_SECONDS"}
ENV_READ = re.compile(r"""(?:environ\.get|env_int|env_flag|env_list|getenv)\(\s*["']([A-Z][A-Z0-9_]+)""")


def manifest():
    return json.loads((ROOT / "app.json").read_text())


def variables_the_code_reads():
    files = [*ROOT.glob("webapp/**/*.py"), *ROOT.glob("jobs/*.py"), ROOT / "gunicorn.conf.py"]
    return {name for path in files for name in ENV_READ.findall(path.read_text())}


def test_every_variable_the_code_reads_is_declared_with_a_description():
    env = manifest()["env"]
    assert variables_the_code_reads() - NOT_IN_MANIFEST <= set(env)
    assert all(spec.get("description") for spec in env.values())


def test_secrets_are_generated_and_microsoft_settings_are_asked_for():
    env = manifest()["env"]
    assert env["SECRET_KEY"]["generator"] == env["TOKEN_ENCRYPTION_KEY"]["generator"] == "secret"
    for name in ("MICROSOFT_CLIENT_ID", "MICROSOFT_CLIENT_SECRET", "SUPPORT_URL"):
        assert env[name].get("required", True) and "value" not in env[name]
    assert env["ROSTERSYNC_ENV"]["value"] == "production"


def test_formation_and_add_ons_match_the_procfile():
    procfile = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines()
                    if line.strip())
    assert set(manifest()["formation"]) == {"web", "worker", "clock"} <= set(procfile)
    assert manifest()["formation"]["clock"]["quantity"] == 1  # one clock (two are safe, not useful)
    assert "db upgrade" in procfile["release"]
    plans = {addon["plan"].split(":")[0] for addon in manifest()["addons"]}
    assert plans == {"heroku-postgresql", "heroku-redis"}


def test_python_version_is_pinned_in_the_form_the_buildpack_reads():
    assert (ROOT / ".python-version").read_text().strip() == "3.11"
