"""The rendered-image cache: the only module that talks to aiocache.

Memory by default, Redis when `REDIS_URL` is set (`make_image_cache`). Values are stored as one
bytes blob (a small JSON header, a newline, the image) so both backends hold the same thing.
Identical concurrent misses in one process are coalesced: one caller renders, the others wait
for its result (across workers a duplicate render is possible and harmless).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiocache import SimpleMemoryCache
from aiocache.base import BaseCache
from aiocache.serializers import NullSerializer

log = logging.getLogger("ogapi.cache")
MEMORY_TTL = 3600  # the in-process cache has no size bound: keep entries for an hour
REDIS_TTL = 7 * 86400


@dataclass(frozen=True)
class CachedImage:
    body: bytes
    content_type: str
    etag: str  # quoted, as sent in the ETag header
    render_ms: float = 0.0

    @classmethod
    def of(cls, body: bytes, content_type: str, render_ms: float = 0.0) -> CachedImage:
        return cls(body, content_type, f'"{hashlib.sha256(body).hexdigest()[:32]}"', render_ms)

    def pack(self) -> bytes:
        head = json.dumps([self.content_type, self.etag, round(self.render_ms, 2)])
        return head.encode() + b"\n" + self.body

    @classmethod
    def unpack(cls, blob: bytes) -> CachedImage:
        head, _, body = blob.partition(b"\n")
        content_type, etag, render_ms = json.loads(head)
        return cls(body, content_type, etag, render_ms)


class ImageCache:
    def __init__(self, backend: BaseCache, ttl: int) -> None:
        self.backend = backend
        self.ttl = ttl
        self._inflight: dict[str, asyncio.Future[CachedImage]] = {}

    async def get(self, key: str) -> CachedImage | None:
        try:
            blob = await self.backend.get(key)
        except Exception:  # a cache outage must not take the API down: treat it as a miss
            log.exception("image cache get failed")
            return None
        return CachedImage.unpack(blob) if blob else None

    async def set(self, key: str, image: CachedImage, ttl: int | None = None) -> None:
        try:
            await self.backend.set(key, image.pack(), ttl=ttl or self.ttl)
        except Exception:
            log.exception("image cache set failed")

    async def get_or_create(
        self, key: str, create: Callable[[], Awaitable[CachedImage]]
    ) -> tuple[CachedImage, bool]:
        """`(image, hit)`: the cached image, another caller's in-flight result, or `create()`'s.

        When the caller we waited on fails, we try ourselves (its failure may have been its
        own, e.g. its account's quota); `create()` runs at most once per caller.
        """
        while True:
            cached = await self.get(key)
            if cached is not None:
                return cached, True
            pending = self._inflight.get(key)
            if pending is None:
                break
            try:
                return await asyncio.shield(pending), True
            except Exception:  # noqa: S112 - the leader's error is its own; try again ourselves
                continue
        future: asyncio.Future[CachedImage] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            image = await create()
            await self.set(key, image)
        except BaseException as exc:
            future.set_exception(exc if isinstance(exc, Exception) else asyncio.CancelledError())
            future.exception()  # retrieved: no "exception was never retrieved" log
            raise
        finally:
            del self._inflight[key]
        future.set_result(image)
        return image, False

    async def ping(self) -> bool:
        try:
            await self.backend.exists("ping")
            return True
        except Exception:
            return False

    async def close(self) -> None:
        await self.backend.close()


def make_image_cache(redis_url: str | None) -> ImageCache:
    """The one place that picks and builds the aiocache backend."""
    if not redis_url:
        return ImageCache(SimpleMemoryCache(serializer=NullSerializer(), timeout=None), MEMORY_TTL)
    from urllib.parse import urlsplit

    from aiocache import RedisCache  # needs the `redis` extra

    u = urlsplit(redis_url)
    backend = RedisCache(
        serializer=NullSerializer(),
        endpoint=u.hostname or "127.0.0.1",
        port=u.port or 6379,
        db=int((u.path or "/0").strip("/") or 0),
        password=u.password,
        ssl=u.scheme == "rediss",
        namespace="ogapi:img",
        timeout=2,
    )
    return ImageCache(backend, REDIS_TTL)
