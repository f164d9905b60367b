"""Rate limiting (docs/metering.md): GCRA in memory and in Redis (one Lua script), failing open."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
import redis.asyncio as redis

from models import Account, PlanId
from resolvers.errors import TooManyRequests
from resolvers.limits.per_second import MemoryRateLimiter, RedisRateLimiter, gcra
from resolvers.mail import Mailer
from resolvers.metering.meter import Meter
from tests.services import free_port


def test_gcra_allows_a_burst_of_rate_then_one_per_interval():
    tat, allowed = 0.0, []
    for _ in range(7):
        decision, tat = gcra(tat, 100.0, 5)
        allowed.append(decision.allowed)
    assert allowed == [True] * 5 + [False] * 2
    decision, _ = gcra(tat, 100.0, 5)
    assert decision.retry_after == pytest.approx(0.2)
    decision, tat = gcra(tat, 100.2, 5)
    assert decision.allowed and decision.remaining == 0


async def test_memory_limiter_per_key():
    now = [50.0]
    limiter = MemoryRateLimiter(clock=lambda: now[0])
    a = [(await limiter.hit("a", 10)).allowed for _ in range(12)]
    b = [(await limiter.hit("b", 10)).allowed for _ in range(3)]
    assert a.count(True) == 10 and b == [True] * 3
    now[0] += 0.1
    assert (await limiter.hit("a", 10)).allowed


async def test_redis_limiter_is_shared_between_workers(redis_url):
    # Two limiters with their own connections stand in for two worker processes; the clock
    # stands still, so the volley is instantaneous however slow the machine.
    now = [1_000.0]
    limiters = [RedisRateLimiter(redis.from_url(redis_url), clock=lambda: now[0]) for _ in "ab"]
    try:
        key = f"acct:shared-{free_port()}"
        decisions = await asyncio.gather(*(limiters[i % 2].hit(key, 25) for i in range(60)))
        assert sum(d.allowed for d in decisions) == 25  # one burst between them, not two
        assert sorted(d.remaining for d in decisions if d.allowed) == list(range(25))
        assert {d.retry_after for d in decisions if not d.allowed} == {0.04}
        now[0] += 0.039
        assert not (await limiters[0].hit(key, 25)).allowed
        now[0] += 0.001  # one emission interval after the burst: one more, then no more
        assert (await limiters[1].hit(key, 25)).allowed
        assert not (await limiters[0].hit(key, 25)).allowed
    finally:
        for limiter in limiters:
            await limiter.close()


async def test_redis_limiter_on_the_servers_clock(redis_url):
    # The production path (Redis TIME): bounds follow from the measured duration of the volley.
    limiters = [RedisRateLimiter(redis.from_url(redis_url)) for _ in range(2)]
    try:
        key = f"acct:clock-{free_port()}"
        started = time.monotonic()
        decisions = await asyncio.gather(*(limiters[i % 2].hit(key, 25) for i in range(60)))
        elapsed = time.monotonic() - started
        allowed = sum(d.allowed for d in decisions)
        # the burst, plus at most one refill per 40 ms the volley lasted (+1 for the edges)
        assert 25 <= allowed <= min(60, 25 + int(elapsed * 25) + 1), (allowed, elapsed)
        assert all(0 < d.retry_after <= 0.04 + 1e-6 for d in decisions if not d.allowed)
        assert max(d.remaining for d in decisions if d.allowed) == 24
        await asyncio.sleep(0.05)  # more than one emission interval
        assert (await limiters[0].hit(key, 25)).allowed
    finally:
        for limiter in limiters:
            await limiter.close()


async def test_redis_down_fails_open_and_logs(caplog):
    limiter = RedisRateLimiter.from_url(f"redis://127.0.0.1:{free_port()}/0")
    try:
        with caplog.at_level(logging.WARNING, logger="ogapi.ratelimit"):
            decisions = [await limiter.hit("acct:1", 2) for _ in range(4)]
        # falls back to a per-process limiter: the API stays up and still roughly limited
        assert [d.allowed for d in decisions] == [True, True, False, False]
        warnings = [r for r in caplog.records if "failing open" in r.getMessage()]
        assert len(warnings) == 1  # said once, not once per request
    finally:
        await limiter.close()


async def test_meter_check_rate_raises_rate_limited_with_its_numbers(settings):
    from models.db import database

    async with database(settings.database_url):
        account = await Account.create(email="r@example.com", password_hash="x", plan=PlanId.FREE)
        meter = Meter(MemoryRateLimiter(), Mailer("x@og.test"))
        first = await meter.rate.check(account)
        assert (first.limit, first.remaining) == (1, 0)
        with pytest.raises(TooManyRequests) as info:
            await meter.rate.check(account)
    exc = info.value
    assert (exc.status, exc.code) == (429, "RATE_LIMITED")
    assert exc.headers == {"Retry-After": "1"} and exc.rate == (1, 0)  # web/ writes X-RateLimit-*


async def test_remaining_reads_without_spending():
    from resolvers.limits.per_second import MemoryRateLimiter

    now = [100.0]
    limiter = MemoryRateLimiter(clock=lambda: now[0])
    assert await limiter.remaining("k", 5) == 5
    await limiter.hit("k", 5)
    await limiter.hit("k", 5)
    assert await limiter.remaining("k", 5) == 3
    assert await limiter.remaining("k", 5) == 3  # reading spends nothing
    now[0] += 0.2  # one emission interval later, one token is back
    assert await limiter.remaining("k", 5) == 4


async def test_redis_remaining_matches_memory(redis_url):
    import redis.asyncio as redis

    from resolvers.limits.per_second import RedisRateLimiter

    client = redis.from_url(redis_url)
    now = [1_000.0]
    limiter = RedisRateLimiter(client, prefix="rem:", clock=lambda: now[0])
    try:
        assert await limiter.remaining("k", 10) == 10
        for _ in range(4):
            await limiter.hit("k", 10)
        assert await limiter.remaining("k", 10) == 6
    finally:
        await client.aclose()
