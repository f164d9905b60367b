"""The one write path of the ledger: lock the account, compare-and-set its balance, write the
entry, its totals, its roll-up and a low-balance notice, all in one transaction; replay an
`external_ref`. Postings of the overage service also move the month's overage spend, within
the spending cap (resolvers/ledger/spending_cap.py).
resolvers/ledger/entries.py builds the postings (grant, charge, refunds); nothing else calls `post`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import Account, LedgerEntry, Notification, NotificationKind, TransactionType
from resolvers import rollups
from resolvers.errors import AppError, Conflict, NotFound, ServiceUnavailable
from resolvers.ledger import spending_cap
from resolvers.pricing import OVERAGE_SERVICE, money
from resolvers.timefmt import month_key

LOW_BALANCE = Decimal("1.00")


class InsufficientCredits(AppError, code="INSUFFICIENT_CREDITS", status=402): ...


@dataclass(frozen=True)
class Posting:
    account_id: int
    type: TransactionType
    service: str
    amount: Decimal
    tokens: int = 0
    images: int = 0
    description: str = ""
    external_ref: str | None = None
    clamp: bool = False  # take at most the balance instead of refusing (purchase_refund)
    # What the entry adds to the day's roll-up of its service: "usage" (spend, tokens, images),
    # "spend" (spend only), "reverse" (takes the spend back) or "" (nothing).
    rollup: str = "usage"
    # The month whose overage spend an overage posting moves (the spending cap's): the month of
    # the charge it returns or charges again; None: the month of `now`.
    month: str | None = None


async def lock_account(account_id: int) -> Account:
    """The account row, locked until the caller's transaction ends (`SELECT … FOR UPDATE` on
    PostgreSQL; SQLite's `BEGIN IMMEDIATE` already holds the database). Every posting takes it
    first; a caller that writes other rows before posting in one transaction takes it before
    them, so every transaction locks the account before its month's `monthly_usage` row and
    none waits on another in a cycle (resolvers/metering/reservations.py)."""
    account = await Account.select_for_update().get_or_none(id=account_id)
    if account is None:
        raise NotFound(f"No account with id {account_id}.")
    return account


async def _post_in_tx(p: Posting, now: datetime) -> LedgerEntry | None:
    amount = p.amount
    month = p.month or month_key(now)
    overage = p.service == OVERAGE_SERVICE
    for _ in range(20):
        account = await lock_account(p.account_id)
        old = money(Decimal(account.balance))
        if p.type == TransactionType.USAGE:
            if overage:  # within the spending cap: refused (or clamped) before the balance
                cap = spending_cap.cap_of(account)
                amount = await spending_cap.allowed(
                    p.account_id, cap, month, p.amount, clamp=p.clamp
                )
            if p.clamp:
                amount = min(amount, old)
                if amount <= 0:
                    return None
            elif old < amount:
                raise InsufficientCredits(
                    f"Insufficient credits: balance ${old}, needed ${amount}."
                )
            new = old - amount
        else:
            new = old + amount
        # Compare-and-set: a writer outside this process (another SQLite client) cannot slip in.
        if await Account.filter(id=p.account_id, balance=old).update(balance=new):
            break
    else:
        raise ServiceUnavailable("The balance is busy; retry the request.", code="LEDGER_BUSY")
    entry = await LedgerEntry.create(
        account_id=p.account_id,
        created_at=now,
        type=p.type,
        service=p.service,
        amount=amount,
        tokens=p.tokens,
        images=p.images,
        description=p.description,
        external_ref=p.external_ref,
        balance_after=new,
    )
    await rollups.bump_totals(entry)
    if overage and p.rollup:  # as its spend in the day's roll-up: a charge, or one returned
        sign = -1 if p.rollup == "reverse" else 1
        await spending_cap.count(p.account_id, month, sign * amount)
    if p.rollup == "usage":
        await rollups.bump_daily(
            p.account_id, now, p.service, spend=amount, tokens=p.tokens, images=p.images
        )
    elif p.rollup == "spend":
        await rollups.bump_daily(p.account_id, now, p.service, spend=amount)
    elif p.rollup == "reverse":
        await rollups.bump_daily(p.account_id, now, p.service, spend=-amount)
    if old >= LOW_BALANCE > new:
        await Notification.create(
            account_id=p.account_id,
            created_at=now,
            kind=NotificationKind.LOW_BALANCE,
            message=f"Low balance: ${new} left. Purchase credits to keep paid usage running.",
            dedupe_key=f"LOW_BALANCE:{entry.id}",
            data={"balance": str(new)},  # a `balance.low` webhook event (docs/webhooks.md)
        )
    return entry


def _same(entry: LedgerEntry, p: Posting) -> bool:
    return (
        entry.account_id == p.account_id
        and entry.type == p.type
        and entry.service == p.service
        and (p.clamp or money(entry.amount) == p.amount)
    )


async def _replayed(p: Posting) -> LedgerEntry | None:
    if p.external_ref is None:
        return None
    entry = await LedgerEntry.get_or_none(external_ref=p.external_ref)
    if entry is not None and not _same(entry, p):
        raise Conflict(
            f"Reference {p.external_ref!r} was already used for a different entry.",
            code="IDEMPOTENCY_CONFLICT",
        )
    return entry


async def post(p: Posting, now: datetime) -> LedgerEntry | None:
    if (entry := await _replayed(p)) is not None:
        return entry
    try:
        async with in_transaction():
            return await _post_in_tx(p, now)
    except IntegrityError:
        # A concurrent post with the same external_ref won the race: answer with its entry.
        if (entry := await _replayed(p)) is not None:
            return entry
        raise
