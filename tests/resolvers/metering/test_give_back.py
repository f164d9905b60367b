"""A reservation and its overage charge move together (docs/metering.md#overage): a fault
between the steps (the connection lost, the process killed) leaves both or neither, and a
later sweep refunds exactly once. On SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from models import Account, LedgerEntry, PlanId, QuotaReservation, TransactionType
from resolvers import rollups
from resolvers.errors import AppError
from resolvers.ledger import entries as ledger
from resolvers.ledger import spending_cap
from resolvers.limits.per_second import MemoryRateLimiter
from resolvers.mail import Mailer
from resolvers.metering import quota
from resolvers.metering.meter import Meter

NOW = datetime(2026, 4, 12, 9, 0, tzinfo=UTC)
PRICE = Decimal("0.02")  # starter's overage price


def _worker() -> Meter:
    return Meter(MemoryRateLimiter(), Mailer("t@localhost"))


class Lost(ConnectionError):
    """The injected fault: the database connection lost mid-transaction."""


@pytest.fixture
def refunds_fail(monkeypatch):
    """Make the refund's write fail after its entry is inserted: `fail(n)` fails every n-th
    refund (1: all), `fail(0)` none."""
    original = rollups.bump_totals
    every = {"n": 1, "seen": 0}

    async def bump_totals(entry):
        if entry.type == TransactionType.REFUND and every["n"]:
            every["seen"] += 1
            if every["seen"] % every["n"] == 0:
                raise Lost("connection lost while refunding")
        return await original(entry)

    monkeypatch.setattr(rollups, "bump_totals", bump_totals)

    def fail(n: int) -> None:
        every["n"] = n

    return fail


async def _paying_account(email: str) -> Account:
    """A starter account with one image of quota, already used, and $1.00 of credits: every
    image is paid overage."""
    account = await Account.create(email=email, password_hash="x", plan=PlanId.STARTER,
                                   custom_quota=1, overage_enabled=True)  # fmt: skip
    await ledger.grant(account.id, "1.00", NOW)
    meter = _worker()
    await meter.commit(await meter.reserve(account, NOW), NOW)
    return account


async def _refunds(account_id: int) -> list[str | None]:
    rows = await LedgerEntry.filter(account_id=account_id, type="refund")
    return [r.external_ref for r in rows]


async def test_a_failed_render_whose_refund_fails_keeps_its_reservation(db, refunds_fail):
    account = await _paying_account("release@example.com")
    meter = _worker()
    ticket = await meter.reserve(account, NOW)
    assert ticket.overage is not None
    with contextlib.suppress(Lost):
        await meter.release(ticket, NOW)  # the render failed; the refund's write is lost
    # Neither half: the reservation, its `used` and the charge all as before.
    assert await QuotaReservation.filter(id=ticket.reservation).exists()
    assert await quota.used_this_month(account.id, NOW) == 2
    assert await ledger.balance_of(account.id) == Decimal("1.00") - PRICE
    assert await _refunds(account.id) == []
    assert await spending_cap.spent(account.id, "2026-04") == PRICE

    refunds_fail(0)  # the database is back: the sweep finds it (no longer marked alive)
    assert await _worker().release_stale(older_than=0) == 1
    assert await _worker().release_stale(older_than=0) == 0
    assert await quota.used_this_month(account.id, NOW) == 1
    assert await ledger.balance_of(account.id) == Decimal("1.00")
    assert await _refunds(account.id) == [f"reversal:{ticket.overage.id}"]
    assert await spending_cap.spent(account.id, "2026-04") == 0


async def test_a_sweep_cut_off_mid_give_back_leaves_it_whole(db, refunds_fail):
    """The worker died mid-render; the sweeping worker loses its connection between giving
    the reservation back and refunding its charge. A later sweep refunds it, once."""
    account = await _paying_account("sweep@example.com")
    dead = _worker()
    ticket = await dead.reserve(account, NOW)
    assert ticket.overage is not None
    survivor = _worker()
    with pytest.raises(Lost):
        await survivor.release_stale(older_than=0)
    assert await QuotaReservation.filter(id=ticket.reservation).exists()
    assert await quota.used_this_month(account.id, NOW) == 2
    assert await ledger.balance_of(account.id) == Decimal("1.00") - PRICE
    assert await _refunds(account.id) == []

    refunds_fail(0)
    swept = await asyncio.gather(*(_worker().release_stale(older_than=0) for _ in range(3)))
    assert sum(swept) == 1  # several workers' sweeps: given back and refunded once
    await dead.release(ticket, NOW)  # its own late release: nothing more
    assert await quota.used_this_month(account.id, NOW) == 1
    assert await ledger.balance_of(account.id) == Decimal("1.00")
    assert await _refunds(account.id) == [f"reversal:{ticket.overage.id}"]


async def test_an_overage_reserve_cut_off_charges_nothing(db, monkeypatch, refunds_fail):
    """The connection is lost after the charge, before the reservation is written (and so is
    any refund attempted after it): nothing is charged, nothing counted."""
    account = await _paying_account("reserve@example.com")

    async def lost(*args, **kwargs):
        raise Lost("connection lost while reserving")

    monkeypatch.setattr(quota, "_reservation", lost)
    with pytest.raises(AppError) as info:
        await _worker().reserve(account, NOW)
    assert info.value.code == "METERING_UNAVAILABLE"
    assert await ledger.balance_of(account.id) == Decimal("1.00")
    assert await quota.used_this_month(account.id, NOW) == 1
    assert not await LedgerEntry.filter(account_id=account.id, service="og_image_overage")
    assert await spending_cap.spent(account.id, "2026-04") == 0
    assert not await QuotaReservation.all().exists()


async def test_concurrent_charges_give_backs_and_sweeps_stay_whole(db, refunds_fail, caplog):
    """Workers charge, fail and give back overage images while others sweep, and every
    second refund's write is lost: each charge is still either reserved or refunded, never
    neither, with no lock waits in a cycle (deadlocks) on PostgreSQL; then the sweep refunds
    what is left, each once."""
    account = await _paying_account("busy@example.com")
    refunds_fail(2)
    workers = [_worker() for _ in range(4)]

    async def render_fails(worker: Meter) -> None:
        await worker.release(await worker.reserve(account, NOW), NOW)

    caplog.set_level(logging.ERROR, "ogapi.metering")
    jobs = [render_fails(workers[i % 4]) for i in range(16)]
    jobs += [workers[i].release_stale(older_than=0) for i in range(4)]
    results = await asyncio.gather(*jobs, return_exceptions=True)
    for r in results:  # only the injected fault (a sweep that met it), nothing else
        assert r is None or isinstance(r, (int, Lost)), repr(r)
    for record in caplog.records:
        assert record.exc_info and isinstance(record.exc_info[1], Lost), record.getMessage()

    charges = await LedgerEntry.filter(account_id=account.id, type="usage")
    assert len(charges) == 16
    reserved = set(await QuotaReservation.all().values_list("overage_entry_id", flat=True))
    refunded = set(await _refunds(account.id))
    for charge in charges:  # exactly one of the two, never neither
        assert (charge.id in reserved) != (f"reversal:{charge.id}" in refunded), charge.id
    assert await quota.used_this_month(account.id, NOW) == 1 + len(reserved)

    refunds_fail(0)
    swept = await asyncio.gather(*(_worker().release_stale(older_than=0) for _ in range(3)))
    assert sum(swept) == len(reserved)
    refs = await _refunds(account.id)
    assert sorted(refs) == sorted(f"reversal:{c.id}" for c in charges)  # each once
    assert await ledger.balance_of(account.id) == Decimal("1.00")
    assert await quota.used_this_month(account.id, NOW) == 1
    assert await spending_cap.spent(account.id, "2026-04") == 0
