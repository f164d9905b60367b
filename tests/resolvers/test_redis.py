"""One Redis client per worker, built from the whole REDIS_URL, and a bytes-safe image cache
(resolvers/redisconn.py, resolvers/images/cache.py), against real redis-server processes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from models import Account
from resolvers.accounts.keys import active_key, reveal
from resolvers.images.cache import CachedImage, make_image_cache
from resolvers.metering import quota
from resolvers.redisconn import connect
from tests.conftest import PASSWORD
from tests.services import RedisProcess
from tests.web.imaging import CountingPool, client_with_pool
from web.appkeys import key_cache_key, meter_key, redis_key, secret_box_key
from web.settings import ConfigError, Settings

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\x80" + bytes(range(256))  # not UTF-8


@pytest.fixture(scope="module")
def tls_redis():
    """A redis-server speaking only TLS (self-signed), with a user and password."""
    server = RedisProcess(tls=True, users={"ogapi": "s3cret-pw"})
    try:
        yield server
    finally:
        server.close()


async def _user(client, email: str) -> tuple[int, str]:
    resp = await client.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
    assert resp.status == 201, await resp.text()
    account = await Account.get(email=email)
    return account.id, reveal(await active_key(account), client.app[secret_box_key])


async def test_the_cache_stores_images_as_bytes(redis_url):
    client = connect(redis_url)
    try:
        cache = make_image_cache(client)
        key = f"bytes-{uuid.uuid4().hex}"
        image = CachedImage.of(PNG, "image/png", 12.5)
        await cache.set(key, image)
        cache.memory = type(cache.memory)(1 << 20)  # a fresh process: only Redis holds it
        assert await cache.get(key) == image
        raw = await client.get(f"ogapi:img:{key}")
        assert raw.endswith(b"\n" + PNG)  # one blob: header, newline, the image's own bytes
    finally:
        await client.aclose()


async def test_a_card_rendered_on_worker_a_is_a_hit_on_worker_b_and_charged_once(
    aiohttp_client, make_app, redis_url
):
    pool_a, pool_b = CountingPool(), CountingPool()
    a = await client_with_pool(aiohttp_client, make_app, pool_a, redis_url=redis_url)
    b = await client_with_pool(aiohttp_client, make_app, pool_b, redis_url=redis_url)
    account_id, key = await _user(a, "shared-cache@example.com")
    body = {"title": f"Shared {uuid.uuid4().hex}", "template": "minimal"}
    first = await a.post("/api/generate", json=body, headers={"X-API-Key": key})
    assert (first.status, first.headers["X-Cache"]) == (200, "MISS")
    second = await b.post("/api/generate", json=body, headers={"X-API-Key": key})
    assert (second.status, second.headers["X-Cache"]) == (200, "HIT")
    assert await second.read() == await first.read()
    assert second.headers["ETag"] == first.headers["ETag"]
    assert (pool_a.renders, pool_b.renders) == (1, 0)
    assert await quota.used_this_month(account_id, datetime.now(UTC)) == 1
    assert second.headers["X-Quota-Used"] == "1"


async def test_one_client_per_worker(aiohttp_client, make_app, redis_url):
    client = await aiohttp_client(make_app(redis_url=redis_url))
    app = client.app
    shared = app[redis_key]
    assert app[meter_key].limiter.client is shared
    assert app[key_cache_key].redis is shared
    from web.appkeys import image_service_key

    assert app[image_service_key].cache.backend.client is shared


async def test_rediss_url_with_user_password_database_and_options_works_everywhere(
    aiohttp_client, make_app, tls_redis
):
    url = f"rediss://ogapi:s3cret-pw@127.0.0.1:{tls_redis.port}/3?ssl_cert_reqs=none"
    pool_a, pool_b = CountingPool(), CountingPool()
    a = await client_with_pool(aiohttp_client, make_app, pool_a, redis_url=url)
    b = await client_with_pool(aiohttp_client, make_app, pool_b, redis_url=url)
    ready = await (await a.get("/ready")).json()
    assert ready["checks"]["cache"] == ready["checks"]["rate_limiter"] == "ok", ready
    _, key = await _user(a, "tls@example.com")
    body = {"title": f"TLS {uuid.uuid4().hex}", "template": "minimal"}
    assert (await a.post("/api/generate", json=body, headers={"X-API-Key": key})).status == 200
    hit = await b.post("/api/generate", json=body, headers={"X-API-Key": key})
    assert hit.headers["X-Cache"] == "HIT" and pool_b.renders == 0

    direct = connect(f"{url}&ssl_ca_certs={tls_redis.cert}".replace("ssl_cert_reqs=none&", ""))
    try:
        keys = {k.decode().rsplit(":", 1)[0] for k in await direct.keys("ogapi:*")}
        assert any(k.startswith("ogapi:img") for k in keys)  # cache, in database 3
        assert any(k.startswith("ogapi:rl") for k in keys)  # rate limiter, in database 3
        assert await direct.pubsub_numsub("ogapi:keys:changed") == [(b"ogapi:keys:changed", 2)]
    finally:
        await direct.aclose()


def test_redis_url_is_checked_at_start_up():
    env = {"REDIS_URL": "http://127.0.0.1:6379", "SECRET_KEY": "x" * 40}
    with pytest.raises(ConfigError, match="REDIS_URL must start with redis://"):
        Settings.from_env(env)
    good = {**env, "REDIS_URL": "rediss://u:p@cache.internal:6380/2?ssl_cert_reqs=required"}
    assert Settings.from_env(good).redis_url == good["REDIS_URL"]
