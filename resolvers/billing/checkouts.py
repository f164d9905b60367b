"""The Checkout Sessions this server opened (docs/billing.md "Checkout"): one
`CheckoutSession` row each, written as soon as Stripe answers.

- Whose it is: `GET /billing/return` applies a session only for the dashboard session of the
  account that opened it (`stored`), so nobody else can make the server call Stripe; once the
  row is settled (`settled_outcome`) it answers from here without calling Stripe at all.
- One open subscription Checkout per account: opening one expires, at Stripe, every open
  subscription session of the account opened before it (`expire_older`). "Before" is the row
  order, so two opened at once never expire each other: the later stays open. A session paid
  in the meantime cannot be expired; if both get paid, resolvers/billing/replaced.py cancels the
  older subscription.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

from models import CheckoutSession, CreditPurchase
from resolvers.billing.stripe_api import StripeGateway, StripeRefused
from resolvers.errors import NotFound

log = logging.getLogger("ogapi.billing")
STATUSES = frozenset({"open", "complete", "expired"})
LIFETIME = timedelta(hours=24)  # Stripe's default when `expires_at` is not set


def _expires_at(session: dict, now: datetime) -> datetime:
    raw = session.get("expires_at")
    return datetime.fromtimestamp(raw, UTC) if isinstance(raw, int) else now + LIFETIME


async def record(account_id: int, session: dict, now: datetime) -> CheckoutSession:
    """Remember a session Stripe has just created for this account."""
    return await CheckoutSession.create(
        stripe_id=session["id"],
        account_id=account_id,
        mode=session.get("mode") or "payment",
        status=session.get("status") or "open",
        created_at=now,
        expires_at=_expires_at(session, now),
    )


async def stored(stripe_id: str) -> CheckoutSession | None:
    """The row of a session this server opened (None: not one of ours)."""
    return await CheckoutSession.filter(stripe_id=stripe_id).first()


async def settled_outcome(row: CheckoutSession) -> str | None:
    """The return page's outcome of a session whose effect is already in place here, without
    asking Stripe: `open` once expired, `complete` once completed (a credit session: once its
    purchase is credited). None: Stripe may still change it, ask there."""
    if row.status == "expired":
        return "open"
    if row.status != "complete":
        return None
    if row.mode == "payment" and not await CreditPurchase.exists(session_id=row.stripe_id):
        return None  # an asynchronous payment still settling
    return "complete"


async def note_status(session: dict) -> None:
    """Keep the row's status as Stripe last showed it (inside the caller's transaction)."""
    status = session.get("status")
    if status in STATUSES and status != "open":
        await CheckoutSession.filter(stripe_id=session.get("id"), status="open").update(
            status=status
        )


async def _expire(old: CheckoutSession, gateway: StripeGateway) -> bool:
    """Expire one session at Stripe; whether it is expired now. A session already expired at
    Stripe is only noted; one completed there is left to be applied."""
    try:
        session = await gateway.expire_checkout_session(
            old.stripe_id, idempotency_key=f"ogapi-expire-{uuid.uuid4().hex}"
        )
    except (StripeRefused, NotFound):  # paid, expired or gone meanwhile: ask what it is
        try:
            session = await gateway.retrieve_checkout_session(old.stripe_id)
        except NotFound:
            session = {"id": old.stripe_id, "status": "expired"}
    if session.get("status") == "expired":
        # Only "expired" is noted here: "complete" means applied (`settled_outcome`), which
        # the return page or the webhook does (resolvers/billing/checkout_flow.py).
        await note_status(session)
        log.info("account %s: expired checkout %s", old.account_id, old.stripe_id)
        return True
    return False


async def expire_older(row: CheckoutSession, gateway: StripeGateway, now: datetime) -> list[str]:
    """Expire at Stripe the account's open subscription sessions opened before `row`; the ids
    of those expired. Then, if a newer one exists already (opened at the same moment, it may
    not have seen `row`), `row` itself is expired, so the newest is the one left open."""
    mine = CheckoutSession.filter(account_id=row.account_id, mode="subscription", status="open")
    older = await mine.filter(id__lt=row.id, expires_at__gt=now).order_by("id")
    expired = [old.stripe_id for old in older if await _expire(old, gateway)]
    superseded = await mine.filter(id__gt=row.id).exists()
    if superseded and await mine.filter(id=row.id).exists() and await _expire(row, gateway):
        expired.append(row.stripe_id)
    return expired
