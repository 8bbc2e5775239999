"""Token caches encrypted at rest with TOKEN_ENCRYPTION_KEY (Fernet; MultiFernet for rotation).

TOKEN_ENCRYPTION_KEY holds one or more comma-separated Fernet keys: the first encrypts, every
key decrypts, so a new key can be put first and old caches re-encrypted later without downtime.
"""
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app

from webapp.config import ConfigError


class TokenCacheUnreadable(Exception):
    """The stored cache cannot be decrypted with any configured key."""


def fernet_from_config(config=None):
    raw = (config or current_app.config).get("TOKEN_ENCRYPTION_KEY") or ""
    keys = [key.strip() for key in raw.split(",") if key.strip()]
    if not keys:
        raise ConfigError("TOKEN_ENCRYPTION_KEY is not set: it is needed to store Microsoft "
                          "tokens (generate one with `flask --app wsgi keys generate`).")
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except ValueError as error:
        raise ConfigError("TOKEN_ENCRYPTION_KEY must be Fernet keys (32 url-safe base64 bytes), "
                          "comma-separated.") from error


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
