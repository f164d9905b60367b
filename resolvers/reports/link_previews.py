"""Who fetched an account's cards (docs/link-previews.md): totals per platform, per day, and
the latest sampled fetches, read from what resolvers/insight/fetch_log.py writes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from tortoise.functions import Max, Sum

from models import CardFetch, CardFetchDay
from resolvers.reports.rows import MAX_DAYS, MAX_PAGE, as_date, as_datetime, fetch_rows
from resolvers.reports.series import check_range


@dataclass(frozen=True)
class PlatformTotal:
    platform: str
    fetches: int
    last_seen: datetime | None


@dataclass(frozen=True)
class PlatformDay:
    day: date
    platform: str
    fetches: int


@dataclass(frozen=True)
class LinkPreviewTotals:
    total: int
    platforms: list[PlatformTotal]  # most fetches first
    daily: list[PlatformDay]  # oldest first; a day without fetches on a platform has no row


@dataclass(frozen=True)
class RecentFetch:
    at: datetime
    platform: str
    user_agent: str
    title: str
    status: int
    cache_hit: bool


def first_day(today: date, days: int) -> date:
    """The first day of the window of `days` days ending today (checks 1 <= days <= 366)."""
    check_range("days", days, MAX_DAYS)
    return today - timedelta(days=days - 1)


async def link_preview_totals(account_id: int, today: date, days: int = 30) -> LinkPreviewTotals:
    """Fetches of the last `days` days ending today, per platform and per (day, platform)."""
    start = first_day(today, days)
    window = CardFetchDay.filter(account_id=account_id, day__gte=start, day__lte=today)
    rows = await fetch_rows(window.order_by("day", "platform").values("day", "platform", "fetches"))
    daily = [PlatformDay(as_date(r["day"]), r["platform"], int(r["fetches"])) for r in rows]
    grouped = await fetch_rows(
        window.annotate(n=Sum("fetches"), last=Max("last_at"))
        .group_by("platform")
        .values("platform", "n", "last")
    )
    platforms = [
        PlatformTotal(r["platform"], int(r["n"] or 0), _maybe_time(r["last"])) for r in grouped
    ]
    platforms.sort(key=lambda p: (-p.fetches, p.platform))
    return LinkPreviewTotals(sum(p.fetches for p in platforms), platforms, daily)


async def recent_fetches(account_id: int, since: date, first: int = 20) -> list[RecentFetch]:
    """The latest sampled fetches on or after `since` (00:00 UTC), newest first."""
    check_range("first", first, MAX_PAGE)
    start = datetime.combine(since, time(), tzinfo=UTC)
    rows = await fetch_rows(
        CardFetch.filter(account_id=account_id, at__gte=start)
        .order_by("-at", "-id")
        .limit(first)
        .values("at", "platform", "user_agent", "title", "status", "cache_hit")
    )
    return [_recent(r) for r in rows]


def _recent(r: dict) -> RecentFetch:
    return RecentFetch(
        as_datetime(r["at"]),
        r["platform"],
        r["user_agent"],
        r["title"],
        int(r["status"]),
        bool(r["cache_hit"]),
    )


def _maybe_time(value: object) -> datetime | None:
    return None if value is None else as_datetime(value)
