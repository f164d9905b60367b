"""Sign-up throttling per client address (docs/accounts.md, `OGAPI_SIGNUPS_PER_HOUR`): past the
limit 429 `TOO_MANY_ATTEMPTS` with `Retry-After`, before any password is hashed; shared by the
workers through Redis (resolvers/limits/per_window.py)."""

from __future__ import annotations

import time

import pytest

from resolvers.accounts import passwords
from resolvers.limits.per_window import MemoryWindowLimiter, RedisWindowLimiter
from resolvers.redisconn import connect
from tests import services
from tests.conftest import PASSWORD
from web.settings import Settings, parse_networks

PROXY = parse_networks("127.0.0.0/8")


async def _signup(client, n: int, address: str = "203.0.113.7"):
    return await client.post(
        "/api/auth/signup",
        json={"email": f"new{n}-{address}@example.com", "password": PASSWORD},
        headers={"X-Forwarded-For": address},
    )


@pytest.fixture
def hashes(monkeypatch) -> list[int]:
    """Counts argon2 hashes (the cost a flood of sign-ups would make the server pay)."""
    calls: list[int] = []
    real = passwords.hash_password

    async def counting(password: str) -> str:
        calls.append(1)
        return await real(password)

    monkeypatch.setattr(passwords, "hash_password", counting)
    return calls


async def test_the_eleventh_signup_of_an_hour_is_refused_before_hashing(
    aiohttp_client, make_app, hashes
):
    client = await aiohttp_client(make_app(signups_per_hour=10, trusted_proxies=PROXY))
    started = time.monotonic()
    for n in range(10):
        assert (await _signup(client, n)).status == 201
    assert len(hashes) == 10
    for n in range(10, 13):
        resp = await _signup(client, n)
        assert resp.status == 429
        body = await resp.json()
        assert body["code"] == "TOO_MANY_ATTEMPTS" and body["error"] is True
        # The window opened at the first sign-up; ten real argon2 hashes have run since.
        waited = time.monotonic() - started
        assert 3600 - waited - 2 <= int(resp.headers["Retry-After"]) <= 3600
    assert len(hashes) == 10  # the refused ones cost no argon2 run
    # Another address has its own count; failed sign-ups count too.
    assert (await _signup(client, 0, "198.51.100.9")).status == 201
    bad = await client.post("/api/auth/signup", json={"email": "nope", "password": PASSWORD},
                            headers={"X-Forwarded-For": "198.51.100.9"})  # fmt: skip
    assert bad.status == 400


async def test_zero_turns_the_throttle_off(aiohttp_client, make_app):
    client = await aiohttp_client(make_app(signups_per_hour=0, trusted_proxies=PROXY))
    for n in range(12):
        assert (await _signup(client, n)).status == 201


async def test_workers_share_the_count_through_redis(aiohttp_client, make_app, redis_url):
    services.flush_redis(redis_url)
    a = await aiohttp_client(make_app(signups_per_hour=3, trusted_proxies=PROXY,
                                      redis_url=redis_url))  # fmt: skip
    b = await aiohttp_client(make_app(signups_per_hour=3, trusted_proxies=PROXY,
                                      redis_url=redis_url))  # fmt: skip
    assert [(await _signup(c, n)).status for n, c in enumerate((a, b, a))] == [201] * 3
    assert (await _signup(b, 3)).status == 429
    assert (await _signup(a, 4)).status == 429


def test_the_setting_defaults_to_ten(tmp_path):
    env = {"OGAPI_DATA_DIR": str(tmp_path)}
    assert Settings.from_env(env).signups_per_hour == 10
    assert Settings.from_env(env | {"OGAPI_SIGNUPS_PER_HOUR": "0"}).signups_per_hour == 0


@pytest.mark.parametrize("store", ["memory", "redis"])
async def test_the_window_slides(store, request):
    """Any hour holds at most `limit` hits: the 4th waits for the 1st to be an hour old (not a
    steady rate: GCRA would let one through every 20 minutes)."""
    now = [1_000_000.0]
    if store == "memory":
        limiter: MemoryWindowLimiter | RedisWindowLimiter = MemoryWindowLimiter(
            clock=lambda: now[0]
        )
    else:
        services.flush_redis(request.getfixturevalue("redis_url"))
        client = connect(request.getfixturevalue("redis_url"))
        limiter = RedisWindowLimiter(client, clock=lambda: now[0])
    allowed = []
    for step in (0, 600, 1200, 2400, 3599, 3600, 4200):
        now[0] = 1_000_000.0 + step
        decision = await limiter.hit("signup:x", 3, 3600)
        allowed.append((step, decision.allowed, round(decision.retry_after)))
    assert allowed == [(0, True, 0), (600, True, 0), (1200, True, 0), (2400, False, 1200),
                       (3599, False, 1), (3600, True, 0), (4200, True, 0)]  # fmt: skip
    if isinstance(limiter, RedisWindowLimiter):
        await limiter.client.aclose()


async def test_an_ipv6_64_is_one_address_and_mapped_ipv4_is_its_ipv4(aiohttp_client, make_app):
    client = await aiohttp_client(make_app(signups_per_hour=3, trusted_proxies=PROXY))
    for n in range(3):  # three addresses of one /64
        assert (await _signup(client, n, f"2001:db8:1:2::{n + 1:x}")).status == 201
    refused = await _signup(client, 3, "2001:db8:1:2:ffff:ffff:ffff:ffff")
    assert refused.status == 429 and (await refused.json())["code"] == "TOO_MANY_ATTEMPTS"
    assert (await _signup(client, 4, "2001:db8:1:3::1")).status == 201  # the next /64
    for n in range(3):
        assert (await _signup(client, n, "192.0.2.5")).status == 201
    assert (await _signup(client, 9, "::ffff:192.0.2.5")).status == 429
