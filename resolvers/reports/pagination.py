"""Keyset-paginated lists (transactions, invoices) with opaque cursors scoped to the account."""

from __future__ import annotations

import base64
import binascii
import dataclasses
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from tortoise.expressions import Q

from models import (
    Invoice,
    LedgerEntry,
    LedgerTotal,
    Notification,
    TransactionType,
)
from resolvers.errors import InvalidParameter
from resolvers.pricing import money
from resolvers.reports.rows import MAX_PAGE, as_datetime, fetch_rows

# ---- cursors ------------------------------------------------------------------------------


def encode_cursor(kind: str, account_id: int, row_id: int, at: datetime | date) -> str:
    raw = f"{kind}|{account_id}|{row_id}|{at.isoformat()}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(kind: str, account_id: int, cursor: str) -> tuple[int, str]:
    """(row id, ISO timestamp) of a cursor this account was given for this list, or raise."""
    bad = InvalidParameter("after is not a valid cursor for this list")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        c_kind, c_account, c_id, at = raw.split("|")
        if c_kind != kind or int(c_account) != account_id:
            raise bad
        return int(c_id), at
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise bad from None


# ---- transactions -------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    has_next: bool
    cursors: list[str]


@dataclass(frozen=True, slots=True)
class TransactionRow:
    """A ledger entry as the transactions list shows it (money already 6-place)."""

    id: int
    created_at: datetime
    type: TransactionType
    service: str
    amount: Decimal
    tokens: int
    images: int
    description: str
    balance_after: Decimal


_TRANSACTION_COLUMNS = tuple(f.name for f in dataclasses.fields(TransactionRow))


def check_first(first: int) -> int:
    if not 0 <= first <= MAX_PAGE:
        raise InvalidParameter(f"first must be between 0 and {MAX_PAGE}")
    return first


def _ledger_filter(account_id: int, type: TransactionType | None, service: str | None) -> Q:
    q = Q(account_id=account_id)
    if type is not None:
        q &= Q(type=type)
    if service is not None:
        q &= Q(service=service)
    return q


async def transactions_page(
    account_id: int,
    first: int = 100,
    after: str | None = None,
    type: TransactionType | None = None,
    service: str | None = None,
) -> Page:
    """Ledger entries, newest first (created_at, then id), `first` after the cursor."""
    check_first(first)
    q = _ledger_filter(account_id, type, service)
    if after:
        row_id, at = decode_cursor("txn", account_id, after)
        when = _parse_time(at)
        q &= Q(created_at__lt=when) | Q(created_at=when, id__lt=row_id)
    if first == 0:
        return Page([], False, [])
    raw = await fetch_rows(
        LedgerEntry.filter(q)
        .order_by("-created_at", "-id")
        .limit(first + 1)
        .values(*_TRANSACTION_COLUMNS)
    )
    rows = [
        TransactionRow(
            id=r["id"],
            created_at=as_datetime(r["created_at"]),
            type=TransactionType(r["type"]),
            service=r["service"],
            amount=money(r["amount"]),
            tokens=int(r["tokens"]),
            images=int(r["images"]),
            description=r["description"],
            balance_after=money(r["balance_after"]),
        )
        for r in raw[:first]
    ]
    cursors = [encode_cursor("txn", account_id, r.id, r.created_at) for r in rows]
    return Page(rows, len(raw) > first, cursors)


def _parse_time(at: str) -> datetime:
    try:
        value = datetime.fromisoformat(at)
    except ValueError:
        raise InvalidParameter("after is not a valid cursor for this list") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def count_transactions(
    account_id: int, type: TransactionType | None = None, service: str | None = None
) -> int:
    """How many entries the filtered ledger has, from its totals (LedgerTotal is keyed by
    account, type and service: every filter here is a set of its rows)."""
    rows = await fetch_rows(
        LedgerTotal.filter(_ledger_filter(account_id, type, service)).values("entries")
    )
    return sum(int(r["entries"]) for r in rows)


# ---- invoices and notifications -----------------------------------------------------------


async def invoices_page(account_id: int, first: int = 12, after: str | None = None) -> Page:
    """Invoices, newest first (date, then id)."""
    check_first(first)
    q = Q(account_id=account_id)
    if after:
        row_id, at = decode_cursor("inv", account_id, after)
        try:
            day = date.fromisoformat(at)
        except ValueError:
            raise InvalidParameter("after is not a valid cursor for this list") from None
        q &= Q(date__lt=day) | Q(date=day, id__lt=row_id)
    if first == 0:
        return Page([], False, [])
    rows = await Invoice.filter(q).order_by("-date", "-id").limit(first + 1)
    rows, has_next = rows[:first], len(rows) > first
    return Page(rows, has_next, [encode_cursor("inv", account_id, r.id, r.date) for r in rows])


async def count_invoices(account_id: int) -> int:
    return await Invoice.filter(account_id=account_id).count()


async def notifications(account_id: int, first: int = 20) -> list[Notification]:
    check_first(first)
    return (
        await Notification.filter(account_id=account_id).order_by("-created_at", "-id").limit(first)
    )
