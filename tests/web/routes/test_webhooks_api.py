"""Webhook endpoints over REST and GraphQL (docs/webhooks.md): key or session, 5 per account,
the SSRF rules of remote images, https in production, a signed test ping verified with the
documented Python and JavaScript recipes, quota alerts and a low balance going out as events,
and deliveries surviving a restart. Receivers are real aiohttp servers on loopback."""

from __future__ import annotations

import asyncio
import socket
from datetime import timedelta
from decimal import Decimal

import pytest

from models import Account, WebhookDelivery
from resolvers.fetch import fetcher as fetcher_module
from resolvers.ledger import entries as ledger
from tests.web.conftest import T0
from tests.web.imaging import set_account
from tests.webhook_receiver import (
    start_receiver,
    verify_with_js_recipe,
    verify_with_python_recipe,
)

pytestmark = pytest.mark.timeout(90)
PATH = "/api/webhook-endpoints"
EVENTS = ["quota.threshold", "balance.low", "subscription.updated"]


def _key(user) -> dict[str, str]:
    return {"X-API-Key": user.api_key}


async def _add(api, user, url: str, events=None) -> dict:
    resp = await api.post(PATH, json={"url": url, "events": events or EVENTS}, headers=_key(user))
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def test_add_list_remove_at_most_five(api, user_factory, aiohttp_server):
    receiver = await start_receiver(aiohttp_server)
    user, other = await user_factory(), await user_factory()
    made = await _add(api, user, receiver.url, ["balance.low", "quota.threshold"])
    assert made["secret"].startswith("whsec_") and len(made["secret"]) == 38
    assert made["id"].startswith("we_") and made["url"] == receiver.url
    assert made["events"] == ["quota.threshold", "balance.low"] and made["enabled"] is True
    listed = await (await api.get(PATH, headers=_key(user))).json()
    assert listed == {"endpoints": [{k: v for k, v in made.items() if k != "secret"}]}
    for _ in range(4):
        await _add(api, user, receiver.url)
    sixth = await api.post(PATH, json={"url": receiver.url, "events": EVENTS}, headers=_key(user))
    assert sixth.status == 409 and (await sixth.json())["code"] == "WEBHOOK_LIMIT"
    # Another account sees none of them and removes none.
    assert await (await api.get(PATH, headers=_key(other))).json() == {"endpoints": []}
    theirs = await api.delete(f"{PATH}/{made['id']}", headers=_key(other))
    assert theirs.status == 404 and (await theirs.json())["code"] == "NOT_FOUND"
    assert (await api.delete(f"{PATH}/{made['id']}", headers=_key(user))).status == 204
    assert (await api.delete(f"{PATH}/{made['id']}", headers=_key(user))).status == 404
    assert len((await (await api.get(PATH, headers=_key(user))).json())["endpoints"]) == 4
    api.session.cookie_jar.clear()  # the sign-ups' session
    assert (await api.get(PATH)).status == 401


async def test_the_session_adds_behind_the_browser_guard(api, user_factory, aiohttp_server):
    receiver = await start_receiver(aiohttp_server)
    user = await user_factory()
    login = await api.post("/api/auth/login", json={"email": user.email, "password": user.password})
    assert login.status == 200
    body = {"url": receiver.url, "events": ["balance.low"]}
    same = {"Origin": str(api.make_url("/")).rstrip("/")}
    assert (await api.post(PATH, json=body, headers=same)).status == 201
    evil = await api.post(PATH, json=body, headers={"Origin": "https://evil.example"})
    assert evil.status == 403
    assert len((await (await api.get(PATH)).json())["endpoints"]) == 1


