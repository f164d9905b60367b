"""The metering hook around every render (SPEC §7): rate limit, quota, overage, alerts, roll-ups.

The image API calls, in order: `check_rate` (for requests that would render), `reserve` before
rendering, then `commit` after success or `release` after failure; `record_api_call` for every
API-key request. REST, signed URLs and any future caller go through this one class, so no
metering rule is written twice.

The quota counter and the credit balance live in the database (the source of truth on every
worker); a failure to reach it refuses the render with 503 `METERING_UNAVAILABLE` (fail closed).
The rate limiter fails open instead (resolvers.ratelimit).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from models import Account, LedgerEntry
from resolvers import alerts, ledger, quota
from resolvers.errors import AppError, ServiceUnavailable, TooManyRequests
from resolvers.mail import Mailer
from resolvers.plans import get_plan
from resolvers.pricing import OVERAGE_SERVICE, overage_price
from resolvers.ratelimit import RateDecision, RateLimiter
from resolvers.rollups import IMAGE_SERVICE, bump_daily

__all__ = ["IMAGE_SERVICE", "Meter", "RenderTicket", "bump_daily"]

log = logging.getLogger("ogapi.metering")


@dataclass
class RenderTicket:
    account_id: int
    month: str
    quota: int
    overage: LedgerEntry | None = None  # the charge of an image past the quota, if any


def _unavailable(exc: Exception) -> ServiceUnavailable:
    log.error("metering store unavailable: %s: %s", type(exc).__name__, exc)
    return ServiceUnavailable(
        "Usage metering is temporarily unavailable, so the request was not processed. "
        "Retry in a few seconds.",
        code="METERING_UNAVAILABLE",
        headers={"Retry-After": "5"},
    )


def quota_exceeded(limit: int) -> AppError:
    return AppError(quota.quota_exceeded_message(limit), code="QUOTA_EXCEEDED", status=429)


class Meter:
    def __init__(self, limiter: RateLimiter, mailer: Mailer) -> None:
        self.limiter = limiter
        self.mailer = mailer
        self._alerted: set[str] = set()  # alerts known to be sent (skips queries; not the truth)

    @staticmethod
    def rate_headers(decision: RateDecision) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(decision.limit),
            "X-RateLimit-Remaining": str(decision.remaining),
        }

    async def check_rate(self, account: Account) -> RateDecision:
        """Spend one request of the account's per-second budget, or raise RATE_LIMITED."""
        rate = get_plan(account.plan).requests_per_second
        decision = await self.limiter.hit(f"acct:{account.id}", rate)
        if not decision.allowed:
            exc = TooManyRequests(
                f"Rate limit exceeded: {rate} requests per second on your plan.",
                retry_after=decision.retry_after,
            )
            exc.headers.update(self.rate_headers(decision))
            raise exc
        return decision

    async def reserve(self, account: Account, now: datetime) -> RenderTicket:
        """Take one image of the quota before rendering, or raise QUOTA_EXCEEDED.

        Past the quota, a paid plan with overage enabled pays the plan's overage price from the
        credit balance (a `usage` entry, atomically); without enough balance → QUOTA_EXCEEDED.
        """
        limit = quota.account_quota(account)
        try:
            if await quota.try_reserve(account.id, limit, now):
                return RenderTicket(account.id, quota.month_key(now), limit)
            price = overage_price(account.plan)
            if price is None or not account.overage_enabled:
                raise quota_exceeded(limit)
            try:
                entry = await ledger.charge(
                    account.id,
                    price,
                    OVERAGE_SERVICE,
                    now,
                    images=1,
                    rollup="spend",
                    description="Image past the monthly quota (overage)",
                )
            except ledger.InsufficientCredits:
                raise quota_exceeded(limit) from None
            try:
                await quota.force_reserve(account.id, now)
            except Exception:
                await ledger.reverse(entry, now, "Overage charge returned: render not started")
                raise
            return RenderTicket(account.id, quota.month_key(now), limit, overage=entry)
        except AppError:
            raise
        except Exception as exc:
            raise _unavailable(exc) from exc

    async def commit(self, ticket: RenderTicket, now: datetime) -> None:
        """The render succeeded: roll it into today's usage and send any quota alert due."""
        try:
            await bump_daily(ticket.account_id, now, IMAGE_SERVICE, images=1)
            await self._alerts(ticket, now)
        except Exception:  # the image is rendered and counted; don't fail the response
            log.exception("metering commit failed for account %s", ticket.account_id)

    async def _alerts(self, ticket: RenderTicket, now: datetime) -> None:
        used = await quota.used_in_month(ticket.account_id, ticket.month)
        pending = [
            t
            for t in alerts.due(used, ticket.quota)
            if f"{ticket.account_id}:{t.kind.value}:{ticket.month}" not in self._alerted
        ]
        if not pending:
            return
        await alerts.check_quota_alerts(
            ticket.account_id, used, ticket.quota, ticket.month, now, self.mailer
        )
        if len(self._alerted) > 100_000:
            self._alerted.clear()
        self._alerted.update(f"{ticket.account_id}:{t.kind.value}:{ticket.month}" for t in pending)

    async def release(self, ticket: RenderTicket, now: datetime | None = None) -> None:
        """The render failed: give the reservation back (failed requests never count), and
        return an overage charge as a `refund` entry."""
        await quota.release(ticket.account_id, ticket.month)
        if ticket.overage is not None:
            await ledger.reverse(
                ticket.overage, now or datetime.now(UTC), "Overage charge returned: render failed"
            )

    async def record_api_call(self, account_id: int, now: datetime) -> None:
        """Count one API-key request ("API calls made"), successful or not."""
        try:
            await bump_daily(account_id, now, IMAGE_SERVICE, api_calls=1)
        except Exception:
            log.exception("could not count an API call for account %s", account_id)

    async def quota_headers(self, account: Account, now: datetime) -> dict[str, str]:
        usage = await quota.usage_summary(account, now)
        return usage_headers(usage)


def usage_headers(usage: quota.UsageSummary) -> dict[str, str]:
    return {
        "X-Quota-Limit": str(usage.quota),
        "X-Quota-Used": str(usage.used),
        "X-Quota-Remaining": str(usage.remaining),
    }
