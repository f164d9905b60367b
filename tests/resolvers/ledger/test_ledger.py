"""The credit ledger (docs/metering.md): exact Decimal money, balance == Σ entries, never
negative."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from models import Account, DailyUsage, LedgerEntry, Notification, NotificationKind, TransactionType
from resolvers.errors import AppError, InvalidParameter
from resolvers.ledger import entries as ledger

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


async def make_account(email: str = "a@example.com", **fields) -> Account:
    return await Account.create(email=email, password_hash="x", **fields)


async def ledger_sum(account_id: int) -> Decimal:
    total = Decimal(0)
    for e in await LedgerEntry.filter(account_id=account_id):
        total += e.amount if e.type != TransactionType.USAGE else -e.amount
    return total


async def test_grant_charge_refund_are_exact(db):
    a = await make_account()
    await ledger.grant(a.id, "0.30", NOW)
    for _ in range(3):
        await ledger.charge(a.id, "0.1", "ai_images", NOW, images=1000)
    assert await ledger.balance_of(a.id) == Decimal("0.000000")
    await ledger.refund(a.id, "0.000001", NOW, description="sorry")
    assert await ledger.balance_of(a.id) == Decimal("0.000001")
    assert await ledger_sum(a.id) == Decimal("0.000001")
    entries = await LedgerEntry.filter(account_id=a.id).order_by("id")
    assert [e.balance_after for e in entries] == [
        Decimal("0.3"),
        Decimal("0.2"),
        Decimal("0.1"),
        Decimal("0"),
        Decimal("0.000001"),
    ]
    assert [e.type for e in entries] == ["purchase", "usage", "usage", "usage", "refund"]


async def test_charge_never_goes_below_zero(db):
    a = await make_account()
    await ledger.grant(a.id, "0.02", NOW)
    await ledger.charge(a.id, "0.02", "og_image_overage", NOW)  # exactly the balance: allowed
    with pytest.raises(ledger.InsufficientCredits):
        await ledger.charge(a.id, "0.000001", "og_image_overage", NOW)
    assert await ledger.balance_of(a.id) == 0
    assert await LedgerEntry.filter(account_id=a.id).count() == 2


@pytest.mark.parametrize(
    "bad", ["0", "-1", "abc", "1.0000001", "NaN", "Infinity", 1.5, True, None, "1000000.01"]
)
def test_amounts_are_validated(bad):
    with pytest.raises(InvalidParameter):
        ledger.parse_amount(bad)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("1e30", "amount must be at most 1000000"),
        ("9" * 40, "amount must be at most 1000000"),
        ("1E+999999999", "amount must be at most 1000000"),
        ("1000000.000001", "amount must be at most 1000000"),
        ("1e-30", "amount has more than 6 decimal places"),
        ("1e-1000000000", "amount has more than 6 decimal places"),
    ],
)
async def test_amounts_beyond_decimal_precision_are_clear_errors(db, bad, message):
    # quantizing these needs more than 28 digits: InvalidOperation, not a traceback
    a = await make_account()
    with pytest.raises(InvalidParameter) as info:
        await ledger.grant(a.id, bad, NOW)
    assert info.value.message == message
    assert await LedgerEntry.filter(account_id=a.id).count() == 0


async def test_concurrent_charges_spend_exactly_the_balance(db):
    a = await make_account()
    await ledger.grant(a.id, "1.00", NOW)  # covers exactly 50 charges of 0.02
    results = await asyncio.gather(
        *(ledger.charge(a.id, "0.02", "og_image_overage", NOW) for _ in range(80)),
        return_exceptions=True,
    )
    ok = [r for r in results if isinstance(r, LedgerEntry)]
    refused = [r for r in results if isinstance(r, ledger.InsufficientCredits)]
    assert (len(ok), len(refused)) == (50, 30)
    assert await ledger.balance_of(a.id) == 0
    assert await ledger_sum(a.id) == 0
    afters = sorted(e.balance_after for e in ok)
    assert afters == [Decimal("0.02") * i for i in range(50)]  # each a distinct, exact step


async def test_external_ref_is_replay_safe_even_concurrently(db):
    a = await make_account()
    results = await asyncio.gather(
        *(ledger.grant(a.id, "5", NOW, external_ref="cs_test_123") for _ in range(10))
    )
    assert len({r.id for r in results}) == 1
    assert await ledger.balance_of(a.id) == Decimal(5)
    with pytest.raises(AppError) as info:
        await ledger.grant(a.id, "6", NOW, external_ref="cs_test_123")
    assert info.value.code == "IDEMPOTENCY_CONFLICT"


async def test_purchase_refund_stops_at_zero(db):
    a = await make_account()
    await ledger.grant(a.id, "10", NOW, external_ref="pi_1")
    await ledger.charge(a.id, "7.5", "ai_data", NOW, tokens=12_500_000)
    entry = await ledger.purchase_refund(a.id, "10", NOW, external_ref="ch_1")
    assert entry.amount == Decimal("2.5") and entry.service == "purchase_refund"
    assert entry.type == TransactionType.USAGE
    assert await ledger.balance_of(a.id) == 0
    assert await ledger.purchase_refund(a.id, "10", NOW, external_ref="ch_2") is None
    again = await ledger.purchase_refund(a.id, "10", NOW, external_ref="ch_1")
    assert again.id == entry.id


async def test_record_usage_uses_the_price_book(db):
    a = await make_account()
    await ledger.grant(a.id, "100", NOW)
    cases = [
        ("ai_images", {"images": 1234}, "0.1234"),
        ("ai_data", {"tokens": 1_000_000}, "0.6"),
        ("ai_data_cached", {"tokens": 2_000_000}, "0.15"),
        ("ai_data_completion", {"tokens": 1_500}, "0.0015"),
        ("ai_data", {"tokens": 1}, "0.000001"),  # 0.0000006 rounds half-up to one micro-dollar
    ]
    for service, units, expected in cases:
        entry = await ledger.record_usage(a.id, service, NOW, **units)
        assert entry.amount == Decimal(expected), service
    with pytest.raises(InvalidParameter):
        await ledger.record_usage(a.id, "gpu_minutes", NOW, tokens=5)
    with pytest.raises(InvalidParameter):
        await ledger.record_usage(a.id, "ai_data", NOW)
    row = await DailyUsage.get(account_id=a.id, service="ai_data", day=NOW.date())
    assert (row.tokens, row.spend) == (1_000_001, Decimal("0.600001"))


async def test_low_balance_notification_once_per_crossing(db):
    a = await make_account()
    await ledger.grant(a.id, "1.50", NOW)
    await asyncio.gather(*(ledger.charge(a.id, "0.25", "ai_images", NOW) for _ in range(6)))
    lows = await Notification.filter(account_id=a.id, kind=NotificationKind.LOW_BALANCE)
    assert len(lows) == 1 and "$0.750000" in lows[0].message
    await ledger.grant(a.id, "5", NOW)
    await ledger.charge(a.id, "5", "ai_images", NOW)
    assert (
        await Notification.filter(account_id=a.id, kind=NotificationKind.LOW_BALANCE).count() == 2
    )


async def test_reverse_returns_a_charge_once(db):
    a = await make_account()
    await ledger.grant(a.id, "1", NOW)
    charge = await ledger.charge(a.id, "0.01", "og_image_overage", NOW, images=1, rollup="spend")
    r1 = await ledger.reverse(charge, NOW, "render failed")
    r2 = await ledger.reverse(charge, NOW, "render failed")
    assert r1.id == r2.id and r1.type == TransactionType.REFUND
    assert await ledger.balance_of(a.id) == Decimal(1)
    row = await DailyUsage.get(account_id=a.id, service="og_image_overage")
    assert (row.spend, row.images) == (Decimal(0), 0)
