"""The image store as the durable tier behind the caches (docs/caching.md#the-image-store).

What it adds around an `ImageStore` (resolvers/images/store.py):

- **Faults never fail a request.** A read or write that fails or takes longer than `timeout`
  is a miss (the caller renders, and counts, as without a store): logged once every 30 s with
  its cause, counted in `stats.errors`. After a failure the store is left alone for `DOWN_FOR`
  seconds, so an unreachable store costs one timeout, not one per request.
- **Last access, batched.** A hit in any tier calls `accessed(key, now)`: at most once a day per
  key and process it queues the object's name, and `flush` (every `TOUCH_EVERY` seconds, and at
  shutdown) refreshes the queued objects' times, itself only when older than a day. A hot image
  therefore costs one touch a day per worker, never a write per hit.
- **The sweep.** `sweep(now, days)` removes objects not requested for `days` days; `run_sweeper`
  runs it once a day, on one worker of all hosts when Redis is shared (a lock key), else here.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from resolvers.images.store import TOUCH_AFTER, ImageStore, SweepResult, object_name, pack, unpack
from resolvers.images.tierstats import TierStats
from resolvers.memo import BoundedMap

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from resolvers.images.cache import CachedImage

log = logging.getLogger("ogapi.imagestore")
DOWN_FOR = 5.0  # seconds the store is skipped after a failure
TOUCH_EVERY = 60.0  # seconds between flushes of the queued last-access times
SWEEP_EVERY = 86400.0
SWEEP_LOCK = "ogapi:imagestore:sweep"
MAX_SEEN = 200_000  # keys remembered as touched today (the oldest forgotten: an extra touch)


class StoreTier:
    def __init__(self, store: ImageStore, *, timeout: float = 3.0) -> None:
        self.store = store
        self.timeout = timeout
        self.stats = TierStats()
        self._down_until = 0.0
        self._warned_at = -1e9
        # key -> the day (Unix days) its access was recorded
        self._seen: BoundedMap[str, int] = BoundedMap(MAX_SEEN)
        self._pending: dict[str, float] = {}  # object name -> access time to record

    @property
    def kind(self) -> str:
        return self.store.kind

    async def start(self) -> None:
        """Open the store's client at start-up; a store that is down then is only logged (the
        service starts, and renders instead, as in any outage)."""
        try:
            await self.store.open()
        except Exception as exc:
            self._failed("open", exc)

    def _skipped(self) -> bool:
        if self._down_until and time.monotonic() < self._down_until:
            self.stats.errors += 1
            return True
        return False

    async def get(self, key: str, now: float) -> CachedImage | None:
        """The stored image of `key`, or None (absent, unreadable, or the store is down)."""
        if self._skipped():
            return None
        name = object_name(key)
        try:
            async with asyncio.timeout(self.timeout):
                stored = await self.store.read(name)
        except Exception as exc:
            self._failed("read", exc)
            return None
        if stored is None:
            self.stats.misses += 1
            return None
        try:
            image = unpack(key, stored.blob)
        except (ValueError, KeyError, TypeError) as exc:  # torn or foreign: never served
            self.stats.errors += 1
            log.error("image store object %s is not the image of its key (%s): ignored", name, exc)
            return None
        self.stats.hits += 1
        self.stats.bytes_read += len(stored.blob)
        self._seen[key] = int(now // 86400)
        if stored.accessed < now - TOUCH_AFTER:
            self._pending[name] = now
        return image

    async def put(self, key: str, image: CachedImage) -> None:
        """Keep a complete render (the caller never stores a placeholder or fallback card)."""
        if self._skipped():
            return
        blob = pack(key, image)
        try:
            async with asyncio.timeout(self.timeout):
                await self.store.write(object_name(key), blob)
        except Exception as exc:
            self._failed("write", exc)
            return
        self.stats.bytes_written += len(blob)

    def accessed(self, key: str, now: float) -> None:
        """`key` was served from a cache at `now`: record it in the store (batched)."""
        day = int(now // 86400)
        if self._seen.get(key) == day:
            return
        self._seen.put(key, day)
        self._pending[object_name(key)] = now

    async def flush(self, concurrency: int = 8) -> int:
        """Record the queued accesses; returns how many objects were asked."""
        pending, self._pending = self._pending, {}
        if not pending or self._down_until > time.monotonic():
            self._pending.update(pending)  # the store is down: next time
            return 0
        gate = asyncio.Semaphore(concurrency)

        async def one(name: str, at: float) -> None:
            async with gate:
                try:
                    async with asyncio.timeout(self.timeout):
                        await self.store.touch(name, at)
                except Exception as exc:
                    self._failed("touch", exc)

        await asyncio.gather(*(one(n, at) for n, at in pending.items()))
        return len(pending)

    async def run_toucher(self, every: float = TOUCH_EVERY) -> None:
        while True:
            await asyncio.sleep(every)
            await self.flush()

    async def sweep(self, now: float, days: int, *, dry_run: bool = False) -> SweepResult:
        """Remove the images not requested for `days` days before `now` (Unix time)."""
        await self.flush()  # accesses still queued here count
        result = await self.store.sweep(now - days * 86400.0, dry_run=dry_run)
        log.info(
            "image store sweep (%s days%s): removed %d images (%d bytes), kept %d images "
            "(%d bytes)",
            days,
            ", dry run" if dry_run else "",
            result.removed,
            result.removed_bytes,
            result.kept,
            result.kept_bytes,
        )
        return result

    async def run_sweeper(self, days: int, redis: Redis | None, every: float = SWEEP_EVERY):
        """Sweep once a day; with Redis, only the worker that takes the day's lock does."""
        await asyncio.sleep(min(every, 600.0))  # not in the middle of start-up
        while True:
            try:
                if redis is None or await redis.set(SWEEP_LOCK, "1", nx=True, ex=int(every) - 60):
                    await self.sweep(datetime.now(UTC).timestamp(), days)
            except Exception as exc:  # the store or Redis is away: tomorrow
                log.warning("image store sweep failed: %s: %s", type(exc).__name__, exc)
            await asyncio.sleep(every)

    async def ping(self) -> bool:
        ok = await self.store.ping()
        if ok:
            self._down_until = 0.0  # back: no need to wait out the pause
        return ok

    def _failed(self, what: str, exc: Exception) -> None:
        self.stats.errors += 1
        self._down_until = time.monotonic() + DOWN_FOR
        now = time.monotonic()
        if now - self._warned_at >= 30:
            self._warned_at = now
            cause = f"{type(exc).__name__}: {exc or 'timeout'}"
            log.warning(
                "image store %s failed (%s): rendering instead (counted as renders); "
                "the store is retried in %.0f s",
                what,
                cause,
                DOWN_FOR,
            )

    async def close(self) -> None:
        try:
            await self.flush()
        finally:
            await self.store.close()
