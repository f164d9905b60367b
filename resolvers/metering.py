"""The metering hook around every render (SPEC §7): rate limit, quota reservation, roll-ups.

The image API calls, in order: `check_rate` (for requests that would render), `reserve` before
rendering, then `commit` after success or `release` after failure. REST, signed URLs and any
future caller go through this one class, so no metering rule is written twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from models import Account, DailyUsage
from resolvers import quota
from resolvers.errors import AppError, TooManyRequests
from resolvers.mail import Mailer
from resolvers.plans import get_plan
from resolvers.ratelimit import RateDecision, RateLimiter

log = logging.getLogger("ogapi.metering")
IMAGE_SERVICE = "og_image"


@dataclass
class RenderTicket:
    account_id: int
    month: str
    quota: int


class Meter:
    def __init__(self, limiter: RateLimiter, mailer: Mailer) -> None:
        self.limiter = limiter
        self.mailer = mailer

    async def check_rate(self, account: Account) -> RateDecision:
        """Spend one request of the account's per-second budget, or raise RATE_LIMITED."""
        rate = get_plan(account.plan).requests_per_second
        decision = await self.limiter.hit(f"acct:{account.id}", rate)
        if not decision.allowed:
            raise TooManyRequests(
                f"Rate limit exceeded: {rate} requests per second on your plan.",
                retry_after=decision.retry_after,
            )
        return decision

    async def reserve(self, account: Account, now: datetime) -> RenderTicket:
        """Take one image of the quota before rendering, or raise QUOTA_EXCEEDED."""
        limit = quota.account_quota(account)
        if not await quota.try_reserve(account.id, limit, now):
            raise AppError(quota.quota_exceeded_message(limit), code="QUOTA_EXCEEDED", status=429)
        return RenderTicket(account.id, quota.month_key(now), limit)

    async def commit(self, ticket: RenderTicket, now: datetime) -> None:
        """The render succeeded: roll it into today's usage."""
        await bump_daily(ticket.account_id, now, IMAGE_SERVICE, images=1)

    async def release(self, ticket: RenderTicket) -> None:
        """The render failed: give the reservation back (failed requests never count)."""
        await quota.release(ticket.account_id, ticket.month)

    async def record_api_call(self, account_id: int, now: datetime) -> None:
        await bump_daily(account_id, now, IMAGE_SERVICE, api_calls=1)

    async def quota_headers(self, account: Account, now: datetime) -> dict[str, str]:
        usage = await quota.usage_summary(account, now)
        return {
            "X-Quota-Limit": str(usage.quota),
            "X-Quota-Used": str(usage.used),
            "X-Quota-Remaining": str(usage.remaining),
        }


async def bump_daily(
    account_id: int,
    now: datetime,
    service: str,
    *,
    images: int = 0,
    api_calls: int = 0,
    tokens: int = 0,
    spend: Decimal = Decimal(0),
) -> None:
    """Add to the (account, day, service) roll-up row, creating it on first use."""
    day = quota.today(now)
    for _ in range(2):
        updated = await DailyUsage.filter(account_id=account_id, day=day, service=service).update(
            images=F("images") + images,
            api_calls=F("api_calls") + api_calls,
            tokens=F("tokens") + tokens,
            spend=F("spend") + spend,
        )
        if updated:
            return
        try:
            await DailyUsage.create(
                account_id=account_id, day=day, service=service, images=images,
                api_calls=api_calls, tokens=tokens, spend=spend,
            )
            return
        except IntegrityError:
            continue  # created concurrently: update it on the second pass
