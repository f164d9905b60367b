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


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
