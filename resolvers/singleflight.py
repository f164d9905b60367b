"""Concurrent misses share one load: the one home of "single-flight" (docs/caching.md).

`SingleFlight.run(key, load)` awaits `load()` once for all the callers that ask for `key` while
it runs. The first caller (the leader) runs it inline, in its own task (no task is created for a
load); the others wait for its outcome:

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
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


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
