"""Faults with measured recovery, against real servers: Redis killed mid-run, PostgreSQL
restarted. (A worker SIGKILLed under load: tests/web/cli/test_serve.py.)"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime

import pytest
from tortoise import connections

from models import Account, PlanId
from resolvers.accounts.keys import active_key, reveal
from resolvers.metering import quota
from resolvers.redisconn import connect
from tests import services
from tests.conftest import PASSWORD, TEST_SECRET
from tests.services import RedisProcess
from tests.web.imaging import CountingPool, client_with_pool
from web.appkeys import key_cache_key, secret_box_key


async def _user(client, email: str, **fields) -> tuple[int, str]:
    resp = await client.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
    assert resp.status == 201, await resp.text()
    account = await Account.get(email=email)
    for name, value in fields.items():
        setattr(account, name, value)
    await account.save()
    return account.id, reveal(await active_key(account), client.app[secret_box_key])


async def _generate(client, key: str, title: str):
    body = {"title": title, "template": "minimal"}
    return await client.post("/api/generate", json=body, headers={"X-API-Key": key})


async def _until(predicate, seconds: float) -> float:
    """Seconds until `predicate()` holds (fails the test after `seconds`)."""
    started = time.monotonic()
    while not await predicate():
        assert time.monotonic() - started < seconds, "no recovery"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def test_redis_killed_mid_run(aiohttp_client, make_app):
    """The rate limit fails open, quota stays exact (it lives in the database, never in
    Redis), /ready says what is down, and all of it recovers without a restart."""
    server = RedisProcess()
    try:
        pool = CountingPool()
        client = await client_with_pool(aiohttp_client, make_app, pool, redis_url=server.url)
        cache = client.app[key_cache_key]

        async def subscribed() -> bool:
            return cache.connected

        await _until(subscribed, 10)
        account_id, key = await _user(client, "redis-down@example.com", plan=PlanId.PRO,
                                      custom_quota=3)  # fmt: skip
        tag = uuid.uuid4().hex
        assert (await _generate(client, key, f"{tag} 1")).status == 200

        server.kill()
        statuses = []
        for i in (2, 3, 4):
            resp = await _generate(client, key, f"{tag} {i}")
            statuses.append((resp.status, resp.headers.get("X-RateLimit-Limit")))
        assert statuses[:2] == [(200, "10"), (200, "10")]  # rate limit failed open, per process
        assert statuses[2][0] == 429  # the quota of 3: exact without Redis
        assert await quota.used_this_month(account_id, datetime.now(UTC)) == 3
        ready = await client.get("/ready")
        checks = (await ready.json())["checks"]
        assert ready.status == 503 and checks["database"] == "ok"
        assert checks["rate_limiter"] != "ok" and checks["cache"] == "error: unreachable"
        assert not cache.connected  # the key cache reads the database meanwhile

        server.start()
        restarted = time.monotonic()

        async def ready_again() -> bool:
            return (await client.get("/ready")).status == 200 and cache.connected

        await _until(ready_again, 20)
        recovered = time.monotonic() - restarted
        print(f"Redis restarted: ready and subscribed again after {recovered:.2f} s")
        await Account.filter(id=account_id).update(custom_quota=10)
        await cache.publish(account_id)  # the key cache hears Redis again
        resp = await _generate(client, key, f"{tag} 5")
        assert resp.status == 200 and resp.headers["X-Cache"] == "MISS"
        direct = connect(server.url)
        try:
            assert await direct.exists(f"ogapi:rl:acct:{account_id}")  # the shared limiter again
            assert await direct.keys("ogapi:img:*")  # the shared cache again
        finally:
            await direct.aclose()
    finally:
        server.close()


@pytest.fixture
def own_postgres():
    """A PostgreSQL of this test's own: it is stopped and started."""
    if services.postgres_bin() is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    from tortoise.backends.base.executor import EXECUTOR_CACHE

    from models.db import migrate

    with services.postgres_server() as url:
        services.run_in_thread(migrate, url)
        EXECUTOR_CACHE.clear()  # SQL text cached for SQLite by earlier tests (same conn name)
        yield url
        EXECUTOR_CACHE.clear()


async def test_postgres_restarted(aiohttp_client, make_app, own_postgres):
    """While the database is down, every request that needs it answers 503 (never 500); the
    pool reconnects on its own once it is back."""
    client = await aiohttp_client(make_app(database_url=own_postgres))
    _, key = await _user(client, "pg-restart@example.com", plan=PlanId.PRO)
    tag = uuid.uuid4().hex
    assert (await _generate(client, key, f"{tag} warm")).status == 200  # key now cached

    services.pg_ctl(own_postgres, "stop", "-m", "fast")
    down = []
    for i in range(3):
        resp = await _generate(client, key, f"{tag} {i}")
        down.append((resp.status, (await resp.json())["code"]))
    usage = await client.get("/api/user/usage", headers={"X-API-Key": key})
    down.append((usage.status, (await usage.json())["code"]))
    creds = {"email": "pg-restart@example.com", "password": PASSWORD}
    login = await client.post("/api/auth/login", json=creds)
    down.append((login.status, (await login.json())["code"]))
    assert {status for status, _ in down} == {503}, down  # never a 500
    assert down[0][1] == "METERING_UNAVAILABLE"  # the key was cached: the quota fails closed
    ready = await client.get("/ready")
    assert ready.status == 503

    services.pg_ctl(own_postgres, "start")
    restarted = time.monotonic()

    async def serving() -> bool:
        resp = await _generate(client, key, f"{tag} back")
        assert resp.status in (200, 503), resp.status
        return resp.status == 200

    await _until(serving, 30)
    print(f"PostgreSQL restarted: renders again {time.monotonic() - restarted:.2f} s later")
    assert (await client.get("/api/user/usage", headers={"X-API-Key": key})).status == 200
    rows = await connections.get("default").execute_query_dict("SELECT 1 AS one")
    assert rows == [{"one": 1}]


async def test_requests_in_flight_when_postgres_stops_answer_503_not_500(
    aiohttp_client, make_app, own_postgres
):
    pool = CountingPool(delay=0.3)  # renders in flight while the database goes away
    client = await client_with_pool(aiohttp_client, make_app, pool, database_url=own_postgres)
    _, key = await _user(client, "pg-inflight@example.com", plan=PlanId.PUBLISHING)
    tag = uuid.uuid4().hex
    assert (await _generate(client, key, f"{tag} warm")).status == 200
    burst = [asyncio.ensure_future(_generate(client, key, f"{tag} {i}")) for i in range(12)]
    await asyncio.sleep(0.1)
    await asyncio.to_thread(services.pg_ctl, own_postgres, "stop", "-m", "fast")
    statuses = sorted({(await r).status for r in burst})
    assert set(statuses) <= {200, 503}, statuses
    services.pg_ctl(own_postgres, "start")
    assert TEST_SECRET  # (same app, same secret: nothing to reconfigure after the restart)
