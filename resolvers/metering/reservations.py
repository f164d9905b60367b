"""A quota reservation and its overage charge move together (docs/metering.md#overage): an
image past the quota is charged and reserved in one transaction, and a reservation given back
(its render failed, or its worker died mid-render) leaves with its `used` and its charge's
refund in one transaction. A crash or a lost connection between the steps leaves both or
neither, never a customer charged for an image that no reservation holds any more (such a
charge would never be refunded: the sweep finds reservations, not charges).

Lock order, the same in every transaction that touches both: the account row (the ledger's
lock, resolvers/ledger/posting.py) first, then the month's `monthly_usage` row. A give-back
takes the account first for that reason, so it never waits on a charge that waits on it. The
lock is held for a few statements only, never across a render.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from tortoise.transactions import in_transaction

from models import LedgerEntry, QuotaReservation
from resolvers.ledger import entries as ledger
from resolvers.metering import quota
from resolvers.pricing import OVERAGE_SERVICE


async def reserve_paid(
    account_id: int, price: Decimal, now: datetime
) -> tuple[LedgerEntry, int, int]:
    """Charge one image past the quota and reserve it, in one transaction: (the charge, the
    reservation's id, the new `used`). InsufficientCredits or SpendingCapReached when refused;
    then nothing is written."""
    async with in_transaction():
        entry = await ledger.charge(
            account_id,
            price,
            OVERAGE_SERVICE,
            now,
            images=1,
            rollup="spend",
            description="Image past the monthly quota (overage)",
        )
        reservation, used = await quota.force_reserve(account_id, now, entry.id)
    return entry, reservation, used


async def give_back(
    reservation: QuotaReservation | int,
    now: datetime,
    reason: str,
    overage: LedgerEntry | None = None,
) -> QuotaReservation | None:
    """Give back a reservation (a row with its `account_id` and `overage_entry_id`, or the id
    of one without overage) and return its overage charge (`overage`, or the row's) as a
    `refund` entry: all in one transaction. The reservation when this call gave it back; None
    when it was already settled or given back (by a concurrent sweep, say), and then nothing
    is refunded. Any failure leaves the reservation, its `used` and the charge as they were,
    for a later sweep to give back."""
    reservation_id = reservation if isinstance(reservation, int) else reservation.id
    entry_id = overage.id if overage is not None else None
    if entry_id is None and isinstance(reservation, QuotaReservation):
        entry_id = reservation.overage_entry_id
    if entry_id is None:
        return await quota.release(reservation_id)  # one transaction of its own
    async with in_transaction():
        entry = overage or await LedgerEntry.get_or_none(id=entry_id)
        if entry is not None:
            await ledger.lock_account(entry.account_id)  # before `monthly_usage`: see above
        row = await quota.release(reservation_id)  # a savepoint in this transaction
        if row is not None and entry is not None:
            await ledger.reverse(entry, now, reason)  # once: its reference is unique
    return row
