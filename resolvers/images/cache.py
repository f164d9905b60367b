"""The rendered-image tiers, each with one job (docs/caching.md); the only module that talks
to aiocache.

1. **Memory**, in every worker: a least-recently-used map of ready `CachedImage`s bounded by
   bytes (`IMAGE_CACHE_MB`, resolvers/images/memory_lru.py): a hit costs a dict lookup, no await.
2. **Redis** (with `REDIS_URL`), shared by all workers and hosts, hot and small: aiocache's
   Redis backend on the worker's one client (resolvers/redisconn.py), each image for
   `REDIS_TTL` (an hour) and none over `REDIS_MAX_BYTES`; the server's `maxmemory` and eviction
   policy bound the rest (docs/operations.md). Values are one bytes blob (a small JSON header,
   a newline, the image) made by `ImageSerializer`, never decoded as text.
3. **The image store** (resolvers/images/store_tier.py), durable: every complete render of an
   account's request (`durable=True`), so a paid image is never rendered, nor counted, again.

A key names its content for ever (a hash of the canonical spec and RENDER_VERSION, under the
owning account: see `image_key`), so no tier ever goes stale. A card drawn with a placeholder
because a remote image failed (`CachedImage.partial`) is kept `PARTIAL_TTL` seconds, in this
process's memory only; previews and the fallback card are never stored.

Identical concurrent misses in one process are coalesced (resolvers/memo.py): one
caller renders, the others wait for its result (across workers a duplicate render is possible;
the store keeps one copy).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiocache.base import BaseCache
from aiocache.serializers import BaseSerializer

from resolvers.images.memory_lru import MemoryLru
from resolvers.images.tierstats import TierStats
from resolvers.memo import SingleFlight

if TYPE_CHECKING:
    from datetime import datetime

    from redis.asyncio import Redis

    from resolvers.images.store_tier import StoreTier

log = logging.getLogger("ogapi.cache")
REDIS_TTL = 3600  # seconds an image stays in Redis (the store keeps it for good)
REDIS_MAX_BYTES = 1 << 20  # larger images skip Redis (memory and the store still keep them)
DEFAULT_MEMORY_MB = 256
PARTIAL_TTL = 5.0  # seconds a card with a placeholder for a failed remote image is kept


def image_key(account_id: int, content_key: str) -> str:
    """The cache key of an account's render: the cache is per account, so another account's
    identical parameters are never a hit that reveals what someone else rendered."""
    return f"a{account_id}:{content_key}"


@dataclass(frozen=True)
class CachedImage:
    body: bytes
    content_type: str
    etag: str  # quoted, as sent in the ETag header
    render_ms: float = 0.0
    # A remote image failed and a placeholder was drawn instead: kept PARTIAL_TTL seconds in
    # memory only (never packed into the shared backend).
    partial: bool = False
    # The render's X-Render-Warnings (docs/templates.md, The render report): kept with the
    # bytes in every tier, so a hit says what the render said.
    warnings: str = ""

    @classmethod
    def of(
        cls,
        body: bytes,
        content_type: str,
        render_ms: float = 0.0,
        *,
        partial: bool = False,
        warnings: str = "",
    ) -> CachedImage:
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        return cls(body, content_type, etag, render_ms, partial, warnings)

    def pack(self) -> bytes:
        fields: list = [self.content_type, self.etag, round(self.render_ms, 2)]
        if self.warnings:
            fields.append(self.warnings)
        return json.dumps(fields).encode() + b"\n" + self.body

    @classmethod
    def unpack(cls, blob: bytes) -> CachedImage:
        head, _, body = blob.partition(b"\n")
        content_type, etag, render_ms, *warnings = json.loads(head)
        return cls(body, content_type, etag, render_ms, warnings=warnings[0] if warnings else "")


class ImageSerializer(BaseSerializer):
    """aiocache's serializer for `CachedImage`s: bytes in Redis, never decoded as text (a PNG
    is not UTF-8; a decoding serializer turned every shared hit into a miss)."""

    DEFAULT_ENCODING = None  # aiocache then hands `loads` the raw bytes

    def dumps(self, value: CachedImage) -> bytes:
        return value.pack()

    def loads(self, value: bytes | None) -> CachedImage | None:
        return None if value is None else CachedImage.unpack(value)


class ImageCache:
    def __init__(
        self,
        backend: BaseCache | None,
        ttl: int,
        memory_bytes: int = DEFAULT_MEMORY_MB << 20,
        store: StoreTier | None = None,
    ) -> None:
        self.backend = backend  # None: no Redis tier
        self.store = store  # None: no durable tier (IMAGE_STORE=none)
        self._warned_at = -1e9  # time.monotonic() of the last outage warning
        self.ttl = ttl
        self.memory = MemoryLru(memory_bytes)
        self._flights: SingleFlight[str, CachedImage] = SingleFlight()
        self.stats = {"memory": TierStats(), "redis": TierStats()}
        if store is not None:
            self.stats["store"] = store.stats
        self._memory_stats = self.stats["memory"]

    def peek(self, key: str) -> CachedImage | None:
        """The image when this process holds it (no I/O, no await)."""
        image = self.memory.get(key)
        if image is not None:
            self._memory_stats.hits += 1
            self._memory_stats.bytes_read += len(image.body)
        return image

    def accessed(self, key: str, now: datetime) -> None:
        """A durable key was served from a cache: the store keeps it from the sweep (batched,
        at most once a day per key: resolvers/images/store_tier.py)."""
        if self.store is not None:
            self.store.accessed(key, now.timestamp())

    async def get(
        self, key: str, *, durable: bool = False, now: datetime | None = None
    ) -> CachedImage | None:
        """From memory, then Redis, then (for a `durable` key) the store; an image found
        behind memory is kept in the tiers in front of it. An outage of Redis or the store is a
        miss, never an error."""
        image = self.peek(key)
        if image is not None:
            return image
        self._memory_stats.misses += 1
        if self.backend is not None and (image := await self._redis_get(key)) is not None:
            self.memory.put(key, image)
            if durable and self.store is not None:
                self.store.accessed(key, now.timestamp() if now else time.time())
            return image
        if not durable or self.store is None:
            return None
        image = await self.store.get(key, now.timestamp() if now else time.time())
        if image is not None:
            self.memory.put(key, image)
            await self._redis_set(key, image)  # other workers find it hot
        return image

    async def _redis_get(self, key: str) -> CachedImage | None:
        stats = self.stats["redis"]
        try:
            image = await self.backend.get(key)  # type: ignore[union-attr]  # checked by caller
        except Exception:  # a cache outage must not take the API down: treat it as a miss
            stats.errors += 1
            self._outage("get")
            return None
        if image is None:
            stats.misses += 1
            return None
        stats.hits += 1
        stats.bytes_read += len(image.body)
        return image

    async def _redis_set(self, key: str, image: CachedImage) -> None:
        if self.backend is None or len(image.body) > REDIS_MAX_BYTES:
            return
        try:
            await self.backend.set(key, image, ttl=self.ttl)
        except Exception:
            self.stats["redis"].errors += 1
            self._outage("set")
            return
        self.stats["redis"].bytes_written += len(image.body)

    async def set(self, key: str, image: CachedImage, *, durable: bool = False) -> None:
        """Into memory and Redis; a `durable` key's complete render into the store too."""
        if image.partial:  # not kept as if complete: briefly, and in this process only
            self.memory.put(key, image, PARTIAL_TTL)
            return
        self.memory.put(key, image)
        self._memory_stats.bytes_written += len(image.body)
        await self._redis_set(key, image)
        if durable and self.store is not None:
            await self.store.put(key, image)

    async def get_or_create(
        self,
        key: str,
        create: Callable[[], Awaitable[CachedImage]],
        *,
        durable: bool = False,
        now: datetime | None = None,
    ) -> tuple[CachedImage, bool]:
        """`(image, hit)`: the image from a tier, another caller's in-flight result, or
        `create()`'s. A `durable` key (an account's render) is looked up in, and kept by, the
        store; `now` is the request's time (the store's last access; default: the clock's).

        When the caller we waited on fails, we try ourselves (its failure may have been its
        own, e.g. its account's quota); `create()` runs at most once per caller.
        """
        while True:
            cached = await self.get(key, durable=durable, now=now)
            if cached is not None:
                return cached, True
            led = False

            async def load() -> CachedImage:
                nonlocal led
                led = True
                image = await create()
                await self.set(key, image, durable=durable)
                return image

            try:
                return await self._flights.run(key, load), not led
            except Exception:
                if led:
                    raise
                # the leader's error is its own (its rate token, its quota): try ourselves

    def _outage(self, what: str) -> None:
        """A Redis outage: every request misses the shared cache; say so every 30 s, with the
        cause, rather than a traceback per request."""
        now = time.monotonic()
        if now - self._warned_at >= 30:
            self._warned_at = now
            log.warning(
                "image cache %s failed (Redis unreachable?): serving from this worker's "
                "memory and rendering misses",
                what,
                exc_info=True,
            )

    async def ping(self) -> bool:
        if self.backend is None:
            return True
        try:
            await self.backend.exists("ping")
            return True
        except Exception:
            return False

    async def close(self) -> None:
        """Record the store's queued accesses and close it (the Redis client is the app's,
        which closes it last)."""
        if self.store is not None:
            await self.store.close()


def make_image_cache(
    redis: Redis | None, memory_mb: int = DEFAULT_MEMORY_MB, store: StoreTier | None = None
) -> ImageCache:
    """The one place that picks and builds the aiocache backend (and sizes the memory front);
    `redis` is the worker's client (resolvers/redisconn.py), or None for in-process only;
    `store` the durable tier, or None."""
    if redis is None:
        return ImageCache(None, 0, memory_mb << 20, store)
    from aiocache import RedisCache

    class Backend(RedisCache):
        async def _set(self, key, value, ttl=None, _cas_token=None, _conn=None):
            if _cas_token is None and isinstance(ttl, int):  # redis-py 8 deprecates SETEX
                return await self.client.set(key, value, ex=ttl)
            return await super()._set(key, value, ttl, _cas_token, _conn)

    backend = Backend(serializer=ImageSerializer(), namespace="ogapi:img", timeout=2)
    backend.client = redis  # the worker's one client, instead of a pool of aiocache's own
    return ImageCache(backend, REDIS_TTL, memory_mb << 20, store)
