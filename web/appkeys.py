"""Typed application state (aiohttp AppKeys): one home for what handlers can reach."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

from aiohttp import web
from redis.asyncio import Redis

from models import Account
from resolvers.accounts.keycache import KeyCache
from resolvers.billing.stripe_api import StripeGateway
from resolvers.crypto import SecretBox
from resolvers.images.service import ImageService
from resolvers.images.signing import SignatureVerifier
from resolvers.insight.fetch_log import FetchLog
from resolvers.limits.per_window import WindowLimiter
from resolvers.mail import Mailer
from resolvers.metering.meter import Meter
from resolvers.notify.delivery import Deliverer
from web.settings import Settings

if TYPE_CHECKING:
    from web.http.metrics import Metrics  # noqa: F401  # web/http/metrics.py imports this module

settings_key = web.AppKey("settings", Settings)
secret_box_key = web.AppKey("secret_box", SecretBox)
mailer_key = web.AppKey("mailer", Mailer)
meter_key = web.AppKey("meter", Meter)
# The worker's one Redis client (resolvers/redisconn.py), None without REDIS_URL.
redis_key: web.AppKey[Redis | None] = web.AppKey("redis")
# API keys in memory for the image hot path (resolvers/accounts/keycache.py; invalidated on
# revocation).
key_cache_key = web.AppKey("key_cache", KeyCache)
# "N per hour" limits such as sign-ups per address (resolvers/limits/per_window.py).
window_limiter_key = web.AppKey[WindowLimiter]("window_limiter")
# The clock every handler reads "now" from; tests replace it to cross month boundaries.
clock_key = web.AppKey[Callable[[], datetime]]("clock")
# The image API (resolvers/images/service.py): the meter, the image cache, the render pool and
# the remote-image fetchers in one service; URL signatures.
image_service_key = web.AppKey("image_service", ImageService)
signer_key = web.AppKey("signer", SignatureVerifier)
# Signed-image fetches counted in memory per platform, flushed every few seconds
# (resolvers/insight/fetch_log.py, docs/link-previews.md).
fetch_log_key = web.AppKey("fetch_log", FetchLog)
# The styled 404 page for HTML paths (web/routes/pages.py); JSON paths keep JSON errors.
not_found_page_key = web.AppKey[Callable[[web.Request], Awaitable[web.StreamResponse]]](
    "not_found_page"
)
# Webhook deliveries (resolvers/notify/delivery.py): this worker's share of the outbox.
deliverer_key = web.AppKey("deliverer", Deliverer)
# The Stripe gateway (resolvers/billing/stripe_api.py); absent when STRIPE_SECRET_KEY is unset.
stripe_key = web.AppKey("stripe", StripeGateway)

# LOG_FORMAT=json: the error middleware writes one access line per request (web/http/logs.py).
json_access_key = web.AppKey("json_access", bool)

# Prometheus counters and histograms (web/http/metrics.py), counted by web/http/middleware.py.
metrics_key = web.AppKey["Metrics"]("metrics")

# Per-request state.
request_id_key = web.RequestKey("request_id", str)
session_account_key = web.RequestKey[Account | None]("session_account")  # once resolved
error_code_key = web.RequestKey("error_code", str)  # the code of an error response
