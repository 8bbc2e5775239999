"""Key management: `flask --app wsgi keys generate` and `flask --app wsgi keys rotate-token-cache`.

Rotating TOKEN_ENCRYPTION_KEY without downtime (the README has the full procedure): add the new
key after the old one, then put it first, run `keys rotate-token-cache` so every stored token
cache and authenticator app key is encrypted with it, then drop the old key.
"""
import secrets

import click
from cryptography.fernet import Fernet, InvalidToken
from flask.cli import AppGroup
from sqlalchemy import select

from webapp import audit
from webapp.audit import actions
from webapp.extensions import db
from webapp.microsoft import tokens
from webapp.microsoft.identity import token_lock
from webapp.microsoft.models import MicrosoftConnection
from webapp.two_step import authenticator
from webapp.two_step.models import AuthenticatorApp
from webapp.words import counted

keys_cli = AppGroup("keys", help="Generate secrets and rotate the token encryption key.")


@keys_cli.command("generate")
@click.option("--only", type=click.Choice(["SECRET_KEY", "TOKEN_ENCRYPTION_KEY"]),
              help="Print just this one variable's value.")
def generate_command(only):
    """Print a new SECRET_KEY and TOKEN_ENCRYPTION_KEY as NAME=value lines."""
    values = {"SECRET_KEY": secrets.token_hex(32),
              "TOKEN_ENCRYPTION_KEY": Fernet.generate_key().decode()}
    if only:
        click.echo(values[only])
        return
    for name, value in values.items():
        click.echo(f"{name}={value}")


def connection_ids_with_token_cache():
    return db.session.scalars(
        select(MicrosoftConnection.id).where(MicrosoftConnection.token_cache_encrypted.isnot(None))
        .order_by(MicrosoftConnection.id)).all()


def reencrypt_token_cache(connection_id):
    """Under the token lock, so a refresh running at the same moment is never overwritten."""
    with token_lock(connection_id):
        connection = db.session.get(MicrosoftConnection, connection_id, populate_existing=True)
        if connection is None or connection.token_cache_encrypted is None:
            return
        connection.token_cache_encrypted = tokens.reencrypt(connection.token_cache_encrypted)
        db.session.commit()


def reencrypt_all_token_caches():
    """Re-encrypts every stored token cache with the first key. Returns (done, unreadable ids)."""
    done, unreadable = 0, []
    for connection_id in connection_ids_with_token_cache():
        try:
            reencrypt_token_cache(connection_id)
            done += 1
        except InvalidToken:
            db.session.rollback()
            unreadable.append(connection_id)
    return done, unreadable


def reencrypt_all_authenticator_keys():
    """Re-encrypts every authenticator app's key with the first key, one row at a time.
    Returns (done, the account ids whose key no configured key can read)."""
    done, unreadable = 0, []
    for row_id in db.session.scalars(select(AuthenticatorApp.id).order_by(AuthenticatorApp.id)).all():
        row = db.session.get(AuthenticatorApp, row_id)
        try:
            row.secret_encrypted = authenticator.reencrypt(row.secret_encrypted)
            db.session.commit()
            done += 1
        except InvalidToken:
            db.session.rollback()
            unreadable.append(db.session.get(AuthenticatorApp, row_id).user_id)
    return done, unreadable


@keys_cli.command("rotate-token-cache")
def rotate_token_cache_command():
    """Re-encrypt every stored Microsoft token cache and authenticator app key with the first
    TOKEN_ENCRYPTION_KEY."""
    tokens.fernet_from_config()  # a missing or malformed key stops here, with its own message
    done, unreadable = reencrypt_all_token_caches()
    apps_done, apps_unreadable = reencrypt_all_authenticator_keys()
    audit.record(actions.KEYS_ROTATED, after={
        "re_encrypted": done, "unreadable": len(unreadable),
        "authenticator_apps_re_encrypted": apps_done,
        "authenticator_apps_unreadable": len(apps_unreadable)}, commit=True)
    click.echo(f"Re-encrypted {counted(done, 'Microsoft token cache')} and "
               f"{counted(apps_done, 'authenticator app key')} with the first "
               "TOKEN_ENCRYPTION_KEY.")
    if unreadable:
        click.echo(
            f"Error: {counted(len(unreadable), 'token cache')} could not be decrypted with any "
            f"configured key (connection ids: {', '.join(map(str, unreadable))}). Put the key they were "
            "encrypted with back into TOKEN_ENCRYPTION_KEY (after the new one) and run this "
            "again; otherwise those schools must reconnect to Microsoft.", err=True)
    if apps_unreadable:
        click.echo(
            f"Error: {counted(len(apps_unreadable), 'authenticator app key')} could not be "
            "decrypted with any configured key (account ids: "
            f"{', '.join(map(str, apps_unreadable))}). Put the key they were encrypted with back "
            "into TOKEN_ENCRYPTION_KEY (after the new one) and run this again; otherwise reset "
            "those people's two-step verification (`flask --app wsgi user reset-two-step EMAIL`).",
            err=True)
    if unreadable or apps_unreadable:
        raise SystemExit(1)
