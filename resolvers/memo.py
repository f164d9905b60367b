"""What a process keeps in memory, with one home per habit (docs/caching.md):

- **`SingleFlight`**: concurrent misses share one load;
- **bounded maps**, on one of two eviction policies, picked by what a miss costs:
  - `BoundedMap`, the oldest insertion out first: memos on the hot path whose entries are cheap
    to read again (API keys, verified signatures, parsed query strings, the quota snapshot).
    A hit is a plain dict lookup (nothing to reorder); the bound only caps memory against a
    flood of distinct keys;
  - `LruMap`, the least recently used out first, by entries and/or bytes, with optional
    expiry: caches whose misses are costly or whose losses change answers (rendered images,
    downloaded remote images, rate-limit state: dropping an active key's state would give it a
    fresh burst), so what is in use stays.

Keys are whatever the caller gives (exact raw input, owner included): nothing here normalises
them.

Single flight. `SingleFlight.run(key, load)` awaits `load()` once for all the callers that ask
for `key` while it runs. The first caller (the leader) runs it inline, in its own task (no task
is created for a load); the others wait for its outcome:

- a result is every waiter's result;
- an error is every waiter's error (a database outage is everyone's); a caller whose load is
  its own (the image cache's: rate token and quota belong to the caller) catches it and calls
  `run` again;
- the leader cancelled (its client went away) is nobody else's business: one of the waiters
  runs the load instead (none is left hanging, none sees a cancellation that was not its own).

The key is free again as soon as the load ends, so the next call after an error loads anew.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar, overload

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
D = TypeVar("D")


class _Abandoned(Exception):
    """The leader was cancelled before its load ended: a waiter runs it again."""


class SingleFlight(Generic[K, V]):
    def __init__(self) -> None:
        self._flights: dict[K, asyncio.Future[V]] = {}

    def __len__(self) -> int:
        """Loads running now."""
        return len(self._flights)

    async def run(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """`load()`'s result, or the result of the load of `key` already running."""
        while (flight := self._flights.get(key)) is not None:
            try:
                return await asyncio.shield(flight)  # our own cancellation leaves it running
            except _Abandoned:
                continue
        flight = asyncio.get_running_loop().create_future()
        self._flights[key] = flight
        try:
            value = await load()
        except BaseException as exc:
            flight.set_exception(exc if isinstance(exc, Exception) else _Abandoned())
            flight.exception()  # retrieved: no "exception was never retrieved" without waiters
            raise
        finally:
            del self._flights[key]
        flight.set_result(value)
        return value


class BoundedMap(OrderedDict[K, V]):
    """A dict of at most `max_entries`: `put` drops the oldest insertion first. Reads (`get`,
    `in`, `[]`) are a dict's, and reorder nothing."""

    def __init__(self, max_entries: int) -> None:
        super().__init__()
        self.max_entries = max_entries

    def put(self, key: K, value: V) -> None:
        """Keep `value` (a key already here keeps its place)."""
        self[key] = value
        if len(self) > self.max_entries:
            self.popitem(last=False)


class LruMap(Generic[K, V]):
    """Values by key, the least recently used out first once `max_entries` entries or
    `max_bytes` (the sum of `cost(key, value)` over the entries) are passed; a value costing
    more than `max_bytes` is not kept. An entry put with a `ttl` is gone `ttl` seconds later
    (time.monotonic)."""

    def __init__(
        self,
        max_entries: int | None = None,
        max_bytes: int | None = None,
        cost: Callable[[K, V], int] | None = None,
    ) -> None:
        self.max_entries = sys.maxsize if max_entries is None else max_entries
        self.max_bytes = sys.maxsize if max_bytes is None else max_bytes
        self._cost = cost
        self.size = 0  # the sum of the costs kept
        # key -> (value, cost, expiry by time.monotonic(), 0.0 for none)
        self._items: OrderedDict[K, tuple[V, int, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    @overload
    def get(self, key: K) -> V | None: ...
    @overload
    def get(self, key: K, default: D) -> V | D: ...
    def get(self, key, default=None):
        """The value of `key` (now the most recently used), or `default`."""
        item = self._items.get(key)
        if item is None:
            return default
        if item[2] and item[2] <= time.monotonic():
            self.pop(key)
            return default
        self._items.move_to_end(key)
        return item[0]

    @overload
    def peek(self, key: K) -> V | None: ...
    @overload
    def peek(self, key: K, default: D) -> V | D: ...
    def peek(self, key, default=None):
        """The value of `key`, or `default`, without counting as a use."""
        item = self._items.get(key)
        if item is None or (item[2] and item[2] <= time.monotonic()):
            return default
        return item[0]

    def put(self, key: K, value: V, ttl: float | None = None) -> None:
        self.pop(key)
        cost = 0 if self._cost is None else self._cost(key, value)
        if cost > self.max_bytes:
            return
        self._items[key] = (value, cost, 0.0 if ttl is None else time.monotonic() + ttl)
        self.size += cost
        while len(self._items) > self.max_entries or self.size > self.max_bytes:
            _, (_, freed, _) = self._items.popitem(last=False)
            self.size -= freed

    def pop(self, key: K) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            self.size -= item[1]

    def clear(self) -> None:
        self._items.clear()
        self.size = 0
