"""Webhook deliveries through the outbox (resolvers/outbox.py; docs/webhooks.md).

Each `WebhookDelivery` is due when written. Whichever worker claims it (a lease of
`LEASE` seconds) POSTs the event's stored body with a fresh `OGAPI-Signature`, through the
SSRF-safe fetcher (its addresses vetted again, no redirect followed) within `TIMEOUT`. A 2xx
answer delivers it; anything else is tried again after 30 s, then 2, 8 and 32 minutes, … (x4,
at most 8 h between tries) until 24 h after the event, always under the same event `id`.

An endpoint whose attempts have failed for 24 h since its last success is disabled, once (a
conditional UPDATE), and its owner told by mail and on the dashboard; its pending deliveries
then fail. A test ping that succeeds enables it again.

A test ping is attempted once, by the request that sent it, and never retried (it answers
with its outcome), and an endpoint has at most one ping pending: a test sent while another
is under way is refused (`Conflict`), so a test can make one POST and one row, no more.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from models import (
    Account,
    DeliveryStatus,
    Notification,
    NotificationKind,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from resolvers import outbox
from resolvers.crypto import SecretBox
from resolvers.errors import Conflict, InvalidParameter
from resolvers.fetch.fetcher import RemoteImageFetcher
from resolvers.fetch.limits import Rejected
from resolvers.mail import Mailer
from resolvers.notify import events
from resolvers.notify.signature import HEADER, signature

log = logging.getLogger("ogapi.webhooks")
TIMEOUT = 5.0  # seconds for an answer (the fetcher's own timeout bounds it too)
LEASE = 30.0  # seconds a claimed delivery is left to its worker
FIRST_RETRY, FACTOR, MAX_DELAY = 30.0, 4.0, 8 * 3600.0
RETRY_FOR = timedelta(hours=24)  # after the event: then the delivery fails
DISABLE_AFTER = timedelta(hours=24)  # of failures since the endpoint's last success
PURGE_EVERY = 3600.0  # seconds between forgetting old events
POLL = 2.0  # seconds between looks for due deliveries (sooner when this worker emits)
USER_AGENT = "OGImageAPI-Webhooks/1.0 (+docs/webhooks.md)"


def _ping_pending() -> Conflict:
    return Conflict("A test ping to this endpoint is already under way; try again shortly.")


def _pending_pings(endpoint: WebhookEndpoint, *, tried: bool = False):
    """Its pings not yet attempted (under way), or (`tried`) left waiting for a retry by a
    version of this module that retried pings."""
    return WebhookDelivery.filter(
        endpoint_id=endpoint.id, status=DeliveryStatus.PENDING, event__type=events.PING
    ).filter(**({"attempts__gte": 1} if tried else {"attempts": 0}))


class Deliverer:
    """One per worker: attempts due deliveries; `run()` until cancelled."""

    def __init__(
        self,
        fetcher: RemoteImageFetcher,
        box: SecretBox,
        mailer: Mailer,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.fetcher, self.box, self.mailer, self.clock = fetcher, box, mailer, clock

    async def retry_due(self, now: datetime | None = None) -> int:
        """Attempt every due delivery this worker claims (at once); how many it claimed."""
        now = now or self.clock()
        claimed = await outbox.claim_due(WebhookDelivery, now, LEASE)
        await asyncio.gather(*(self.attempt(d, now) for d in claimed))
        return len(claimed)

    async def run(self, every: float = POLL) -> None:
        """Deliver what is due every `every` seconds (at once after this worker emits), and
        forget events past the log's reach (`events.KEEP`) once an hour."""
        wake = asyncio.Event()
        events.listen(wake)
        purged = -PURGE_EVERY

        async def step() -> None:
            nonlocal purged
            await self.retry_due()
            if time.monotonic() - purged >= PURGE_EVERY:
                purged = time.monotonic()
                await events.purge(self.clock())

        try:
            await outbox.run_every(every, step, "webhook", wake)
        finally:
            events.unlisten(wake)

    async def send_now(
        self, endpoint: WebhookEndpoint, type_: str, data: dict, now: datetime
    ) -> WebhookDelivery:
        """Emit to `endpoint` alone and make its one attempt here (a test ping). Conflict
        while another ping to it is pending: of two written at once, the later row backs off
        (each counts after writing its own, so one of them always sees both)."""
        lease = now + timedelta(seconds=LEASE)
        if waiting := await _pending_pings(endpoint, tried=True).values_list("id", flat=True):
            failed = {"status": DeliveryStatus.FAILED, "next_attempt_at": None}
            await WebhookDelivery.filter(id__in=waiting, attempts__gte=1).update(**failed)
        if await _pending_pings(endpoint).exists():
            raise _ping_pending()
        made = await events.emit(
            endpoint.account_id, type_, data, now, endpoint=endpoint, claimed_until=lease
        )
        assert made is not None
        event, [delivery] = made
        first = await _pending_pings(endpoint).order_by("id").first()
        if first is not None and first.id != delivery.id:
            await WebhookDelivery.filter(id=delivery.id).delete()
            await WebhookEvent.filter(id=event.id).delete()
            raise _ping_pending()
        await self.attempt(delivery, now)
        return await WebhookDelivery.get(id=delivery.id)

    async def attempt(self, d: WebhookDelivery, now: datetime) -> None:
        """POST once, then record the outcome (only while this worker's lease holds)."""
        endpoint = await WebhookEndpoint.get_or_none(id=d.endpoint_id)
        event = await WebhookEvent.get_or_none(id=d.event_id)
        if endpoint is None or event is None:  # removed meanwhile (its deliveries go with it)
            return
        if endpoint.disabled_at is not None and event.type != events.PING:
            await self._record(d, now, None, "the endpoint is disabled", final=True)
            return
        secret = self.box.open(endpoint.sealed_secret)
        if secret is None:  # SECRET_KEY changed: the secret can no longer sign
            await self._record(d, now, None, "the endpoint's secret cannot be read", final=True)
            return
        body = event.body.encode()
        t = int(datetime.now(UTC).timestamp())  # the real time: receivers check it
        headers = {
            "Content-Type": "application/json",
            "Accept": "*/*",
            "User-Agent": USER_AGENT,
            HEADER: signature(secret, t, body),
        }
        status, error = None, None
        try:
            async with asyncio.timeout(TIMEOUT):
                got = await self.fetcher.post(
                    endpoint.url, body, owner=endpoint.account_id, headers=headers
                )
            status = got.head.status
            if not 200 <= status < 300:
                error = f"HTTP {status}"
        except (Rejected, InvalidParameter, TimeoutError) as exc:
            error = getattr(exc, "message", None) or str(exc) or f"no answer within {TIMEOUT:g} s"
        if error is None:
            await self._record(d, now, status, None, final=True)
            reset = {
                "failing_since": None,
                **({"disabled_at": None} if event.type == events.PING else {}),
            }
            await WebhookEndpoint.filter(id=endpoint.id).update(**reset)
            return
        final = event.type == events.PING or now >= event.created_at + RETRY_FOR
        await self._record(
            d, now, status, error, final=final, deadline=event.created_at + RETRY_FOR
        )
        await self._failing(endpoint, now)

    async def _record(
        self,
        d: WebhookDelivery,
        now: datetime,
        status: int | None,
        error: str | None,
        *,
        final: bool,
        deadline: datetime | None = None,
    ) -> None:
        attempts = d.attempts + 1
        fields: dict[str, object] = {
            "attempts": attempts,
            "last_attempt_at": now,
            "last_status": status,
            "last_error": error,
        }
        if error is None:
            fields.update(status=DeliveryStatus.DELIVERED, delivered_at=now, next_attempt_at=None)
        elif final:
            fields.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
        else:
            delay = outbox.backoff(attempts, FIRST_RETRY, FACTOR, MAX_DELAY)
            due = now + timedelta(seconds=delay)
            fields["next_attempt_at"] = min(due, deadline) if deadline else due
        held = await WebhookDelivery.filter(id=d.id, next_attempt_at=d.next_attempt_at).update(
            **fields
        )
        if not held:
            log.warning("webhook delivery %s: lease lost before its outcome was written", d.id)
        else:
            log.info("webhook delivery %s attempt %d: %s", d.id, attempts, error or status)

    async def _failing(self, endpoint: WebhookEndpoint, now: datetime) -> None:
        """Note the failure; disable the endpoint after DISABLE_AFTER of them, once."""
        await WebhookEndpoint.filter(id=endpoint.id, failing_since=None).update(failing_since=now)
        fresh = await WebhookEndpoint.get_or_none(id=endpoint.id)
        if fresh is None or fresh.failing_since is None or fresh.disabled_at is not None:
            return
        if now - fresh.failing_since < DISABLE_AFTER:
            return
        if not await WebhookEndpoint.filter(id=endpoint.id, disabled_at=None).update(
            disabled_at=now
        ):
            return  # another worker disabled it
        await self._tell_owner(fresh, now)

    async def _tell_owner(self, endpoint: WebhookEndpoint, now: datetime) -> None:
        text = (
            f"Your webhook endpoint {endpoint.url} has failed every delivery for 24 hours, so it "
            "was disabled. Fix it, then send a test from the dashboard to enable it again."
        )
        key = f"WEBHOOK_DISABLED:{endpoint.id}:{int(now.timestamp())}"
        await Notification.create(
            account_id=endpoint.account_id,
            created_at=now,
            dedupe_key=key,
            kind=NotificationKind.WEBHOOK_DISABLED,
            message=text,
        )
        account = await Account.get_or_none(id=endpoint.account_id)
        if account is not None:
            await self.mailer.send(
                account.email, "A webhook endpoint was disabled", text + "\n\nOG Image API\n"
            )
        log.warning("webhook endpoint %s disabled after 24 h of failures", endpoint.id)
