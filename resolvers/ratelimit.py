"""Per-account rate limit (SPEC §7): GCRA, in-process by default.

GCRA keeps one timestamp per key (the "theoretical arrival time"): a request is allowed when it
arrives no earlier than TAT - burst window; it then pushes TAT forward by one emission interval.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    retry_after: float  # seconds until the next request would be allowed (0 when allowed)


class RateLimiter(Protocol):
    async def hit(self, key: str, rate: int) -> RateDecision: ...

    async def close(self) -> None: ...


def gcra(tat: float, now: float, rate: int) -> tuple[RateDecision, float]:
    """One GCRA step: (decision, new TAT). `rate` requests per second, burst of `rate`."""
    interval = 1.0 / rate
    burst = rate * interval  # one second's worth of requests may arrive together
    tat = max(tat, now)
    allow_at = tat + interval - burst
    if now < allow_at:
        return RateDecision(False, rate, 0, allow_at - now), tat
    new_tat = tat + interval
    remaining = int((now + burst - new_tat) / interval + 1e-9)
    return RateDecision(True, rate, max(0, remaining), 0.0), new_tat


class MemoryRateLimiter:
    """Process-local limiter (the embedded default: one process)."""

    def __init__(self, max_keys: int = 100_000, clock=time.monotonic) -> None:
        self._tat: OrderedDict[str, float] = OrderedDict()
        self._max_keys = max_keys
        self._clock = clock

    async def hit(self, key: str, rate: int) -> RateDecision:
        now = self._clock()
        decision, tat = gcra(self._tat.get(key, 0.0), now, rate)
        self._tat[key] = tat
        self._tat.move_to_end(key)
        while len(self._tat) > self._max_keys:
            self._tat.popitem(last=False)
        return decision

    async def close(self) -> None:
        self._tat.clear()
