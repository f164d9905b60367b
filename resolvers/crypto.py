"""Small cryptographic helpers: hashing of secrets for lookup and encryption at rest."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ALPHANUMERIC = string.ascii_letters + string.digits


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def random_token(length: int = 32, alphabet: str = ALPHANUMERIC) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def derive_key(secret_key: str, purpose: str) -> bytes:
    """A 32-byte key for one purpose, so one SECRET_KEY never keys two different things."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(
        secret_key.encode()
    )


class SecretBox:
    """Encrypts short secrets (API keys) at rest with a key derived from SECRET_KEY."""

    def __init__(self, secret_key: str) -> None:
        key = derive_key(secret_key, "ogapi/api-key-encryption/v1")
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def open(self, sealed: str) -> str | None:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None  # SECRET_KEY changed: the key still works, it just can't be shown


def as_bytes(value: str) -> bytes:
    """UTF-8 for any str a request can carry: header values decoded with surrogateescape and
    lone surrogates included (they encode as themselves instead of raising)."""
    return value.encode("utf-8", "surrogatepass")


def constant_time_equals(a: str, b: str) -> bool:
    """Timing-safe equality of two secrets, compared as bytes (hmac.compare_digest refuses
    non-ASCII str with a TypeError)."""
    return hmac.compare_digest(as_bytes(a), as_bytes(b))


def bearer_matches(authorization: str | None, token: str) -> bool:
    """Whether an `Authorization` header value is `Bearer <token>` (scheme case-insensitive).
    The one parser for the admin API and /metrics: a bare token without the scheme is refused."""
    scheme, _, given = (authorization or "").strip().partition(" ")
    return scheme.lower() == "bearer" and constant_time_equals(given.strip(), token)
