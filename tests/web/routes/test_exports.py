"""GET /api/transactions.csv (docs/metering.md): session auth, filename, quoting, UTC, whole
ledger."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta, timezone

from models import LedgerEntry, TransactionType
from resolvers.ledger import entries as ledger


async def test_csv_export(client, signup, clock):
    clock.set(datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC))
    user = await signup()
    t0 = datetime(2026, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))  # 2025-12-31T23:00Z
    await ledger.grant(user.id, "25", t0, description='Top-up, "spring" promo')
    await ledger.charge(
        user.id, "0.02", "og_image_overage", t0, images=1, description="=HYPERLINK(1)"
    )
    await ledger.refund(user.id, "1.5", t0, description="line one\nline two")
    resp = await client.get("/api/transactions.csv")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/csv")
    disposition = resp.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="token_usage_history_2026-02-03_04-05-06.csv"'
    rows = list(csv.reader(io.StringIO(await resp.text())))
    assert rows[0][:5] == ["id", "created_at", "type", "service", "amount"]
    assert [r[2] for r in rows[1:]] == ["purchase", "usage", "refund"]
    assert rows[1][1] == "2025-12-31T23:00:00Z"
    assert rows[1][4] == "25.000000" and rows[1][7] == 'Top-up, "spring" promo'
    assert rows[2][7] == "'=HYPERLINK(1)"  # not run as a formula by spreadsheets
    assert rows[3][7] == "line one\nline two" and rows[3][8] == "26.480000"


async def test_csv_streams_a_long_history(client, signup):
    user = await signup()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    await LedgerEntry.bulk_create(
        [
            LedgerEntry(
                account_id=user.id,
                created_at=now,
                type=TransactionType.PURCHASE,
                service="credits",
                amount="1",
                balance_after=str(i + 1),
            )
            for i in range(2_500)  # several keyset pages
        ]
    )
    resp = await client.get("/api/transactions.csv")
    text = await resp.text()
    assert resp.headers.get("Transfer-Encoding") == "chunked"
    ids = [int(r[0]) for r in list(csv.reader(io.StringIO(text)))[1:]]
    assert len(ids) == 2_500 and ids == sorted(ids)
    assert re.match(
        r"token_usage_history_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d\.csv",
        resp.headers["Content-Disposition"].split('"')[1],
    )


async def test_csv_needs_a_session(client, signup):
    user = await signup()
    await client.post("/api/auth/logout")
    resp = await client.get("/api/transactions.csv", headers={"X-API-Key": user.api_key})
    assert resp.status == 401
