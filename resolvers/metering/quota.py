"""Monthly quota (docs/metering.md): calendar months in UTC, counted in the database, never in a
cache.

Counting is a conditional UPDATE (`used < quota`), so N concurrent reservations against R
remaining succeed exactly R times on SQLite and PostgreSQL, with one worker or many.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from models import Account, MonthlyUsage, PlanId, QuotaReservation
from models.native import native_sql
from resolvers.plans import quota_for
from resolvers.timefmt import iso_utc, month_key

if TYPE_CHECKING:
    from resolvers.accounts.key_owner import KeyOwner


def next_reset(now: datetime) -> datetime:
    """The next 1st of the month, 00:00 UTC."""
    now = now.astimezone(UTC)
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def account_quota(account: Account | KeyOwner) -> int:
    return quota_for(account.plan, account.custom_quota)


@dataclass(frozen=True)
class UsageSummary:
    plan: PlanId
    quota: int
    used: int
    reset_date: datetime
    days_until_reset: int

    @property
    def remaining(self) -> int:
        return max(0, self.quota - self.used)

    @property
    def percent_used(self) -> float:
        if self.quota == 0:
            return 100.0 if self.used else 0.0
        return round(self.used * 100 / self.quota, 2)

    def as_json(self) -> dict:
        """The body of GET /api/user/usage."""
        return {
            "plan": self.plan.value,
            "quota": self.quota,
            "used": self.used,
            "remaining": self.remaining,
            "percent_used": self.percent_used,
            "reset_date": iso_utc(self.reset_date),
        }


async def used_in_month(account_id: int, month: str) -> int:
    rows = await MonthlyUsage.filter(account_id=account_id, month=month).values_list(
        "used", flat=True
    )
    return rows[0] if rows else 0  # type: ignore[return-value]  # flat values_list: ints


async def used_this_month(account_id: int, now: datetime) -> int:
    return await used_in_month(account_id, month_key(now))


async def usage_summary(account: Account, now: datetime) -> UsageSummary:
    reset = next_reset(now)
    return UsageSummary(
        plan=account.plan,
        quota=account_quota(account),
        used=await used_this_month(account.id, now),
        reset_date=reset,
        days_until_reset=math.ceil((reset - now).total_seconds() / 86400),
    )


async def _ensure_row(account_id: int, month: str) -> None:
    if not await MonthlyUsage.exists(account_id=account_id, month=month):
        with contextlib.suppress(IntegrityError):  # another request created it first
            async with in_transaction():  # a savepoint inside the caller's transaction
                await MonthlyUsage.create(account_id=account_id, month=month, used=0)


async def try_reserve(account_id: int, quota: int, now: datetime) -> tuple[int, int] | None:
    """Take one image of this month's quota if any is left: (the id of its reservation, in the
    same transaction as the count; the new `used`), or None when none is left. Settle it with
    `settle` or give it back with `release`."""
    month = month_key(now)
    for first in (True, False):
        async with in_transaction():
            used = await _count_one(account_id, month, below=quota)
            if used is not None:  # the common path: one statement
                return await _reservation(account_id, month, None), used
        if first:  # maybe the month's first image: the row must exist
            await _ensure_row(account_id, month)
    return None


async def force_reserve(account_id: int, now: datetime, overage_entry_id: int) -> tuple[int, int]:
    """Count one image past the quota (overage, paid by ledger entry `overage_entry_id`).
    Returns (reservation id, the new `used`)."""
    month = month_key(now)
    await _ensure_row(account_id, month)
    async with in_transaction():
        used = await _count_one(account_id, month)
        if used is None:  # the row was just made; only a deleted account has none
            raise RuntimeError(f"no monthly usage row for account {account_id}")
        return await _reservation(account_id, month, overage_entry_id), used


_COUNT_ONE = "UPDATE monthly_usage SET used = used + 1 WHERE account_id = ? AND month = ?"


async def _count_one(account_id: int, month: str, below: int | None = None) -> int | None:
    """Add one image to the month's row (only while `used < below`, when given), in the
    caller's transaction if any: the new `used`, or None when no row matched. One
    `UPDATE … RETURNING` (SQLite ≥ 3.35, PostgreSQL): Tortoise's `update()` returns a row count
    only, and a SELECT after it would be one more round trip. This and the reservation's other
    statements are written as SQL (`native_sql`): on every render."""
    if below is None:
        conn, sql = native_sql(_COUNT_ONE + " RETURNING used")
        rows = await conn.execute_query_dict(sql, [account_id, month])
    else:
        conn, sql = native_sql(_COUNT_ONE + " AND used < ? RETURNING used")
        rows = await conn.execute_query_dict(sql, [account_id, month, below])
    return int(rows[0]["used"]) if rows else None


async def _reservation(account_id: int, month: str, overage_entry_id: int | None) -> int:
    """A new QuotaReservation's id. Its created time is wall-clock (not the request's "now",
    which tests move): only its age matters."""
    conn, sql = native_sql(
        "INSERT INTO quota_reservation (account_id, month, overage_entry_id, created_at) "
        "VALUES (?, ?, ?, ?) RETURNING id"
    )
    args = [account_id, month, overage_entry_id, datetime.now(UTC)]
    return int((await conn.execute_query_dict(sql, args))[0]["id"])


async def settle(reservation_id: int) -> bool:
    """The render was delivered: the image stays counted. False when the reservation had been
    given back meanwhile (its worker looked dead): the caller counts the image again."""
    conn, sql = native_sql("DELETE FROM quota_reservation WHERE id = ?")
    return (await conn.execute_query(sql, [reservation_id]))[0] == 1


async def count_delivered(account_id: int, month: str) -> int:
    """Count an image delivered after its reservation was given back (once per image): the new
    `used`. In the caller's transaction, when there is one."""
    await _ensure_row(account_id, month)
    used = await _count_one(account_id, month)
    return 0 if used is None else used


async def keep_alive(reservation_ids: Collection[int]) -> None:
    """Mark reservations whose renders are still in progress (on this worker) as alive."""
    ids = list(reservation_ids)
    for start in range(0, len(ids), 500):
        await QuotaReservation.filter(id__in=ids[start : start + 500]).update(
            alive_at=datetime.now(UTC)
        )


async def release(reservation_id: int) -> QuotaReservation | None:
    """Give back a reservation whose render failed or never finished (failed requests never
    count): the reservation when this call gave it back, None when it was already settled or
    given back (by a concurrent sweep, say). In the caller's transaction when there is one:
    resolvers/metering/reservations.py returns the overage charge in the same one."""
    async with in_transaction():
        row = await QuotaReservation.get_or_none(id=reservation_id)
        if row is None or await QuotaReservation.filter(id=reservation_id).delete() != 1:
            return None
        await MonthlyUsage.filter(account_id=row.account_id, month=row.month, used__gt=0).update(
            used=F("used") - 1
        )
    return row


async def stale_reservations(
    older_than: float, limit: int = 500, exclude: Collection[int] = ()
) -> list[QuotaReservation]:
    """Reservations not marked alive (`keep_alive`) for `older_than` seconds: their worker
    died mid-render (id, account and overage charge). `exclude`: the caller's own renders in
    progress."""
    cutoff = datetime.now(UTC) - timedelta(seconds=older_than)
    stale = Q(alive_at__lt=cutoff) | Q(alive_at__isnull=True, created_at__lt=cutoff)
    rows = await QuotaReservation.filter(stale).limit(limit + len(exclude))
    return [row for row in rows if row.id not in exclude][:limit]


def quota_exceeded_message(quota: int) -> str:
    return f"Monthly quota exceeded. Limit: {quota} images."