@pytest.fixture
async def guarded(aiohttp_client, make_app, monkeypatch):
    """An app that refuses private addresses, as in production; `inward.example` resolves to
    a private address and `public.example` to a public one (never connected to)."""
    names = {"inward.example": ["10.1.2.3"], "localhost": ["127.0.0.1"],
             "mixed.example": ["93.184.216.34", "127.0.0.1"],
             "public.example": ["93.184.216.34"]}  # fmt: skip

    async def lookup(host: str, port: int) -> list[str]:
        if host == "unknown.example":  # what getaddrinfo raises for a name with no address
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return names.get(host, [])

    monkeypatch.setattr(fetcher_module, "lookup_addresses", lookup)
    client = await aiohttp_client(make_app(allow_private_fetch=False))
    client.names = names  # a test may re-point a name
    return client


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://2130706433/",
        "http://10.0.0.1/",
        "http://inward.example/hook",
        "http://mixed.example/hook",
        "http://nowhere.example/hook",
        "https://unknown.example/hook",
        "ftp://public.example/",
        "not a url",
        "https://user:pw@public.example/",
        "",
        None,
        42,
    ],
)
async def test_urls_follow_the_remote_image_rules(guarded, signup, url):
    user = await signup()
    resp = await guarded.post(PATH, json={"url": url, "events": EVENTS}, headers=_key(user))
    assert resp.status == 400, await resp.text()
    body = await resp.json()
    assert body["code"] == "INVALID_PARAMETER" and body["message"].startswith("url "), body


async def test_a_public_url_is_taken(guarded, signup):
    user = await signup()
    resp = await guarded.post(PATH, json={"url": "http://public.example/hook", "events": EVENTS},
                              headers=_key(user))  # fmt: skip
    assert resp.status == 201, await resp.text()


async def test_each_delivery_checks_the_addresses_again(guarded, signup):
    """A name that resolved to a public address when added and to a private one later (DNS
    rebinding) gets nothing: the attempt is refused before any connection."""
    user = await signup()
    body = {"url": "http://public.example/hook", "events": EVENTS}
    made = await (await guarded.post(PATH, json=body, headers=_key(user))).json()
    guarded.names["public.example"] = ["127.0.0.1"]
    resp = await guarded.post(f"{PATH}/{made['id']}/test", headers=_key(user))
    delivery = (await resp.json())["delivery"]
    assert delivery["status"] == "failed" and delivery["last_status"] is None
    assert "non-public address 127.0.0.1" in delivery["last_error"]


async def test_https_only_in_production(aiohttp_client, make_app, signup):
    prod = await aiohttp_client(make_app(env="production", allow_private_fetch=False))
    user = await signup()
    resp = await prod.post(PATH, json={"url": "http://public.example/hook", "events": EVENTS},
                           headers=_key(user))  # fmt: skip
    assert resp.status == 400
    assert (await resp.json())["message"] == "url must be an https URL"


@pytest.mark.parametrize("events", [None, [], ["ping"], ["quota.threshold", "nope"], "balance.low"])
async def test_events_are_checked(api, user_factory, aiohttp_server, events):
    receiver = await start_receiver(aiohttp_server)
    user = await user_factory()
    resp = await api.post(PATH, json={"url": receiver.url, "events": events}, headers=_key(user))
    assert resp.status == 400
    body = await resp.json()
    assert body["code"] == "INVALID_PARAMETER" and body["message"].startswith("events ")


async def test_a_test_ping_is_signed_as_documented(api, user_factory, aiohttp_server, tmp_path):
    receiver = await start_receiver(aiohttp_server)
    user = await user_factory()
    made = await _add(api, user, receiver.url, ["balance.low"])
    resp = await api.post(f"{PATH}/{made['id']}/test", headers=_key(user))
    assert resp.status == 200, await resp.text()
    answer = await resp.json()
    assert answer["type"] == "ping" and answer["id"].startswith("evt_")
    assert answer["delivery"] == {"status": "delivered", "attempts": 1, "last_status": 200,
                                  "last_error": None, "next_attempt_at": None}  # fmt: skip
    [got] = receiver.received
    assert got.event == {"id": answer["id"], "type": "ping", "created": "2026-05-10T12:00:00Z",
                         "data": {"endpoint": made["id"]}}  # fmt: skip
    assert verify_with_python_recipe(made["secret"], got)
    assert not verify_with_python_recipe("whsec_" + "x" * 32, got)
    if (js := verify_with_js_recipe(made["secret"], got, tmp_path)) is None:
        pytest.skip("node is not installed (scripts/setup.sh test installs Debian's nodejs)")
    assert js is True
    assert verify_with_js_recipe(made["secret"][:-1] + "?", got, tmp_path) is False


