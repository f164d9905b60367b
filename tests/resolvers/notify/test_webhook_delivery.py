"""Webhook deliveries through the outbox (docs/webhooks.md), on SQLite and PostgreSQL, to real
aiohttp receivers on loopback: retried under the same event id and delivered once after
success, claimed by one of two concurrent workers, picked up again after a worker died, and an
endpoint failing for 24 h disabled once with its owner told."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from models import (
    Account,
    DeliveryStatus,
    Notification,
    OutboxMail,
    WebhookDelivery,
    WebhookEndpoint,
)
from resolvers.crypto import SecretBox
from resolvers.fetch.fetcher import RemoteImageFetcher
from resolvers.mail import Mailer
from resolvers.notify import delivery, endpoints, events
from resolvers.notify.delivery import Deliverer
from tests.webhook_receiver import start_receiver, verify_with_python_recipe

pytestmark = pytest.mark.timeout(120)
T0 = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
BOX = SecretBox("a-secret-key-for-the-webhook-tests-0123456789")


@pytest.fixture
async def workers():
    """Deliverers as separate workers would have them: each its own fetcher."""
    made: list[RemoteImageFetcher] = []

    async def make(n: int = 1) -> list[Deliverer]:
        out = []
        for _ in range(n):
            fetcher = RemoteImageFetcher(allow_private=True, allow_http=True)
            await fetcher.start()
            made.append(fetcher)
            out.append(Deliverer(fetcher, BOX, Mailer("noreply@og.test")))
        return out

    yield make
    for fetcher in made:
        await fetcher.close()


async def _endpoint(deliverer: Deliverer, url: str, email: str = "hooks@example.com"):
    account = await Account.get_or_none(email=email) or await Account.create(
        email=email, password_hash="x"
    )
    body = {"url": url, "events": ["quota.threshold", "balance.low"]}
    endpoint, secret = await endpoints.create(account.id, body, deliverer.fetcher, BOX, T0)
    return account, endpoint, secret


async def _row(event_id: str) -> WebhookDelivery:
    return await WebhookDelivery.get(event_id=event_id)


async def test_a_failing_endpoint_is_retried_under_one_id_then_delivered_once(
    db, aiohttp_server, workers
):
    receiver = await start_receiver(aiohttp_server, fail=2)
    [worker] = await workers()
    account, _, secret = await _endpoint(worker, receiver.url)
    data = {"threshold": 80, "used": 8, "quota": 10, "month": "2026-12"}
    event, _ = await events.emit(account.id, events.QUOTA_THRESHOLD, data, T0)

    assert await worker.retry_due(T0) == 1  # attempt 1: 500
    row = await _row(event.id)
    assert (row.status, row.attempts, row.last_status, row.last_error) == (
        DeliveryStatus.PENDING, 1, 500, "HTTP 500")  # fmt: skip
    first_retry = (row.next_attempt_at - T0).total_seconds()
    assert 0 < first_retry <= 60  # the first retry within a minute
    assert await worker.retry_due(row.next_attempt_at - timedelta(seconds=1)) == 0
    at = row.next_attempt_at
    assert await worker.retry_due(at) == 1  # attempt 2: 500 again
    row = await _row(event.id)
    assert (row.next_attempt_at - at).total_seconds() > first_retry  # growing delays
    assert await worker.retry_due(row.next_attempt_at) == 1  # attempt 3: delivered
    row = await _row(event.id)
    assert (row.status, row.attempts, row.last_status, row.last_error, row.next_attempt_at) == (
        DeliveryStatus.DELIVERED, 3, 200, None, None)  # fmt: skip
    assert await worker.retry_due(T0 + timedelta(days=2)) == 0  # nothing more, ever

    assert len(receiver.received) == 3
    bodies = {got.body for got in receiver.received}
    assert len(bodies) == 1  # the same bytes every time: the same event id
    sent = receiver.received[0].event
    assert sent == {"id": event.id, "type": "quota.threshold", "created": "2026-12-01T09:30:00Z",
                    "data": data}  # fmt: skip
    assert all(verify_with_python_recipe(secret, got) for got in receiver.received)
    assert receiver.received[0].headers["Content-Type"] == "application/json"


async def test_two_workers_deliver_each_event_to_each_endpoint_once(db, aiohttp_server, workers):
    """Two workers poll the same due deliveries at the same moments; some answers fail first.
    Every (event, endpoint) reaches its receiver exactly once with a 2xx."""
    receivers = [await start_receiver(aiohttp_server, fail=3, delay=0.02) for _ in range(3)]
    pair = await workers(2)
    account = None
    for r in receivers:
        account, _, _ = await _endpoint(pair[0], r.url)
    assert account is not None
    made = [
        (await events.emit(account.id, events.BALANCE_LOW, {"balance": f"0.{i}"}, T0))[0]
        for i in range(8)
    ]
    now = T0
    for _ in range(6):
        claimed = await asyncio.gather(*(w.retry_due(now) for w in pair))
        assert sum(claimed) <= 24
        now += timedelta(hours=1)
    ok = Counter()
    for r in receivers:
        # Each receiver answered 500 to its first 3 posts, then 2xx: count the 2xx ones.
        for got in r.received[3:]:
            ok[(r.url, got.event["id"])] += 1
    assert len(ok) == 3 * len(made) and set(ok.values()) == {1}
    assert sum(len(r.received) for r in receivers) == 3 * len(made) + 9  # no duplicates
    rows = await WebhookDelivery.all()
    assert {d.status for d in rows} == {DeliveryStatus.DELIVERED} and len(rows) == 24


async def test_a_delivery_whose_worker_died_is_sent_after_its_lease(db, aiohttp_server, workers):
    """Written, claimed by a worker that died before attempting it: it survives (it is a row)
    and another worker, after a restart, delivers it once the lease has run out."""
    receiver = await start_receiver(aiohttp_server)
    dying, other = await workers(2)
    account, _, secret = await _endpoint(dying, receiver.url)
    lease = T0 + timedelta(seconds=delivery.LEASE)
    event, _ = await events.emit(account.id, events.BALANCE_LOW, {"balance": "0.5"}, T0,
                                 claimed_until=lease)  # fmt: skip
    assert await other.retry_due(T0 + timedelta(seconds=1)) == 0  # still the dead one's
    assert await other.retry_due(lease) == 1
    assert [got.event["id"] for got in receiver.received] == [event.id]
    assert verify_with_python_recipe(secret, receiver.received[0])
    assert (await _row(event.id)).status == DeliveryStatus.DELIVERED


async def test_an_endpoint_failing_for_24_hours_is_disabled_once(db, aiohttp_server, workers):
    receiver = await start_receiver(aiohttp_server, status=503)
    pair = await workers(2)
    account, endpoint, _ = await _endpoint(pair[0], receiver.url)
    event, _ = await events.emit(account.id, events.BALANCE_LOW, {"balance": "0.1"}, T0)
    times = []
    row = await _row(event.id)
    while row.next_attempt_at is not None:
        times.append(row.next_attempt_at)
        await asyncio.gather(*(w.retry_due(row.next_attempt_at) for w in pair))
        row = await _row(event.id)
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert gaps[0] <= 60 and gaps[:5] == sorted(gaps[:5]) and len(set(gaps[:5])) == 5
    assert times[-1] == T0 + timedelta(hours=24)  # the last try, then it is given up
    assert row.status == DeliveryStatus.FAILED
    assert row.attempts == len(times) == len(receiver.received)
    assert len({got.event["id"] for got in receiver.received}) == 1

    fresh = await WebhookEndpoint.get(id=endpoint.id)
    assert fresh.disabled_at == T0 + timedelta(hours=24) and fresh.failing_since == T0
    notes = await Notification.filter(account_id=account.id, kind="WEBHOOK_DISABLED")
    assert len(notes) == 1 and endpoint.url in notes[0].message
    assert await OutboxMail.filter(to=account.email, subject__contains="disabled").count() == 1
    # Disabled: new events skip it.
    assert await events.emit(account.id, events.BALANCE_LOW, {"balance": "0"}, T0) is None
    # A test ping that succeeds enables it again.
    receiver.status = 204
    later = T0 + timedelta(days=2)
    ping = await pair[0].send_now(fresh, events.PING, {"endpoint": endpoint.id}, later)
    assert ping.status == DeliveryStatus.DELIVERED and ping.last_status == 204
    fresh = await WebhookEndpoint.get(id=endpoint.id)
    assert fresh.disabled_at is None and fresh.failing_since is None
    assert json.loads(receiver.received[-1].body)["type"] == "ping"


async def test_a_subscription_change_goes_out_once(db, aiohttp_server, workers):
    from tortoise.transactions import in_transaction

    from models import PlanId, WebhookEvent
    from resolvers.billing import subscriptions
    from resolvers.plans import PLANS

    receiver = await start_receiver(aiohttp_server)
    [worker] = await workers()
    account, endpoint, _ = await _endpoint(worker, receiver.url)
    endpoint.events = ["subscription.updated"]
    await endpoint.save(update_fields=["events"])
    price = {"lookup_key": PLANS[PlanId.PRO].stripe_lookup_key}
    sub = {"id": "sub_1", "status": "active", "created": 1, "items": {"data": [{"price": price}]}}
    for version in (1, 2):  # the same state twice: the second changes nothing
        async with in_transaction():
            kind = "customer.subscription.updated"
            await subscriptions.apply_subscription(
                sub, account.id, version=version, event_type=kind
            )
    [event] = await WebhookEvent.filter(account_id=account.id)
    assert event.type == "subscription.updated"
    assert await worker.retry_due(datetime.now(UTC) + timedelta(seconds=1)) == 1
    assert receiver.received[0].event["data"] == {"plan": "pro", "status": "active"}


async def test_the_spending_cap_alert_goes_out_with_its_mail(db, aiohttp_server, workers):
    """The notification path the quota alerts share (resolvers/metering/alerts.py `notify`): the
    cap's SPENDING_CAP_100 is a quota.threshold at 100 (threshold, used, quota, month, as the
    quota's own) with `kind: "spending_cap"` and the cap, once per month."""
    from decimal import Decimal

    from resolvers.metering import alerts

    receiver = await start_receiver(aiohttp_server)
    [worker] = await workers()
    account, _, secret = await _endpoint(worker, receiver.url)
    usage = alerts.CapUsage(used=1000, quota=500, month="2026-12")
    for _ in range(2):
        await alerts.check_cap_alert(account.id, Decimal("5"), Decimal("5.000000"), usage,
                                     T0, worker.mailer)  # fmt: skip
    assert await worker.retry_due(T0) == 1
    [got] = receiver.received
    assert got.event["type"] == "quota.threshold"
    # Every field of the quota's own quota.threshold, then what tells the cap's apart.
    assert got.event["data"] == {"threshold": 100, "used": 1000, "quota": 500,
                                 "month": "2026-12", "kind": "spending_cap",
                                 "spending_cap": "5", "overage_spend": "5.000000"}  # fmt: skip
    assert verify_with_python_recipe(secret, got)
    assert await OutboxMail.filter(to=account.email).count() == 1


async def test_the_delivery_log_keeps_30_days(db, aiohttp_server, workers):
    from models import WebhookEvent

    receiver = await start_receiver(aiohttp_server)
    [worker] = await workers()
    account, _, _ = await _endpoint(worker, receiver.url)
    await events.emit(account.id, events.BALANCE_LOW, {"balance": "0.9"}, T0)
    later = T0 + timedelta(days=20)
    new, _ = await events.emit(account.id, events.BALANCE_LOW, {"balance": "0.8"}, later)
    assert await worker.retry_due(later) == 2
    assert await events.purge(T0 + timedelta(days=30)) == 0  # not past 30 days yet
    assert await events.purge(T0 + timedelta(days=31)) == 1
    assert [e.id for e in await WebhookEvent.all()] == [new.id]
    assert [d.event_id for d in await WebhookDelivery.all()] == [new.id]
