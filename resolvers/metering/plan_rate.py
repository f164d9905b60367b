"""The per-plan rate limit (docs/metering.md): spend one request of an account's per-second
budget, wait for a turn, and what is left of it, in numbers (web/ writes the `X-RateLimit-*`
headers from them).

The limiter itself (GCRA, in memory or in Redis, failing open) is resolvers.limits.per_second; this
is where a plan's `requests_per_second` meets it. `Meter` (resolvers.metering.meter) holds one.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from models import Account
from resolvers.errors import TooManyRequests
from resolvers.limits.per_second import RateDecision, RateLimiter
from resolvers.plans import get_plan

if TYPE_CHECKING:
    from resolvers.accounts.key_owner import KeyOwner

RATE_WAIT = 2.0  # seconds a signed render over the rate limit waits for its turn


def _rate_key(account: Account | KeyOwner) -> str:
    return f"acct:{account.id}"


def rate_limited(decision: RateDecision, message: str) -> TooManyRequests:
    """RATE_LIMITED for a refused `decision`: its Retry-After, and its limit and remaining for
    the X-RateLimit-* headers."""
    return TooManyRequests(
        message, retry_after=decision.retry_after, rate=(decision.limit, decision.remaining)
    )


class RateGate:
    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    async def standing(
        self, account: Account | KeyOwner, decision: RateDecision | None
    ) -> tuple[int, int]:
        """(limit, remaining) of a metered response: after the token the request spent, or, for
        a request that spent none (a cache hit), read without spending one."""
        rate = get_plan(account.plan).requests_per_second
        if decision is None:
            return rate, await self.limiter.remaining(_rate_key(account), rate)
        return rate, decision.remaining

    @staticmethod
    def _rate_limited(decision: RateDecision) -> TooManyRequests:
        message = f"Rate limit exceeded: {decision.limit} requests per second on your plan."
        return rate_limited(decision, message)

    async def check(self, account: Account | KeyOwner, cost: int = 1) -> RateDecision:
        """Spend one request of the account's per-second budget (`cost` of them for a batch:
        resolvers/images/batch.py), or raise RATE_LIMITED."""
        rate = get_plan(account.plan).requests_per_second
        decision = await self.limiter.hit(_rate_key(account), rate, cost)
        if not decision.allowed:
            raise self._rate_limited(decision)
        return decision

    async def wait(self, account: Account | KeyOwner, max_wait: float = RATE_WAIT) -> RateDecision:
        """`check` for a caller that had rather wait than be refused (signed URLs, fetched by
        crawlers: docs/signed-urls.md): over the limit, wait for the turn the limiter names,
        for at most `max_wait` seconds in all, then raise RATE_LIMITED. A refused try spends
        nothing, so waiting costs the budget no more than one request."""
        rate = get_plan(account.plan).requests_per_second
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_wait
        while True:
            decision = await self.limiter.hit(_rate_key(account), rate)
            if decision.allowed:
                return decision
            if loop.time() + decision.retry_after > deadline:
                raise self._rate_limited(decision)
            await asyncio.sleep(decision.retry_after)
