"""The GraphQL read side (resolvers.reports) gives the same answers on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from models import Account, DailyUsage, LedgerEntry, TransactionType
from resolvers import reports, rollups


async def _seed() -> Account:
    account = await Account.create(email="r@example.com", password_hash="x", balance=Decimal("7.5"))
    for i, (day, images, calls, spend) in enumerate(
        [
            (date(2026, 9, 30), 4, 9, "0.040000"),
            (date(2026, 10, 1), 2, 3, "0.020000"),
            (date(2026, 11, 20), 5, 7, "0.050000"),
            (date(2026, 11, 21), 1, 1, "0.000001"),
        ]
    ):
        await DailyUsage.create(
            account=account, day=day, service="og_image" if i % 2 else "ai_data",
            images=images, api_calls=calls, spend=Decimal(spend),
        )  # fmt: skip
    at = datetime(2026, 11, 1, tzinfo=UTC)
    for i in range(5):
        await LedgerEntry.create(
            account=account, created_at=at + timedelta(hours=i), type=TransactionType.USAGE,
            service="og_image_overage", amount=Decimal("0.01"), images=1, balance_after=0,
        )  # fmt: skip
    await rollups.rebuild_totals([account.id])
    return account


async def test_series_balance_and_pages(db):
    account = await _seed()
    today = date(2026, 11, 21)
    daily = await reports.daily_usage(account.id, today, days=30)
    assert len(daily) == 30 and daily[-1].day == today
    # Oct 23 .. Nov 21; images are OG renders only (og_image), calls and spend add up
    assert [(d.images, d.api_calls, d.spend) for d in daily if d.api_calls] == [
        (0, 7, Decimal("0.050000")),
        (1, 1, Decimal("0.000001")),
    ]
    monthly = await reports.monthly_usage(account.id, today, months=3)
    assert [(m.month, m.images, m.spend) for m in monthly] == [
        ("2026-09", 0, Decimal("0.040000")),
        ("2026-10", 2, Decimal("0.020000")),
        ("2026-11", 1, Decimal("0.050001")),
    ]
    (stats,) = await reports.balance_stats_many([account])
    assert stats.current == Decimal("7.500000") and stats.total_spent == Decimal("0.050000")
    assert (stats.api_calls, stats.images_processed) == (20, 12)
    first = await reports.transactions_page(account.id, first=2)
    rest = await reports.transactions_page(account.id, first=10, after=first.cursors[-1])
    ids = [r.id for r in first.rows + rest.rows]
    assert len(ids) == 5 and ids == sorted(ids, reverse=True) and not rest.has_next
