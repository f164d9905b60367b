"""This month's quota and the usage history charts (daily and monthly series)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import strawberry

from resolvers import reports
from resolvers.ledger import spending_cap
from resolvers.metering.quota import UsageSummary
from resolvers.plans import get_plan
from resolvers.timefmt import month_key
from schema.account import Plan
from schema.context import Info
from schema.copying import copy_fields
from schema.permissions import IsAuthenticated


@strawberry.type(description="One day of usage, summed over services.")
class DayUsage:
    date: date
    images: int
    api_calls: int
    spend: Decimal

    @classmethod
    def from_model(cls, point: reports.DayPoint) -> DayUsage:
        return copy_fields(cls, point, date=point.day)


@strawberry.type(description="One calendar month (UTC) of usage.")
class MonthUsage:
    month: str = strawberry.field(description="`YYYY-MM`.")
    images: int
    spend: Decimal

    @classmethod
    def from_model(cls, point: reports.MonthPoint) -> MonthUsage:
        return copy_fields(cls, point)


@strawberry.type(description="This month's quota; resets on the 1st at 00:00 UTC.")
class Usage:
    plan: Plan
    quota: int
    used: int
    remaining: int
    percent_used: float
    reset_date: datetime
    days_until_reset: int
    account_id: strawberry.Private[int]
    today: strawberry.Private[date]

    @strawberry.field(description="The last `days` days (1–366) ending today, zeros filled.")
    async def daily(self, info: Info, days: int | None = 30) -> list[DayUsage]:
        days = 30 if days is None else days
        reports.check_range("days", days, reports.MAX_DAYS)
        points = await info.context.loaders.daily.load((self.account_id, self.today, days))
        return [DayUsage.from_model(p) for p in points]

    @strawberry.field(description="The last `months` months (1–36) ending with this one.")
    async def monthly(self, info: Info, months: int | None = 12) -> list[MonthUsage]:
        months = 12 if months is None else months
        reports.check_range("months", months, reports.MAX_MONTHS)
        points = await info.context.loaders.monthly.load((self.account_id, self.today, months))
        return [MonthUsage.from_model(p) for p in points]

    @strawberry.field(
        description="Dollars of overage charged for this month's images, net of charges "
        "returned: what the spending cap (`Account.overageCap`) counts."
    )
    async def overage_spend(self, info: Info) -> Decimal:
        return await spending_cap.spent(self.account_id, month_key(info.context.now))

    @classmethod
    def from_model(cls, summary: UsageSummary, account_id: int, today: date) -> Usage:
        plan = Plan.from_model(get_plan(summary.plan))
        return copy_fields(cls, summary, plan=plan, account_id=account_id, today=today)


@strawberry.type
class UsageQuery:
    @strawberry.field(permission_classes=[IsAuthenticated])
    async def usage(self, info: Info) -> Usage:
        context = info.context
        account = context.user
        summary = await context.loaders.usage.load((account, context.now))
        return Usage.from_model(summary, account.id, context.today)
