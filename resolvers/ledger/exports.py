"""The ledger as CSV (docs/metering.md), produced in constant memory.

Rows are read in keyset-paginated batches (by id) and turned into CSV text chunk by chunk, so
memory stays flat however long the history. Timestamps are UTC ISO 8601 with `Z`; amounts keep
their 6 decimal places. Text cells that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`
first) are prefixed with `'` (OWASP's CSV-injection advice).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from models import LedgerEntry
from resolvers.pricing import money
from resolvers.timefmt import iso_utc

HEADER = [
    "id",
    "created_at",
    "type",
    "service",
    "amount",
    "tokens",
    "images",
    "description",
    "balance_after",
    "reference",
]
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def filename(now: datetime) -> str:
    return now.astimezone(UTC).strftime("token_usage_history_%Y-%m-%d_%H-%M-%S.csv")


def _text(value: str | None) -> str:
    value = value or ""
    return "'" + value if value.startswith(_FORMULA) else value


def _row(e: LedgerEntry) -> list[str]:
    return [
        str(e.id),
        iso_utc(e.created_at),
        e.type.value,
        _text(e.service),
        f"{money(e.amount):f}",
        str(e.tokens),
        str(e.images),
        _text(e.description),
        f"{money(e.balance_after):f}",
        _text(e.external_ref),
    ]


async def ledger_csv(account_id: int, batch: int = 1000) -> AsyncIterator[bytes]:
    """The account's whole ledger, oldest first, as UTF-8 CSV chunks (header first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    last_id = 0
    while True:
        rows = (
            await LedgerEntry.filter(account_id=account_id, id__gt=last_id)
            .order_by("id")
            .limit(batch)
        )
        for entry in rows:
            writer.writerow(_row(entry))
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
        if len(rows) < batch:
            return
        last_id = rows[-1].id
