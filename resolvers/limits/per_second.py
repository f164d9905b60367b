"""Per-account rate limit (docs/metering.md): GCRA, in-process by default, shared through Redis.

GCRA keeps one timestamp per key (the "theoretical arrival time"): a request is allowed when it
arrives no earlier than TAT - burst window; it then pushes TAT forward by one emission interval.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from resolvers.memo import LruMap


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: float  # seconds until the next request would be allowed (0 when allowed)


class RateLimiter(Protocol):
    async def hit(self, key: str, rate: int, cost: int = 1) -> RateDecision: ...

    async def remaining(self, key: str, rate: int) -> int: ...

    async def close(self) -> None: ...


def gcra(tat: float, now: float, rate: int, cost: int = 1) -> tuple[RateDecision, float]:
    """One GCRA step: (decision, new TAT). `rate` requests per second, burst of `rate`.

    A request of `cost` tokens (a batch: one per 10 items) is let in whenever one token is
    free, and pushes TAT forward by all of them: it may overdraw the burst, and the requests
    after it wait until the debt is paid (a batch bigger than the burst is never refused for
    ever).

    Computed in integer microseconds (as the Redis script does): with float seconds, 0.2 * 4
    drifts above 0.8 and a burst of 5 would let only 4 through.
    """
    interval = 1_000_000 // rate
    burst = interval * rate  # one second's worth of requests may arrive together
    now_us = round(now * 1_000_000)
    tat_us = max(round(tat * 1_000_000), now_us)
    allow_at = tat_us + interval - burst
    if now_us < allow_at:
        return RateDecision(False, rate, 0, (allow_at - now_us) / 1_000_000), tat_us / 1_000_000
    new_tat = tat_us + interval * max(1, cost)
    remaining = (now_us + burst - new_tat) // interval
    return RateDecision(True, rate, max(0, remaining), 0.0), new_tat / 1_000_000


def gcra_remaining(tat: float, now: float, rate: int) -> int:
    """Requests `rate`/s would still allow right now, without spending one (for headers)."""
    interval = 1_000_000 // rate
    now_us = round(now * 1_000_000)
    tat_us = max(round(tat * 1_000_000), now_us)
    return max(0, (now_us + interval * rate - tat_us) // interval)


class MemoryRateLimiter:
    """Process-local limiter (the embedded default: one process)."""

    def __init__(self, max_keys: int = 100_000, clock=time.monotonic) -> None:
        self._tat: LruMap[str, float] = LruMap(max_keys)
        self._clock = clock

    async def hit(self, key: str, rate: int, cost: int = 1) -> RateDecision:
        now = self._clock()
        decision, tat = gcra(self._tat.peek(key, 0.0), now, rate, cost)
        self._tat.put(key, tat)
        return decision

    async def remaining(self, key: str, rate: int) -> int:
        return gcra_remaining(self._tat.peek(key, 0.0), self._clock(), rate)

    async def close(self) -> None:
        self._tat.clear()


# "now" in µs for a limiter's script: ARGV[4] from an injected clock (tests hold time still),
# else the Redis server's clock, the one every worker shares (resolvers/limits/per_window.py too).
LUA_NOW = """
local now
if ARGV[4] then
  now = tonumber(ARGV[4])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
"""

# Shared by both scripts: the arguments, "now" in µs, and the key's TAT (never in the past).
_LUA_PRELUDE = (
    """
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])"""
    + LUA_NOW
    + """local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
"""
)

# GCRA in one atomic script, in integer microseconds of the Redis server's clock (every worker
# shares it). KEYS[1] holds the TAT; ARGV: emission interval, burst window (µs), the request's
# cost in tokens, and optionally "now" (µs) from an injected clock, so tests can hold time still.
GCRA_LUA = (
    _LUA_PRELUDE
    + """
local allow_at = tat + interval - burst
if now < allow_at then
  return {0, allow_at - now}
end
local new_tat = tat + interval * tonumber(ARGV[3])
redis.call('SET', KEYS[1], new_tat, 'PX', math.floor((new_tat - now) / 1000) + 1000)
return {1, math.floor((now + burst - new_tat) / interval)}
"""
)

# The remaining count without spending: reads the TAT, writes nothing.
REMAINING_LUA = (
    _LUA_PRELUDE
    + """
return math.max(0, math.floor((now + burst - tat) / interval))
"""
)

log = logging.getLogger("ogapi.ratelimit")


class FailOpenWarning:
    """Logs that a Redis-backed limiter is failing open, at most once every `every` seconds
    (one Redis outage would otherwise log on every request)."""

    def __init__(self, what: str, every: float) -> None:
        self.what, self.every, self._last = what, every, -math.inf

    def __call__(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            log.warning(
                "%s: Redis unavailable (%s: %s); failing open to a per-process limiter",
                self.what,
                type(exc).__name__,
                exc,
            )


class RedisRateLimiter:
    """Shared across workers through Redis (`REDIS_URL`); fails open if Redis is unreachable.

    A rate limiter that cannot reach its store must not take the API down: requests then fall
    back to a per-process limiter and a warning is logged (at most every `warn_every` seconds).
    Quota and credits live in the database and fail closed instead (resolvers.metering.meter).
    """

    def __init__(
        self,
        client,
        prefix: str = "ogapi:rl:",
        warn_every: float = 30.0,
        clock: Callable[[], float] | None = None,
        owns_client: bool = True,
    ) -> None:
        self.client = client  # redis.asyncio.Redis
        self.owns_client = owns_client  # False: the app's shared client, closed by the app
        self.prefix = prefix
        self._clock = clock  # None: the Redis server's clock, the one all workers share
        self.fallback = MemoryRateLimiter()
        self._script = client.register_script(GCRA_LUA)
        self._remaining_script = client.register_script(REMAINING_LUA)
        self._warn = FailOpenWarning("rate limiter", warn_every)

    @classmethod
    def from_url(cls, url: str, **kwargs) -> RedisRateLimiter:
        from resolvers.redisconn import connect

        return cls(connect(url), **kwargs)

    async def ping(self) -> bool:
        """For /ready: is the shared limiter reachable (it fails open when not)?"""
        return bool(await self.client.ping())

    def _args(self, rate: int, cost: int = 1) -> list[int]:
        interval = 1_000_000 // rate
        args = [interval, interval * rate, max(1, cost)]
        if self._clock is not None:
            args.append(round(self._clock() * 1_000_000))
        return args

    async def remaining(self, key: str, rate: int) -> int:
        try:
            return int(
                await self._remaining_script(keys=[self.prefix + key], args=self._args(rate))
            )
        except Exception:  # failing open: the header is informational
            return await self.fallback.remaining(key, rate)

    async def hit(self, key: str, rate: int, cost: int = 1) -> RateDecision:
        args = self._args(rate, cost)
        try:
            allowed, value = await self._script(keys=[self.prefix + key], args=args)
        except Exception as exc:  # any Redis or network failure: fail open, say so
            self._warn(exc)
            return await self.fallback.hit(key, rate, cost)
        if int(allowed):
            return RateDecision(True, rate, max(0, int(value)), 0.0)
        return RateDecision(False, rate, 0, int(value) / 1_000_000)

    async def close(self) -> None:
        if self.owns_client:
            await self.client.aclose()
