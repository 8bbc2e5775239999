"""`flask --app wsgi sync enqueue-due [--as-of ISO-8601]`: one tick, for platforms without a
clock process (Heroku Scheduler, cron), for catching up, and for tests."""
from datetime import datetime, timezone

import click
from flask.cli import AppGroup

from webapp.clock import utcnow

sync_cli = AppGroup("sync", help="Automatic sync.")


def parse_as_of(text):
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO-8601 moment such as "
                                 "2026-03-29T02:00:00+01:00.") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)  # stored moments are UTC (SQLite keeps no offset)


@sync_cli.command("enqueue-due")
@click.option("--as-of", "as_of", metavar="ISO-8601",
              help="Treat this moment as now (a time without an offset is UTC).")
def enqueue_due_command(as_of):
    """Queue every school whose automatic sync is due; print what happened to each."""
    from webapp.schedule.tick import tick
    moment = parse_as_of(as_of) if as_of else None
    now = moment or utcnow()
    lines = tick(moment)
    click.echo(f"Tick as of {now.astimezone(timezone.utc):%Y-%m-%d %H:%M:%S} UTC: "
               f"{sum(1 for line in lines if line.action != 'skipped')} queued, "
               f"{sum(1 for line in lines if line.action == 'skipped')} skipped.")
    for line in lines:
        click.echo(line.text)
