"""The usage headers, one rule each (docs/metering.md), written from the numbers resolvers return:
`X-Quota-*` from (quota, used) and `X-RateLimit-*` from (limit, remaining). Image responses,
batches, the usage endpoint, the playground, the share check and every RATE_LIMITED error
(web/http/middleware.py) use them."""

from __future__ import annotations

from resolvers.limits.per_second import RateDecision


def quota_headers(limit: int, used: int) -> dict[str, str]:
    """X-Quota-* of an account's month."""
    return {
        "X-Quota-Limit": str(limit),
        "X-Quota-Used": str(used),
        "X-Quota-Remaining": str(max(0, limit - used)),
    }


def rate_limit_headers(limit: int, remaining: int) -> dict[str, str]:
    """X-RateLimit-* of a budget."""
    return {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining)}


def decision_headers(decision: RateDecision) -> dict[str, str]:
    """X-RateLimit-* after a request spent from a budget."""
    return rate_limit_headers(decision.limit, decision.remaining)
