"""The aiohttp application factory."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from aiohttp import web

from models.db import database, sqlite_path
from render.fonts import raqm_available
from render.pool import RenderPool
from resolvers.accounts.keycache import KeyCache
from resolvers.billing.stripe_api import StripeGateway
from resolvers.crypto import SecretBox
from resolvers.fetch.fetcher import RemoteImageFetcher
from resolvers.images.cache import make_image_cache
from resolvers.images.previews import make_fetcher as make_preview_fetcher
from resolvers.images.service import ImageService
from resolvers.images.signing import SignatureVerifier
from resolvers.images.store import open_store
from resolvers.images.store_tier import StoreTier
from resolvers.insight.fetch_log import FetchLog
from resolvers.limits.per_second import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from resolvers.limits.per_window import window_limiter
from resolvers.mail import Mailer, SmtpConfig
from resolvers.metering.meter import Meter
from resolvers.notify.delivery import Deliverer
from resolvers.redisconn import connect
from web import routes
from web.appkeys import (
    clock_key,
    deliverer_key,
    fetch_log_key,
    image_service_key,
    json_access_key,
    key_cache_key,
    mailer_key,
    meter_key,
    metrics_key,
    redis_key,
    secret_box_key,
    settings_key,
    signer_key,
    stripe_key,
    window_limiter_key,
)
from web.cli import gcpause
from web.http import logs, metrics
from web.http.bodies import MAX_JSON_BYTES
from web.http.clientip import startup_warnings
from web.http.middleware import error_middleware, request_id_on_prepare
from web.settings import ConfigError, Settings

log = logging.getLogger("ogapi")


def utc_now() -> datetime:
    return datetime.now(UTC)


def _mailer(settings: Settings, box: SecretBox) -> Mailer:
    smtp = None
    if settings.smtp_host:
        smtp = SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            starttls=settings.smtp_starttls,
        )
    return Mailer(settings.smtp_from, smtp, box)


async def _database_ctx(app: web.Application) -> AsyncIterator[None]:
    async with database(app[settings_key].database_url):
        yield
        await app[mailer_key].drain()  # deliveries in flight still record their outcome


def _rate_limiter(redis) -> RateLimiter:
    """Shared through Redis when REDIS_URL is set (several workers), else in-process."""
    if redis is not None:
        return RedisRateLimiter(redis, owns_client=False)
    return MemoryRateLimiter()


async def _redis_ctx(app: web.Application) -> AsyncIterator[None]:
    """The worker's one Redis client: closed last, after everything that uses it."""
    yield
    if (client := app[redis_key]) is not None:
        await client.aclose()


async def _rate_limiter_ctx(app: web.Application) -> AsyncIterator[None]:
    yield
    await app[meter_key].limiter.close()
    await app[window_limiter_key].close()


@contextlib.asynccontextmanager
async def _background(coro) -> AsyncIterator[None]:
    """Run `coro` as a task while open; cancel it (and let it finish its cleanup) on exit."""
    # Named, so logs, debuggers and tests can tell the app's loops from request handling.
    task = asyncio.create_task(coro, name=f"background:{coro.__qualname__}")
    try:
        yield
    finally:
        # Cancel until it ends: a library may swallow one cancellation (redis-py's read
        # timeouts can turn it into a TimeoutError, which a reconnect loop then retries).
        while not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=1.0)
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _meter_ctx(app: web.Application) -> AsyncIterator[None]:
    """Write the API-call counts every second and the card fetches every two, and once more at
    shutdown (database still open); give back quota reservations that a dead worker left
    behind."""
    meter, timeout = app[meter_key], app[settings_key].reservation_timeout
    async with (
        _background(meter.api_calls.run_flusher()),
        _background(app[fetch_log_key].run_flusher()),
        _background(meter.run_sweeper(timeout)),
    ):
        yield


async def _purge_idempotency(every: float = 600.0) -> None:
    from resolvers import idempotency

    while True:
        try:
            await idempotency.purge(datetime.now(UTC))
        except Exception as exc:  # the database is away: next time
            log.warning("idempotency purge failed: %s: %s", type(exc).__name__, exc)
        await asyncio.sleep(every)


async def _maintenance_ctx(app: web.Application) -> AsyncIterator[None]:
    """Retry failed mail (one worker per mail, with backoff) and expire idempotency records."""
    async with _background(app[mailer_key].run_retries()), _background(_purge_idempotency()):
        yield


async def _key_cache_ctx(app: web.Application) -> AsyncIterator[None]:
    """Listen for key and account changes from other workers (only with Redis)."""
    cache = app[key_cache_key]
    async with _background(cache.run()):
        yield
    await cache.close()


def _stripe_gateway(settings: Settings) -> StripeGateway | None:
    """The one Stripe client (only with STRIPE_SECRET_KEY); it opens its session lazily."""
    if not settings.stripe_secret_key:
        return None
    if not settings.stripe_webhook_secrets:
        log.warning(
            "STRIPE_SECRET_KEY is set but STRIPE_WEBHOOK_SECRET is not: webhooks answer 503 "
            "until it is (docs/billing.md)"
        )
    return StripeGateway(
        settings.stripe_secret_key,
        settings.stripe_api_base,
        max_network_retries=settings.stripe_max_network_retries,
    )


async def _stripe_ctx(app: web.Application) -> AsyncIterator[None]:
    """Close the Stripe gateway's HTTP session at shutdown."""
    yield
    if (gateway := app.get(stripe_key)) is not None:
        await gateway.close()


