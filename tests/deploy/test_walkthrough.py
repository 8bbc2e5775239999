"""The README's deployment walk-through runs end to end (app.json + Procfile, TLS Redis, 2 workers)."""
import subprocess
import sys
from pathlib import Path

from tests import services

ROOT = Path(__file__).resolve().parents[2]


def test_fresh_heroku_style_deployment_walkthrough_passes(tmp_path):
    try:
        services.postgres_admin_connection().close()
    except Exception as error:
        services.unavailable(f"PostgreSQL is not reachable at {services.POSTGRES_URL}: {error}")
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "TMPDIR": str(tmp_path),
           "WALKTHROUGH_POSTGRES_URL": services.POSTGRES_URL}
    result = subprocess.run([sys.executable, "-m", "scripts.walkthrough_deploy"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "==> Walk-through passed" in result.stdout
    assert "2 workers registered in Redis" in result.stdout
