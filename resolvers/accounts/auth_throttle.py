"""Login and sign-up throttling (docs/accounts.md).

Login: 5 failures per email or 20 per IP within 15 minutes lock
further attempts, even with the right password, until the window has passed. Password-reset
confirms count per IP the same way (an attempt without an email).

An attempt is written down *before* its password is checked and erased only when it succeeds,
so a burst of parallel guesses cannot all pass the check while argon2 is still verifying the
first ones. Stored in the database, so every worker sees the same count.

Both count a client address by `address_key` (an IPv6 /64 as one address).

Sign-up: at most `OGAPI_SIGNUPS_PER_HOUR` per client address within any hour (`check_signup`,
called before the password is hashed), counted by the app's window limiter
(resolvers/limits/per_window.py: shared through Redis when it is configured).
"""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta

from models import LoginFailure
from resolvers.errors import TooManyRequests
from resolvers.limits.per_window import WindowLimiter

WINDOW = timedelta(minutes=15)
MAX_PER_EMAIL = 5
MAX_PER_IP = 20
SIGNUP_WINDOW = timedelta(hours=1)


def address_key(ip: str) -> str:
    """The throttles' key of a client address: IPv6 by its /64 (what one subscriber is
    usually given, so not one key per address of it), an IPv4-mapped IPv6 address as its
    IPv4; anything unparsable as it is."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(address), 64), strict=False))
    return str(address)


async def _retry_after(attempt: LoginFailure, filter_: dict, limit: int, now: datetime):
    """Seconds until unlocked when `limit` attempts precede this one in the window, else None."""
    earlier = (
        await LoginFailure.filter(created_at__gt=now - WINDOW, id__lt=attempt.id, **filter_)
        .order_by("-created_at")
        .limit(limit)
        .values_list("created_at", flat=True)
    )
    if len(earlier) < limit:
        return None
    # Locked until the oldest of the last `limit` attempts leaves the window.
    oldest: datetime = earlier[-1]  # type: ignore[assignment]  # flat values_list: datetimes
    return (oldest + WINDOW - now).total_seconds()


async def begin_attempt(email: str | None, ip: str, now: datetime) -> LoginFailure:
    """Record an attempt (counted as a failure until `succeeded`), or raise TOO_MANY_ATTEMPTS.
    `email` None (a reset confirm): limited per IP only."""
    attempt = await LoginFailure.create(
        email=(email or "")[:254], ip=address_key(ip)[:64], created_at=now
    )
    limits: list[tuple[dict, int]] = [({"ip": attempt.ip}, MAX_PER_IP)]
    if email is not None:
        limits.insert(0, ({"email": attempt.email}, MAX_PER_EMAIL))
    for filter_, limit in limits:
        wait = await _retry_after(attempt, filter_, limit, now)
        if wait is not None:
            await attempt.delete()  # a refused attempt does not extend the lock
            raise TooManyRequests(
                "Too many failed sign-in attempts. Try again later.",
                retry_after=wait,
                code="TOO_MANY_ATTEMPTS",
            )
    # Keep the table small: anything outside the window no longer matters.
    await LoginFailure.filter(created_at__lt=now - WINDOW * 2).delete()
    return attempt


async def succeeded(attempt: LoginFailure) -> None:
    await attempt.delete()


async def check_signup(limiter: WindowLimiter, ip: str, per_hour: int) -> None:
    """Count a sign-up from `ip`, or raise TOO_MANY_ATTEMPTS past `per_hour` (0: no limit)."""
    if per_hour <= 0:
        return
    decision = await limiter.hit(
        f"signup:{address_key(ip)}", per_hour, SIGNUP_WINDOW.total_seconds()
    )
    if not decision.allowed:
        raise TooManyRequests(
            "Too many sign-ups from this address. Try again later.",
            retry_after=decision.retry_after,
            code="TOO_MANY_ATTEMPTS",
        )
