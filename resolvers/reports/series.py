"""Daily and monthly usage series: every day or month present, zeros filled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from pypika_tortoise.enums import SqlTypes
from pypika_tortoise.functions import Cast
from pypika_tortoise.terms import Function as SqlFunction
from tortoise.expressions import Function
from tortoise.functions import Sum

from models import (
    DailyUsage,
)
from resolvers.errors import InvalidParameter
from resolvers.pricing import ZERO_MONEY, money
from resolvers.reports.rows import MAX_DAYS, MAX_MONTHS, as_date, fetch_rows
from resolvers.rollups import IMAGE_SERVICE

# ---- daily and monthly series -------------------------------------------------------------


@dataclass(frozen=True)
class DayPoint:
    day: date
    images: int = 0
    api_calls: int = 0
    spend: Decimal = Decimal("0.000000")


@dataclass(frozen=True)
class MonthPoint:
    month: str  # "YYYY-MM"
    images: int = 0
    spend: Decimal = Decimal("0.000000")


def check_range(name: str, value: int, high: int) -> int:
    if not 1 <= value <= high:
        raise InvalidParameter(f"{name} must be between 1 and {high}")
    return value


async def _days_totals(account_id: int, start: date, end: date) -> dict[date, DayPoint]:
    # Grouped by (day, service): charts count OG renders (the quota's unit, service og_image)
    # as images, while spend and API calls add up across every service.
    rows = await fetch_rows(
        DailyUsage.filter(account_id=account_id, day__gte=start, day__lte=end)
        .annotate(n_images=Sum("images"), n_calls=Sum("api_calls"), total=Sum("spend"))
        .group_by("day", "service")
        .values("day", "service", "n_images", "n_calls", "total")
    )
    sums: dict[date, list[Any]] = {}  # day -> [images, api calls, spend]
    for r in rows:
        day = as_date(r["day"])
        acc = sums.get(day)
        if acc is None:
            acc = sums[day] = [0, 0, ZERO_MONEY]
        if r["service"] == IMAGE_SERVICE:
            acc[0] += int(r["n_images"] or 0)
        acc[1] += int(r["n_calls"] or 0)
        acc[2] += money(r["total"])
    return {day: DayPoint(day, *acc) for day, acc in sums.items()}


async def daily_usage(account_id: int, today: date, days: int = 30) -> list[DayPoint]:
    """The last `days` days ending today, oldest first, every day present (zeros filled)."""
    check_range("days", days, MAX_DAYS)
    start = today - timedelta(days=days - 1)
    totals = await _days_totals(account_id, start, today)
    return [totals.get(d) or DayPoint(d) for d in (start + timedelta(i) for i in range(days))]


def _month_starts(today: date, months: int) -> list[date]:
    y, m = today.year, today.month
    out = []
    for _ in range(months):
        out.append(date(y, m, 1))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return out[::-1]


class _SqlMonth(SqlFunction):
    # SUBSTR(CAST(day AS VARCHAR), 1, 7): "YYYY-MM" on SQLite (text dates) and PostgreSQL.
    def __init__(self, term: Any, alias: str | None = None) -> None:
        super().__init__("SUBSTR", Cast(term, SqlTypes.VARCHAR), 1, 7, alias=alias)


class MonthOf(Function):
    database_func = _SqlMonth


async def monthly_usage(account_id: int, today: date, months: int = 12) -> list[MonthPoint]:
    """The last `months` calendar months ending with this one, oldest first, zeros filled."""
    check_range("months", months, MAX_MONTHS)
    keys = [s.strftime("%Y-%m") for s in _month_starts(today, months)]
    rows = await fetch_rows(
        DailyUsage.filter(account_id=account_id, day__gte=date.fromisoformat(keys[0] + "-01"))
        .filter(day__lte=today)
        .annotate(month=MonthOf("day"), n_images=Sum("images"), total=Sum("spend"))
        .group_by("month", "service")
        .values("month", "service", "n_images", "total")
    )
    images: dict[str, int] = {}
    spend: dict[str, Decimal] = {}
    for r in rows:  # images: OG renders only, as in the daily series
        if r["service"] == IMAGE_SERVICE:
            images[r["month"]] = images.get(r["month"], 0) + int(r["n_images"] or 0)
        spend[r["month"]] = spend.get(r["month"], Decimal(0)) + money(r["total"])
    return [MonthPoint(k, images.get(k, 0), money(spend.get(k, 0))) for k in keys]
