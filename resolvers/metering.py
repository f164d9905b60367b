"""The metering hook around every render (docs/metering.md): rate limit, quota, overage, alerts,
roll-ups.

The image API calls, in order: `check_rate` (for requests that would render), `reserve` before
rendering, then `commit` after success or `release` after failure; `record_api_call` for every
API-key request. REST, signed URLs and any future caller go through this one class, so no
metering rule is written twice.

The quota counter and the credit balance live in the database (the source of truth on every
worker); a failure to reach it refuses the render with 503 `METERING_UNAVAILABLE` (fail closed).
The rate limiter fails open instead (resolvers.ratelimit).

Two things are kept in memory so that a cache hit touches no database (docs/caching.md):
- API calls are counted per (account, day) and written by `flush()`, which the app runs every
  `FLUSH_EVERY` seconds and once at shutdown; a crash loses at most that much of this statistic
  (never quota, never money).
- `quota_headers` reads a per-process snapshot of `used`, moved by this process's reservations
  and read again from the database when older than `USED_TTL`; reservations themselves are
  only ever decided by the database.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from models import Account, LedgerEntry
from resolvers import alerts, ledger, quota
from resolvers.errors import AppError, ServiceUnavailable, TooManyRequests
from resolvers.mail import Mailer
from resolvers.plans import get_plan
from resolvers.pricing import OVERAGE_SERVICE, overage_price
from resolvers.ratelimit import RateDecision, RateLimiter
from resolvers.rollups import IMAGE_SERVICE, bump_daily

if TYPE_CHECKING:
    from resolvers.keycache import KeySnapshot

__all__ = ["IMAGE_SERVICE", "Meter", "RenderTicket", "bump_daily"]

log = logging.getLogger("ogapi.metering")
FLUSH_EVERY = 1.0  # seconds between writes of the API-call counts
USED_TTL = 1.0  # seconds the quota-header snapshot of `used` is trusted
RATE_WAIT = 2.0  # seconds a signed render over the rate limit waits for its turn
# Seconds after which an unsettled quota reservation is known to be orphaned (a render, remote
# images included, never takes this long), and how often each worker looks for such.
RESERVATION_TIMEOUT = 120.0
SWEEP_EVERY = 30.0


@dataclass
class RenderTicket:
    account_id: int
    month: str
    quota: int
    overage: LedgerEntry | None = None  # the charge of an image past the quota, if any
    reservation: int | None = None  # its QuotaReservation (settled or given back once)


def metering_unavailable(exc: Exception) -> ServiceUnavailable:
    log.error("metering store unavailable: %s: %s", type(exc).__name__, exc)
    return ServiceUnavailable(
        "Usage metering is temporarily unavailable, so the request was not processed. "
        "Retry in a few seconds.",
        code="METERING_UNAVAILABLE",
        headers={"Retry-After": "5"},
    )


def _rate_key(account: Account | KeySnapshot) -> str:
    return f"acct:{account.id}"


def _rate_limit_headers(limit: int, remaining: int) -> dict[str, str]:
    return {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining)}


def quota_exceeded(limit: int) -> AppError:
    return AppError(quota.quota_exceeded_message(limit), code="QUOTA_EXCEEDED", status=429)


class Meter:
    def __init__(self, limiter: RateLimiter, mailer: Mailer) -> None:
        self.limiter = limiter
        self.mailer = mailer
        self._alerted: set[str] = set()  # alerts known to be sent (skips queries; not the truth)
        self._calls: Counter[tuple[int, date]] = Counter()  # API calls not yet written
        self._flush_lock = asyncio.Lock()
        # (account id, month) -> (used, time.monotonic() when known): quota headers only.
        self._used: dict[tuple[int, str], tuple[int, float]] = {}
        self._used_reads: dict[tuple[int, str], asyncio.Future[int]] = {}
        self._months: dict[tuple[int, int], str] = {}  # (year, month) -> "YYYY-MM", UTC only

    @staticmethod
    def rate_headers(decision: RateDecision) -> dict[str, str]:
        return _rate_limit_headers(decision.limit, decision.remaining)

    async def rate_limit_headers(
        self, account: Account | KeySnapshot, decision: RateDecision | None
    ) -> dict[str, str]:
        """The X-RateLimit-* of a metered response: after the token the request spent, or, for
        a request that spent none (a cache hit), read without spending one."""
        rate = get_plan(account.plan).requests_per_second
        if decision is None:
            remaining = await self.limiter.remaining(_rate_key(account), rate)
        else:
            remaining = decision.remaining
        return _rate_limit_headers(rate, remaining)

    def _rate_limited(self, decision: RateDecision) -> TooManyRequests:
        exc = TooManyRequests(
            f"Rate limit exceeded: {decision.limit} requests per second on your plan.",
            retry_after=decision.retry_after,
        )
        exc.headers.update(self.rate_headers(decision))
        return exc

    async def check_rate(self, account: Account | KeySnapshot) -> RateDecision:
        """Spend one request of the account's per-second budget, or raise RATE_LIMITED."""
        rate = get_plan(account.plan).requests_per_second
        decision = await self.limiter.hit(_rate_key(account), rate)
        if not decision.allowed:
            raise self._rate_limited(decision)
        return decision

    async def wait_for_rate(
        self, account: Account | KeySnapshot, max_wait: float = RATE_WAIT
    ) -> RateDecision:
        """`check_rate` for a caller that had rather wait than be refused (signed URLs, fetched
        by crawlers: docs/signed-urls.md): over the limit, wait for the turn the limiter names,
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

    async def reserve(self, account: Account, now: datetime) -> RenderTicket:
        """Take one image of the quota before rendering, or raise QUOTA_EXCEEDED.

        Past the quota, a paid plan with overage enabled pays the plan's overage price from the
        credit balance (a `usage` entry, atomically); without enough balance → QUOTA_EXCEEDED.
        """
        limit = quota.account_quota(account)
        try:
            reservation = await quota.try_reserve(account.id, limit, now)
            if reservation is not None:
                self._moved(account.id, quota.month_key(now), 1)
                return RenderTicket(account.id, quota.month_key(now), limit,
                                    reservation=reservation)  # fmt: skip
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
                reservation, used = await quota.force_reserve(account.id, now, entry.id)
                self._known(account.id, quota.month_key(now), used)
            except Exception:
                await ledger.reverse(entry, now, "Overage charge returned: render not started")
                raise
            return RenderTicket(account.id, quota.month_key(now), limit, overage=entry,
                                reservation=reservation)  # fmt: skip
        except AppError:
            raise
        except Exception as exc:
            raise metering_unavailable(exc) from exc

    async def commit(self, ticket: RenderTicket, now: datetime) -> None:
        """The render succeeded: roll it into today's usage and send any quota alert due."""
        try:
            if ticket.reservation is not None:
                await quota.settle(ticket.reservation)  # before anything else: it is delivered
            await bump_daily(ticket.account_id, now, IMAGE_SERVICE, images=1)
            await self._alerts(ticket, now)
        except Exception:  # the image is rendered and counted; don't fail the response
            log.exception("metering commit failed for account %s", ticket.account_id)

    async def _alerts(self, ticket: RenderTicket, now: datetime) -> None:
        used = await quota.used_in_month(ticket.account_id, ticket.month)
        self._known(ticket.account_id, ticket.month, used)
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
        if ticket.reservation is None or await quota.release(ticket.reservation) is None:
            return  # already given back (a sweep that thought its worker gone)
        self._moved(ticket.account_id, ticket.month, -1)
        if ticket.overage is not None:
            await ledger.reverse(
                ticket.overage, now or datetime.now(UTC), "Overage charge returned: render failed"
            )

    async def release_stale(self, older_than: float = RESERVATION_TIMEOUT) -> int:
        """Give back the reservations a worker left behind when it died mid-render (any worker
        may run this: each reservation is given back once). Returns how many."""
        released = 0
        for reservation_id in await quota.stale_reservations(older_than):
            row = await quota.release(reservation_id)
            if row is None:
                continue
            released += 1
            self._moved(row.account_id, row.month, -1)
            if row.overage_entry_id is not None:
                entry = await LedgerEntry.get_or_none(id=row.overage_entry_id)
                if entry is not None:
                    reason = "Overage charge returned: render not finished"
                    await ledger.reverse(entry, datetime.now(UTC), reason)
        if released:
            log.warning("gave back %d quota reservation(s) left by a worker that stopped "
                        "mid-render", released)  # fmt: skip
        return released

    async def run_sweeper(self, older_than: float = RESERVATION_TIMEOUT) -> None:
        """`release_stale` every `SWEEP_EVERY` seconds (and once at start) until cancelled."""
        while True:
            try:
                await self.release_stale(older_than)
            except Exception as exc:  # the database is away: next time
                log.warning("quota reservation sweep failed: %s: %s", type(exc).__name__, exc)
            await asyncio.sleep(min(SWEEP_EVERY, older_than / 2))

    async def record_api_call(self, account_id: int, now: datetime) -> None:
        """Count one API-key request ("API calls made"), successful or not. In memory: written
        by the next `flush()`."""
        self._calls[(account_id, now.astimezone(UTC).date())] += 1

    async def flush(self) -> None:
        """Write the API calls counted so far (one transaction). Tests call it before reading."""
        async with self._flush_lock:
            calls, self._calls = self._calls, Counter()
            if not calls:
                return
            try:
                async with in_transaction():
                    for (account_id, day), n in calls.items():
                        await _bump_calls(account_id, day, n)
                return
            except Exception:
                log.exception("could not write API-call counts; trying row by row")
            for (account_id, day), n in calls.items():  # one bad row must not block the rest
                try:
                    await _bump_calls(account_id, day, n)
                except Exception:
                    log.exception("lost %d API call(s) of account %s on %s", n, account_id, day)

    async def run_flusher(self, every: float = FLUSH_EVERY) -> None:
        """Flush every `every` seconds until cancelled, then once more."""
        try:
            while True:
                await asyncio.sleep(every)
                await self.flush()
        finally:
            await asyncio.shield(self.flush())

    def _known(self, account_id: int, month: str, used: int) -> None:
        if len(self._used) > 100_000:
            self._used.clear()
        self._used[(account_id, month)] = (used, time.monotonic())

    def _moved(self, account_id: int, month: str, delta: int) -> None:
        entry = self._used.get((account_id, month))
        if entry is not None:
            self._used[(account_id, month)] = (max(0, entry[0] + delta), entry[1])

    async def _used_now(self, account_id: int, now: datetime) -> int:
        """`used` from the snapshot when fresh, else read once (concurrent callers share it)."""
        month = self._months.get((now.year, now.month)) if now.tzinfo is UTC else None
        if month is None:
            month = quota.month_key(now)
        entry = self._used.get((account_id, month))
        if entry is not None and time.monotonic() - entry[1] < USED_TTL:
            return entry[0]
        if now.tzinfo is UTC and len(self._months) < 1000:
            self._months[(now.year, now.month)] = month
        key = (account_id, month)
        pending = self._used_reads.get(key)
        if pending is None:
            pending = asyncio.ensure_future(quota.used_in_month(account_id, month))
            self._used_reads[key] = pending
            try:
                used = await pending
            finally:
                del self._used_reads[key]
            self._known(account_id, month, used)
            return used
        return await asyncio.shield(pending)

    async def quota_headers(self, account: Account | KeySnapshot, now: datetime) -> dict[str, str]:
        """X-Quota-* for `account`: exact right after this process rendered for it (the commit
        reads `used`), otherwise at most `USED_TTL` seconds old."""
        limit = quota.account_quota(account)
        return usage_headers(limit, await self._used_now(account.id, now))


async def _bump_calls(account_id: int, day: date, n: int) -> None:
    await bump_daily(account_id, datetime(day.year, day.month, day.day, tzinfo=UTC),
                     IMAGE_SERVICE, api_calls=n)  # fmt: skip


def usage_headers(limit: int, used: int) -> dict[str, str]:
    """The X-Quota-* headers (image responses and GET /api/user/usage)."""
    return {
        "X-Quota-Limit": str(limit),
        "X-Quota-Used": str(used),
        "X-Quota-Remaining": str(max(0, limit - used)),
    }
