"""Who may call what: any authenticated caller reads; only a same-origin session mutates."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from resolvers.accounts.origin import allowed_origins, check_same_site
from resolvers.errors import Forbidden
from schema.context import Context, Info


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


def check_same_origin(context: Context) -> None:
    """CSRF: refuse mutations a browser says come from another site (resolvers.accounts.origin)."""
    request = context.request
    allowed = allowed_origins(context.settings.base_url, request.scheme, request.host)
    check_same_site(request.headers, allowed)
