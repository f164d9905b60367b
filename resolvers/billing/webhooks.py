"""Stripe webhook events (docs/billing.md): each event id takes effect once, by state.

`handle_event` gets an event whose signature web/routes/billing.py already checked:
- Types not in HANDLED are acknowledged and left alone.
- Stripe is read first, outside any transaction (the subscription a checkout created, the
  session a refunded payment came from). Then one transaction writes the `StripeEvent` row and
  the event's effect together (Checkout events through `billing.fulfill_checkout`, as the
  return route does): a replay, concurrent or not, finds the row (or collides on its
  primary key) and changes nothing; a handler that fails rolls back both, so the event is not
  marked done and Stripe's retry runs it again.
- Order does not matter: subscriptions and invoices keep the `created` of the event they were
  written from (resolvers/billing/subscriptions.py, resolvers/billing/invoices.py), a checkout's
  payment only moves forward (unpaid → paid), refunds apply the charge's cumulative refunded amount,
  and a dispute moves open → won | lost once (resolvers/billing/disputes.py).
- Accounts whose plan or status changed are announced to the key caches once committed.
- After a checkout or subscription event (a replay too), an account left with two paid
  subscriptions has the older one canceled at Stripe (resolvers/billing/replaced.py); if that fails,
  the event answers 5xx and Stripe's retry (a duplicate by then) tries the cancellation again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import CreditPurchase, StripeEvent
from resolvers.accounts import keycache
from resolvers.billing import checkout_flow as billing
from resolvers.billing import disputes, invoices, purchases, replaced, subscriptions
from resolvers.billing.stripe_api import StripeGateway
from resolvers.errors import InvalidParameter

log = logging.getLogger("ogapi.billing")
CHECKOUT = frozenset({"checkout.session.completed", "checkout.session.async_payment_succeeded"})
SUBSCRIPTION = frozenset(
    {
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    }
)
INVOICE = frozenset({"invoice.paid", "invoice.payment_failed"})
REFUND = "charge.refunded"
DISPUTE_CLOSED = "charge.dispute.closed"
DISPUTE = frozenset({"charge.dispute.created", DISPUTE_CLOSED})
PAYMENT = DISPUTE | {REFUND}  # events about the charge of a credit purchase
HANDLED = CHECKOUT | SUBSCRIPTION | INVOICE | PAYMENT


@dataclass
class _Fetched:
    session: dict | None = None  # the credit session a refunded or disputed charge paid for


def _parse(event: object) -> tuple[str, str, dict, int]:
    if not isinstance(event, dict):
        raise InvalidParameter("The event is not a JSON object.")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    event_id, kind, created = event.get("id"), event.get("type"), event.get("created")
    if not (isinstance(event_id, str) and event_id and isinstance(kind, str)):
        raise InvalidParameter("The event has no id or type.")
    if not isinstance(obj, dict) or not isinstance(obj.get("id"), str):
        raise InvalidParameter("The event has no data.object.")
    if not isinstance(created, int) or isinstance(created, bool):
        raise InvalidParameter("The event has no created time.")
    return event_id, kind, obj, created


def _credit_session(session: dict) -> bool:
    return session.get("mode") == "payment" and bool((session.get("metadata") or {}).get("credits"))


async def _prefetch(kind: str, obj: dict, gateway: StripeGateway) -> _Fetched:
    fetched = _Fetched()
    if (
        kind in PAYMENT
        and isinstance(pi := obj.get("payment_intent"), str)
        and not await CreditPurchase.exists(id=pi)  # the refund came before the purchase
    ):
        sessions = await gateway.checkout_sessions_for_payment(pi)
        fetched.session = next((s for s in sessions if _credit_session(s)), None)
    return fetched


async def _apply(kind: str, obj: dict, version: int, f: _Fetched, now: datetime) -> set[int]:
    if kind in SUBSCRIPTION:
        account_id = await subscriptions.account_for(obj.get("customer"), obj.get("metadata"))
        if account_id is None:
            log.warning(
                "subscription %s: no account has customer %s", obj["id"], obj.get("customer")
            )
            return set()
        moved = await subscriptions.apply_subscription(
            obj, account_id, version=version, event_type=kind
        )
        return {account_id} if moved else set()
    if kind in INVOICE:
        await invoices.store_invoice(obj, version)
        return set()
    changed: set[int] = set()
    if f.session is not None:
        changed = await billing.apply_checkout(f.session, None, now)
    if kind in DISPUTE:
        await disputes.apply_dispute(obj, closed=kind == DISPUTE_CLOSED, now=now)
    else:
        await purchases.take_back_refund(obj, now)
    return changed


async def _cancel_replaced(kind: str, obj: dict, gateway: StripeGateway) -> None:
    if kind in CHECKOUT and obj.get("mode") == "subscription":
        await replaced.cancel_replaced(billing.session_account(obj), gateway)
    elif kind in SUBSCRIPTION:
        account_id = await subscriptions.account_for(obj.get("customer"), obj.get("metadata"))
        await replaced.cancel_replaced(account_id, gateway)


async def handle_event(event: object, gateway: StripeGateway, now: datetime) -> str:
    """Apply one verified event: `processed`, `duplicate` (already done) or `ignored` (a type
    this service does not use). Raises when the effect could not be applied (not marked)."""
    event_id, kind, obj, created = _parse(event)
    if kind not in HANDLED:
        return "ignored"
    if await StripeEvent.exists(id=event_id):
        await _cancel_replaced(kind, obj, gateway)
        return "duplicate"

    async def mark() -> None:
        await StripeEvent.create(id=event_id, type=kind, processed_at=now)

    try:
        if kind in CHECKOUT:
            await billing.fulfill_checkout(obj, gateway, now, mark=mark)
        else:
            fetched = await _prefetch(kind, obj, gateway)
            async with in_transaction():
                await mark()
                changed = await _apply(kind, obj, created, fetched, now)
            for account_id in changed:
                await keycache.account_changed(account_id)
    except IntegrityError:
        if await StripeEvent.exists(id=event_id):  # a concurrent delivery won
            await _cancel_replaced(kind, obj, gateway)
            return "duplicate"
        raise
    await _cancel_replaced(kind, obj, gateway)
    log.info("stripe event %s %s processed", event_id, kind)
    return "processed"
