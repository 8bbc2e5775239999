"""Operator commands: `flask --app wsgi org create ...`, `flask --app wsgi user create ...`."""
import click
from flask import current_app
from flask.cli import AppGroup

from webapp.auth.recovery import set_password_by_operator
from webapp.demo import DEMO_ADMIN_EMAIL, DEMO_ADMIN_PASSWORD, DEMO_ORGANISATIONS, DEMO_TRUST
from webapp.errors import ServiceError
from webapp.extensions import db
from webapp.words import counted, listed
from webapp.invitations import services as invitations
from webapp.orgs.services import add_membership, create_organisation, find_organisation_by_name, \
    find_user_by_email, get_or_create_user
from webapp.two_step.policy import schools_requiring
from webapp.two_step.reset import reset_two_step

org_cli = AppGroup("org", help="Manage organisations (schools) and trusts.")
user_cli = AppGroup("user", help="Manage platform accounts.")


def fail(message):
    click.echo(f"Error: {message}", err=True)
    raise SystemExit(1)


@org_cli.command("create")
@click.argument("name")
@click.option("--trust", "trust_name", help="The trust the organisation belongs to (created if new).")
def create_org_command(name, trust_name):
    """Create an organisation NAME."""
    try:
        org = create_organisation(name, trust_name)
    except ServiceError as error:
        fail(str(error))
    trust = f' in trust "{org.trust.name}"' if org.trust else ""
    click.echo(f'Created organisation "{org.name}"{trust}.')


@user_cli.command("create")
@click.argument("email")
@click.option("--password", help="Sets (or resets) the account's password. Without it, the "
              "person is emailed an invitation to set one (or, if they can already sign in, "
              "that they were added).")
@click.option("--org", "org_names", multiple=True, required=True,
              help="An organisation to add the account to; repeat for several.")
@click.option("--admin", is_flag=True, help="Make the account an admin of those organisations.")
@click.option("--name", "display_name", help="Display name.")
def create_user_command(email, password, org_names, admin, display_name):
    """Create the account EMAIL, or add memberships to an existing one."""
    organisations = [find_organisation_by_name(name) for name in org_names]
    unknown = [name for name, org in zip(org_names, organisations) if org is None]
    if unknown:
        fail("No organisation called " + ", ".join(f'"{n}"' for n in unknown)
             + '. Create it first with `flask --app wsgi org create "NAME"`.')
    try:
        user = get_or_create_user(email, display_name)
    except ServiceError as error:
        fail(str(error))
    if display_name:
        user.display_name = display_name
    if password:
        set_password_by_operator(user, password)
    role = "admin" if admin else "member"
    for org in organisations:
        add_membership(user, org, role=role)
    db.session.commit()
    click.echo(f"{user.email} is {role} of: " + ", ".join(org.name for org in organisations) + ".")
    if not password:  # an invitation per school, each naming it; accepting one settles all
        for org in organisations:
            outcome = invitations.invite_or_tell(user, org)
            click.echo(invitations.sent_message(user.email, org.name, outcome, current_app.config))


@user_cli.command("reset-two-step")
@click.argument("email")
def reset_two_step_command(email):
    """Remove EMAIL's authenticator app, passkeys and recovery codes (they lost them all), sign
    the account out everywhere and email them that it was done."""
    user = find_user_by_email(email)
    if user is None:
        fail(f"No account has the address {email}.")
    try:
        done = reset_two_step(user)
    except ServiceError as error:
        fail(str(error))
    click.echo(f"Reset the two-step verification of {done.email}: removed {done.describe()}; "
               f"signed out {counted(done.sessions, 'session')}; emailed them that it was done.")
    schools = schools_requiring(user)
    click.echo(f"They sign in with their password, and are asked to set two-step up again "
               f"straight away ({listed(schools)} require{'s' if len(schools) == 1 else ''} it of "
               "admins)." if schools else "They sign in with their password alone now.")


demo_cli = AppGroup("demo", help="The demo trust used by `make run`.")


@demo_cli.command("seed")
def seed_demo_command():
    """Create the demo trust, its two schools and their admin (safe to run again)."""
    organisations = []
    for name in DEMO_ORGANISATIONS:
        organisations.append(find_organisation_by_name(name) or create_organisation(name, DEMO_TRUST))
    user = get_or_create_user(DEMO_ADMIN_EMAIL, "IT Sync")
    if not user.password_hash:
        user.set_password(DEMO_ADMIN_PASSWORD)
    for org in organisations:
        add_membership(user, org, role="admin")
    db.session.commit()
    click.echo(f"Demo trust ready: {DEMO_TRUST} ({', '.join(DEMO_ORGANISATIONS)}); "
               f"admin {DEMO_ADMIN_EMAIL}.")


def init_cli(app):
    from webapp.keys import keys_cli
    from webapp.microsoft.cli import microsoft_cli
    from webapp.privacy.cli import privacy_cli
    for group in (org_cli, user_cli, demo_cli, keys_cli, privacy_cli, microsoft_cli):
        app.cli.add_command(group)
