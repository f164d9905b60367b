"""The metering hook around every render (docs/metering.md): rate limit, quota, overage, alerts,
roll-ups.

The image API calls, in order: `rate.check` (for requests that would render), `reserve` before
rendering, then `commit` after success or `release` after failure; `api_calls.record` for every
API-key request. REST, signed URLs and any future caller go through this one class, so no
metering rule is written twice.

The quota counter and the credit balance live in the database (the source of truth on every
worker); a failure to reach it refuses the render with 503 `METERING_UNAVAILABLE` (fail closed).
The rate limiter fails open instead (resolvers.limits.per_second).

`Meter` holds one part per job, each in its module: `rate`, the per-plan rate limit
(resolvers.metering.plan_rate); `api_calls`, counted in memory and flushed
(resolvers.metering.api_calls); `quota_snapshot`, `used` for the `X-Quota-*` headers
(resolvers.metering.quota_headers); and does here the quota reservation, overage and alerts around a
render.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from tortoise.transactions import in_transaction

from models import Account, LedgerEntry, NotificationKind
from resolvers.errors import AppError, ServiceUnavailable
from resolvers.ledger import entries as ledger
from resolvers.ledger import spending_cap
from resolvers.limits.per_second import RateLimiter
from resolvers.mail import Mailer
from resolvers.memo import BoundedMap
from resolvers.metering import alerts, quota, reservations
from resolvers.metering.api_calls import ApiCallCounter
from resolvers.metering.plan_rate import RateGate
from resolvers.metering.quota_headers import QuotaSnapshot
from resolvers.pricing import overage_price
from resolvers.rollups import IMAGE_SERVICE, bump_daily

__all__ = ["IMAGE_SERVICE", "Meter", "RenderTicket", "bump_daily"]

log = logging.getLogger("ogapi.metering")
# Seconds after which a quota reservation that its worker stopped marking alive is known to be
# orphaned (the worker died, so the render can no longer finish), and how often each worker
# marks its own renders in progress alive and looks for orphans.
RESERVATION_TIMEOUT = 120.0
SWEEP_EVERY = 30.0


@dataclass
class RenderTicket:
    account_id: int
    month: str
    quota: int
    overage: LedgerEntry | None = None  # the charge of an image past the quota, if any
    reservation: int | None = None  # its QuotaReservation (settled or given back once)
    cap: Decimal | None = None  # the spending cap when the overage was charged
    used: int = 0  # the month's `used` once this image was counted (its alerts and headers)


def metering_unavailable(exc: Exception) -> ServiceUnavailable:
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
        self.rate = RateGate(limiter)
        self.api_calls = ApiCallCounter()
        self.quota_snapshot = QuotaSnapshot()
        self.mailer = mailer
        # alerts known to be sent (skips queries; not the truth)
        self._alerted: BoundedMap[str, None] = BoundedMap(100_000)
        self._rendering: set[int] = set()  # this worker's reservations whose render is under way

    @property
    def limiter(self) -> RateLimiter:
        """The rate gate's limiter (also the playground's: resolvers/images/previews.py)."""
        return self.rate.limiter

    @limiter.setter
    def limiter(self, limiter: RateLimiter) -> None:
        self.rate.limiter = limiter

    async def flush(self) -> None:
        """Write what is counted in memory (API calls). Tests call it before reading."""
        await self.api_calls.flush()

    async def reserve(self, account: Account, now: datetime) -> RenderTicket:
        """Take one image of the quota before rendering, or raise QUOTA_EXCEEDED.

        Past the quota, a paid plan with overage enabled pays the plan's overage price from the
        credit balance (a `usage` entry, atomically); without enough balance → QUOTA_EXCEEDED.
        """
        limit = quota.account_quota(account)
        try:
            month = quota.month_key(now)
            reserved = await quota.try_reserve(account.id, limit, now)
            if reserved is not None:
                reservation, used = reserved
                self._rendering.add(reservation)
                self.quota_snapshot.known(account.id, month, used)
                return RenderTicket(account.id, month, limit, reservation=reservation, used=used)
            price = overage_price(account.plan)
            if price is None or not account.overage_enabled:
                raise quota_exceeded(limit)
            try:  # charged and reserved in one transaction (resolvers/metering/reservations.py)
                entry, reservation, used = await reservations.reserve_paid(account.id, price, now)
            except ledger.InsufficientCredits:
                raise quota_exceeded(limit) from None
            except spending_cap.SpendingCapReached as exc:
                await self._cap_alert(account.id, month, limit, exc.cap, price, now)
                raise
            self._rendering.add(reservation)
            self.quota_snapshot.known(account.id, month, used)
            cap = spending_cap.cap_of(account)
            return RenderTicket(
                account.id, month, limit, overage=entry, reservation=reservation, cap=cap, used=used
            )
        except AppError:
            raise
        except Exception as exc:
            raise metering_unavailable(exc) from exc

    async def commit(self, ticket: RenderTicket, now: datetime) -> None:
        """The render succeeded: settle its reservation and roll it into today's usage, in one
        transaction (one commit), then send any quota alert due."""
        try:
            late = False
            if ticket.reservation is not None:
                self._rendering.discard(ticket.reservation)
            async with in_transaction():
                # Before anything else: it is delivered.
                if ticket.reservation is not None and not await quota.settle(ticket.reservation):
                    late = True
                    ticket.used = await quota.count_delivered(ticket.account_id, ticket.month)
                await bump_daily(ticket.account_id, now, IMAGE_SERVICE, images=1)
            if late:
                await self._charge_late(ticket, now)
            await self._alerts(ticket, now)
        except Exception:  # the image is rendered and counted; don't fail the response
            log.exception("metering commit failed for account %s", ticket.account_id)

    async def _charge_late(self, ticket: RenderTicket, now: datetime) -> None:
        """Delivered after a sweep gave its reservation back (this worker stalled longer than
        the timeout): `commit` counted the image again; charge its overage again (never below a
        zero balance), so it is counted once."""
        self.quota_snapshot.known(ticket.account_id, ticket.month, ticket.used)
        if ticket.overage is not None:
            await ledger.charge_again(ticket.overage, now)
        log.warning(
            "a render of account %s finished after its reservation was given back; counted again",
            ticket.account_id,
        )

    async def _cap_alert(
        self, account_id: int, month: str, limit: int, cap: Decimal, price: Decimal, now: datetime
    ) -> None:
        """Send the spending-cap alert once the month's overage leaves no room for one more
        image (resolvers/ledger/spending_cap.py), with the month's images and quota `limit`."""
        seen = f"{account_id}:{NotificationKind.SPENDING_CAP_100.value}:{month}"
        if seen in self._alerted:
            return
        try:
            spend = await spending_cap.spent(account_id, month)
            if spending_cap.reached(cap, spend, price):
                used = await quota.used_in_month(account_id, month)
                usage = alerts.CapUsage(used, limit, month)
                await alerts.check_cap_alert(account_id, cap, spend, usage, now, self.mailer)
                self._alerted.put(seen, None)
        except Exception:  # the image's fate does not depend on its alert
            log.exception("spending cap alert failed for account %s", account_id)

    async def _alerts(self, ticket: RenderTicket, now: datetime) -> None:
        if ticket.overage is not None and ticket.cap is not None:
            price = Decimal(ticket.overage.amount)
            month, limit = ticket.month, ticket.quota
            await self._cap_alert(ticket.account_id, month, limit, ticket.cap, price, now)
        used = ticket.used  # counted by the reservation's own UPDATE (no read here)
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
        for t in pending:
            self._alerted.put(f"{ticket.account_id}:{t.kind.value}:{ticket.month}", None)

    async def release(self, ticket: RenderTicket, now: datetime | None = None) -> None:
        """The render failed: give the reservation back (failed requests never count) and
        return an overage charge as a `refund` entry, in one transaction. If that fails (the
        database is away), the reservation stays, no longer marked alive: a sweep gives it
        back, with its charge, once it looks orphaned."""
        if ticket.reservation is None:
            return
        self._rendering.discard(ticket.reservation)
        reason = "Overage charge returned: render failed"
        try:
            row = await reservations.give_back(
                ticket.reservation, now or datetime.now(UTC), reason, ticket.overage
            )
        except Exception:  # the render's own error is the answer; the sweep gives it back
            log.exception("giving back a reservation of account %s failed", ticket.account_id)
            return
        if row is not None:  # None: already given back (a sweep that thought its worker gone)
            self.quota_snapshot.moved(ticket.account_id, ticket.month, -1)

    async def release_stale(self, older_than: float = RESERVATION_TIMEOUT) -> int:
        """Give back the reservations a worker left behind when it died mid-render: not marked
        alive for `older_than` seconds, and not this worker's own (any worker may run this:
        each reservation is given back, and its overage refunded, once). Returns how many."""
        released = 0
        reason = "Overage charge returned: render not finished"
        for stale in await quota.stale_reservations(older_than, exclude=self._rendering):
            row = await reservations.give_back(stale, datetime.now(UTC), reason)
            if row is None:
                continue
            released += 1
            self.quota_snapshot.moved(row.account_id, row.month, -1)
        if released:
            log.warning(
                "gave back %d quota reservation(s) left by a worker that stopped mid-render",
                released,
            )
        return released

    async def run_sweeper(self, older_than: float = RESERVATION_TIMEOUT) -> None:
        """Mark this worker's renders in progress alive, then `release_stale`, every
        `SWEEP_EVERY` seconds (at least four times per `older_than`, so a busy worker misses
        several marks before its renders look orphaned; once at start) until cancelled."""
        while True:
            try:
                await quota.keep_alive(set(self._rendering))
                await self.release_stale(older_than)
            except Exception as exc:  # the database is away: next time
                log.warning("quota reservation sweep failed: %s: %s", type(exc).__name__, exc)
            await asyncio.sleep(min(SWEEP_EVERY, older_than / 4))
