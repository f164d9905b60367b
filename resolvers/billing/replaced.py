"""One paid subscription per account (docs/billing.md "Checkout"): when two subscription
Checkouts of one account were both paid (opened before either was, and paid before the older
could be expired), the newest subscription stays and every older live one of ours is canceled
at Stripe now, with proration: Stripe credits the unused part of its period, so nothing is
charged twice for the same days.

`cancel_replaced` runs after a checkout or subscription change has committed (the return page,
and each checkout or subscription webhook, replays included), so a cancellation that failed
(Stripe down) is tried again by the next one, or by Stripe's retry of the webhook. It reads
the local `StripeSubscription` rows, so it costs one query when there is nothing to cancel.
"""

from __future__ import annotations

import logging
import uuid

from tortoise.transactions import in_transaction

from models import StripeSubscription
from resolvers.accounts import keycache
from resolvers.billing import subscriptions
from resolvers.billing.stripe_api import StripeGateway
from resolvers.errors import NotFound

log = logging.getLogger("ogapi.billing")


async def older_live(account_id: int) -> list[str]:
    """The account's live subscriptions of our plans, all but the newest: to be canceled."""
    rows = await StripeSubscription.filter(
        account_id=account_id, status__in=sorted(subscriptions.LIVE), plan__isnull=False
    ).order_by("-created", "-id")
    return [r.id for r in rows[1:]]


async def cancel_replaced(account_id: int | None, gateway: StripeGateway) -> list[str]:
    """Cancel (prorated) every live subscription of the account but the newest; their ids."""
    if account_id is None:
        return []
    canceled = []
    for sub_id in await older_live(account_id):
        try:
            sub = await gateway.cancel_subscription(
                sub_id, idempotency_key=f"ogapi-replaced-{uuid.uuid4().hex}"
            )
        except NotFound:  # canceled at Stripe already (Stripe answers 404): its state then
            sub = await gateway.retrieve_subscription(sub_id)
        async with in_transaction():
            changed = await subscriptions.apply_subscription(sub, account_id, version=None)
        if changed:
            await keycache.account_changed(account_id)
        log.warning(
            "account %s: two paid subscriptions; canceled the older %s (prorated), kept the newest",
            account_id,
            sub_id,
        )
        canceled.append(sub_id)
    return canceled
