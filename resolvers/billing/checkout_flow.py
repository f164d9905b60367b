"""Billing entry points (docs/billing.md): Stripe Checkout for upgrades and credits, the
Customer Portal, and `fulfill_checkout`, the one place a completed session takes effect.

Stripe is reached only through `resolvers/stripe_api.StripeGateway` (None when
STRIPE_SECRET_KEY is unset: BILLING_NOT_CONFIGURED). Input is validated before Stripe is called.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from models import Account, PlanId, SubscriptionStatus
from resolvers.accounts import keycache
from resolvers.billing import checkouts, purchases, replaced, subscriptions
from resolvers.billing.purchases import CREDIT_AMOUNTS
from resolvers.billing.stripe_api import StripeGateway
from resolvers.billing.stripe_budget import spend_stripe_call
from resolvers.errors import AppError, BillingNotConfigured, InvalidParameter
from resolvers.limits.per_window import WindowLimiter
from resolvers.plans import get_plan

log = logging.getLogger("ogapi.billing")
NOT_CONFIGURED = "Billing is not configured on this server."
RETURN_PATH = "/billing/return"  # success_url: ?session_id={CHECKOUT_SESSION_ID}
CANCEL_PATH = "/dashboard?checkout=canceled"
LIVE_STATUSES = (
    SubscriptionStatus.ACTIVE,
    SubscriptionStatus.TRIALING,
    SubscriptionStatus.PAST_DUE,
    SubscriptionStatus.UNPAID,
)

__all__ = ["CREDIT_AMOUNTS", "fulfill_checkout", "open_portal", "start_checkout"]


@dataclass(frozen=True)
class CheckoutLink:
    url: str


@dataclass(frozen=True)
class PortalLink:
    url: str


def validate_checkout(plan: PlanId | None, credits: int | None) -> None:
    """Exactly one of plan/credits; FREE is a downgrade (portal); credits from the fixed list."""
    if (plan is None) == (credits is None):
        raise InvalidParameter("Pass exactly one of plan or credits.")
    if plan is PlanId.FREE:
        raise InvalidParameter(
            "plan: FREE is not sold through checkout; downgrade in the billing portal."
        )
    if credits is not None and credits not in CREDIT_AMOUNTS:
        amounts = ", ".join(f"{n}" for n in CREDIT_AMOUNTS)
        raise InvalidParameter(f"credits must be one of {amounts} (dollars).")


def _gateway(gateway: StripeGateway | None) -> StripeGateway:
    if gateway is None:
        raise BillingNotConfigured(NOT_CONFIGURED)
    return gateway


# One lock per account while anyone holds it (weak values: no growth with the account count).
_customer_locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()


async def _stored_customer(account_id: int) -> str | None:
    found = await Account.filter(id=account_id).first().values("stripe_customer_id")
    return str(found["stripe_customer_id"]) if found and found["stripe_customer_id"] else None


async def ensure_customer(account: Account, gateway: StripeGateway) -> str:
    """The account's Stripe Customer id, creating the customer once. Concurrent checkouts
    share it: one lock per account in this process, and across processes the same
    Idempotency-Key (Stripe answers every request with that key with the same customer); the
    id is stored with a compare-and-set, so the first one stored wins. Nothing is stored
    unless Stripe created the customer."""
    lock = _customer_locks.get(account.id)
    if lock is None:
        lock = _customer_locks[account.id] = asyncio.Lock()
    async with lock:
        if stored := await _stored_customer(account.id):
            account.stripe_customer_id = stored
            return stored
        created = int(account.created_at.timestamp() * 1_000_000)
        customer = await gateway.create_customer(
            {"email": account.email, "metadata": {"account_id": str(account.id)}},
            idempotency_key=f"ogapi-customer-{account.id}-{created}",
        )
        await Account.filter(id=account.id, stripe_customer_id=None).update(
            stripe_customer_id=customer["id"]
        )
        account.stripe_customer_id = await _stored_customer(account.id)
        return account.stripe_customer_id or customer["id"]


async def start_checkout(
    account: Account,
    gateway: StripeGateway | None,
    *,
    base_url: str,
    now: datetime,
    window: WindowLimiter,
    plan: PlanId | None = None,
    credits: int | None = None,
) -> CheckoutLink:
    """A Stripe Checkout Session for a plan upgrade (subscription mode, the plan's price by
    lookup key) or a credit top-up (payment mode, inline price, an invoice). The session is
    recorded as the account's; an upgrade expires the account's older open upgrade sessions
    (resolvers/billing/checkouts.py) before its link is handed out. Spends one hit of the account's
    Stripe budget (resolvers/billing/stripe_budget.py)."""
    validate_checkout(plan, credits)
    gw = _gateway(gateway)
    await spend_stripe_call(window, account.id)
    meta = {"account_id": str(account.id)}
    params: dict = {
        "client_reference_id": str(account.id),
        "success_url": f"{base_url}{RETURN_PATH}?session_id={{CHECKOUT_SESSION_ID}}",
        "cancel_url": f"{base_url}{CANCEL_PATH}",
    }
    if plan is not None:
        fresh = await Account.get(id=account.id)
        if fresh.subscription_status in LIVE_STATUSES and fresh.stripe_subscription_id:
            raise AppError(
                "This account already has a subscription: change plan in the billing portal.",
                code="SUBSCRIPTION_EXISTS",
                status=409,
            )
        lookup_key = get_plan(plan).stripe_lookup_key
        price = await gw.find_price(lookup_key or "")
        if price is None:
            raise BillingNotConfigured(
                f"No active Stripe price has the lookup key {lookup_key}: the operator runs "
                "`ogapi stripe sync`."
            )
        params |= {
            "mode": "subscription",
            "line_items": [{"price": price["id"], "quantity": 1}],
            "metadata": meta,
            "subscription_data": {"metadata": meta},
        }
    else:
        assert credits is not None
        meta = meta | {"credits": str(credits)}
        params |= {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": purchases.CURRENCY,
                        "unit_amount": credits * 100,
                        "product_data": {"name": f"OG Image API credits (${credits})"},
                    },
                }
            ],
            "invoice_creation": {"enabled": True},
            "metadata": meta,
            "payment_intent_data": {"metadata": meta},
        }
    params["customer"] = await ensure_customer(account, gw)
    session = await gw.create_checkout_session(
        params, idempotency_key=f"ogapi-checkout-{uuid.uuid4().hex}"
    )
    row = await checkouts.record(account.id, session, now)
    if plan is not None:
        await checkouts.expire_older(row, gw, now)
    return CheckoutLink(session["url"])


async def open_portal(
    account: Account, gateway: StripeGateway | None, *, base_url: str
) -> PortalLink:
    """A Customer Portal session (payment method, invoices, cancel, change plan)."""
    gw = _gateway(gateway)
    customer = await _stored_customer(account.id)
    if not customer:
        raise AppError(
            "This account has no billing history yet: upgrade or buy credits first.",
            code="NO_BILLING_ACCOUNT",
            status=409,
        )
    session = await gw.create_portal_session(
        {"customer": customer, "return_url": f"{base_url}/dashboard"},
        idempotency_key=f"ogapi-portal-{uuid.uuid4().hex}",
    )
    return PortalLink(session["url"])


def session_account(session: dict) -> int | None:
    """The account a Checkout Session of ours was opened for (`client_reference_id`)."""
    raw = str(session.get("client_reference_id") or "")
    return int(raw) if raw.isdigit() else None


async def apply_checkout(session: dict, subscription: dict | None, now: datetime) -> set[int]:
    """Apply a Checkout Session inside the caller's transaction; the accounts whose plan or
    status changed (to announce once committed). Paid credits are credited once; a completed
    subscription session applies `subscription` (fetched from Stripe by the caller)."""
    account_id = session_account(session)
    if account_id is None or not await Account.exists(id=account_id):
        log.warning("checkout session %s names no account of ours", session.get("id"))
        return set()
    customer = session.get("customer")
    if customer:
        await Account.filter(id=account_id, stripe_customer_id=None).update(
            stripe_customer_id=customer
        )
    await checkouts.note_status(session)
    mode = session.get("mode")
    if mode == "payment" and session.get("payment_status") == "paid":
        await purchases.credit_session(session, account_id, now)
    elif mode == "subscription" and session.get("status") == "complete" and subscription:
        changed = await subscriptions.apply_subscription(subscription, account_id, version=None)
        return {account_id} if changed else set()
    return set()


async def subscription_of(session: dict, gateway: StripeGateway) -> dict | None:
    sub = session.get("subscription")
    if isinstance(sub, dict):
        return sub
    if session.get("mode") == "subscription" and session.get("status") == "complete" and sub:
        return await gateway.retrieve_subscription(sub)
    return None


async def fulfill_checkout(
    session: dict,
    gateway: StripeGateway,
    now: datetime,
    *,
    mark: Callable[[], Awaitable[object]] | None = None,
) -> None:
    """Apply a Checkout Session: the one way the return page and the webhook both take.
    Idempotent and safe to run concurrently (credits once by external_ref, the subscription by
    state). Stripe is read before the transaction opens; `mark` (the webhook's event row) is
    written in the same transaction as the effect."""
    subscription = await subscription_of(session, gateway)
    async with in_transaction():
        if mark is not None:
            await mark()
        changed = await apply_checkout(session, subscription, now)
    for account_id in changed:
        await keycache.account_changed(account_id)


async def complete_return(
    session_id: str,
    account_id: int,
    gateway: StripeGateway | None,
    now: datetime,
    window: WindowLimiter,
) -> str | None:
    """The success_url route for the signed-in `account_id`: its outcome (`complete`,
    `pending` while an asynchronous payment settles, or `open`), or None without calling
    Stripe when this account did not open that session here (resolvers/billing/checkouts.py). A
    session already settled here is answered from the database; otherwise it is fetched from
    Stripe (one hit of the account's budget, resolvers/billing/stripe_budget.py) and applied."""
    if not session_id.startswith("cs_") or len(session_id) > 255 or not session_id.isascii():
        raise InvalidParameter("session_id must be a Checkout Session id (cs_…).")
    gw = _gateway(gateway)
    row = await checkouts.stored(session_id)
    if row is None or row.account_id != account_id:
        return None
    if (settled := await checkouts.settled_outcome(row)) is not None:
        return settled
    await spend_stripe_call(window, account_id)
    session = await gw.retrieve_checkout_session(session_id)
    await fulfill_checkout(session, gw, now)
    if session.get("mode") == "subscription":
        await replaced.cancel_replaced(account_id, gw)
    if session.get("status") != "complete":
        return "open"
    paid = session.get("payment_status") in ("paid", "no_payment_required")
    return "complete" if paid else "pending"
