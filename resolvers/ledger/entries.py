"""Credits and the ledger (docs/metering.md): every change of `Account.balance` is one of the
postings built here (grant, refund, charge, purchase_refund, record_usage, reverse) and written
by resolvers/ledger/posting.py.

Every change writes its LedgerEntry in the same transaction, so balance == Σ purchases +
Σ refunds - Σ usage at every commit, and the balance never goes below zero. The account row is
locked (`SELECT … FOR UPDATE` on PostgreSQL; SQLite serialises transactions) and then updated
with a compare-and-set on the balance read, with the new value computed in Decimal: SQLite
stores DECIMAL columns as REAL, so arithmetic in SQL would not be exact there.

An `external_ref` (a Stripe id, an idempotency key) is unique: posting it again returns the
entry already written instead of moving money twice.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import TypedDict, Unpack

from models import Account, LedgerEntry, TransactionType
from resolvers.errors import InvalidParameter, NotFound
from resolvers.ledger.posting import LOW_BALANCE, InsufficientCredits, Posting, lock_account, post
from resolvers.pricing import MONEY, PURCHASE_REFUND_SERVICE, money, usage_cost
from resolvers.timefmt import month_key

__all__ = [
    "LOW_BALANCE",
    "CreditOptions",
    "InsufficientCredits",
    "UsageOptions",
    "balance_of",
    "charge",
    "charge_again",
    "grant",
    "lock_account",
    "parse_amount",
    "purchase_refund",
    "record_usage",
    "refund",
    "reverse",
]

MAX_AMOUNT = Decimal("1000000")  # per entry; well inside DECIMAL(18, 6)
DESCRIPTION_MAX = 255


def parse_amount(value: object, name: str = "amount") -> Decimal:
    """A positive dollar amount with at most 6 decimal places (strings, ints or Decimals)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise InvalidParameter(f"{name} must be a decimal number such as 10.50")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidParameter(f"{name} must be a decimal number such as 10.50") from None
    if not amount.is_finite() or amount <= 0:
        raise InvalidParameter(f"{name} must be greater than zero")
    # The magnitude first: quantizing 1e30 (or 40 digits) needs more than the context's 28
    # digits of precision and raises InvalidOperation instead of answering.
    if amount > MAX_AMOUNT:
        raise InvalidParameter(f"{name} must be at most {MAX_AMOUNT}")
    try:
        exact = amount.quantize(MONEY)
    except InvalidOperation:  # an exponent beyond the context's range, such as 1e-1000000000
        raise InvalidParameter(f"{name} has more than 6 decimal places") from None
    if amount != exact:
        raise InvalidParameter(f"{name} has more than 6 decimal places")
    return exact


def _description(text: str | None) -> str:
    text = (text or "").strip()
    if len(text) > DESCRIPTION_MAX:
        raise InvalidParameter(f"description must be at most {DESCRIPTION_MAX} characters")
    return text


class CreditOptions(TypedDict, total=False):
    description: str  # default: "Credits purchased" / "Credits refunded"
    service: str  # default: "credits"
    external_ref: str | None  # posted once: the same reference again returns the first entry


async def _credit(
    kind: TransactionType,
    default_description: str,
    account_id: int,
    amount: object,
    now: datetime,
    *,
    description: str = "",
    service: str = "credits",
    external_ref: str | None = None,
) -> LedgerEntry:
    """A positive posting: credits in (purchase) or returned (refund)."""
    p = Posting(
        account_id,
        kind,
        service,
        parse_amount(amount),
        description=_description(description or default_description),
        external_ref=external_ref,
        rollup="",
    )
    return await post(p, now)  # type: ignore[return-value]  # None only for clamped usage


async def grant(
    account_id: int, amount: object, now: datetime, **options: Unpack[CreditOptions]
) -> LedgerEntry:
    """Add purchased credits (a `purchase` entry): Stripe top-ups, `ogapi admin grant-credits`."""
    return await _credit(
        TransactionType.PURCHASE, "Credits purchased", account_id, amount, now, **options
    )


