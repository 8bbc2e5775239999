"""Key management: generating secrets and rotating TOKEN_ENCRYPTION_KEY without downtime."""
import re

from cryptography.fernet import Fernet

from webapp.microsoft import tokens
from webapp.microsoft.models import MicrosoftConnection

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
CACHE = '{"RefreshToken": {"rt": {"secret": "refresh-token-value"}}}'


def add_connection(db, organisation, encrypted):
    connection = MicrosoftConnection(
        organisation_id=organisation.id, account_email="it@school.example",
        account_object_id="oid", tenant_id="tid", home_account_id="oid.tid",
        token_cache_encrypted=encrypted)
    db.session.add(connection)
    db.session.commit()
    return connection.id


def test_keys_generate_prints_a_secret_key_and_a_fernet_key(app):
    output = app.test_cli_runner().invoke(args=["keys", "generate"]).output
    values = dict(line.split("=", 1) for line in output.strip().splitlines())
    assert re.fullmatch(r"[0-9a-f]{64}", values["SECRET_KEY"])
    Fernet(values["TOKEN_ENCRYPTION_KEY"].encode())  # a valid key, or this raises
    only = app.test_cli_runner().invoke(args=["keys", "generate", "--only", "SECRET_KEY"])
    assert re.fullmatch(r"[0-9a-f]{64}\n", only.output)


def test_rotation_reencrypts_every_cache_so_the_new_key_alone_reads_them(app, db, factory):
    ids = [add_connection(db, factory.organisation(),
                          tokens.encrypt_cache(CACHE, {"TOKEN_ENCRYPTION_KEY": OLD_KEY}))
           for _ in range(3)]
    app.config["TOKEN_ENCRYPTION_KEY"] = f"{NEW_KEY},{OLD_KEY}"
    result = app.test_cli_runner().invoke(args=["keys", "rotate-token-cache"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted 3 Microsoft token caches" in result.output
    db.session.expire_all()
    for connection_id in ids:
        stored = db.session.get(MicrosoftConnection, connection_id).token_cache_encrypted
        assert tokens.decrypt_cache(stored, {"TOKEN_ENCRYPTION_KEY": NEW_KEY}) == CACHE


def test_rotation_names_caches_no_configured_key_can_read_and_fails(app, db, factory):
    lost = add_connection(db, factory.organisation(), Fernet(Fernet.generate_key()).encrypt(b"x"))
    app.config["TOKEN_ENCRYPTION_KEY"] = NEW_KEY
    result = app.test_cli_runner().invoke(args=["keys", "rotate-token-cache"])
    assert result.exit_code == 1
    assert f"connection ids: {lost}" in result.output
    assert "reconnect to Microsoft" in result.output


def test_a_64_character_hex_key_from_the_platform_generator_works(app):
    hex_key = "ab" * 32
    encrypted = tokens.encrypt_cache(CACHE, {"TOKEN_ENCRYPTION_KEY": hex_key})
    both = {"TOKEN_ENCRYPTION_KEY": f"{NEW_KEY},{hex_key}"}
    assert tokens.decrypt_cache(encrypted, both) == CACHE
