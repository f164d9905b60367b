"""Invoices stored locally from Stripe's webhooks (docs/billing.md), so the dashboard never
waits on Stripe: number, date, amount in major units, currency, status, PDF and hosted URLs.

An invoice belongs to the account of its customer (or, failing that, of the subscription it
bills: `parent.subscription_details` in current API versions). Each row keeps the `created` of
the event it was written from; an older event arriving later changes nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from decimal import Decimal

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import Invoice, StripeSubscription
from resolvers.billing.subscriptions import account_for

log = logging.getLogger("ogapi.billing")
# Currencies Stripe counts in whole units (no cents): https://docs.stripe.com/currencies
ZERO_DECIMAL = frozenset(
    {"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv"}
    | {"xaf", "xof", "xpf"}
)
THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})


def major_units(amount: int, currency: str) -> Decimal:
    """Stripe's integer minor units → a Decimal in major units (1999 usd → 19.99)."""
    currency = currency.lower()
    exponent = 0 if currency in ZERO_DECIMAL else 3 if currency in THREE_DECIMAL else 2
    return Decimal(int(amount)).scaleb(-exponent)


async def _account(inv: dict) -> int | None:
    details = (inv.get("parent") or {}).get("subscription_details") or {}
    account_id = await account_for(inv.get("customer"), details.get("metadata"))
    if account_id is None and details.get("subscription"):
        sub = await StripeSubscription.get_or_none(id=details["subscription"])
        account_id = sub.account_id if sub is not None else None  # type: ignore[attr-defined]  # the FK's id column
    return account_id


def _fields(inv: dict) -> dict:
    status = inv.get("status") or "open"
    currency = (inv.get("currency") or "usd").lower()
    cents = inv.get("amount_paid") if status == "paid" else inv.get("amount_due")
    return {
        "number": inv.get("number"),
        "date": datetime.fromtimestamp(int(inv.get("created") or 0), UTC).date(),
        "amount": major_units(cents or 0, currency),
        "currency": currency,
        "status": status,
        "pdf_url": inv.get("invoice_pdf"),
        "hosted_url": inv.get("hosted_invoice_url"),
    }


async def store_invoice(inv: dict, version: int) -> bool:
    """Insert or update the invoice (inside the caller's transaction); False when it is not
    an invoice of one of our accounts, or the stored copy is newer."""
    account_id = await _account(inv)
    if account_id is None:
        log.warning("invoice %s: no account has customer %s", inv.get("id"), inv.get("customer"))
        return False
    row = await Invoice.select_for_update().get_or_none(stripe_id=inv["id"])
    if row is None:
        try:
            async with in_transaction():
                await Invoice.create(
                    stripe_id=inv["id"], account_id=account_id, version=version, **_fields(inv)
                )
            return True
        except IntegrityError:  # stored concurrently: compare versions below
            row = await Invoice.select_for_update().get(stripe_id=inv["id"])
    if version < row.version:
        return False
    for name, value in _fields(inv).items():
        setattr(row, name, value)
    row.version = version
    await row.save()
    return True
