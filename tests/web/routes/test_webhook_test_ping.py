"""`POST /api/webhook-endpoints/{id}/test` cannot be used as a reflector (docs/webhooks.md):
each call spends a request of the plan's rate limit, a ping is attempted once and never
retried (a disabled endpoint's too), and an endpoint has at most one ping under way."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.web.conftest import T0
from tests.webhook_receiver import start_receiver
from web.appkeys import deliverer_key

pytestmark = pytest.mark.timeout(60)
PATH = "/api/webhook-endpoints"


async def _endpoint(api, user, url: str) -> str:
    resp = await api.post(PATH, json={"url": url, "events": ["balance.low"]},
                          headers={"X-API-Key": user.api_key})  # fmt: skip
    assert resp.status == 201, await resp.text()
    return (await resp.json())["id"]


async def test_a_test_spends_a_rate_limit_token(api, user_factory, aiohttp_server):
    receiver = await start_receiver(aiohttp_server)
    user = await user_factory(plan="free")  # 1 request per second
    endpoint = await _endpoint(api, user, receiver.url)
    key = {"X-API-Key": user.api_key}
    sent = await api.post(f"{PATH}/{endpoint}/test", headers=key)
    assert sent.status == 200, await sent.text()
    assert (sent.headers["X-RateLimit-Limit"], sent.headers["X-RateLimit-Remaining"]) == ("1", "0")
    refused = await api.post(f"{PATH}/{endpoint}/test", headers=key)
    assert refused.status == 429 and (await refused.json())["code"] == "RATE_LIMITED"
    assert int(refused.headers["Retry-After"]) >= 1
    assert len(receiver.received) == 1 and await WebhookEvent.filter(type="ping").count() == 1


@pytest.mark.parametrize("disabled", [False, True])
async def test_a_failed_ping_is_final(api, user_factory, aiohttp_server, disabled):
    """One POST per test, enabled or disabled: no retry is scheduled, none goes out later."""
    receiver = await start_receiver(aiohttp_server, status=500)
    user = await user_factory()
    endpoint = await _endpoint(api, user, receiver.url)
    if disabled:
        await WebhookEndpoint.filter(id=endpoint).update(disabled_at=T0, failing_since=T0)
    resp = await api.post(f"{PATH}/{endpoint}/test", headers={"X-API-Key": user.api_key})
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["delivery"] == {"status": "failed", "attempts": 1,
        "last_status": 500, "last_error": "HTTP 500", "next_attempt_at": None}  # fmt: skip
    deliverer = api.app[deliverer_key]
    for later in (timedelta(seconds=31), timedelta(hours=3), timedelta(hours=23)):
        assert await deliverer.retry_due(T0 + later) == 0
    assert len(receiver.received) == 1
    row = await WebhookEndpoint.get(id=endpoint)
    assert (row.disabled_at is not None) is disabled  # a failed ping enables nothing


async def test_one_ping_under_way_per_endpoint(api, user_factory, aiohttp_server):
    receiver = await start_receiver(aiohttp_server, delay=1.0)
    user = await user_factory()  # publishing: a burst of rate-limit tokens
    endpoint = await _endpoint(api, user, receiver.url)
    key = {"X-API-Key": user.api_key}
    first = asyncio.create_task(api.post(f"{PATH}/{endpoint}/test", headers=key))
    await receiver.wait_for(1)  # the first ping is at the receiver, unanswered
    assert len(receiver.received) == 1
    second = await api.post(f"{PATH}/{endpoint}/test", headers=key)
    assert second.status == 409
    body = await second.json()
    assert body["code"] == "CONFLICT" and "already under way" in body["message"]
    assert (await first).status == 200
    assert len(receiver.received) == 1 and await WebhookDelivery.all().count() == 1
    again = await api.post(f"{PATH}/{endpoint}/test", headers=key)  # the first one is done
    assert again.status == 200 and len(receiver.received) == 2


async def test_pings_sent_at_once_leave_one_under_way(api, user_factory, aiohttp_server):
    """Tests that pass the first look together: each counts after writing, the later back off."""
    from resolvers.errors import Conflict
    from resolvers.notify import events

    receiver = await start_receiver(aiohttp_server, delay=0.5)
    user = await user_factory()
    row = await WebhookEndpoint.get(id=await _endpoint(api, user, receiver.url))
    deliverer = api.app[deliverer_key]
    fates = await asyncio.gather(
        *(deliverer.send_now(row, events.PING, {"endpoint": row.id}, T0) for _ in range(4)),
        return_exceptions=True,
    )
    assert sum(isinstance(f, WebhookDelivery) for f in fates) == 1, fates
    assert sum(isinstance(f, Conflict) for f in fates) == 3, fates
    assert len(receiver.received) == 1
    assert await WebhookDelivery.all().count() == 1 and await WebhookEvent.all().count() == 1


async def test_a_ping_left_retrying_by_an_older_version_ends_at_the_next_test(
    api, user_factory, aiohttp_server
):
    from resolvers.notify import events

    receiver = await start_receiver(aiohttp_server)
    user = await user_factory()
    row = await WebhookEndpoint.get(id=await _endpoint(api, user, receiver.url))
    due = T0 + timedelta(hours=8)  # pings were retried for 24 h before (#23)
    _, [old] = await events.emit(user.id, events.PING, {}, T0, endpoint=row, claimed_until=due)
    await WebhookDelivery.filter(id=old.id).update(attempts=3, last_error="HTTP 500")
    resp = await api.post(f"{PATH}/{row.id}/test", headers={"X-API-Key": user.api_key})
    assert resp.status == 200 and (await resp.json())["delivery"]["status"] == "delivered"
    old = await WebhookDelivery.get(id=old.id)
    assert (old.status, old.attempts, old.next_attempt_at) == ("failed", 3, None)
    assert await WebhookDelivery.filter(status="pending").count() == 0
