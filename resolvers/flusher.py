"""Statistics counted in memory and written every few seconds, never on a request's path.

A `Flusher` gathers what requests report (API calls, card fetches) in the worker's memory;
`flush()` writes it in one transaction (row by row if that fails, so one bad row never blocks
the rest) and `run_flusher()` flushes every few seconds and once more when cancelled at
shutdown. A crashed worker loses at most the last interval of these statistics, never quota
or money (docs/caching.md).
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Generic, TypeVar

from tortoise.transactions import in_transaction

log = logging.getLogger("ogapi.metering")
T = TypeVar("T")


class Flusher(ABC, Generic[T]):
    """Subclasses keep their pending items and say how to take and write them."""

    def __init__(self) -> None:
        self._flush_lock = asyncio.Lock()

    @abstractmethod
    def _take(self) -> Sequence[T]:
        """The pending items, leaving none (in a consistent order: transactions of several
        workers then lock rows in the same order)."""

    @abstractmethod
    async def _write(self, item: T) -> None:
        """Write one taken item (inside the flush's transaction)."""

    def _describe(self, item: T) -> str:
        """What is lost when `item` cannot be written (for the log)."""
        return repr(item)

    async def flush(self) -> None:
        """Write what was gathered so far. Tests call it before reading."""
        async with self._flush_lock:
            items = self._take()
            if not items:
                return
            try:
                async with in_transaction():
                    for item in items:
                        await self._write(item)
                return
            except Exception:
                log.exception("could not write %s; trying one by one", type(self).__name__)
            for item in items:
                try:
                    await self._write(item)
                except Exception:
                    log.exception("lost %s", self._describe(item))

    async def run_flusher(self, every: float) -> None:
        """Flush every `every` seconds until cancelled, then once more."""
        try:
            while True:
                await asyncio.sleep(every)
                await self.flush()
        finally:
            await asyncio.shield(self.flush())
