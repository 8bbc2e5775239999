"""`flask --app wsgi microsoft check`: is the app registration right? Step zero of the README's
Microsoft set-up guide, before any school connects; exit status 0 only when no step failed."""
import click
from flask import current_app
from flask.cli import AppGroup

from webapp.microsoft import app_credentials, check

microsoft_cli = AppGroup("microsoft", help="The Microsoft app registration.")
LABELS = {check.PASS: "PASS", check.WARN: "WARN", check.FAIL: "FAIL"}


@microsoft_cli.command("check")
def check_command():
    """Ask Microsoft, without any user, whether this deployment's app registration works."""
    refusal = app_credentials.refusal()
    if refusal is not None:
        click.echo(f"Before the check: {app_credentials.operator_message(refusal)}")
    steps = check.operator_checks(current_app.config)
    for step in steps:
        click.echo(f"{LABELS[step.status]}  {step.title}")
        for line in step.lines:
            click.echo(f"      {line}")
    failed = [step.title for step in steps if step.status == check.FAIL]
    if failed:
        click.echo(f"Failed: {', '.join(failed)}.", err=True)
        raise SystemExit(1)
    click.echo("Microsoft accepts this app registration.")