def open_store_tier(settings: Settings) -> StoreTier | None:
    """The durable image store IMAGE_STORE names (docs/caching.md), or None for `none`."""
    store = open_store(
        settings.image_store,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key=settings.aws_access_key_id,
        secret_key=settings.aws_secret_access_key,
    )
    return None if store is None else StoreTier(store)


async def _images_ctx(app: web.Application) -> AsyncIterator[None]:
    """Start the fetcher and warm the render pool; record the image store's accesses every
    minute and sweep it daily; close them all and the image cache (the store) at the end."""
    if not raqm_available():
        log.warning("Pillow has no libraqm: Arabic/Hebrew/Devanagari text will not be shaped")
    images = app[image_service_key]
    store = images.cache.store
    try:  # a start-up cut short (the worker told to stop while booting) closes them too
        await images.start()
        async with contextlib.AsyncExitStack() as stack:
            if store is not None:
                await store.start()
                days = app[settings_key].image_store_retention_days
                await stack.enter_async_context(_background(store.run_toucher()))
                await stack.enter_async_context(
                    _background(store.run_sweeper(days, app[redis_key]))
                )
            yield
    except asyncio.CancelledError:  # stopped while starting: no render to wait for
        images.pool.terminate()
        raise
    finally:
        await images.close()


async def _webhooks_ctx(app: web.Application) -> AsyncIterator[None]:
    """Deliver due webhook events (after the fetcher starts, stopped before it closes)."""
    async with _background(app[deliverer_key].run()):
        yield


# The longest valid GET /api/generate (every field at its maximum, percent-encoded UTF-8) is
# ~50 KB: aiohttp's default 8 KB request line would refuse valid URLs before our middleware.
MAX_REQUEST_LINE = 64 * 1024


def create_app(settings: Settings, *, clock=utc_now) -> web.Application:
    logs.configure(settings.log_format, settings.log_level)  # also under gunicorn
    startup_warnings(settings)
    app = web.Application(
        middlewares=[error_middleware],
        client_max_size=MAX_JSON_BYTES,
        handler_args={"max_line_size": MAX_REQUEST_LINE},
    )
    app.on_response_prepare.append(request_id_on_prepare)
    app[settings_key] = settings
    app[json_access_key] = settings.log_format == "json"
    app[clock_key] = clock
    app[secret_box_key] = SecretBox(settings.secret_key)
    app[mailer_key] = _mailer(settings, app[secret_box_key])
    app[redis_key] = connect(settings.redis_url) if settings.redis_url else None
    app[meter_key] = Meter(_rate_limiter(app[redis_key]), app[mailer_key])
    app[window_limiter_key] = window_limiter(app[redis_key])
    app[fetch_log_key] = FetchLog()
    app[key_cache_key] = KeyCache(app[redis_key], sqlite_path=sqlite_path(settings.database_url))
    if (gateway := _stripe_gateway(settings)) is not None:
        app[stripe_key] = gateway
    app.cleanup_ctx.append(_redis_ctx)
    app.cleanup_ctx.append(_database_ctx)
    app.cleanup_ctx.append(_rate_limiter_ctx)
    app.cleanup_ctx.append(_meter_ctx)
    app.cleanup_ctx.append(_maintenance_ctx)
    app.cleanup_ctx.append(_key_cache_ctx)
    app.cleanup_ctx.append(_stripe_ctx)
    # The image API: one service holding the meter, renderer, rendered-image cache and remote
    # fetchers (a test may replace one of them before the app starts: the app then starts and
    # closes that one); URL signatures.
    private, http = settings.allow_private_fetch, not settings.production
    fetcher = RemoteImageFetcher(allow_private=private, allow_http=http)
    cache = make_image_cache(app[redis_key], settings.image_cache_mb, open_store_tier(settings))
    app[image_service_key] = ImageService(
        app[meter_key],
        cache,
        RenderPool(settings.render_workers, nice=settings.render_nice),
        fetcher,
        make_preview_fetcher(allow_private=private, allow_http=http),
    )
    app[signer_key] = SignatureVerifier(app[secret_box_key], app[key_cache_key])
    app.cleanup_ctx.append(_images_ctx)
    app[deliverer_key] = Deliverer(fetcher, app[secret_box_key], app[mailer_key], clock)
    app.cleanup_ctx.append(_webhooks_ctx)
    app[metrics_key] = metrics.Metrics()
    app[metrics_key].tiers.watch(cache.stats, lambda: cache.memory.size)
    app.cleanup_ctx.append(metrics.process_ctx)  # the per-worker process metrics
    app.cleanup_ctx.append(gcpause.gc_pauses_ctx)  # garbage-collector pauses, timed
    routes.setup(app)  # every handler, in order (web/routes/__init__.py)
    return app


async def gunicorn_app() -> web.Application:
    """Entry point for gunicorn's aiohttp worker (web/cli/gunicorn_conf.py, `ogapi serve`, the
    Procfile). The worker-count rule is checked by gunicorn_conf's `on_starting` (it sees
    --workers); WEB_CONCURRENCY is checked here too, for a gunicorn run without that config."""
    settings = Settings.from_env()
    workers = int(os.environ.get("WEB_CONCURRENCY", "1") or 1)
    if problem := settings.workers_problem(workers):
        raise ConfigError(problem)
    app = create_app(settings)
    app.on_startup.append(gcpause.freeze_startup_heap)  # after every other start-up step
    return app
