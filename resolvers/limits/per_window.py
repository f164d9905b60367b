"""At most N hits per key within any `period` seconds: a sliding log of hit times, in process
by default, shared by every worker through Redis when `REDIS_URL` is set.

The per-second rate limit (resolvers/limits/per_second.py, GCRA) smooths a steady rate; a limit such
as "10 sign-ups an hour" must hold for every hour-long window, so the times themselves are
kept (at most N per key). A refused hit is not written down: it does not extend the wait.
Like the rate limiter, the Redis limiter fails open to an in-process one when Redis is down.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import deque
from collections.abc import Callable

from resolvers.limits.per_second import LUA_NOW, FailOpenWarning, RateDecision
from resolvers.memo import LruMap

log = logging.getLogger("ogapi.window_limit")


class MemoryWindowLimiter:
    def __init__(self, max_keys: int = 100_000, clock: Callable[[], float] = time.time) -> None:
        self._hits: LruMap[str, deque[float]] = LruMap(max_keys)
        self._clock = clock

    async def hit(self, key: str, limit: int, period: float) -> RateDecision:
        now = self._clock()
        hits = self._hits.get(key)
        if hits is None:
            hits = deque()
            self._hits.put(key, hits)
        while hits and hits[0] <= now - period:
            hits.popleft()
        if len(hits) >= limit:
            return RateDecision(False, limit, 0, hits[0] + period - now)
        hits.append(now)
        return RateDecision(True, limit, limit - len(hits), 0.0)

    async def close(self) -> None:
        self._hits.clear()


# KEYS[1]: a sorted set of hit times (µs). ARGV: limit, period (µs), a unique member, and
# optionally "now" (µs) from an injected clock; otherwise the Redis server's clock.
WINDOW_LUA = (
    """
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])"""
    + LUA_NOW
    + """redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
local n = redis.call('ZCARD', KEYS[1])
if n >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + period - now}
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], math.floor(period / 1000) + 1000)
return {1, limit - n - 1}
"""
)


class RedisWindowLimiter:
    """Shared across workers through the app's Redis client (closed by the app)."""

    def __init__(
        self,
        client,
        prefix: str = "ogapi:wl:",
        warn_every: float = 30.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.client = client  # redis.asyncio.Redis
        self.prefix = prefix
        self._clock = clock  # None: the Redis server's clock, the one all workers share
        self.fallback = MemoryWindowLimiter()
        self._script = client.register_script(WINDOW_LUA)
        self._warn = FailOpenWarning("window limiter", warn_every)

    async def hit(self, key: str, limit: int, period: float) -> RateDecision:
        args: list[int | str] = [limit, round(period * 1_000_000), secrets.token_hex(8)]
        if self._clock is not None:
            args.append(round(self._clock() * 1_000_000))
        try:
            allowed, value = await self._script(keys=[self.prefix + key], args=args)
        except Exception as exc:  # any Redis or network failure: fail open, say so
            self._warn(exc)
            return await self.fallback.hit(key, limit, period)
        if int(allowed):
            return RateDecision(True, limit, max(0, int(value)), 0.0)
        return RateDecision(False, limit, 0, int(value) / 1_000_000)

    async def close(self) -> None:
        await self.fallback.close()


WindowLimiter = MemoryWindowLimiter | RedisWindowLimiter


def window_limiter(redis) -> WindowLimiter:
    """Shared through Redis when the app has a client (several workers), else in-process."""
    return RedisWindowLimiter(redis) if redis is not None else MemoryWindowLimiter()
