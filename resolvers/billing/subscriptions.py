"""Stripe subscriptions → the account's plan and subscription status (docs/billing.md).

Each subscription's last known state is a `StripeSubscription` row, written from webhook
events and from the subscription fetched when a checkout completes. Events are applied by
state, not by arrival order:
- `customer.subscription.created` only ever creates the row (it is an object's first event, so
  a row already there is at least as new);
- other events apply when their `created` is not older than the row's `version`;
- an ended subscription (`canceled`, `incomplete_expired`) is final;
- a snapshot fetched from Stripe (the return page and the checkout webhook read the session's
  subscription; a cancellation answers with it) has no time of its own: it may have been read
  before an event that was applied while it was in flight. Like a `created` event it only
  creates a row not known yet, or it ends one (an ended state is final, so never older); it
  never replaces a state an event wrote.

The account then follows its newest live subscription: its price's lookup key gives the plan
(resolvers/plans.py) and its status goes to `Account.subscription_status`, which the image hot
path reads (`past_due` and `unpaid` answer 403 PAYMENT_PAST_DUE). No live subscription left →
the free plan. A cancellation at period end keeps the plan until Stripe ends the subscription.
A plan change through Stripe (a subscription starts, ends or changes price) ends an operator's
custom quota (`ogapi admin set-plan --quota`): the new plan's quota applies. Any other event
(a change of status alone, e.g. a failed then paid renewal) keeps it and the plan set with it.
A change of the account's plan or status goes out as a `subscription.updated` webhook event.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import Account, PlanId, StripeSubscription, SubscriptionStatus
from resolvers.notify import events
from resolvers.plans import plan_by_lookup_key

log = logging.getLogger("ogapi.billing")
LIVE = frozenset({"active", "trialing", "past_due", "unpaid", "paused"})
ENDED = frozenset({"canceled", "incomplete_expired"})
CREATED = "customer.subscription.created"
_STATUS = {
    "active": SubscriptionStatus.ACTIVE,
    "trialing": SubscriptionStatus.TRIALING,
    "past_due": SubscriptionStatus.PAST_DUE,
    "unpaid": SubscriptionStatus.UNPAID,
    "paused": SubscriptionStatus.UNPAID,  # no payment method at the trial's end: no service
    "incomplete": SubscriptionStatus.INCOMPLETE,
}


def _item(sub: dict) -> dict:
    items = (sub.get("items") or {}).get("data") or [{}]
    return items[0]


def plan_of(sub: dict) -> PlanId | None:
    price = _item(sub).get("price") or {}
    plan = plan_by_lookup_key(price.get("lookup_key") or "")
    return plan.id if plan is not None else None


def _period_end(sub: dict) -> datetime | None:
    # Current API versions keep billing periods on the subscription items.
    end = _item(sub).get("current_period_end") or sub.get("current_period_end")
    return datetime.fromtimestamp(end, UTC) if end else None


async def account_for(customer: str | None, metadata: dict | None) -> int | None:
    """The account a Stripe object belongs to: by its customer, else by `metadata[account_id]`."""
    if customer:
        found = await Account.filter(stripe_customer_id=customer).first().values("id")
        if found:
            return int(found["id"])
    raw = (metadata or {}).get("account_id")
    if raw and str(raw).isdigit() and await Account.exists(id=int(raw)):
        return int(raw)
    return None


def _fields(sub: dict) -> dict:
    return {
        "status": sub.get("status") or "incomplete",
        "plan": plan_of(sub),
        "cancel_at_period_end": bool(sub.get("cancel_at_period_end")),
        "current_period_end": _period_end(sub),
        "created": int(sub.get("created") or 0),
    }


async def apply_subscription(
    sub: dict, account_id: int, *, version: int | None, event_type: str | None = None
) -> bool:
    """Store this state of `sub` unless it may be older than what is stored, then update the
    account. `version` is the event's `created`; None for a snapshot fetched from Stripe (it
    creates the row or ends it, nothing else: see above). Runs inside the caller's
    transaction; returns whether the account's plan or status changed."""
    row = await StripeSubscription.select_for_update().get_or_none(id=sub["id"])
    before = None  # the plan the row gave before this state (None: none, or not live)
    if row is None:
        try:
            async with in_transaction():
                await StripeSubscription.create(
                    id=sub["id"], account_id=account_id, version=version or 0, **_fields(sub)
                )
        except IntegrityError:  # created concurrently: treat this one as an update
            row = await StripeSubscription.select_for_update().get(id=sub["id"])
    if row is not None:
        if version is None:  # a snapshot: no time of its own
            stale = (sub.get("status") or "") not in ENDED
        else:
            stale = event_type == CREATED or version < row.version
        if row.status in ENDED or stale:
            return False
        before = _live_plan(row.status, row.plan)
        for name, value in _fields(sub).items():
            setattr(row, name, value)
        row.version = max(row.version, version or 0)
        await row.save()
    fields = _fields(sub)
    return await sync_account(
        account_id, plan_changed=before != _live_plan(fields["status"], fields["plan"])
    )


def _live_plan(status: str, plan: PlanId | None) -> PlanId | None:
    return plan if status in LIVE else None


async def sync_account(account_id: int, *, plan_changed: bool) -> bool:
    """Derive the account's plan and subscription status from its subscriptions.
    `plan_changed`: the plan a subscription gives changed (it started, ended or changed price).
    Until then an operator's custom quota, and the plan set with it, stand."""
    rows = await StripeSubscription.filter(account_id=account_id).order_by("-created", "-id")
    if not rows:
        return False
    live = [r for r in rows if r.status in LIVE and r.plan is not None]
    current = live[0] if live else rows[0]
    plan = current.plan if live else PlanId.FREE
    status = _STATUS.get(current.status, SubscriptionStatus.CANCELED)
    sub_id = current.id if live else None
    account = await Account.select_for_update().get(id=account_id)
    if account.custom_quota is not None and not plan_changed:
        plan = account.plan  # the operator's `set-plan --quota` stands
    if (account.plan, account.subscription_status, account.stripe_subscription_id) == (
        plan,
        status,
        sub_id,
    ):
        return False
    log.info(
        "account %s: plan %s -> %s, subscription %s (%s)",
        account_id,
        account.plan.value,
        plan.value,
        status.value,
        current.id,
    )
    fields = ["plan", "subscription_status", "stripe_subscription_id"]
    if plan_changed and account.plan != plan and account.custom_quota is not None:
        log.info(
            "account %s: custom quota %s ends with the plan change",
            account_id,
            account.custom_quota,
        )
        account.custom_quota = None
        fields.append("custom_quota")
    changed = (account.plan, account.subscription_status) != (plan, status)
    account.plan, account.subscription_status, account.stripe_subscription_id = plan, status, sub_id
    await account.save(update_fields=fields)
    if changed:  # in the caller's transaction, with the change (docs/webhooks.md)
        data = {"plan": plan.value, "status": status.value}
        await events.emit(account_id, events.SUBSCRIPTION_UPDATED, data, datetime.now(UTC))
    return True
