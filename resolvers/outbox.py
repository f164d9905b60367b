"""The outbox: the one home for retrying what the service sends (mail: resolvers/mail.py;
webhooks: resolvers/notify/delivery.py; docs/webhooks.md).

A message is a database row written before anything is sent, with `next_attempt_at` (None once
it is done) and `attempts`. A worker *claims* a due row by moving `next_attempt_at` forward to
the end of a lease with a conditional UPDATE that only one worker can win (PostgreSQL and
SQLite alike), then attempts it and writes the outcome: done, or the next attempt after a
growing delay (`backoff`). A worker that dies mid-attempt leaves the lease behind: the row is
due again when it runs out, so what was recorded survives a restart and goes out once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from tortoise.models import Model

log = logging.getLogger("ogapi.outbox")
Row = TypeVar("Row", bound=Model)
BATCH = 50  # due rows looked at per pass


def backoff(attempts: int, base: float, factor: float = 2.0, cap: float | None = None) -> float:
    """Seconds before the next attempt after `attempts` failed ones: base, base·factor, …"""
    delay = base * factor ** max(attempts - 1, 0)
    return delay if cap is None else min(delay, cap)


async def claim_due(model: type[Row], now: datetime, lease: float, **where: Any) -> list[Row]:
    """The rows of `model` due at `now` (and matching `where`) that this worker won, oldest
    due first, each with `next_attempt_at` moved to `now + lease`."""
    due = (
        await model.filter(next_attempt_at__lte=now, **where)
        .order_by("next_attempt_at")
        .limit(BATCH)
    )
    until = now + timedelta(seconds=lease)
    won: list[Row] = []
    for row in due:
        seen = row.next_attempt_at  # type: ignore[attr-defined]  # every outbox model has it
        claimed = await model.filter(pk=row.pk, next_attempt_at=seen).update(next_attempt_at=until)
        if claimed == 1:  # 0: another worker moved it first
            row.next_attempt_at = until
            won.append(row)
    return won


async def run_every(
    every: float,
    step: Callable[[], Awaitable[object]],
    what: str,
    wake: asyncio.Event | None = None,
) -> None:
    """`step()` every `every` seconds (sooner when `wake` is set) until cancelled; a failing
    pass (the database away) is logged and tried again next time."""
    while True:
        if wake is None:
            await asyncio.sleep(every)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), every)
            wake.clear()
        try:
            await step()
        except Exception as exc:
            log.warning("%s retry pass failed: %s: %s", what, type(exc).__name__, exc)
