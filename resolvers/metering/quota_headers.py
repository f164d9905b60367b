"""A per-process snapshot of each account's `used` this month, for the `X-Quota-*` headers
(docs/metering.md; web/ writes them from these numbers), so that a cache hit touches no database
(docs/caching.md).

The snapshot is moved by this process's reservations and read again from the database when
older than `USED_TTL`; reservations themselves are only ever decided by the database
(resolvers.metering.quota). `Meter` (resolvers.metering.meter) holds one.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from models import Account
from resolvers.memo import BoundedMap, SingleFlight
from resolvers.metering import quota

if TYPE_CHECKING:
    from resolvers.accounts.key_owner import KeyOwner

USED_TTL = 1.0  # seconds the quota-header snapshot of `used` is trusted


class QuotaSnapshot:
    def __init__(self) -> None:
        # (account id, month) -> (used, time.monotonic() when known): quota headers only.
        self._used: BoundedMap[tuple[int, str], tuple[int, float]] = BoundedMap(100_000)
        self._used_reads: SingleFlight[tuple[int, str], int] = SingleFlight()
        self._months: BoundedMap[tuple[int, int], str] = BoundedMap(1000)  # UTC -> "YYYY-MM"

    def known(self, account_id: int, month: str, used: int) -> None:
        self._used.put((account_id, month), (used, time.monotonic()))

    def moved(self, account_id: int, month: str, delta: int) -> None:
        entry = self._used.get((account_id, month))
        if entry is not None:
            self._used[(account_id, month)] = (max(0, entry[0] + delta), entry[1])

    async def _used_now(self, account_id: int, now: datetime) -> int:
        """`used` from the snapshot when fresh, else read once (concurrent callers share it)."""
        month = self._months.get((now.year, now.month)) if now.tzinfo is UTC else None
        if month is None:
            month = quota.month_key(now)
        entry = self._used.get((account_id, month))
        if entry is not None and time.monotonic() - entry[1] < USED_TTL:
            return entry[0]
        if now.tzinfo is UTC:
            self._months.put((now.year, now.month), month)

        async def read() -> int:
            used = await quota.used_in_month(account_id, month)
            self.known(account_id, month, used)
            return used

        return await self._used_reads.run((account_id, month), read)

    async def usage(self, account: Account | KeyOwner, now: datetime) -> tuple[int, int]:
        """(quota, used) of `account` this month: `used` exact right after this process
        rendered for it (its reservation returns it), otherwise at most `USED_TTL` seconds old."""
        return quota.account_quota(account), await self._used_now(account.id, now)
