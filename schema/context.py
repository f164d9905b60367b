"""The per-request GraphQL context: who is asking, how, and the request's DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Literal

import strawberry

from models import Account
from resolvers.billing.stripe_api import StripeGateway
from resolvers.crypto import SecretBox
from resolvers.errors import AppError
from resolvers.limits.per_window import WindowLimiter
from schema.loaders import Loaders

if TYPE_CHECKING:
    from aiohttp import web

    from web.settings import Settings

AuthMethod = Literal["session", "api_key"]


@dataclass
class Context:
    request: web.Request
    response: web.StreamResponse
    settings: Settings
    secret_box: SecretBox
    now: datetime
    loaders: Loaders
    window: WindowLimiter  # the app's "N per period" limiter (resolvers/limits/per_window.py)
    stripe: StripeGateway | None = None  # None: billing is not configured
    account: Account | None = None
    auth: AuthMethod | None = None
    # Why a presented credential was refused (e.g. INVALID_API_KEY), reported on first use.
    auth_error: AppError | None = None

    @property
    def today(self) -> date:
        return self.now.astimezone(UTC).date()

    @property
    def user(self) -> Account:
        """The authenticated account (fields using it carry the IsAuthenticated permission)."""
        if self.account is None:
            raise self.auth_error or AppError(
                "Sign in or send an X-API-Key header.", code="UNAUTHENTICATED", status=401
            )
        return self.account


Info = strawberry.Info[Context, None]
