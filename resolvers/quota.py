"""Monthly quota (docs/metering.md): calendar months in UTC, counted in the database, never in a
cache.

Counting is a conditional UPDATE (`used < quota`), so N concurrent reservations against R
remaining succeed exactly R times on SQLite and PostgreSQL, with one worker or many.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from models import Account, MonthlyUsage, PlanId
from resolvers.plans import quota_for
from resolvers.timefmt import iso_utc

if TYPE_CHECKING:
    from resolvers.keycache import KeySnapshot


def month_key(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m")


def next_reset(now: datetime) -> datetime:
    """The next 1st of the month, 00:00 UTC."""
    now = now.astimezone(UTC)
    year, month = (now.year + 1, 1) if now.month == 12 else (now.year, now.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def account_quota(account: Account | KeySnapshot) -> int:
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
            await MonthlyUsage.create(account_id=account_id, month=month, used=0)


async def try_reserve(account_id: int, quota: int, now: datetime) -> bool:
    """Take one image of this month's quota if any is left; False when none is."""
    month = month_key(now)
    rows = MonthlyUsage.filter(account_id=account_id, month=month, used__lt=quota)
    if await rows.update(used=F("used") + 1) == 1:  # the common path: one statement
        return True
    await _ensure_row(account_id, month)  # maybe the month's first image: the row must exist
    return await rows.update(used=F("used") + 1) == 1


async def force_reserve(account_id: int, now: datetime) -> int:
    """Count one image past the quota (overage, paid from credits). Returns the new `used`."""
    month = month_key(now)
    await _ensure_row(account_id, month)
    await MonthlyUsage.filter(account_id=account_id, month=month).update(used=F("used") + 1)
    return await used_this_month(account_id, now)


async def release(account_id: int, month: str) -> None:
    """Give back a reservation whose render failed (failed requests never count)."""
    await MonthlyUsage.filter(account_id=account_id, month=month, used__gt=0).update(
        used=F("used") - 1
    )


def quota_exceeded_message(quota: int) -> str:
    return f"Monthly quota exceeded. Limit: {quota} images."
