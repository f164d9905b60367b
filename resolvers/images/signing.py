"""Signed image URLs (the algorithm is documented in docs/signed-urls.md).

    signing_key = HMAC-SHA256(key=api_key, msg="ogapi-signed-url-v1")
    canonical   = all query parameters but `sig`, sorted by name; names and values
                  percent-encoded per RFC 3986 (keep A-Za-z0-9-._~); `k=v` joined by `&`
    sig         = hex(HMAC-SHA256(key=signing_key, msg=canonical))

`kid` (the key's public id) and `exp` (Unix seconds, optional) are ordinary parameters, so
they are signed too. A URL dies with its key: a revoked `kid` never verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import html
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import quote

from resolvers.accounts.key_owner import KeyOwner
from resolvers.accounts.keycache import KeyCache
from resolvers.accounts.keys import check_account_usable
from resolvers.crypto import SecretBox, constant_time_equals
from resolvers.errors import AppError
from resolvers.images.params import ImageRequest, alt_text, parse_params, whole_number
from resolvers.memo import BoundedMap
from resolvers.templates.fields import DrawnDesign
from resolvers.timefmt import iso_utc

CONTEXT = b"ogapi-signed-url-v1"
CONTROL = ("kid", "exp", "sig")
SIGNED_PATH = "/api/signed/image"
MAX_TTL = 10 * 365 * 86400


def _q(value: str) -> str:
    return quote(value, safe="-._~")


def signing_key(api_key: str) -> bytes:
    return hmac.new(api_key.encode(), CONTEXT, hashlib.sha256).digest()


def canonical_query(params: Mapping[str, str]) -> str:
    return "&".join(f"{_q(k)}={_q(v)}" for k, v in sorted(params.items()) if k != "sig")


def signature(key: bytes, params: Mapping[str, str]) -> str:
    return hmac.new(key, canonical_query(params).encode(), hashlib.sha256).hexdigest()


def signed_query(api_key: str, kid: str, params: Mapping[str, str], exp: int | None) -> str:
    """The full query string of a signed URL (params + kid [+ exp] + sig)."""
    signed = {**params, "kid": kid}
    if exp is not None:
        signed["exp"] = str(exp)
    return canonical_query(signed) + "&sig=" + signature(signing_key(api_key), signed)


def signed_url(
    base_url: str, api_key: str, kid: str, params: Mapping[str, str], exp: int | None
) -> str:
    """The signed URL of an image (the one minting function: `/api/signed/generate`, the
    dashboard and batches all call it)."""
    return f"{base_url}{SIGNED_PATH}?{signed_query(api_key, kid, params, exp)}"


def mint(
    raw: dict[str, str],
    api_key: str,
    kid: str,
    now: datetime,
    design: DrawnDesign | None,
    *,
    base_url: str,
    allow_http: bool,
) -> dict[str, object]:
    """The body of a signed-URL answer (`url`, `expires_at`, `alt`, `meta`, `kid`) for the
    image parameters `raw` (plus an optional `expires_in`): `GET /api/signed/generate` and the
    dashboard. `design`: the custom template `raw` names (resolvers.templates.drawn)."""
    exp = expiry(raw.pop("expires_in", None), now)
    req = parse_params(raw, allow_http=allow_http, design=design)
    url = signed_url(base_url, api_key, kid, dict(req.params), exp)
    alt = alt_text(req.spec)
    expires_at = None
    if exp is not None:
        expires_at = iso_utc(datetime.fromtimestamp(exp, UTC))
    return {
        "url": url,
        "expires_at": expires_at,
        "alt": alt,
        "meta": meta_block(url, req, alt),
        "kid": kid,
    }


def invalid() -> AppError:
    return AppError("Invalid signature.", code="INVALID_SIGNATURE", status=403)


class SignatureVerifier:
    """Checks signed-URL parameters against the live key of `kid`.

    The key comes from the process's key cache (resolvers.accounts.keycache), which forgets a key
    the moment it is regenerated or its account suspended, on every worker; only the derived HMAC
    key is memoised here per `kid`, which is harmless because a kid names one key for ever.
    """

    def __init__(self, box: SecretBox, keys: KeyCache, max_keys: int = 10_000) -> None:
        self.box = box
        self.keys = keys
        self._derived: BoundedMap[str, bytes] = BoundedMap(max_keys)
        # Query strings whose signature was checked: a kid names one key for ever, so while
        # that key is live (checked on every request) the same string verifies the same way.
        self._verified: BoundedMap[str, None] = BoundedMap(max_keys)

    def _key_for(self, key: KeyOwner) -> bytes | None:
        derived = self._derived.get(key.kid)
        if derived is None:
            plain = self.box.open(key.key_encrypted)
            if plain is None:
                return None
            derived = signing_key(plain)
            self._derived.put(key.kid, derived)
        return derived

    async def verify(
        self, params: Mapping[str, str], now: datetime, query_string: str | None = None
    ) -> KeyOwner:
        """The owner of a correctly signed, unexpired URL; else INVALID_SIGNATURE /
        SIGNATURE_EXPIRED (and the owner's SUBSCRIPTION_CANCELED / PAYMENT_PAST_DUE).

        `query_string`, the raw query exactly as sent (never a decoded form: decoding is not
        one-to-one) that `params` was parsed from, lets a repeated URL skip the HMAC; the key's
        liveness, the expiry and the owner's status are checked every time."""
        kid, sig = params.get("kid"), params.get("sig")
        if not kid or not sig or len(kid) > 64 or not kid.isascii() or len(sig) != 64:
            raise invalid()
        key = await self.keys.by_kid(kid)
        if key is None:
            raise invalid()
        if query_string is None or query_string not in self._verified:
            derived = self._key_for(key)
            if derived is None or not constant_time_equals(signature(derived, params), sig.lower()):
                raise invalid()
            if query_string is not None and len(query_string) <= 4096:
                self._verified.put(query_string, None)
        exp = params.get("exp")
        if exp is not None:
            when = whole_number(exp)
            if when is None:
                raise invalid()
            if when <= now.timestamp():
                raise AppError("This signed URL has expired.", code="SIGNATURE_EXPIRED", status=403)
        check_account_usable(key)
        return key


def expiry(expires_in: object, now: datetime) -> int | None:
    """`exp` for a `expires_in` parameter (seconds), or None when absent."""
    if expires_in is None or expires_in == "":
        return None
    seconds = whole_number(expires_in)
    if seconds is None or not 1 <= seconds <= MAX_TTL:
        raise AppError(
            f"expires_in must be a whole number of seconds from 1 to {MAX_TTL}",
            code="INVALID_PARAMETER",
            status=400,
        )
    return int(now.timestamp()) + seconds


def meta_block(url: str, req: ImageRequest, alt: str) -> str:
    """Ready-to-paste `<meta>` tags for the image (values HTML-escaped)."""
    s = req.spec
    tags = [
        ("property", "og:image", url),
        ("property", "og:image:width", str(s.width)),
        ("property", "og:image:height", str(s.height)),
        ("property", "og:image:type", req.content_type),
        ("property", "og:image:alt", alt),
        ("name", "twitter:card", "summary_large_image"),
        ("name", "twitter:image", url),
        ("name", "twitter:image:alt", alt),
    ]
    return "\n".join(
        f'<meta {attr}="{name}" content="{html.escape(value, quote=True)}">'
        for attr, name, value in tags
    )
