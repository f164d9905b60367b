"""Quota reservation and overage through the Meter (docs/metering.md), on SQLite and on
PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from tortoise import Tortoise

from models import Account, DailyUsage, LedgerEntry, PlanId
from resolvers.errors import AppError
from resolvers.ledger import entries as ledger
from resolvers.limits.per_second import MemoryRateLimiter
from resolvers.mail import Mailer
from resolvers.metering import quota
from resolvers.metering.meter import Meter, RenderTicket

NOW = datetime(2026, 4, 30, 23, 0, tzinfo=UTC)


@pytest.fixture
def meter() -> Meter:
    return Meter(MemoryRateLimiter(), Mailer("test@localhost"))


async def outcomes(coros) -> tuple[list[RenderTicket], list[str]]:
    results = await asyncio.gather(*coros, return_exceptions=True)
    for r in results:
        if not isinstance(r, (RenderTicket, AppError)):
            raise r
    return (
        [r for r in results if isinstance(r, RenderTicket)],
        [r.code for r in results if isinstance(r, AppError)],
    )


async def test_exactly_r_of_n_concurrent_reservations(db, meter):
    account = await Account.create(email="q@example.com", password_hash="x", custom_quota=15)
    ok, refused = await outcomes(meter.reserve(account, NOW) for _ in range(40))
    assert len(ok) == 15 and refused == ["QUOTA_EXCEEDED"] * 25
    assert await quota.used_this_month(account.id, NOW) == 15
    with pytest.raises(AppError) as info:
        await meter.reserve(account, NOW)
    assert (info.value.status, info.value.message) == (
        429,
        "Monthly quota exceeded. Limit: 15 images.",
    )


async def test_overage_charges_exactly_what_the_balance_covers(db, meter):
    account = await Account.create(
        email="o@example.com",
        password_hash="x",
        plan=PlanId.STARTER,
        custom_quota=2,
        overage_enabled=True,
    )
    await ledger.grant(account.id, "0.10", NOW)  # $0.02 per image on starter: 5 images
    ok, refused = await outcomes(meter.reserve(account, NOW) for _ in range(12))
    assert (len(ok), len(refused)) == (7, 5) and set(refused) == {"QUOTA_EXCEEDED"}
    assert sum(t.overage is not None for t in ok) == 5
    assert await ledger.balance_of(account.id) == 0
    assert await quota.used_this_month(account.id, NOW) == 7  # used keeps counting past quota
    usage = await LedgerEntry.filter(account_id=account.id, type="usage")
    assert [(e.service, e.amount, e.images) for e in usage] == [
        ("og_image_overage", Decimal("0.02"), 1)
    ] * 5
    for t in ok:
        await meter.commit(t, NOW)
    rows = {r.service: r for r in await DailyUsage.filter(account_id=account.id)}
    assert rows["og_image"].images == 7
    assert (rows["og_image_overage"].images, rows["og_image_overage"].spend) == (0, Decimal("0.1"))


async def test_release_returns_quota_and_overage_charge(db, meter):
    account = await Account.create(
        email="r@example.com",
        password_hash="x",
        plan=PlanId.PRO,
        custom_quota=1,
        overage_enabled=True,
    )
    await ledger.grant(account.id, "1", NOW)
    first = await meter.reserve(account, NOW)
    second = await meter.reserve(account, NOW)
    assert first.overage is None and second.overage is not None
    assert await ledger.balance_of(account.id) == Decimal("0.99")
    await meter.release(second, NOW)
    await meter.release(first, NOW)
    assert await quota.used_this_month(account.id, NOW) == 0
    assert await ledger.balance_of(account.id) == Decimal("1")
    refund = await LedgerEntry.get(account_id=account.id, type="refund")
    assert (refund.service, refund.amount) == ("og_image_overage", Decimal("0.01"))


@pytest.mark.parametrize(("plan", "overage_enabled"), [(PlanId.FREE, True), (PlanId.AGENCY, False)])
async def test_no_overage_without_a_paid_plan_and_the_setting(db, meter, plan, overage_enabled):
    account = await Account.create(
        email="n@example.com",
        password_hash="x",
        plan=plan,
        custom_quota=0,
        overage_enabled=overage_enabled,
    )
    await ledger.grant(account.id, "50", NOW)
    with pytest.raises(AppError) as info:
        await meter.reserve(account, NOW)
    assert info.value.code == "QUOTA_EXCEEDED"
    assert await ledger.balance_of(account.id) == 50


async def test_month_rollover_resets_the_quota(settings, meter):
    from models.db import database

    async with database(settings.database_url):
        account = await Account.create(email="m@example.com", password_hash="x", custom_quota=2)
        last_second = datetime(2026, 1, 31, 23, 59, 59, tzinfo=UTC)
        await meter.reserve(account, last_second)
        await meter.reserve(account, last_second)
        with pytest.raises(AppError):
            await meter.reserve(account, last_second)
        new_month = datetime(2026, 2, 1, 0, 0, 0, tzinfo=UTC)
        ticket = await meter.reserve(account, new_month)
        assert ticket.month == "2026-02"
        assert await quota.used_in_month(account.id, "2026-01") == 2
        assert await quota.used_in_month(account.id, "2026-02") == 1
        summary = await quota.usage_summary(account, new_month)
        assert summary.reset_date == datetime(2026, 3, 1, tzinfo=UTC)


async def test_store_failure_fails_closed_with_503(settings, meter):
    from models.db import database

    async with database(settings.database_url):
        account = await Account.create(email="f@example.com", password_hash="x")
        await Tortoise.get_connection("default").execute_script("DROP TABLE monthly_usage")
        with pytest.raises(AppError) as info:
            await meter.reserve(account, NOW)
    assert (info.value.status, info.value.code) == (503, "METERING_UNAVAILABLE")
    assert info.value.headers["Retry-After"] == "5"


async def test_orphaned_reservations_are_given_back_once(db, meter):
    """A worker that died mid-render leaves its reservation (and overage charge) behind; the
    sweep gives back only reservations older than the timeout, each exactly once."""
    from models import QuotaReservation

    account = await Account.create(email="orphan@example.com", password_hash="x",
                                   plan=PlanId.STARTER, custom_quota=1,
                                   overage_enabled=True)  # fmt: skip
    await ledger.grant(account.id, "1.00", NOW)
    in_quota = await meter.reserve(account, NOW)
    overage = await meter.reserve(account, NOW)  # paid from credits
    assert overage.overage is not None and await QuotaReservation.all().count() == 2
    survivors = [Meter(MemoryRateLimiter(), Mailer("t@localhost")) for _ in range(3)]
    assert await survivors[0].release_stale(older_than=60) == 0  # young: renders in flight
    assert await meter.release_stale(older_than=0) == 0  # its own renders: never
    assert await quota.used_this_month(account.id, NOW) == 2

    # `meter`'s worker died: the other workers' sweeps find its reservations.
    swept = await asyncio.gather(*(s.release_stale(older_than=0) for s in survivors))
    assert sum(swept) == 2  # concurrent sweeps (several workers): each given back once
    assert await quota.used_this_month(account.id, NOW) == 0
    assert await ledger.balance_of(account.id) == Decimal("1.00")  # the overage refunded
    await meter.release(in_quota, NOW)  # the "dead" render's own release: nothing more
    await meter.release(overage, NOW)
    assert await quota.used_this_month(account.id, NOW) == 0
    assert await LedgerEntry.filter(account_id=account.id, type="refund").count() == 1

    settled = await meter.reserve(account, NOW)
    await meter.commit(settled, NOW)  # delivered: settled, never swept
    assert await survivors[0].release_stale(older_than=0) == 0
    assert await quota.used_this_month(account.id, NOW) == 1


async def test_a_live_workers_reservations_are_kept_alive(db, meter):
    """Renders in progress are marked alive at every sweep, so another worker's sweep never
    takes them, however long they run; once their worker stops marking them, it does."""
    from datetime import timedelta

    from models import QuotaReservation

    account = await Account.create(email="alive@example.com", password_hash="x")
    ticket = await meter.reserve(account, NOW)
    assert ticket.reservation is not None
    old = datetime.now(UTC) - timedelta(seconds=600)  # reserved ten minutes ago
    await QuotaReservation.filter(id=ticket.reservation).update(created_at=old)
    other = Meter(MemoryRateLimiter(), Mailer("t@localhost"))
    sweeper = asyncio.ensure_future(meter.run_sweeper(older_than=60))  # marks it alive
    try:
        for _ in range(100):
            row = await QuotaReservation.get(id=ticket.reservation)
            if row.alive_at is not None:
                break
            await asyncio.sleep(0.05)
    finally:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
    assert await other.release_stale(older_than=60) == 0  # older than 60 s, but alive
    await QuotaReservation.filter(id=ticket.reservation).update(alive_at=old)  # worker died
    assert await other.release_stale(older_than=60) == 1
    assert await quota.used_this_month(account.id, NOW) == 0


async def test_a_render_delivered_after_its_reservation_was_given_back_counts_once(db, meter):
    """A worker stalled past the timeout (its sweeps stopped): a survivor gave its reservation
    and overage charge back; the render then finishes after all. It is counted once."""
    from models import QuotaReservation

    account = await Account.create(email="late@example.com", password_hash="x",
                                   plan=PlanId.STARTER, custom_quota=1,
                                   overage_enabled=True)  # fmt: skip
    await ledger.grant(account.id, "1.00", NOW)
    in_quota = await meter.reserve(account, NOW)
    overage = await meter.reserve(account, NOW)
    assert overage.overage is not None
    survivor = Meter(MemoryRateLimiter(), Mailer("t@localhost"))
    assert await survivor.release_stale(older_than=0) == 2
    assert await quota.used_this_month(account.id, NOW) == 0
    assert await ledger.balance_of(account.id) == Decimal("1.00")

    await meter.commit(in_quota, NOW)  # the stalled worker delivers both after all
    await meter.commit(overage, NOW)
    assert await quota.used_this_month(account.id, NOW) == 2
    price = overage.overage.amount
    assert await ledger.balance_of(account.id) == Decimal("1.00") - price  # charged once
    entries = await LedgerEntry.filter(account_id=account.id, service="og_image_overage")
    assert sorted((e.type.value, e.external_ref or "") for e in entries) == [
        ("refund", f"reversal:{overage.overage.id}"),
        ("usage", ""),
        ("usage", f"redelivered:{overage.overage.id}"),
    ]
    assert await QuotaReservation.all().count() == 0
    assert await survivor.release_stale(older_than=0) == 0
    assert await quota.used_this_month(account.id, NOW) == 2
