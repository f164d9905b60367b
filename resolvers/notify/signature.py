"""Webhook secrets and the `OGAPI-Signature` header (docs/webhooks.md):
`t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, the key being the whole
`whsec_…` secret as UTF-8. Receivers verify it with the recipe the docs show."""

from __future__ import annotations

import hashlib
import hmac

from resolvers.crypto import random_token

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret
HEADER = "OGAPI-Signature"


def new_secret() -> str:
    return SECRET_PREFIX + random_token(32)


def signature(secret: str, t: int, body: bytes) -> str:
    """The header's value for `body` sent at unix time `t`."""
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"
