"""Credit purchases through Stripe Checkout and their refunds (docs/billing.md).

A paid credit session becomes one `purchase` ledger entry whose external_ref is the session's
PaymentIntent id (else the session id), so the return page, the webhook and every replay
credit it once between them (resolvers/ledger/entries.py is idempotent on external_ref). A
`CreditPurchase` row remembers the amount, and how much of it refunds already took back.

`charge.refunded` carries the charge's cumulative `amount_refunded`: each event takes back the
part not taken yet (so partial refunds add up, a replay or a late older event takes nothing)
as a `usage` entry with service `purchase_refund`, never below a zero balance (credits already
spent stay spent).
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import CreditPurchase, LedgerEntry
from resolvers.errors import AppError, ServiceUnavailable
from resolvers.ledger import entries as ledger

log = logging.getLogger("ogapi.billing")
CREDIT_AMOUNTS = (5, 10, 25, 50, 100)  # dollars; one credit is one dollar
CURRENCY = "usd"


def purchase_ref(session: dict) -> str:
    return session.get("payment_intent") or session["id"]


def credits_of(session: dict) -> int:
    """The dollars of credits a payment-mode session of ours sells (checked against its total)."""
    raw = str((session.get("metadata") or {}).get("credits") or "")
    credits = int(raw) if raw.isdigit() else 0
    subtotal = session.get("amount_subtotal")
    if (
        credits not in CREDIT_AMOUNTS
        or (session.get("currency") or CURRENCY) != CURRENCY
        or (subtotal is not None and subtotal != credits * 100)
    ):
        raise AppError(
            f"Checkout session {session.get('id')} does not match a credit purchase of ours.",
            code="BILLING_MISMATCH",
            status=500,
        )
    return credits


async def credit_session(session: dict, account_id: int, now: datetime) -> LedgerEntry:
    """Credit a paid credit session, once (inside the caller's transaction)."""
    credits = credits_of(session)
    ref = purchase_ref(session)
    if not await CreditPurchase.exists(id=ref):
        try:
            async with in_transaction():
                await CreditPurchase.create(
                    id=ref,
                    account_id=account_id,
                    session_id=session["id"],
                    amount_cents=credits * 100,
                    created_at=now,
                )
        except IntegrityError:
            pass  # recorded concurrently; the ledger's external_ref keeps the credit single
    return await ledger.grant(
        account_id,
        Decimal(credits),
        now,
        description=f"Credits purchased (${credits})",
        external_ref=ref,
    )


async def take_back_refund(charge: dict, now: datetime) -> LedgerEntry | None:
    """Apply `charge.refunded` to the credit purchase it refunds (None: not one of ours, or
    nothing new to take back). Inside the caller's transaction."""
    ref = charge.get("payment_intent")
    purchase = await CreditPurchase.select_for_update().get_or_none(id=ref) if ref else None
    if purchase is None:
        return None
    target = min(int(charge.get("amount_refunded") or 0), purchase.amount_cents)
    before = purchase.refunded_cents
    if target <= before:
        return None
    # Compare-and-set: two refunds of one charge processed at once take back each part once.
    if not await CreditPurchase.filter(id=ref, refunded_cents=before).update(refunded_cents=target):
        raise ServiceUnavailable("The purchase is being refunded concurrently; retry.")
    delta = Decimal(target - before) / 100
    entry = await ledger.purchase_refund(
        purchase.account_id,  # type: ignore[attr-defined]
        delta,
        now,
        external_ref=f"{charge['id']}:refunded:{target}",
        description=f"Credit purchase refunded (${delta})",
    )
    log.info(
        "charge %s refunded to %s cents: took back $%s of $%s",
        charge["id"],
        target,
        entry.amount if entry else 0,
        delta,
    )
    return entry
