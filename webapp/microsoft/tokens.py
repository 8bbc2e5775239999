"""Token caches encrypted at rest with TOKEN_ENCRYPTION_KEY (Fernet; MultiFernet for rotation).

TOKEN_ENCRYPTION_KEY holds one or more comma-separated keys: the first encrypts, every key
decrypts, so a new key can be put first and old caches re-encrypted later without downtime
(`flask --app wsgi keys rotate-token-cache`; the README has the whole procedure). A key is either
a Fernet key (44 url-safe base64 characters, `keys generate` prints one) or 64 hexadecimal
characters, which is what app.json's `"generator": "secret"` produces.
"""
import base64
import re

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

from webapp.config import ConfigError


class TokenCacheUnreadable(Exception):
    """The stored cache cannot be decrypted with any configured key."""


HEX_KEY = re.compile(r"^[0-9a-fA-F]{64}$")


def fernet_key(text):
    if HEX_KEY.match(text):
        return base64.urlsafe_b64encode(bytes.fromhex(text))
    return text.encode()


def fernet_from_config(config=None):
    raw = (config or current_app.config).get("TOKEN_ENCRYPTION_KEY") or ""
    keys = [key.strip() for key in raw.split(",") if key.strip()]
    if not keys:
        raise ConfigError("TOKEN_ENCRYPTION_KEY is not set: it is needed to store Microsoft "
                          "tokens and authenticator app keys (generate one with "
                          "`flask --app wsgi keys generate`).")
    try:
        return MultiFernet([Fernet(fernet_key(key)) for key in keys])
    except ValueError as error:
        raise ConfigError("TOKEN_ENCRYPTION_KEY must be Fernet keys (44 url-safe base64 "
                          "characters) or 64 hexadecimal characters, comma-separated.") from error


def encrypt_cache(serialised_cache, config=None):
    return fernet_from_config(config).encrypt(serialised_cache.encode("utf-8"))


def decrypt_cache(encrypted, config=None):
    try:
        return fernet_from_config(config).decrypt(bytes(encrypted)).decode("utf-8")
    except InvalidToken as error:
        raise TokenCacheUnreadable("The stored Microsoft tokens cannot be decrypted with the "
                                   "configured TOKEN_ENCRYPTION_KEY.") from error


def reencrypt(encrypted, config=None):
    """Re-encrypts with the first (newest) key; used by key rotation."""
    return fernet_from_config(config).rotate(bytes(encrypted))
