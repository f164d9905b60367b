"""resolvers.ledger.exports: the ledger CSV neutralises spreadsheet formulas in its text cells."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from models import Account, LedgerEntry, TransactionType
from resolvers.ledger.exports import ledger_csv

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
TRIGGERS = ["=", "+", "-", "@", "\t", "\r"]


async def _csv(account_id: int) -> list[list[str]]:
    text = b"".join([chunk async for chunk in ledger_csv(account_id)]).decode()
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("first", TRIGGERS)
async def test_text_cells_starting_a_formula_get_a_quote(db, first):
    a = await Account.create(email="csv@example.com", password_hash="x")
    payload = first + 'HYPERLINK("http://evil.example","x")'
    await LedgerEntry.create(
        account_id=a.id, created_at=NOW, type=TransactionType.USAGE, service=first + "svc",
        amount="1.5", balance_after="2", description=payload, external_ref=first + "ref",
    )  # fmt: skip
    header, row = await _csv(a.id)
    cells = dict(zip(header, row, strict=True))
    assert cells["description"] == "'" + payload
    assert cells["service"] == "'" + first + "svc"
    assert cells["reference"] == "'" + first + "ref"
    assert (cells["amount"], cells["balance_after"]) == ("1.500000", "2.000000")  # numbers as is


async def test_ordinary_text_is_left_alone(db):
    a = await Account.create(email="csv@example.com", password_hash="x")
    await LedgerEntry.create(
        account_id=a.id, created_at=NOW, type=TransactionType.PURCHASE, service="credits",
        amount="10", balance_after="10", description="Top-up = 10 - 0 (+ tax) @ once",
    )  # fmt: skip
    header, row = await _csv(a.id)
    cells = dict(zip(header, row, strict=True))
    assert (cells["service"], cells["description"], cells["reference"]) == (
        "credits", "Top-up = 10 - 0 (+ tax) @ once", ""
    )  # fmt: skip
