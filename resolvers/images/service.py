"""The image service: the image API's collaborators in one object, its operations as methods.

`ImageService` holds the meter, the image cache, the render pool, the remote-image fetcher and
the playground's own fetcher (resolvers/images/previews.py `make_fetcher`). The app builds one
(web/app.py, `image_service_key`); every handler that serves, checks or drafts an image calls
it. It composes the rules, which keep their homes: parameters in params.py, the metering in
resolvers/metering/, the pieces of a render in renders.py, the render report in
render_report.py, the drafts' budget and fields in previews.py, batches in batch.py.

`generate`, the hot path (docs/metering.md), cached and stored per account (`cache.image_key`:
the owner is part of the key):

    hit  -> served from memory, Redis or the image store; nothing counted (no rate-limit
            token, no quota)
    miss -> meter.rate.check -> meter.reserve -> fetch remote images -> pool.render
            -> meter.commit -> cache.set (memory, Redis, the store)
            (any failure before the commit: meter.release, nothing counted)

Identical concurrent misses share one render (see `ImageCache.get_or_create`). The pool is
anything with the methods of `render.pool.RenderPool` that are used here.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from models import Account
from models.db import unreachable
from render.card import RENDER_VERSION, mime_type
from render.pool import RenderPool
from resolvers.accounts.key_owner import KeyOwner
from resolvers.accounts.keys import usable_account
from resolvers.errors import AppError
from resolvers.fetch.fetcher import RemoteImageFetcher
from resolvers.images import previews
from resolvers.images.cache import CachedImage, ImageCache, image_key
from resolvers.images.params import ImageRequest
from resolvers.images.render_report import render_report
from resolvers.images.renders import (
    DEGRADED_BY,
    RenderResult,
    draw,
    generation_failed,
    preview_request,
)
from resolvers.limits.per_second import RateDecision
from resolvers.metering.meter import Meter, metering_unavailable

log = logging.getLogger("ogapi.renders")


class ImageService:
    """The image API of one worker: what it renders with, caches in, fetches through and
    meters on. Tests may replace a collaborator (an attribute) before the app starts."""

    __slots__ = ("cache", "fetcher", "meter", "pool", "preview_fetcher")

    def __init__(
        self,
        meter: Meter,
        cache: ImageCache,
        pool: RenderPool,
        fetcher: RemoteImageFetcher,
        preview_fetcher: RemoteImageFetcher,
    ) -> None:
        self.meter = meter
        self.cache = cache
        self.pool = pool
        self.fetcher = fetcher  # card images; also the share check's and webhooks' requests
        self.preview_fetcher = preview_fetcher  # the playground's drafts' own

    async def start(self) -> None:
        """Start the fetchers and warm the render processes up (web/app.py `_images_ctx`)."""
        await self.fetcher.start()
        await self.preview_fetcher.start()
        if getattr(self.pool, "processes", 0) > 0:
            await self.pool.warm_up()

    async def close(self) -> None:
        """Close the fetchers, the image cache (and its store) and the render pool."""
        await self.fetcher.close()
        await self.preview_fetcher.close()
        await self.cache.close()
        await self.pool.__aexit__(None, None, None)

    async def generate(
        self,
        owner: KeyOwner,
        req: ImageRequest,
        *,
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

        `rate_paid`: the caller already spent the rate-limit token(s) this render needs (a
        batch pays one per 10 items up front: resolvers/images/batch.py); everything else is as
        for one request.
        """
        cache = self.cache
        key = image_key(owner.id, req.cache_key)
        image = cache.peek(key)  # the common case: in this process's memory
        if image is not None:
            cache.accessed(key, now)  # the store's last access (batched, once a day at most)
            return RenderResult(image, True)
        meter, pool, fetcher = self.meter, self.pool, self.fetcher
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
                body, partial, warned = await draw(req, pool, fetcher, acct.id, took)
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
            image = await self.fallback(s.width, s.height, s.format)
            return RenderResult(image, True, rate=spent[0] if spent else None, degraded=reason)
        return RenderResult(image, hit, 0.0 if hit else took[0], spent[0] if spent else None)

    async def redraw(self, owner: KeyOwner, req: ImageRequest) -> CachedImage:
        """An image the owner already paid for (the replay of an idempotent batch:
        resolvers/images/batch.py): from the cache or the image store, or drawn again when both
        dropped it, counting nothing, since the first answer counted it."""

        async def create() -> CachedImage:
            took: list[float] = []
            try:
                body, partial, warned = await draw(req, self.pool, self.fetcher, owner.id, took)
            except AppError:
                raise
            except Exception as exc:
                raise generation_failed() from exc
            return CachedImage.of(body, req.content_type, took[0], partial=partial, warnings=warned)

        key = image_key(owner.id, req.cache_key)
        image, _ = await self.cache.get_or_create(key, create, durable=True)
        return image

    async def fallback(self, width: int, height: int, fmt: str) -> CachedImage:
        """The "preview unavailable" card, rendered once per size and format."""

        async def create() -> CachedImage:
            return CachedImage.of(
                await self.pool.render_fallback(width, height, fmt), mime_type(fmt)
            )

        image, _ = await self.cache.get_or_create(
            f"fallback:{RENDER_VERSION}:{width}x{height}.{fmt}", create
        )
        return image

    async def preview(self, name: str) -> CachedImage:
        """A sample render of built-in template `name` (public, cached, counts nothing)."""
        req = preview_request(name)

        async def create() -> CachedImage:
            try:
                return CachedImage.of(await self.pool.render(req.spec), req.content_type)
            except Exception as exc:
                raise generation_failed() from exc

        image, _ = await self.cache.get_or_create("preview:" + req.cache_key, create)
        return image

    async def report(
        self, owner: KeyOwner, req: ImageRequest
    ) -> tuple[dict[str, Any], RateDecision]:
        """The render report of `req` (resolvers/images/render_report.py) and the rate-limit
        decision it spent."""
        return await render_report(
            owner, req, meter=self.meter, pool=self.pool, fetcher=self.fetcher
        )

    async def draft(self, account: Account, req: ImageRequest) -> CachedImage:
        """The playground's watermarked draft of `req` (resolvers/images/previews.py), its
        remote images fetched through the previews' own fetcher."""
        return await previews.draft(account, req, pool=self.pool, fetcher=self.preview_fetcher)
