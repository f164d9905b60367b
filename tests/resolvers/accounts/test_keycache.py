"""The API-key cache of the image hot path (resolvers/accounts/keycache.py) over real HTTP:
revocations and account changes take effect at once (docs/caching.md), across workers through Redis;
without a live subscription the cache is bypassed; changes nobody announced show within the TTL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from urllib.parse import urlsplit

from models import Account, AccountStatus, DailyUsage, MonthlyUsage, PlanId
from resolvers.accounts import accounts, keycache
from resolvers.accounts.keys import active_key, regenerate_api_key, reveal
from tests.conftest import PASSWORD
from tests.services import free_port
from web.appkeys import key_cache_key, meter_key, secret_box_key


async def _user(client, email: str = "cache@example.com") -> tuple[Account, str]:
    resp = await client.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
    assert resp.status == 201, await resp.text()
    account = await Account.get(email=email)
    key = reveal(await active_key(account), client.app[secret_box_key])
    assert key
    return account, key


async def _mint(client, key: str, **params) -> tuple[int, dict]:
    resp = await client.get(
        "/api/signed/generate", params={"title": "Cached", **params}, headers={"X-API-Key": key}
    )
    return resp.status, await resp.json()


def _path(url: str) -> str:
    u = urlsplit(url)
    return f"{u.path}?{u.query}"


async def _code(resp) -> str:
    return (await resp.json())["code"]


async def _until(predicate, seconds: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await predicate():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_suspension_through_the_resolver_is_immediate(client):
    account, key = await _user(client)
    status, body = await _mint(client, key)
    assert status == 200
    assert (await client.get(_path(body["url"]))).status == 200  # kid and key now cached
    cache = client.app[key_cache_key]
    assert cache._by_hash and cache._by_kid
    await accounts.set_status(account.email, AccountStatus.SUSPENDED)
    status, body2 = await _mint(client, key)
    assert (status, body2["code"]) == (403, "SUBSCRIPTION_CANCELED")
    resp = await client.get(_path(body["url"]))
    assert (resp.status, await _code(resp)) == (403, "SUBSCRIPTION_CANCELED")
    await accounts.set_status(account.email, AccountStatus.ACTIVE)
    assert (await _mint(client, key))[0] == 200


async def test_plan_change_is_seen_at_once(client):
    account, key = await _user(client)
    headers = {"X-API-Key": key}
    resp = await client.get("/api/generate", params={"title": "Plan"}, headers=headers)
    assert resp.headers["X-Quota-Limit"] == "25"
    await accounts.set_plan(account.email, PlanId.PRO)
    resp = await client.get("/api/generate", params={"title": "Plan"}, headers=headers)
    assert resp.headers["X-Cache"] == "HIT"
    assert resp.headers["X-Quota-Limit"] == "2000"


async def test_changes_nobody_announced_show_at_once_on_sqlite(client):
    """The embedded default: an `ogapi admin` process without Redis writes to the database; the
    key cache sees the commit (PRAGMA data_version) on the very next lookup."""
    account, key = await _user(client)
    assert (await _mint(client, key))[0] == 200
    assert client.app[key_cache_key]._by_hash  # cached
    await Account.filter(id=account.id).update(status=AccountStatus.SUSPENDED)  # behind its back
    status, body = await _mint(client, key)
    assert (status, body["code"]) == (403, "SUBSCRIPTION_CANCELED")


async def test_without_a_change_signal_entries_expire_after_the_ttl(client):
    """Where nothing tells the cache about changes (PostgreSQL without Redis), the TTL does."""
    account, key = await _user(client)
    cache = client.app[key_cache_key]
    cache.ttl, cache._changes = 2.0, None  # PostgreSQL without Redis; 2 s: room for a slow CI
    assert (await _mint(client, key))[0] == 200
    await Account.filter(id=account.id).update(status=AccountStatus.SUSPENDED)  # behind its back
    assert (await _mint(client, key))[0] == 200  # still the cached snapshot
    await asyncio.sleep(2.05)
    status, body = await _mint(client, key)
    assert (status, body["code"]) == (403, "SUBSCRIPTION_CANCELED")


async def test_unknown_keys_are_never_cached(client):
    resp = await client.get("/api/generate", params={"title": "x"},
                            headers={"X-API-Key": "og_" + "z" * 32})  # fmt: skip
    assert (resp.status, await _code(resp)) == (401, "INVALID_API_KEY")
    assert not client.app[key_cache_key]._by_hash


async def test_bypassed_while_redis_is_unreachable(aiohttp_client, make_app):
    client = await aiohttp_client(make_app(redis_url=f"redis://127.0.0.1:{free_port()}/0"))
    cache = client.app[key_cache_key]
    account, key = await _user(client)
    assert (await _mint(client, key))[0] == 200
    assert not cache.connected and not cache._by_hash  # nothing kept: read every time
    await Account.filter(id=account.id).update(status=AccountStatus.SUSPENDED)
    status, body = await _mint(client, key)  # no TTL to wait for
    assert (status, body["code"]) == (403, "SUBSCRIPTION_CANCELED")


async def test_regeneration_kills_the_old_key_on_another_worker(
    aiohttp_client, make_app, redis_url
):
    """Two apps on one database and one Redis, as two workers; B is taken out of this process's
    registry, so only Redis can tell it."""
    a = await aiohttp_client(make_app(redis_url=redis_url))
    b = await aiohttp_client(make_app(redis_url=redis_url))
    cache_b = b.app[key_cache_key]
    keycache._CACHES.discard(cache_b)

    async def subscribed() -> bool:
        return a.app[key_cache_key].connected and cache_b.connected

    await _until(subscribed)
    account, old = await _user(a, "workers@example.com")
    status, body = await _mint(b, old)
    assert status == 200
    assert (await b.get(_path(body["url"]))).status == 200
    assert cache_b._by_hash and cache_b._by_kid  # B answers from memory now

    _, new = await regenerate_api_key(account, a.app[secret_box_key])

    async def old_key_refused() -> bool:
        return (await _mint(b, old))[0] == 401

    await _until(old_key_refused, seconds=1.0)  # Redis delivery: milliseconds
    resp = await b.get(_path(body["url"]))
    assert (resp.status, await _code(resp)) == (403, "INVALID_SIGNATURE")
    assert (await _mint(b, new))[0] == 200

    # An operator command in another process (web/cli/main.py) announces through Redis too.
    await _mint(b, new)
    assert cache_b._by_hash
    await Account.filter(id=account.id).update(status=AccountStatus.SUSPENDED)
    async with keycache.publishing(redis_url):
        await keycache.account_changed(account.id)

    async def suspended() -> bool:
        return (await _mint(b, new))[0] == 403

    await _until(suspended, seconds=1.0)


async def test_api_calls_are_flushed_in_the_background_and_at_shutdown(aiohttp_client, make_app):
    client = await aiohttp_client(make_app())
    account, key = await _user(client)
    for _ in range(3):
        await client.get("/api/user/usage", headers={"X-API-Key": key})

    async def written() -> bool:
        return sum(await DailyUsage.filter(account_id=account.id).values_list(
            "api_calls", flat=True)) == 3  # fmt: skip

    await _until(written, seconds=3.0)  # the flusher runs every second
    await client.get("/api/user/usage", headers={"X-API-Key": key})
    await client.app[meter_key].flush()
    assert await written() is False  # 4 now
    await client.get("/api/user/usage", headers={"X-API-Key": key})
    meter = client.app[meter_key]
    assert meter.api_calls._calls  # not written yet ...
    await client.close()  # ... until shutdown
    assert not meter.api_calls._calls


async def test_quota_headers_on_hits_follow_other_workers_within_a_second(client, clock):
    clock.set(datetime(2026, 3, 10, tzinfo=UTC))
    account, key = await _user(client)
    headers = {"X-API-Key": key}
    miss = await client.get("/api/generate", params={"title": "Quota"}, headers=headers)
    assert (miss.headers["X-Cache"], miss.headers["X-Quota-Used"]) == ("MISS", "1")
    await MonthlyUsage.filter(account_id=account.id, month="2026-03").update(used=7)  # elsewhere
    hit = await client.get("/api/generate", params={"title": "Quota"}, headers=headers)
    assert (hit.headers["X-Cache"], hit.headers["X-Quota-Used"]) == ("HIT", "1")  # snapshot
    await asyncio.sleep(1.05)
    hit = await client.get("/api/generate", params={"title": "Quota"}, headers=headers)
    assert (hit.headers["X-Quota-Used"], hit.headers["X-Quota-Remaining"]) == ("7", "18")
    miss = await client.get("/api/generate", params={"title": "Other"}, headers=headers)
    assert (miss.headers["X-Cache"], miss.headers["X-Quota-Used"]) == ("MISS", "8")  # exact


async def test_key_lookups_share_one_read_after_expiry(client, monkeypatch):
    _, key = await _user(client)
    reads = []
    real = keycache._load

    async def counted(column, value):
        reads.append(column)
        await asyncio.sleep(0.01)
        return await real(column, value)

    monkeypatch.setattr(keycache, "_load", counted)
    statuses = await asyncio.gather(*(_mint(client, key) for _ in range(10)))
    assert [s for s, _ in statuses] == [200] * 10
    assert len(reads) == 1
