"""CSRF's one rule: is this browser request coming from another site?

Used by every cookie-authenticated state change (GraphQL mutations, the auth endpoints), so
there is one definition of "same origin". Pure: it reads headers, it imports no framework.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from resolvers.errors import Forbidden

_SAFE_FETCH_SITES = ("same-origin", "none")


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def allowed_origins(base_url: str, scheme: str, host: str) -> set[str]:
    """Where a same-site request may come from: the configured BASE_URL and the address the
    request itself was sent to (`scheme://host`, as the server saw it)."""
    return {origin_of(base_url), f"{scheme}://{host}".lower()}


def is_cross_site(headers: Mapping[str, str], allowed_origins: set[str]) -> bool:
    """True when a browser says the request comes from another site.

    Clients that send neither header are not browsers and carry no ambient cookie to abuse;
    browsers cannot send a JSON content type cross-site without a CORS preflight either.
    """
    site = headers.get("Sec-Fetch-Site")
    if site is not None and site.lower() not in _SAFE_FETCH_SITES:
        return True
    origin = headers.get("Origin")
    return origin is not None and origin.lower() not in allowed_origins


def check_same_site(headers: Mapping[str, str], allowed_origins: set[str]) -> None:
    if is_cross_site(headers, allowed_origins):
        raise Forbidden("Cross-site requests may not change this account.")