async def refund(
    account_id: int, amount: object, now: datetime, **options: Unpack[CreditOptions]
) -> LedgerEntry:
    """Credits returned to the account (operator compensation): a `refund` entry."""
    return await _credit(
        TransactionType.REFUND, "Credits refunded", account_id, amount, now, **options
    )


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidParameter(f"{name} must be a whole number, zero or more")
    if value > 10**15:
        raise InvalidParameter(f"{name} is too large")
    return value


class UsageOptions(TypedDict, total=False):
    tokens: object  # a whole number, zero or more (default 0), as are images
    images: object
    description: str  # default: "" for a charge, "<service> usage" for reported usage
    external_ref: str | None  # posted once: the same reference again returns the first entry


def _units(usage: UsageOptions) -> tuple[int, int]:
    """(tokens, images) of a usage posting, each a whole number, zero or more."""
    return _count(usage.get("tokens", 0), "tokens"), _count(usage.get("images", 0), "images")


async def charge(
    account_id: int,
    amount: object,
    service: str,
    now: datetime,
    *,
    rollup: str = "usage",
    **usage: Unpack[UsageOptions],
) -> LedgerEntry:
    """Take credits for usage (a `usage` entry); InsufficientCredits when the balance is short."""
    tokens, images = _units(usage)
    p = Posting(
        account_id,
        TransactionType.USAGE,
        service,
        parse_amount(amount),
        tokens=tokens,
        images=images,
        description=_description(usage.get("description", "")),
        external_ref=usage.get("external_ref"),
        rollup=rollup,
    )
    return await post(p, now)  # type: ignore[return-value]  # None only for clamped usage


async def purchase_refund(
    account_id: int,
    amount: object,
    now: datetime,
    *,
    external_ref: str,
    description: str = "",
    service: str = PURCHASE_REFUND_SERVICE,
) -> LedgerEntry | None:
    """A Stripe refund (or, with service `purchase_dispute`, a dispute) of a credit purchase:
    take those credits back, never below zero.

    Returns the `usage` entry (service `purchase_refund`), or None when the balance was zero.
    """
    p = Posting(
        account_id,
        TransactionType.USAGE,
        service,
        parse_amount(amount),
        description=_description(description or "Credit purchase refunded"),
        external_ref=external_ref,
        clamp=True,
        rollup="",
    )
    return await post(p, now)


async def record_usage(
    account_id: int, service: str, now: datetime, **usage: Unpack[UsageOptions]
) -> LedgerEntry:
    """Charge operator-reported usage of a metered service at the price book's rate."""
    tokens, images = _units(usage)
    if tokens == 0 and images == 0:
        raise InvalidParameter("report tokens or images (at least one must be above zero)")
    cost = usage_cost(service, tokens=tokens, images=images)
    if cost <= 0:
        raise InvalidParameter("this usage costs less than $0.000001; report it in a batch")
    return await charge(
        account_id,
        cost,
        service,
        now,
        tokens=tokens,
        images=images,
        description=usage.get("description") or f"{service} usage",
        external_ref=usage.get("external_ref"),
    )


async def reverse(entry: LedgerEntry, now: datetime, reason: str) -> LedgerEntry:
    """Give back a usage charge whose service was not delivered (a `refund` entry, once)."""
    p = Posting(
        entry.account_id,
        TransactionType.REFUND,
        entry.service,
        money(entry.amount),
        description=_description(reason),
        external_ref=f"reversal:{entry.id}",
        rollup="reverse",
        month=month_key(entry.created_at),
    )
    return await post(p, now)  # type: ignore[return-value]  # None only for clamped usage


async def charge_again(entry: LedgerEntry, now: datetime) -> LedgerEntry | None:
    """Charge again a usage charge that was reversed but delivered after all (once; at most
    the balance, and for overage at most the spending cap's room). None when that is zero."""
    p = Posting(
        entry.account_id,
        TransactionType.USAGE,
        entry.service,
        money(entry.amount),
        images=entry.images,
        description=_description(f"{entry.description} (delivered late)"),
        external_ref=f"redelivered:{entry.id}",
        clamp=True,
        rollup="spend",
        month=month_key(entry.created_at),
    )
    return await post(p, now)


async def balance_of(account_id: int) -> Decimal:
    row = await Account.filter(id=account_id).values_list("balance", flat=True)
    if not row:
        raise NotFound(f"No account with id {account_id}.")
    return money(Decimal(row[0]))
