"""Counting API calls ("API calls made", docs/metering.md) without a database write per request.

API calls are counted in memory per (account, day) and written by `flush()`, which the app runs
every `FLUSH_EVERY` seconds and once at shutdown; a crash loses at most that much of this
statistic (never quota, never money: docs/caching.md). `Meter` (resolvers.metering) is an
`ApiCallCounter`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from datetime import UTC, date, datetime

from tortoise.transactions import in_transaction

from resolvers.rollups import IMAGE_SERVICE, bump_daily

log = logging.getLogger("ogapi.metering")
FLUSH_EVERY = 1.0  # seconds between writes of the API-call counts


class ApiCallCounter:
    def __init__(self) -> None:
        self._calls: Counter[tuple[int, date]] = Counter()  # API calls not yet written
        self._flush_lock = asyncio.Lock()

    async def record_api_call(self, account_id: int, now: datetime) -> None:
        """Count one API-key request ("API calls made"), successful or not. In memory: written
        by the next `flush()`."""
        self._calls[(account_id, now.astimezone(UTC).date())] += 1

    async def flush(self) -> None:
        """Write the API calls counted so far (one transaction). Tests call it before reading."""
        async with self._flush_lock:
            calls, self._calls = self._calls, Counter()
            if not calls:
                return
            try:
                async with in_transaction():
                    for (account_id, day), n in calls.items():
                        await _bump_calls(account_id, day, n)
                return
            except Exception:
                log.exception("could not write API-call counts; trying row by row")
            for (account_id, day), n in calls.items():  # one bad row must not block the rest
                try:
                    await _bump_calls(account_id, day, n)
                except Exception:
                    log.exception("lost %d API call(s) of account %s on %s", n, account_id, day)

    async def run_flusher(self, every: float = FLUSH_EVERY) -> None:
        """Flush every `every` seconds until cancelled, then once more."""
        try:
            while True:
                await asyncio.sleep(every)
                await self.flush()
        finally:
            await asyncio.shield(self.flush())


async def _bump_calls(account_id: int, day: date, n: int) -> None:
    await bump_daily(account_id, datetime(day.year, day.month, day.day, tzinfo=UTC),
                     IMAGE_SERVICE, api_calls=n)  # fmt: skip
