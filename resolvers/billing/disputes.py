"""Disputes (chargebacks) of credit purchases (docs/billing.md "Webhooks").

`charge.dispute.created` on the charge of a credit purchase takes the disputed credits back, as
a refund would: a `usage` entry with service `purchase_dispute`, never below a zero balance
(credits already spent stay spent), at most the part of the purchase not refunded already.
`charge.dispute.closed` as `won` (or an inquiry closed, `warning_closed`, or a dispute
`prevented`) gives back exactly what was taken, as a `refund` entry with the same service;
closed as `lost`, the credits stay taken.

Each dispute is a `CreditDispute` row moving open → won | lost once (compare-and-set), written
in the webhook event's transaction with its ledger entries, whose external references
(`dp_…:taken`, `dp_…:returned`) are unique: a replay, a concurrent delivery or a late older
event moves no money twice. A `closed` event arriving before its `created` settles the dispute
on its own (a lost one takes the credits, a won one takes nothing), and the late `created`
then does nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import Account, CreditDispute, CreditPurchase
from resolvers.billing.purchases import CURRENCY
from resolvers.errors import ServiceUnavailable
from resolvers.ledger import entries as ledger
from resolvers.pricing import PURCHASE_DISPUTE_SERVICE, money

log = logging.getLogger("ogapi.billing")
RETURNED = frozenset({"won", "warning_closed", "prevented"})  # the customer keeps no money


async def _row(
    dispute: dict, purchase: CreditPurchase, now: datetime
) -> tuple[CreditDispute, bool]:
    """The dispute's row, locked; created (open, nothing taken yet) when first seen."""
    row = await CreditDispute.select_for_update().get_or_none(id=dispute["id"])
    if row is not None:
        return row, False
    left = purchase.amount_cents - purchase.refunded_cents
    try:
        async with in_transaction():
            row = await CreditDispute.create(
                id=dispute["id"],
                purchase_id=purchase.id,
                account_id=purchase.account_id,  # type: ignore[attr-defined]  # the FK column
                amount_cents=max(0, min(int(dispute.get("amount") or 0), left)),
                status="open",
                created_at=now,
            )
        return row, True
    except IntegrityError:  # created concurrently by the dispute's other event
        return await CreditDispute.select_for_update().get(id=dispute["id"]), False


async def _take(row: CreditDispute, now: datetime) -> Decimal:
    if row.amount_cents <= 0:
        return money(0)
    entry = await ledger.purchase_refund(
        row.account_id,
        Decimal(row.amount_cents) / 100,
        now,
        external_ref=f"{row.id}:taken",
        description=f"Credit purchase disputed (${Decimal(row.amount_cents) / 100})",
        service=PURCHASE_DISPUTE_SERVICE,
    )
    taken = money(entry.amount) if entry is not None else money(0)
    await CreditDispute.filter(id=row.id).update(taken=taken)
    return taken


async def _close(row: CreditDispute, status: str, now: datetime) -> None:
    final = "won" if status in RETURNED else "lost"
    if not await CreditDispute.filter(id=row.id, status="open").update(status=final):
        raise ServiceUnavailable("The dispute is being settled concurrently; retry.")
    taken = money(row.taken)
    if final == "won" and taken > 0:
        await ledger.refund(
            row.account_id,
            taken,
            now,
            service=PURCHASE_DISPUTE_SERVICE,
            external_ref=f"{row.id}:returned",
            description=f"Dispute {status}: credits given back (${taken})",
        )
    log.info("dispute %s closed %s: gave back $%s", row.id, status, taken if final == "won" else 0)


async def apply_dispute(dispute: dict, *, closed: bool, now: datetime) -> None:
    """Apply `charge.dispute.created` (closed=False) or `charge.dispute.closed` to the credit
    purchase the disputed charge paid for (nothing for other charges). Inside the caller's
    transaction."""
    ref = dispute.get("payment_intent")
    purchase = await CreditPurchase.get_or_none(id=ref) if isinstance(ref, str) else None
    if purchase is None or (dispute.get("currency") or CURRENCY) != CURRENCY:
        return
    status = str(dispute.get("status") or "")
    # The account first, as a posting locks it: inserting the dispute row takes a key-share lock
    # on the account (its foreign key), and two disputes of one account would each then wait
    # for the other's to lock it for the posting (a deadlock on PostgreSQL).
    account_id: int = purchase.account_id  # type: ignore[attr-defined]
    await Account.select_for_update().filter(id=account_id).first()
    row, created = await _row(dispute, purchase, now)
    if created and not (closed and status in RETURNED):
        row.taken = await _take(row, now)
        log.info("dispute %s of %s: took back $%s", row.id, purchase.id, row.taken)
    if closed and row.status == "open":
        await _close(row, status, now)
