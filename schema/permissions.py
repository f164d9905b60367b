"""Who may call what: any authenticated caller reads; only a same-origin session mutates."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from strawberry.permission import BasePermission

from resolvers.errors import AppError, Forbidden
from schema.context import Context, Info

_SAFE_FETCH_SITES = ("same-origin", "none")


class IsAuthenticated(BasePermission):
    """A session cookie or a valid X-API-Key; otherwise UNAUTHENTICATED (or the key's error)."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        info.context.user  # noqa: B018 - raises the typed error when nobody is signed in
        return True


class IsSessionUser(BasePermission):
    """Mutations: the dashboard's session only (FORBIDDEN for API keys), same origin only."""

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        context = info.context
        context.user  # noqa: B018
        if context.auth != "session":
            raise Forbidden(
                "API keys may run queries only; sign in to the dashboard to change this."
            )
        check_same_origin(context)
        return True


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_same_origin(context: Context) -> None:
    """CSRF: a browser tells us where a request comes from; refuse other sites.

    Clients that send neither header are not browsers and carry no ambient cookie to abuse;
    browsers also cannot send our JSON content type cross-site without a CORS preflight.
    """
    request = context.request
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site.lower() not in _SAFE_FETCH_SITES:
        raise _cross_site()
    origin = request.headers.get("Origin")
    if origin is not None:
        allowed = {_origin(context.settings.base_url), f"{request.scheme}://{request.host}".lower()}
        if origin.lower() not in allowed:
            raise _cross_site()


def _cross_site() -> AppError:
    return Forbidden("Cross-site requests may not change this account.")
