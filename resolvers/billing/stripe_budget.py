"""How often one account may make this server call Stripe (docs/billing.md "Limits").

Opening a Checkout (`createCheckoutSession`) and a return-page lookup of a session Stripe has
not settled yet each spend one hit of the account's budget: at most PER_MINUTE in any minute,
counted by the app's window limiter (resolvers/limits/per_window.py: shared through Redis when it
is configured). Past it: 429 RATE_LIMITED with Retry-After, and Stripe is not called.
"""

from __future__ import annotations

from resolvers.errors import TooManyRequests
from resolvers.limits.per_window import WindowLimiter

PER_MINUTE = 10
MINUTE = 60.0


def budget_key(account_id: int) -> str:
    return f"stripe-calls:{account_id}"


async def spend_stripe_call(window: WindowLimiter, account_id: int) -> None:
    """Count one Stripe-calling request of `account_id`, or raise RATE_LIMITED past the budget."""
    decision = await window.hit(budget_key(account_id), PER_MINUTE, MINUTE)
    if not decision.allowed:
        raise TooManyRequests(
            f"Too many billing requests: at most {PER_MINUTE} a minute. Try again later.",
            retry_after=decision.retry_after,
        )
