"""Several workers (separate processes) sharing one PostgreSQL and one Redis: quota, overage,
rate limit and alerts stay exact over real HTTP (docs/metering.md)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import aiohttp
import pytest

from models import Account, CardFetch, CardFetchDay, LedgerEntry, Notification, PlanId
from resolvers.accounts import accounts
from resolvers.accounts.keys import active_key, reveal
from resolvers.crypto import SecretBox
from resolvers.ledger import entries as ledger
from resolvers.metering import quota
from tests import services
from tests.conftest import TEST_SECRET
from tests.resolvers.conftest import on_database


@contextlib.asynccontextmanager
async def _serving(pg: str, redis_url: str, tmp_path: Path, **extra: str):
    """Two `ogapi serve` processes on their own ports (as behind a load balancer).

    Redis is emptied first: the database was just reset, so its ids start again, and cards
    cached for an earlier test's account 1 would be free hits for this test's account 1."""
    services.flush_redis(redis_url)
    env = {
        **os.environ,
        "DATABASE_URL": pg,
        "REDIS_URL": redis_url,
        "SECRET_KEY": TEST_SECRET,
        "OGAPI_DATA_DIR": str(tmp_path),
        "OGAPI_RENDER_WORKERS": "0",
        **extra,
    }
    async with services.serving([env, env], "worker") as bases:
        yield bases


@pytest.fixture
async def workers(pg, redis_url, tmp_path):
    async with _serving(pg, redis_url, tmp_path) as bases:
        yield bases


async def _account(email: str, **fields) -> tuple[Account, str]:
    box = SecretBox(TEST_SECRET)
    account = await accounts.create_account(email, "correct horse battery", box)
    for name, value in fields.items():
        setattr(account, name, value)
    await account.save()
    return account, reveal(await active_key(account), box)


async def _fire(bases: list[str], key: str, n: int, tag: str | None) -> Counter:
    async with aiohttp.ClientSession() as http:

        async def one(i: int) -> str:
            url = f"{bases[i % len(bases)]}/api/generate"
            # tag None: no title, a request that fails validation after the rate check (fast)
            body = {"title": f"{tag} {i}", "template": "minimal"} if tag else {}
            async with http.post(url, json=body, headers={"X-API-Key": key}) as r:
                if r.status == 200:
                    await r.read()
                    return "ok"
                return (await r.json())["code"]

        return Counter(await asyncio.gather(*(one(i) for i in range(n))))


async def test_two_workers_share_quota_overage_rate_and_alerts(workers, pg):
    async with on_database(pg):
        quota_acct, quota_key = await _account(
            "quota@example.com", plan=PlanId.PUBLISHING, custom_quota=12
        )
        overage_acct, overage_key = await _account(
            "overage@example.com", plan=PlanId.PUBLISHING, custom_quota=2, overage_enabled=True
        )
        await ledger.grant(overage_acct.id, "0.05", datetime.now(UTC))
        _, rate_key = await _account("rate@example.com", plan=PlanId.STARTER)

    started = time.monotonic()
    by_rate = await _fire(workers, rate_key, 30, None)
    elapsed = time.monotonic() - started
    by_quota, by_overage = await asyncio.gather(
        _fire(workers, quota_key, 40, "q"), _fire(workers, overage_key, 20, "o")
    )
    assert by_quota == {"ok": 12, "QUOTA_EXCEEDED": 28}
    assert by_overage == {"ok": 7, "QUOTA_EXCEEDED": 13}  # 2 in quota + $0.05 / $0.01
    # 5 requests/second shared through Redis: a burst of 5, then one per 0.2 s of the volley,
    # however long the volley took on this machine. (Two in-process limiters would let 10
    # through at once: the bound tells them apart whenever the volley takes under 0.8 s.)
    passed = by_rate["MISSING_TITLE"]
    bound = 5 + int(elapsed * 5) + 1
    assert 5 <= passed <= bound, (passed, elapsed)  # and so, unless bound >= 30, some refused
    assert by_rate["RATE_LIMITED"] == 30 - passed

    async with on_database(pg):
        assert await quota.used_this_month(quota_acct.id, datetime.now(UTC)) == 12
        kinds = sorted(n.kind.value for n in await Notification.filter(account_id=quota_acct.id))
        assert kinds == ["QUOTA_100", "QUOTA_80", "QUOTA_95"]
        assert await ledger.balance_of(overage_acct.id) == Decimal(0)
        charges = await LedgerEntry.filter(account_id=overage_acct.id, type="usage").count()
        assert charges == 5


async def test_key_revocation_and_the_shared_cache_across_workers(workers, pg):
    """A key regenerated through worker A is refused by worker B on its next request; a card
    rendered on A is a cache hit on B, charged once."""
    a, b = workers
    email, password = "revoke@example.com", "correct horse battery"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(
            f"{a}/api/auth/signup", json={"email": email, "password": password}
        ) as r:
            assert r.status == 201
        query = {"query": "{ me { apiKey } }"}
        async with http.post(f"{a}/graphql", json=query) as r:
            old = (await r.json())["data"]["me"]["apiKey"]
        body = {"title": f"Shared {time.time_ns()}", "template": "minimal"}
        first = await http.post(f"{a}/api/generate", json=body, headers={"X-API-Key": old})
        assert (first.status, first.headers["X-Cache"]) == (200, "MISS")
        png = await first.read()
        for base in workers:  # both workers now know the key from memory
            async with http.get(f"{base}/api/user/usage", headers={"X-API-Key": old}) as r:
                assert r.status == 200
        hit = await http.post(f"{b}/api/generate", json=body, headers={"X-API-Key": old})
        assert (hit.status, hit.headers["X-Cache"]) == (200, "HIT")
        assert await hit.read() == png
        assert hit.headers["X-Quota-Used"] == "1"  # one charge for the two requests

        mutation = {"query": "mutation { regenerateApiKey { apiKey } }"}
        async with http.post(f"{a}/graphql", json=mutation) as r:
            new = (await r.json())["data"]["regenerateApiKey"]["apiKey"]
        assert new != old
        revoked = time.monotonic()
        refused_in: list[float] = []
        for base in (b, a):
            while True:  # Redis pub/sub: the next request already, in practice
                async with http.get(f"{base}/api/user/usage", headers={"X-API-Key": old}) as r:
                    if r.status == 401:
                        break
                assert time.monotonic() - revoked < 1.0, "old key still accepted"
            refused_in.append(time.monotonic() - revoked)
            async with http.get(f"{base}/api/user/usage", headers={"X-API-Key": new}) as r:
                assert r.status == 200
        print(f"old key refused on B after {refused_in[0] * 1000:.0f} ms, on A after "
              f"{refused_in[1] * 1000:.0f} ms")  # fmt: skip
    async with on_database(pg):
        account = await Account.get(email=email)
        assert await quota.used_this_month(account.id, datetime.now(UTC)) == 1


async def test_batches_on_two_workers_render_exactly_the_quota(workers, pg):
    """Concurrent batches split over both workers, beside single requests: exactly the quota's
    images render, the rest fail per item with QUOTA_EXCEEDED, and `used` equals the renders."""
    async with on_database(pg):
        acct, key = await _account("batch@example.com", plan=PlanId.PUBLISHING, custom_quota=10)
    async with aiohttp.ClientSession() as http:

        async def batch(i: int) -> list[str]:
            items = [{"title": f"batch {i}-{n}", "width": 300, "height": 200} for n in range(6)]
            headers = {"X-API-Key": key, "Accept": "application/json"}
            url = f"{workers[i % 2]}/api/batch"
            async with http.post(url, json={"items": items}, headers=headers) as r:
                assert r.status == 200
                return [x["code"] or "ok" for x in (await r.json())["results"]]

        answers = await asyncio.gather(*(batch(i) for i in range(4)), _fire(workers, key, 6, "one"))
    fates = Counter(code for codes in answers[:4] for code in codes) + answers[4]
    assert fates == {"ok": 10, "QUOTA_EXCEEDED": 20}
    async with on_database(pg):
        assert await quota.used_this_month(acct.id, datetime.now(UTC)) == 10


async def test_two_workers_count_card_fetches_exactly(workers, pg):
    """Concurrent signed-image fetches through both workers: every one counted once per
    platform within 5 s, and one sample per card and platform a minute between them
    (docs/link-previews.md)."""
    async with on_database(pg):
        account, key = await _account("cards@example.com", plan=PlanId.PUBLISHING)
        other, _ = await _account("other-cards@example.com", plan=PlanId.PUBLISHING)
    agents = {
        "facebook": "facebookexternalhit/1.1",
        "x": "Twitterbot/1.0",
        "discord": "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    }
    async with aiohttp.ClientSession() as http:
        params = {"title": f"Shared {time.time_ns()}", "template": "minimal"}
        async with http.get(f"{workers[0]}/api/signed/generate", params=params,
                            headers={"X-API-Key": key}) as r:  # fmt: skip
            url = (await r.json())["url"]
        path = url[url.index("/api/signed/image") :]

        async def one(i: int) -> int:
            base, ua = workers[i % 2], list(agents.values())[i % 3]
            async with http.get(base + path, headers={"User-Agent": ua}) as r:
                await r.read()
                return r.status

        statuses = await asyncio.gather(*(one(i) for i in range(60)))
    assert statuses == [200] * 60
    sent = time.monotonic()
    async with on_database(pg):
        while True:
            rows = await CardFetchDay.filter(account_id=account.id).values("platform", "fetches")
            if sum(r["fetches"] for r in rows) >= 60 or time.monotonic() - sent > 5.0:
                break
            await asyncio.sleep(0.1)
        assert {r["platform"]: r["fetches"] for r in rows} == dict.fromkeys(agents, 20)
        samples = await CardFetch.filter(account_id=account.id).values_list("platform", "minute")
        per_minute = Counter(samples)
        assert set(p for p, _ in per_minute) == set(agents)
        assert all(n == 1 for n in per_minute.values())  # both workers saw each: one kept
        assert await CardFetchDay.filter(account_id=other.id).count() == 0


async def test_two_workers_stop_overage_exactly_at_the_spending_cap(workers, pg):
    """Single requests, batches and signed URLs of one capped account, split over both workers:
    exactly floor(cap / price) images are paid past the quota, the rest refused naming the cap
    (signed URLs: the fallback card), and the cap's alert is sent once (docs/metering.md)."""
    async with on_database(pg):
        acct, key = await _account("capped@example.com", plan=PlanId.PUBLISHING, custom_quota=2,
                                   overage_enabled=True, overage_cap=Decimal("0.055"))  # fmt: skip
        await ledger.grant(acct.id, "1.00", datetime.now(UTC))  # $0.01 an image: 100 of them
    cap = "Monthly spending cap reached. Cap: $0.055 of overage."
    async with aiohttp.ClientSession() as http:

        async def single(i: int) -> list[str]:
            body = {"title": f"capped {i}", "width": 300, "height": 200}
            async with http.post(f"{workers[i % 2]}/api/generate", json=body,
                                 headers={"X-API-Key": key}) as r:  # fmt: skip
                return ["ok"] if r.status == 200 else [(await r.json())["message"]]

        async def batch(i: int) -> list[str]:
            items = [{"title": f"batch {i}-{n}", "width": 300, "height": 200} for n in range(5)]
            headers = {"X-API-Key": key, "Accept": "application/json"}
            url = f"{workers[i % 2]}/api/batch"
            async with http.post(url, json={"items": items}, headers=headers) as r:
                return [x["message"] or "ok" for x in (await r.json())["results"]]

        async def signed(i: int) -> list[str]:
            params = {"title": f"signed {i}", "width": "300", "height": "200"}
            async with http.get(f"{workers[i % 2]}/api/signed/generate", params=params,
                                headers={"X-API-Key": key}) as r:  # fmt: skip
                url = (await r.json())["url"]
            async with http.get(workers[(i + 1) % 2] + url[url.index("/api/signed/image") :]) as r:
                await r.read()
                assert r.status == 200
                return ["fallback" if r.headers.get("X-OG-Degraded") == "quota" else "ok"]

        answers = await asyncio.gather(*(single(i) for i in range(12)),
                                       *(batch(i) for i in range(2)),
                                       *(signed(i) for i in range(8)))  # fmt: skip
    fates = Counter(fate for answer in answers for fate in answer)
    assert fates["ok"] == 7, fates  # 2 in the quota + 5 images at $0.01 within $0.055
    assert set(fates) == {"ok", cap, "fallback"} and sum(fates.values()) == 30
    async with on_database(pg):
        assert await quota.used_this_month(acct.id, datetime.now(UTC)) == 7
        assert await ledger.balance_of(acct.id) == Decimal("0.95")
        charges = await LedgerEntry.filter(account_id=acct.id, type="usage").count()
        assert charges == 5
        kinds = [n.kind.value for n in await Notification.filter(account_id=acct.id)]
        assert kinds.count("SPENDING_CAP_100") == 1


