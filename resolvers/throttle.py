"""Login throttling (SPEC §5): 5 failures per email or 20 per IP within 15 minutes lock further
attempts until the window has passed. Stored in the database so every worker sees the same count."""

from __future__ import annotations

from datetime import datetime, timedelta

from models import LoginFailure
from resolvers.errors import TooManyRequests

WINDOW = timedelta(minutes=15)
MAX_PER_EMAIL = 5
MAX_PER_IP = 20


async def _retry_after(filter_: dict, limit: int, now: datetime) -> float | None:
    since = now - WINDOW
    failures = (
        await LoginFailure.filter(created_at__gt=since, **filter_)
        .order_by("-created_at")
        .limit(limit)
        .values_list("created_at", flat=True)
    )
    if len(failures) < limit:
        return None
    # Locked until the oldest of the last `limit` failures leaves the window.
    return (failures[-1] + WINDOW - now).total_seconds()


async def check_login_allowed(email: str, ip: str, now: datetime) -> None:
    for filter_, limit in (({"email": email}, MAX_PER_EMAIL), ({"ip": ip}, MAX_PER_IP)):
        wait = await _retry_after(filter_, limit, now)
        if wait is not None:
            raise TooManyRequests(
                "Too many failed sign-in attempts. Try again later.",
                retry_after=wait,
                code="TOO_MANY_ATTEMPTS",
            )


async def record_failure(email: str, ip: str, now: datetime) -> None:
    await LoginFailure.create(email=email[:254], ip=ip[:64], created_at=now)
    # Keep the table small: anything outside the window no longer matters.
    await LoginFailure.filter(created_at__lt=now - WINDOW * 2).delete()
