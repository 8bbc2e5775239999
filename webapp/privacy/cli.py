"""`flask --app wsgi privacy erase-due [--as-of ISO-8601]`: the hourly erasure, by hand."""
from datetime import datetime, timezone

import click
from flask.cli import AppGroup

from sqlalchemy import select

from webapp.extensions import db
from webapp.orgs.models import Organisation
from webapp.privacy import erasure

privacy_cli = AppGroup("privacy", help="Data protection: erase leavers whose retention has passed.")


def parse_as_of(text):
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO-8601 date or time "
                                 "(for example 2026-03-01 or 2026-03-01T09:00:00+00:00).")
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


OUTCOME_WORDS = {erasure.KEPT_FOREVER: "keeps leavers (retention: Never)",
                 erasure.SYNC_RUNNING: "skipped: a sync is running; the next run erases",
                 erasure.ERASED_NOBODY: "nobody due"}


@privacy_cli.command("erase-due")
@click.option("--as-of", "as_of", help="Erase as if it were this moment (ISO-8601; UTC if no zone).")
def erase_due_command(as_of):
    """Erase every organisation's leavers suspended for longer than its retention."""
    result = erasure.erase_due_everywhere(parse_as_of(as_of))
    names = school_names(result["organisations"])
    for organisation_id, answer in result["organisations"].items():
        school = names.get(organisation_id, f"School {organisation_id} (since deleted)")
        if answer["outcome"] == erasure.ERASED_SOME:
            click.echo(f"{school}: erased {answer['people']} leaver(s) "
                       f"({answer['accounts_deleted']} account(s) deleted, "
                       f"{answer['accounts_kept']} kept without this membership, "
                       f"{answer['history_entries']} history entries scrubbed).")
        else:
            click.echo(f"{school}: {OUTCOME_WORDS[answer['outcome']]}.")
    click.echo(f"Audit log: {result['audit_entries_removed']} entries past retention removed.")


def school_names(organisation_ids):
    """{id: name}, in one query: the lines name the school, as the tick's do."""
    if not organisation_ids:
        return {}
    return dict(db.session.execute(select(Organisation.id, Organisation.name).where(
        Organisation.id.in_(list(organisation_ids)))).all())
