"""Link-preview insight (docs/link-previews.md): which platforms fetched the caller's cards."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from resolvers.reports import link_previews as lp
from schema.context import Info
from schema.copying import copy_fields
from schema.permissions import IsAuthenticated


@strawberry.type(description="Fetches of the account's signed cards by one platform.")
class PlatformFetches:
    platform: str = strawberry.field(
        description="`facebook`, `x`, `linkedin`, … `other_bot` or `browser` (the User-Agent)."
    )
    fetches: int
    last_seen: datetime | None

    @classmethod
    def from_model(cls, p: lp.PlatformTotal) -> PlatformFetches:
        return copy_fields(cls, p)


@strawberry.type(description="Fetches by one platform on one day (UTC).")
class DailyFetches:
    date: date
    platform: str
    fetches: int

    @classmethod
    def from_model(cls, d: lp.PlatformDay) -> DailyFetches:
        return copy_fields(cls, d, date=d.day)


@strawberry.type(description="A signed-card fetch (at most one kept per card, platform, minute).")
class CardFetch:
    at: datetime
    platform: str
    user_agent: str
    title: str = strawberry.field(description="The card's title.")
    status: int = strawberry.field(description="200, or 304 (the fetcher had it cached).")
    cache_hit: bool = strawberry.field(description="Served from the cache (not rendered).")

    @classmethod
    def from_model(cls, f: lp.RecentFetch) -> CardFetch:
        return copy_fields(cls, f)


@strawberry.type(description="Who fetched the account's signed cards over the last `days` days.")
class LinkPreviews:
    total: int
    platforms: list[PlatformFetches] = strawberry.field(description="Most fetches first.")
    daily: list[DailyFetches] = strawberry.field(
        description="Oldest first; a day without fetches on a platform has no entry."
    )
    account_id: strawberry.Private[int]
    since: strawberry.Private[date]

    @strawberry.field(description="The latest fetches in the window, newest first; ≤ 100.")
    async def recent(self, first: int | None = 20) -> list[CardFetch]:
        rows = await lp.recent_fetches(self.account_id, self.since, 20 if first is None else first)
        return [CardFetch.from_model(f) for f in rows]


@strawberry.type
class LinkPreviewsQuery:
    @strawberry.field(
        permission_classes=[IsAuthenticated],
        description="Fetches of your signed cards per platform over the last `days` (1–366) "
        "days ending today (UTC); counts appear within 5 seconds.",
    )
    async def link_previews(self, info: Info, days: int | None = 30) -> LinkPreviews:
        days = 30 if days is None else days
        account_id, today = info.context.user.id, info.context.today
        totals = await lp.link_preview_totals(account_id, today, days)
        return LinkPreviews(
            total=totals.total,
            platforms=[PlatformFetches.from_model(p) for p in totals.platforms],
            daily=[DailyFetches.from_model(d) for d in totals.daily],
            account_id=account_id,
            since=lp.first_day(today, days),
        )
