"""Webhook events (docs/webhooks.md): what goes out, to whom, and the hook that makes every
notification an event.

`emit` writes one `WebhookEvent` (its JSON body fixed once, so every attempt sends the same
bytes under the same `id`) and a pending `WebhookDelivery` per enabled endpoint of the account
that takes the type, in the caller's transaction if it has one, then wakes this process's
deliverer (resolvers/notify/delivery.py); other workers find the rows on their next pass.

The hook: every `Notification` row created anywhere (quota alerts, low balance, whatever kind
is added later) is offered to `FROM_KIND` by a Tortoise post_save signal, in the transaction
that created it. A kind listed there goes out as that event type with the notification's
`data`; any other `QUOTA_…` kind goes out as `quota.threshold`. So a new notification becomes
a webhook by creating its row with `data` (and, for a new event type, one line here).
"""

from __future__ import annotations

import asyncio
import json
import string
from datetime import datetime, timedelta
from typing import Any

from tortoise.signals import post_save

from models import (
    Notification,
    NotificationKind,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from resolvers.crypto import random_token
from resolvers.timefmt import iso_utc

QUOTA_THRESHOLD, BALANCE_LOW = "quota.threshold", "balance.low"
SUBSCRIPTION_UPDATED, PING = "subscription.updated", "ping"
EVENT_TYPES = (QUOTA_THRESHOLD, BALANCE_LOW, SUBSCRIPTION_UPDATED, PING)
SUBSCRIBABLE = EVENT_TYPES[:3]  # `ping` goes to the one endpoint tested, whatever it takes
FROM_KIND: dict[str, str] = {
    NotificationKind.QUOTA_80: QUOTA_THRESHOLD,
    NotificationKind.QUOTA_95: QUOTA_THRESHOLD,
    NotificationKind.QUOTA_100: QUOTA_THRESHOLD,
    NotificationKind.LOW_BALANCE: BALANCE_LOW,
    # The month's overage reached the spending cap: a quota.threshold at 100 whose data also
    # names the cap (docs/webhooks.md).
    NotificationKind.SPENDING_CAP_100: QUOTA_THRESHOLD,
}
KEEP = timedelta(days=30)  # the delivery log's reach (every delivery is done within 24 h)
_wakeups: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []


def new_event_id() -> str:
    return "evt_" + random_token(24, string.ascii_lowercase + string.digits)


def listen(wake: asyncio.Event) -> None:
    """Have `emit` set `wake` (a deliverer's, on the running loop) after writing rows."""
    _wakeups.append((asyncio.get_running_loop(), wake))


def unlisten(wake: asyncio.Event) -> None:
    _wakeups[:] = [(loop, w) for loop, w in _wakeups if w is not wake]


def _wake() -> None:
    for loop, wake in list(_wakeups):
        if not loop.is_closed():
            loop.call_soon_threadsafe(wake.set)


def body(event_id: str, type_: str, created: datetime, data: dict[str, Any]) -> str:
    payload = {"id": event_id, "type": type_, "created": iso_utc(created), "data": data}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


async def emit(
    account_id: int,
    type_: str,
    data: dict[str, Any],
    now: datetime,
    *,
    endpoint: WebhookEndpoint | None = None,
    claimed_until: datetime | None = None,
) -> tuple[WebhookEvent, list[WebhookDelivery]] | None:
    """Record the event for the account's enabled endpoints that take `type_` (or for
    `endpoint` alone, enabled or not: a test ping). `claimed_until`: the deliveries start
    claimed by the caller, who attempts them at once. None when nobody listens."""
    if endpoint is not None:
        targets = [endpoint]
    else:
        enabled = await WebhookEndpoint.filter(account_id=account_id, disabled_at=None)
        targets = [e for e in enabled if type_ in e.events]
    if not targets:
        return None
    event_id = new_event_id()
    text = body(event_id, type_, now, data)
    event = await WebhookEvent.create(
        id=event_id, account_id=account_id, type=type_, created_at=now, body=text
    )
    due = claimed_until or now
    deliveries = [
        await WebhookDelivery.create(
            event=event, endpoint=target, created_at=now, next_attempt_at=due
        )
        for target in targets
    ]
    if claimed_until is None:
        _wake()
    return event, deliveries


async def purge(now: datetime) -> int:
    """Forget events older than KEEP with their deliveries; how many events went."""
    cutoff = now - KEEP
    await WebhookDelivery.filter(created_at__lt=cutoff).delete()
    return await WebhookEvent.filter(created_at__lt=cutoff).delete()


def event_of(n: Notification) -> tuple[str, dict[str, Any]] | None:
    """The webhook event type and data a notification goes out as (None: not a webhook)."""
    kind = str(n.kind)
    type_ = FROM_KIND.get(kind) or (QUOTA_THRESHOLD if kind.startswith("QUOTA_") else None)
    if type_ is None:
        return None
    data = dict(n.data or {})
    if type_ == QUOTA_THRESHOLD:  # a kind created without data still says which and when
        digits = "".join(c for c in kind if c.isdigit())
        if digits:
            data.setdefault("threshold", int(digits))
        if ":" in n.dedupe_key:
            data.setdefault("month", n.dedupe_key.rsplit(":", 1)[1])
    return type_, data


@post_save(Notification)
async def _notification_saved(
    sender: type[Notification], n: Notification, created: bool, using_db: Any, fields: Any
) -> None:
    if not created or (found := event_of(n)) is None:
        return
    await emit(n.account_id, found[0], found[1], n.created_at)
