"""Counting API calls ("API calls made", docs/metering.md) without a database write per request.

API calls are counted in memory per (account, day) and written by `flush()`, which the app runs
every `FLUSH_EVERY` seconds and once at shutdown (resolvers.flusher). `Meter`
(resolvers.metering.meter) holds one.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime

from resolvers.flusher import Flusher
from resolvers.rollups import IMAGE_SERVICE, bump_daily

FLUSH_EVERY = 1.0  # seconds between writes of the API-call counts
Calls = tuple[tuple[int, date], int]  # ((account, day), API calls)


class ApiCallCounter(Flusher[Calls]):
    def __init__(self) -> None:
        super().__init__()
        self._calls: Counter[tuple[int, date]] = Counter()  # API calls not yet written

    async def record(self, account_id: int, now: datetime) -> None:
        """Count one API-key request ("API calls made"), successful or not. In memory: written
        by the next `flush()`."""
        day = now.date() if now.tzinfo is UTC else now.astimezone(UTC).date()
        self._calls[(account_id, day)] += 1

    def _take(self) -> list[Calls]:
        calls, self._calls = self._calls, Counter()
        return sorted(calls.items())

    async def _write(self, item: Calls) -> None:
        (account_id, day), n = item
        await bump_daily(
            account_id,
            datetime(day.year, day.month, day.day, tzinfo=UTC),
            IMAGE_SERVICE,
            api_calls=n,
        )

    def _describe(self, item: Calls) -> str:
        (account_id, day), n = item
        return f"{n} API call(s) of account {account_id} on {day}"

    async def run_flusher(self, every: float = FLUSH_EVERY) -> None:
        await super().run_flusher(every)
