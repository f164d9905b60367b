"""resolvers.reports.rows.fetch_rows (Tortoise's `_make_query` / `_db`, see
docs/architecture.md) returns the rows Tortoise's own `await query` returns, before the ORM's
per-cell conversion: the same rows, the same order, the same values once converted as the read
side converts them. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from models import Account, LedgerEntry, TransactionType
from resolvers.pricing import money
from resolvers.reports.rows import as_datetime, fetch_rows


async def test_fetch_rows_matches_the_orm(db):
    account = await Account.create(email="rows@example.com", password_hash="x")
    other = await Account.create(email="other@example.com", password_hash="x")
    at = datetime(2026, 11, 1, 12, 30, tzinfo=UTC)
    for i in range(7):
        await LedgerEntry.create(
            account=account if i != 3 else other, created_at=at + timedelta(minutes=i),
            type=TransactionType.USAGE if i % 2 else TransactionType.PURCHASE,
            service="ai_data" if i % 3 else "credits", amount=Decimal(f"0.{i}00001"),
            tokens=10**12 + i, images=i, balance_after=Decimal("1.5"),
        )  # fmt: skip

    def query():
        return (
            LedgerEntry.filter(account_id=account.id, id__lt=10**6)
            .exclude(service="nothing")
            .order_by("-created_at", "-id")
            .limit(4)
            .values("id", "created_at", "type", "service", "amount", "tokens", "images")
        )

    orm = await query()
    raw = await fetch_rows(query())
    assert len(raw) == len(orm) == 4
    assert [r["id"] for r in raw] == [r["id"] for r in orm]
    for r, o in zip(raw, orm, strict=True):
        assert set(r) == set(o)
        assert as_datetime(r["created_at"]) == o["created_at"]
        assert TransactionType(r["type"]) == o["type"]
        assert money(r["amount"]) == money(o["amount"])
        assert (r["service"], r["tokens"], r["images"]) == (o["service"], o["tokens"], o["images"])
