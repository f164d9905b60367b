"""Batches (docs/rest-api.md "POST /api/batch"): 1 to 100 image requests in one call.

Each item goes through `ImageService.generate`, the one path of a single request, so it is
metered exactly as if sent alone: a cache hit is free, a render takes one image of the quota
through the Meter's atomic reservation (never charged up front), a failure counts nothing. With
R images of quota left, exactly R new renders succeed and the others fail with QUOTA_EXCEEDED,
whatever else runs at the same time. Only the rate limit differs: the batch spends one token
per `ITEMS_PER_TOKEN` items, once, before any item (`rate_cost`).

Items run on the render pool a `window` at a time, and `run` yields their results in index
order as they are ready: a caller that streams them out (the ZIP answer) holds at most
`window` images of the batch at once. An item's failure is its own result, never the batch's.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from resolvers.accounts.key_owner import KeyOwner
from resolvers.errors import AppError, InvalidParameter
from resolvers.images.cache import CachedImage
from resolvers.images.params import ImageRequest, parse_params
from resolvers.images.renders import generation_failed
from resolvers.images.service import ImageService
from resolvers.limits.per_second import RateDecision

log = logging.getLogger("ogapi.batch")
MAX_ITEMS = 100
ITEMS_PER_TOKEN = 10
IDEMPOTENCY_SCOPE = "batch"
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class BatchItem:
    index: int  # 1-based, as in the answer
    req: ImageRequest | None  # None: the item failed validation (`error`)
    error: AppError | None = None


@dataclass(frozen=True)
class ItemResult:
    index: int
    req: ImageRequest | None
    image: CachedImage | None = None  # None: failed (or a replay not holding its image yet)
    cache: str | None = None  # "HIT" / "MISS" for a successful item
    code: str | None = None
    message: str | None = None
    warnings: str = ""  # the render's X-Render-Warnings (docs/templates.md); "" when none

    @property
    def ok(self) -> bool:
        return self.code is None

    @property
    def file(self) -> str | None:
        """The item's name in the ZIP answer: `001.png`, `002.jpeg`, ..."""
        if not self.ok or self.req is None:
            return None
        return f"{self.index:03d}.{self.req.spec.format}"

    def manifest(self) -> dict[str, Any]:
        """The item's entry of `manifest.json` (and of the stored idempotent answer)."""
        return {
            "index": self.index,
            "status": "ok" if self.ok else "error",
            "code": self.code,
            "message": self.message,
            "file": self.file,
            "cache": self.cache,
            "warnings": self.warnings if self.ok else None,
        }


def bad_items() -> InvalidParameter:
    return InvalidParameter(f"items must be a list of 1 to {MAX_ITEMS} objects of image parameters")


def parse_batch(body: dict[str, Any], *, allow_http: bool) -> list[BatchItem]:
    """The items of a batch body `{"items": [{...}, ...]}`. A wrong shape of the whole body is
    400 INVALID_PARAMETER naming `items`; an item that fails validation is that item's error
    (with the code a single request would get)."""
    unknown = sorted(k for k in body if k != "items")
    if unknown:
        raise InvalidParameter(f"Unknown parameter: {unknown[0][:50]} (a batch has only items)")
    raw = body.get("items")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_ITEMS:
        raise bad_items()
    items = []
    for index, params in enumerate(raw, 1):
        if not isinstance(params, dict):
            error = InvalidParameter(f"items[{index}] must be an object of image parameters")
            items.append(BatchItem(index, None, error))
            continue
        try:
            items.append(BatchItem(index, parse_params(params, allow_http=allow_http)))
        except AppError as exc:
            items.append(BatchItem(index, None, exc))
    return items


def rate_cost(count: int) -> int:
    """Rate-limit tokens a batch of `count` items spends: one per 10 items, rounded up."""
    return -(-count // ITEMS_PER_TOKEN)


def window_for(pool: object) -> int:
    """Items in flight at once: enough to keep every render process busy while others wait on
    the database or a remote image, few enough that a batch holds a handful of images."""
    return min(16, max(4, 2 * int(getattr(pool, "processes", 0) or 0)))


def _failed(item: BatchItem, exc: AppError) -> ItemResult:
    return ItemResult(item.index, item.req, code=exc.code, message=exc.message)


async def run(
    images: ImageService,
    owner: KeyOwner,
    items: Iterable[BatchItem],
    *,
    now: datetime,
    rate: RateDecision,
    window: int,
) -> AsyncGenerator[ItemResult, None]:
    """Each item's result in index order, `window` items rendering at once. `rate`: the
    decision of the tokens the batch spent (`rate_cost`). Closing the iterator early (the
    client went away) cancels the items in flight; their reservations are given back."""

    async def one(item: BatchItem) -> ItemResult:
        if item.req is None:
            assert item.error is not None
            return _failed(item, item.error)
        try:
            result = await images.generate(owner, item.req, now=now, rate_paid=rate)
        except AppError as exc:
            return _failed(item, exc)
        except Exception:  # never the batch's failure: this item's
            log.exception("batch item %d of account %s failed", item.index, owner.id)
            return _failed(item, generation_failed())
        cache_state = "HIT" if result.cache_hit else "MISS"
        return ItemResult(
            item.index, item.req, result.image, cache_state, warnings=result.image.warnings
        )

    async for result in in_order(items, one, window):
        yield result


async def in_order(
    items: Iterable[T], work: Callable[[T], Awaitable[R]], window: int
) -> AsyncGenerator[R, None]:
    """`work(item)` for each item, `window` at once, yielded in the items' order: at most
    `window` results are held at any time. Closing the iterator cancels the work in flight."""
    pending = iter(items)
    running: deque[asyncio.Future[R]] = deque()

    def start_next() -> bool:
        for item in pending:
            running.append(asyncio.ensure_future(work(item)))
            return True
        return False

    try:
        while len(running) < window and start_next():
            pass
        while running:
            result = await running.popleft()
            start_next()
            yield result
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)


def replayed(items: list[BatchItem], stored: dict[str, Any]) -> list[ItemResult]:
    """The results of a stored batch answer (an `Idempotency-Key` replay), without images:
    the body was the same, so `items` are the same requests."""
    out = []
    for item, entry in zip(items, stored["results"], strict=True):
        if entry["status"] == "ok":
            out.append(
                ItemResult(
                    item.index, item.req, cache=entry["cache"], warnings=entry.get("warnings") or ""
                )
            )
        else:
            out.append(
                ItemResult(item.index, item.req, code=entry["code"], message=entry["message"])
            )
    return out


async def replay_images(
    images: ImageService,
    owner: KeyOwner,
    results: list[ItemResult],
    *,
    window: int,
) -> AsyncGenerator[ItemResult, None]:
    """The replayed `results` with their images, in order: each from the cache, or drawn again
    without counting when the cache dropped it (`ImageService.redraw`: it was paid for once)."""

    async def one(result: ItemResult) -> ItemResult:
        if not result.ok or result.req is None:
            return result
        try:
            image = await images.redraw(owner, result.req)
        except AppError as exc:
            return ItemResult(result.index, result.req, code=exc.code, message=exc.message)
        return ItemResult(result.index, result.req, image, result.cache, warnings=image.warnings)

    async for result in in_order(results, one, window):
        yield result