async def test_two_workers_deliver_each_webhook_event_once(pg, redis_url, tmp_path, aiohttp_server):
    """Both workers' deliverers poll the same PostgreSQL; the quota alerts fired on either
    worker and test pings sent through both reach the receiver exactly once each, signed."""
    from models import WebhookEndpoint
    from tests.webhook_receiver import start_receiver, verify_with_python_recipe

    receiver = await start_receiver(aiohttp_server, delay=0.05)
    secret = "whsec_" + "m" * 32
    async with on_database(pg):
        account, key = await _account("hooks@example.com", plan=PlanId.PUBLISHING, custom_quota=5)
        await WebhookEndpoint.create(id="we_multiworker00001", account_id=account.id,
                                     url=receiver.url, events=["quota.threshold"],
                                     sealed_secret=SecretBox(TEST_SECRET).seal(secret),
                                     created_at=datetime.now(UTC))  # fmt: skip
    extra = {"OGAPI_ALLOW_PRIVATE_FETCH": "1"}  # the receiver is on loopback
    async with _serving(pg, redis_url, tmp_path, **extra) as bases, aiohttp.ClientSession() as http:
        assert await _fire(bases, key, 12, "w") == {"ok": 5, "QUOTA_EXCEEDED": 7}
        for i in range(6):
            url = f"{bases[i % 2]}/api/webhook-endpoints/we_multiworker00001/test"
            async with http.post(url, headers={"X-API-Key": key}) as r:
                assert r.status == 200 and (await r.json())["delivery"]["status"] == "delivered"
        await receiver.wait_for(9, seconds=20)
        await asyncio.sleep(5)  # both deliverers have polled again: nothing more comes
    ids = Counter(got.event["id"] for got in receiver.received)
    assert len(ids) == 9 and set(ids.values()) == {1}, ids
    kinds = Counter(got.event["type"] for got in receiver.received)
    assert kinds == {"quota.threshold": 3, "ping": 6}
    assert all(verify_with_python_recipe(secret, got) for got in receiver.received)
