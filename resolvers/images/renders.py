"""Image generation: the image tiers first, then metering around the render (docs/metering.md).

Cached and stored per account (`cache.image_key`): the owner is part of the key.

    hit  -> served from memory, Redis or the image store; nothing counted (no rate-limit
            token, no quota)
    miss -> meter.rate.check -> meter.reserve -> fetch remote images -> pool.render
            -> meter.commit -> cache.set (memory, Redis, the store)
            (any failure before the commit: meter.release, nothing counted)

Identical concurrent misses share one render (see `ImageCache.get_or_create`). The pool is
anything with `render(spec)` and `render_fallback(w, h, fmt)` (a `render.pool.RenderPool`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

from models.db import unreachable
from render.card import RENDER_VERSION, mime_type
from render.spec import CardSpec
from render.templates import TEMPLATES
from resolvers.accounts.key_owner import KeyOwner
from resolvers.accounts.keys import usable_account
from resolvers.errors import AppError
from resolvers.fetch.fetcher import RemoteImageFetcher
from resolvers.images.cache import CachedImage, ImageCache, image_key
from resolvers.images.params import ImageRequest, parse_params
from resolvers.limits.per_second import RateDecision
from resolvers.metering.meter import Meter, metering_unavailable

log = logging.getLogger("ogapi.renders")


class Renderer(Protocol):
    async def render(self, spec: CardSpec) -> bytes: ...

    async def render_warned(self, spec: CardSpec) -> tuple[bytes, str]: ...

    async def report(self, spec: CardSpec) -> dict: ...

    async def render_fallback(self, width: int, height: int, fmt: str) -> bytes: ...


@dataclass(frozen=True)
class RenderResult:
    image: CachedImage
    cache_hit: bool
    render_ms: float = 0.0  # spent on this request (0 when served from cache)
    rate: RateDecision | None = None  # the rate-limit decision, when a token was spent
    # "quota" / "rate": the fallback card was served instead (owner out of quota / over the
    # per-second rate limit even after waiting for its turn)
    degraded: str | None = None

    @property
    def partial(self) -> bool:
        """A remote image failed and the card has a placeholder (kept only briefly)."""
        return self.image.partial


DEGRADED_BY = {"QUOTA_EXCEEDED": "quota", "RATE_LIMITED": "rate"}  # error code -> degraded


def generation_failed() -> AppError:
    return AppError(
        "Image generation failed. Please try again.", code="GENERATION_FAILED", status=500
    )


@asynccontextmanager
async def rate_token_on_failure(owner: KeyOwner, meter: Meter) -> AsyncIterator[None]:
    """Around reading and parsing an authenticated caller's parameters: a request that fails
    there (bad JSON, a bad field) still spends a rate-limit token (docs/metering.md), so floods
    of bad requests are limited too."""
    try:
        yield
    except AppError:
        await meter.rate.check(owner)
        raise


async def generate(
    owner: KeyOwner,
    req: ImageRequest,
    *,
    meter: Meter,
    cache: ImageCache,
    pool: Renderer,
    fetcher: RemoteImageFetcher,
    now: datetime,
    degrade: bool = False,
    rate_paid: RateDecision | None = None,
) -> RenderResult:
    """The image for `req`, from the owner's cache, or rendered and metered on the owner's
    account (read from the database only then: a hit never loads it).

    With `degrade` (signed URLs, fetched by crawlers that must never see an error) a render
    over the owner's rate limit waits for its turn (`RateGate.wait`), and an owner still
    over the limit, or out of quota, gets the plain fallback card (`degraded="rate"` or
    `"quota"`, counting nothing) instead of RATE_LIMITED or QUOTA_EXCEEDED.

    `rate_paid`: the caller already spent the rate-limit token(s) this render needs (a batch
    pays one per 10 items up front: resolvers/images/batch.py); everything else is as for one
    request.
    """
    key = image_key(owner.id, req.cache_key)
    image = cache.peek(key)  # the common case: in this process's memory
    if image is not None:
        cache.accessed(key, now)  # the store's last access (batched, once a day at most)
        return RenderResult(image, True)
    spent: list[RateDecision] = []
    took: list[float] = []

    async def create() -> CachedImage:
        try:
            acct = await usable_account(owner.id)
        except Exception as exc:  # no database: the render cannot be metered (fail closed)
            if unreachable(exc):
                raise metering_unavailable(exc) from exc
            raise
        if rate_paid is not None:
            spent.append(rate_paid)
        else:
            spent.append(await (meter.rate.wait(acct) if degrade else meter.rate.check(acct)))
        ticket = await meter.reserve(acct, now)
        try:
            body, partial, warned = await _draw(req, pool, fetcher, acct.id, took)
        except BaseException as exc:
            await meter.release(ticket)
            if isinstance(exc, Exception) and not isinstance(exc, AppError):
                log.warning("render failed for account %s: %s", acct.id, exc)
                raise generation_failed() from exc
            raise
        await meter.commit(ticket, now)
        return CachedImage.of(body, req.content_type, took[0], partial=partial, warnings=warned)

    try:
        image, hit = await cache.get_or_create(key, create, durable=True, now=now)
    except AppError as exc:
        reason = DEGRADED_BY.get(exc.code) if degrade else None
        if reason is None:
            raise
        s = req.spec
        image = await fallback(cache, pool, s.width, s.height, s.format)
        return RenderResult(image, True, rate=spent[0] if spent else None, degraded=reason)
    return RenderResult(image, hit, 0.0 if hit else took[0], spent[0] if spent else None)


async def _draw(
    req: ImageRequest,
    pool: Renderer,
    fetcher: RemoteImageFetcher,
    account_id: int,
    took: list[float],
) -> tuple[bytes, bool, str]:
    """(image bytes, partial, warnings): fetch the remote images, then render (its ms
    appended to `took`). Partial: a remote image failed and a placeholder was drawn instead;
    warnings: the X-Render-Warnings of the render (docs/templates.md)."""
    spec, partial = await with_images(req, fetcher, account_id)
    t0 = time.perf_counter()
    body, warned = await pool.render_warned(spec)
    took.append((time.perf_counter() - t0) * 1000)
    return body, partial, warned


async def with_images(
    req: ImageRequest,
    fetcher: RemoteImageFetcher,
    account_id: int,
    urls: dict[str, str] | None = None,
) -> tuple[CardSpec, bool]:
    """(the spec with its remote images fetched, whether one failed): `urls`, or all of
    `req`'s (the playground's drafts fetch only those their template draws)."""
    urls = req.urls if urls is None else urls
    if not urls:
        return req.spec, False
    images = await fetcher.fetch_many(urls, owner=account_id)
    spec = replace(req.spec, images=tuple(sorted(images.items())))
    return spec, any(data is None for data in images.values())


async def redraw(
    owner: KeyOwner,
    req: ImageRequest,
    *,
    cache: ImageCache,
    pool: Renderer,
    fetcher: RemoteImageFetcher,
) -> CachedImage:
    """An image the owner already paid for (the replay of an idempotent batch:
    resolvers/images/batch.py): from the cache or the image store, or drawn again when both dropped
    it, counting nothing, since the first answer counted it."""

    async def create() -> CachedImage:
        took: list[float] = []
        try:
            body, partial, warned = await _draw(req, pool, fetcher, owner.id, took)
        except AppError:
            raise
        except Exception as exc:
            raise generation_failed() from exc
        return CachedImage.of(body, req.content_type, took[0], partial=partial, warnings=warned)

    image, _ = await cache.get_or_create(image_key(owner.id, req.cache_key), create, durable=True)
    return image


async def fallback(cache: ImageCache, pool: Renderer, width: int, height: int, fmt: str):
    """The "preview unavailable" card, rendered once per size and format."""

    async def create() -> CachedImage:
        return CachedImage.of(await pool.render_fallback(width, height, fmt), mime_type(fmt))

    image, _ = await cache.get_or_create(
        f"fallback:{RENDER_VERSION}:{width}x{height}.{fmt}", create
    )
    return image


PREVIEW_FIELDS: dict[str, dict[str, str]] = {
    "default": {"subtitle": "A subtitle that explains the page", "author_name": "Jane Doe",
                "date": "Mar 14, 2026", "brand": "acme.dev"},
    "minimal": {"subtitle": "Less chrome, more content", "brand": "calm.design"},
    "vibrant": {"subtitle": "Five days, five features", "badge": "New", "brand": "acme.dev"},
    "blog": {"subtitle": "A story about query plans", "badge": "Engineering",
             "reading_time": "8 min read", "author_name": "Priya Raman", "date": "Feb 2, 2026"},
    "product": {"subtitle": "Noise cancelling, 40 h battery", "brand": "Sonic", "price": "$199",
                "original_price": "$249", "rating": "4.6", "badge": "-20%"},
    "event": {"date": "Apr 24, 2026", "time": "18:00 CET", "location": "Berlin & online",
              "speaker_name": "Lukas Meyer", "badge": "Meetup"},
    "stats": {"stat_value": "1.2M", "stat_label": "monthly active users", "trend_icon": "↑",
              "trend_value": "+18% MoM", "brand": "acme.dev"},
    "real_estate": {"price": "$1,250,000", "address": "24 Harbour Street, Brooklyn",
                    "beds": "3", "baths": "2", "sqft": "1,850", "badge": "For sale"},
    "quote": {"author_name": "Ada Lovelace", "brand": "quotes.dev"},
    "caption": {"caption_top": "When the tests pass", "caption_bottom": "on the first try"},
}  # fmt: skip


async def preview(name: str, *, cache: ImageCache, pool: Renderer) -> CachedImage:
    """A sample render of template `name` (public, cached, counts nothing)."""
    if name not in TEMPLATES:
        raise AppError(f"Unknown template {name[:50]!r}.", code="NOT_FOUND", status=404)
    title = "The imagination is the discovery" if name == "quote" else f"The {name} template"
    req = parse_params(
        {"title": title, "template": name, **PREVIEW_FIELDS.get(name, {})}, allow_http=False
    )

    async def create() -> CachedImage:
        try:
            return CachedImage.of(await pool.render(req.spec), req.content_type)
        except Exception as exc:
            raise generation_failed() from exc

    image, _ = await cache.get_or_create("preview:" + req.cache_key, create)
    return image
