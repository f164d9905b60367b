"""The rendered-image cache: the only module that talks to aiocache.

Two levels. In front, in every process, a least-recently-used map of ready `CachedImage`s
bounded by bytes (`IMAGE_CACHE_MB`, 256 by default): a hit there costs a dict lookup, no
deserialising, no await on a backend. Behind it, shared by all workers, aiocache's Redis backend
when `REDIS_URL` is set, on the worker's one Redis client (resolvers/redisconn.py). Values are
stored as one bytes blob (a small JSON header, a newline, the image) by `ImageSerializer`,
which never decodes them as text; on the embedded default the in-process map is the whole
cache. A key names its content for ever (a hash of the canonical spec and RENDER_VERSION, under
the owning account: see `image_key`), so the front never goes stale.

A card drawn with a placeholder because a remote image failed (`CachedImage.partial`) is kept
`DEGRADED_TTL` seconds, in this process's memory only: the same request a little later fetches
the image again (docs/caching.md).

Identical concurrent misses in one process are coalesced: one caller renders, the others wait
for its result (across workers a duplicate render is possible and harmless).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiocache.base import BaseCache
from aiocache.serializers import BaseSerializer

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("ogapi.cache")
REDIS_TTL = 7 * 86400
DEFAULT_MEMORY_MB = 256
DEGRADED_TTL = 5.0  # seconds a card with a placeholder for a failed remote image is kept


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
    # A remote image failed and a placeholder was drawn instead: kept DEGRADED_TTL seconds in
    # memory only (never packed into the shared backend).
    partial: bool = False

    @classmethod
    def of(
        cls, body: bytes, content_type: str, render_ms: float = 0.0, *, partial: bool = False
    ) -> CachedImage:
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        return cls(body, content_type, etag, render_ms, partial)

    def pack(self) -> bytes:
        head = json.dumps([self.content_type, self.etag, round(self.render_ms, 2)])
        return head.encode() + b"\n" + self.body

    @classmethod
    def unpack(cls, blob: bytes) -> CachedImage:
        head, _, body = blob.partition(b"\n")
        content_type, etag, render_ms = json.loads(head)
        return cls(body, content_type, etag, render_ms)


class ImageSerializer(BaseSerializer):
    """aiocache's serializer for `CachedImage`s: bytes in Redis, never decoded as text (a PNG
    is not UTF-8; a decoding serializer turned every shared hit into a miss)."""

    DEFAULT_ENCODING = None  # aiocache then hands `loads` the raw bytes

    def dumps(self, value: CachedImage) -> bytes:
        return value.pack()

    def loads(self, value: bytes | None) -> CachedImage | None:
        return None if value is None else CachedImage.unpack(value)


class MemoryLru:
    """Images by key, least recently used first out once `max_bytes` is passed; an entry put
    with a `ttl` is gone `ttl` seconds later (time.monotonic)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[str, CachedImage] = OrderedDict()
        self._expires: dict[str, float] = {}  # only the entries put with a ttl

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: str) -> CachedImage | None:
        image = self._items.get(key)
        if image is not None:
            if self._expires and self._expires.get(key, float("inf")) <= time.monotonic():
                self._pop(key)
                return None
            self._items.move_to_end(key)
        return image

    def put(self, key: str, image: CachedImage, ttl: float | None = None) -> None:
        cost = len(image.body) + len(key) + 200
        if cost > self.max_bytes:
            return
        self._pop(key)
        self._items[key] = image
        if ttl is not None:
            self._expires[key] = time.monotonic() + ttl
        self.size += cost
        while self.size > self.max_bytes:
            self._pop(next(iter(self._items)))

    def _pop(self, key: str) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self.size -= len(old.body) + len(key) + 200
            self._expires.pop(key, None)


class ImageCache:
    def __init__(
        self, backend: BaseCache | None, ttl: int, memory_bytes: int = DEFAULT_MEMORY_MB << 20
    ) -> None:
        self.backend = backend  # None: the in-process LRU is the whole cache
        self._warned_at = -1e9  # time.monotonic() of the last outage warning
        self.ttl = ttl
        self.memory = MemoryLru(memory_bytes)
        self._inflight: dict[str, asyncio.Future[CachedImage]] = {}

    def peek(self, key: str) -> CachedImage | None:
        """The image when this process holds it (no I/O, no await)."""
        return self.memory.get(key)

    async def get(self, key: str) -> CachedImage | None:
        image = self.memory.get(key)
        if image is not None or self.backend is None:
            return image
        try:
            image = await self.backend.get(key)
        except Exception:  # a cache outage must not take the API down: treat it as a miss
            self._outage("get")
            return None
        if image is None:
            return None
        self.memory.put(key, image)
        return image

    async def set(self, key: str, image: CachedImage, ttl: int | None = None) -> None:
        if image.partial:  # not kept as if complete: briefly, and in this process only
            self.memory.put(key, image, DEGRADED_TTL)
            return
        self.memory.put(key, image)
        if self.backend is None:
            return
        try:
            await self.backend.set(key, image, ttl=ttl or self.ttl)
        except Exception:
            self._outage("set")

    async def get_or_create(
        self, key: str, create: Callable[[], Awaitable[CachedImage]]
    ) -> tuple[CachedImage, bool]:
        """`(image, hit)`: the cached image, another caller's in-flight result, or `create()`'s.

        When the caller we waited on fails, we try ourselves (its failure may have been its
        own, e.g. its account's quota); `create()` runs at most once per caller.
        """
        while True:
            cached = self.memory.get(key)  # the common case, without an await
            if cached is None:
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

    def _outage(self, what: str) -> None:
        """A Redis outage: every request misses the shared cache; say so every 30 s, with the
        cause, rather than a traceback per request."""
        now = time.monotonic()
        if now - self._warned_at >= 30:
            self._warned_at = now
            log.warning("image cache %s failed (Redis unreachable?): serving from this worker's "
                        "memory and rendering misses", what, exc_info=True)  # fmt: skip

    async def ping(self) -> bool:
        if self.backend is None:
            return True
        try:
            await self.backend.exists("ping")
            return True
        except Exception:
            return False

    async def close(self) -> None:
        """Nothing to release: the Redis client is the app's, which closes it last."""


def make_image_cache(redis: Redis | None, memory_mb: int = DEFAULT_MEMORY_MB) -> ImageCache:
    """The one place that picks and builds the aiocache backend (and sizes the memory front);
    `redis` is the worker's client (resolvers/redisconn.py), or None for in-process only."""
    if redis is None:
        return ImageCache(None, 0, memory_mb << 20)
    from aiocache import RedisCache

    class Backend(RedisCache):
        async def _set(self, key, value, ttl=None, _cas_token=None, _conn=None):
            if _cas_token is None and isinstance(ttl, int):  # redis-py 8 deprecates SETEX
                return await self.client.set(key, value, ex=ttl)
            return await super()._set(key, value, ttl, _cas_token, _conn)

    backend = Backend(serializer=ImageSerializer(), namespace="ogapi:img", timeout=2)
    backend.client = redis  # the worker's one client, instead of a pool of aiocache's own
    return ImageCache(backend, REDIS_TTL, memory_mb << 20)