async def test_graphql_lists_endpoints_with_their_deliveries(api, user_factory, aiohttp_server):
    receiver = await start_receiver(aiohttp_server, status=418)
    user = await user_factory()
    made = await _add(api, user, receiver.url)
    await api.post(f"{PATH}/{made['id']}/test", headers=_key(user))
    query = """{ webhookEndpoints { id url events enabled failingSince deliveries(first: 5) {
        eventId type status attempts lastStatus lastError nextAttemptAt } } }"""
    resp = await api.post("/graphql", json={"query": query}, headers=_key(user))
    [endpoint] = (await resp.json())["data"]["webhookEndpoints"]
    assert endpoint["id"] == made["id"] and endpoint["events"] == EVENTS
    assert endpoint["enabled"] is True and endpoint["failingSince"] == "2026-05-10T12:00:00Z"
    [d] = endpoint["deliveries"]
    assert (d["type"], d["status"], d["attempts"], d["lastStatus"], d["lastError"]) == (
        "ping", "FAILED", 1, 418, "HTTP 418")  # fmt: skip
    assert d["nextAttemptAt"] is None and d["eventId"].startswith("evt_")


async def _wait_events(receiver, count: int) -> list[dict]:
    got = await receiver.wait_for(count)
    return [g.event for g in got]


async def test_quota_alerts_and_a_low_balance_go_out_as_events(api, user_factory, aiohttp_server):
    quota_hook = await start_receiver(aiohttp_server)
    balance_hook = await start_receiver(aiohttp_server)
    user = await user_factory(plan="starter")
    await set_account(user.id, custom_quota=5)
    await _add(api, user, quota_hook.url, ["quota.threshold"])
    await _add(api, user, balance_hook.url, ["balance.low"])
    for i in range(5):
        resp = await api.get("/api/generate", params={"title": f"card {i}"}, headers=_key(user))
        assert resp.status == 200
    sent = await _wait_events(quota_hook, 3)
    assert sorted((e["data"]["threshold"], e["data"]["used"]) for e in sent) == [
        (80, 4), (95, 5), (100, 5)]  # fmt: skip
    assert {(e["type"], e["data"]["quota"], e["data"]["month"]) for e in sent} == {
        ("quota.threshold", 5, "2026-05")}  # fmt: skip
    assert len({e["id"] for e in sent}) == 3

    await ledger.grant(user.id, Decimal("2.00"), T0)
    await ledger.charge(user.id, Decimal("1.25"), "test", T0)  # 0.75 left: below $1.00
    [low] = await _wait_events(balance_hook, 1)
    assert low["type"] == "balance.low" and low["data"] == {"balance": "0.750000"}
    await asyncio.sleep(0.3)
    assert len(quota_hook.received) == 3 and len(balance_hook.received) == 1  # as subscribed


async def test_deliveries_survive_a_restart(aiohttp_client, make_app, clock, aiohttp_server):
    """The receiver fails the first attempt; the server stops; a new server process on the same
    database delivers the event, same id, once its retry is due."""
    from tests.web.conftest import sign_up

    clock.set(T0)
    receiver = await start_receiver(aiohttp_server, fail=1)
    first = await aiohttp_client(make_app())
    await sign_up(first, "restart@example.com")
    same = {"Origin": str(first.make_url("/")).rstrip("/")}
    made = await (await first.post(PATH, json={"url": receiver.url, "events": ["balance.low"]},
                                   headers=same)).json()  # fmt: skip
    account = await Account.get(email="restart@example.com")
    await ledger.grant(account.id, Decimal("2.00"), T0)
    await ledger.charge(account.id, Decimal("1.25"), "test", T0)  # balance.low goes out
    for _ in range(250):  # its first attempt fails and is written down
        if await WebhookDelivery.filter(endpoint_id=made["id"], attempts=1).exists():
            break
        await asyncio.sleep(0.02)
    await first.close()  # the process is gone

    second = await aiohttp_client(make_app())
    await asyncio.sleep(2.5)  # its deliverer has looked: nothing is due yet
    assert len(receiver.received) == 1
    clock.set(T0 + timedelta(seconds=31))
    got = await receiver.wait_for(2)
    assert len(got) == 2 and got[0].body == got[1].body  # the same event, retried
    await asyncio.sleep(0.2)
    row = await WebhookDelivery.get(event_id=got[0].event["id"])
    assert row.status == "delivered" and row.attempts == 2
    assert second.app is not None
