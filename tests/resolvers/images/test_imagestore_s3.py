"""IMAGE_STORE=s3://… against an S3-compatible server (moto's server mode on 127.0.0.1, started
here): the store's own operations, the HTTP path across a restart, and an outage that renders
instead (resolvers/images/s3store.py, docs/caching.md#the-image-store)."""

from __future__ import annotations

import asyncio
import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from models import PlanId
from resolvers.accounts import accounts
from resolvers.accounts.keys import active_key, reveal
from resolvers.crypto import SecretBox
from resolvers.images.cache import CachedImage
from resolvers.images.s3store import S3Store
from resolvers.images.store import object_name, pack
from resolvers.images.store_tier import StoreTier
from resolvers.metering import quota
from tests.conftest import TEST_SECRET
from tests.resolvers.conftest import on_database
from tests.services import MotoS3, serving
from tests.web.imaging import Host, api_user, card, used
from web.appkeys import image_service_key

pytestmark = pytest.mark.timeout(90)
CREDS = {"access_key": "testing", "secret_key": "testing"}
KEY = "a7:" + "ab" * 32


@pytest.fixture
async def bucket(moto_s3: MotoS3) -> str:
    """A new bucket for this test."""
    name = f"ogapi-test-{time.time_ns()}"
    store = S3Store(name, endpoint_url=moto_s3.url, **CREDS)
    try:
        await (await store._s3()).create_bucket(Bucket=name)
    finally:
        await store.close()
    return name


def s3_settings(moto_s3, bucket: str, prefix: str = "og/images") -> dict:
    return {"image_store": f"s3://{bucket}/{prefix}", "s3_endpoint_url": moto_s3.url,
            "aws_access_key_id": "testing", "aws_secret_access_key": "testing"}  # fmt: skip


async def objects(moto_s3, bucket: str) -> dict[str, datetime]:
    store = S3Store(bucket, endpoint_url=moto_s3.url, **CREDS)
    try:
        resp = await (await store._s3()).list_objects_v2(Bucket=bucket)
        return {o["Key"]: o["LastModified"] for o in resp.get("Contents", [])}
    finally:
        await store.close()


async def test_write_read_touch_and_sweep(moto_s3, bucket):
    tier = StoreTier(S3Store(bucket, "p", endpoint_url=moto_s3.url, **CREDS))
    try:
        image = CachedImage.of(b"\x89PNG not utf-8 \xff\xfe", "image/png", 9.5)
        assert await tier.get(KEY, time.time()) is None
        await tier.put(KEY, image)
        assert await tier.get(KEY, time.time()) == image
        assert list(await objects(moto_s3, bucket)) == ["p" + object_name(KEY)]

        other = "a7:" + "cd" * 32
        await tier.put(other, image)
        await asyncio.sleep(1.1)  # S3 times have one-second resolution
        middle = time.time()
        await asyncio.sleep(1.1)
        tier.accessed(KEY, time.time() + 2 * 86400)  # a hit two days on: renews the object
        assert await tier.flush() == 1
        kept = await tier.sweep(middle + 400 * 86400, 400)
        assert (kept.removed, kept.kept) == (1, 1)
        assert list(await objects(moto_s3, bucket)) == ["p" + object_name(KEY)]
        assert await tier.get(other, time.time()) is None
        assert await tier.get(KEY, time.time()) == image
        assert tier.stats.errors == 0 and await tier.ping()
    finally:
        await tier.close()


async def test_a_foreign_or_torn_object_is_never_served(moto_s3, bucket):
    store = S3Store(bucket, endpoint_url=moto_s3.url, **CREDS)
    tier = StoreTier(store)
    try:
        alices = CachedImage.of(b"alice's embargoed card", "image/png")
        bobs_key = "a8:" + "ab" * 32
        await store.write(object_name(bobs_key), pack(KEY, alices))  # under bob's name
        assert await tier.get(bobs_key, time.time()) is None
        await store.write(object_name(KEY), pack(KEY, alices)[:20])  # torn
        assert await tier.get(KEY, time.time()) is None
        assert tier.stats.errors == 2 and tier.stats.hits == 0
    finally:
        await tier.close()


async def test_a_restart_serves_the_paid_image_from_s3(
    aiohttp_client, make_app, moto_s3, bucket, settings
):
    host = Host(aiohttp_client, make_app)
    options = s3_settings(moto_s3, bucket)
    a, pool_a = await host.start(**options)
    assert (await (await a.get("/ready")).json())["checks"]["image_store"] == "ok"
    user = await api_user(a, "s3@example.com")
    miss, body = await card(a, user, title="Kept in S3")
    assert miss == "MISS" and pool_a.renders == 1
    names = list(await objects(moto_s3, bucket))
    assert len(names) == 1 and re.fullmatch(r"og/images/a\d+/[0-9a-f]{2}/[0-9a-f]{64}", names[0])
    await a.close()
    b, pool_b = await host.start(**options)
    assert await card(b, user, title="Kept in S3") == ("HIT", body)
    assert pool_b.renders == 0 and await used(user.id, datetime.now(UTC)) == 1


async def test_an_outage_renders_instead_and_recovers(
    aiohttp_client, make_app, moto_s3, bucket, caplog
):
    host = Host(aiohttp_client, make_app)
    a, pool = await host.start(**s3_settings(moto_s3, bucket))
    user = await api_user(a, "s3-outage@example.com")
    moto_s3.stop()
    try:
        assert (await card(a, user, title="While S3 is away"))[0] == "MISS"
        ready = await (await a.get("/ready")).json()
        assert ready["status"] == "degraded" and ready["checks"]["image_store"] != "ok"
        assert any("rendering instead" in r.getMessage() for r in caplog.records)
    finally:
        moto_s3.start()
    cache = a.app[image_service_key].cache
    assert cache.store.stats.errors >= 1
    assert (await (await a.get("/ready")).json())["status"] == "ok"  # back: retried at once
    assert (await card(a, user, title="After the outage"))[0] == "MISS"
    await a.close()
    b, pool_b = await host.start(**s3_settings(moto_s3, bucket))
    assert (await card(b, user, title="After the outage"))[0] == "HIT"
    assert (await card(b, user, title="While S3 is away"))[0] == "MISS"  # never stored
    assert pool.renders == 2 and pool_b.renders == 1


def test_image_store_settings(tmp_path: Path):
    from web.settings import ConfigError, Settings

    env = {"OGAPI_DATA_DIR": str(tmp_path), "SECRET_KEY": "x" * 40}
    assert Settings.from_env(env).image_store == f"file://{tmp_path / 'images'}"
    s3 = Settings.from_env({**env, "IMAGE_STORE": "s3://my-bucket/og", "S3_REGION": "auto",
                            "S3_ENDPOINT_URL": "https://r2.example"})  # fmt: skip
    assert (s3.image_store, s3.s3_region, s3.s3_endpoint_url) == (
        "s3://my-bucket/og", "auto", "https://r2.example")  # fmt: skip
    for bad in ("s3://", "s3://UPPER/x", "ftp://x", "file://"):
        with pytest.raises(ConfigError, match="IMAGE_STORE"):
            Settings.from_env({**env, "IMAGE_STORE": bad})
    with pytest.raises(ConfigError, match="IMAGE_STORE_RETENTION_DAYS"):
        Settings.from_env({**env, "IMAGE_STORE_RETENTION_DAYS": "0"})


@pytest.fixture
async def two_hosts(pg, moto_s3, bucket, tmp_path):
    """Two `ogapi serve` hosts sharing PostgreSQL and one S3 bucket, and nothing else: no Redis
    (one worker each), their own data directories; a hit on B can only come from the store."""
    envs = []
    for i in range(2):
        env = {**os.environ, "DATABASE_URL": pg, "SECRET_KEY": TEST_SECRET,
               "OGAPI_DATA_DIR": str(tmp_path / f"host{i}"), "OGAPI_RENDER_WORKERS": "0",
               "IMAGE_STORE": f"s3://{bucket}/shared", "S3_ENDPOINT_URL": moto_s3.url,
               "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}  # fmt: skip
        env.pop("REDIS_URL", None)
        envs.append(env)
    async with serving(envs, "host") as bases:
        yield bases


async def test_two_hosts_share_one_store_an_image_renders_once(two_hosts, pg, moto_s3, bucket):
    a, b = two_hosts
    async with on_database(pg):
        box = SecretBox(TEST_SECRET)
        account = await accounts.create_account("hosts@example.com", "correct horse battery", box)
        account.plan = PlanId.PUBLISHING
        await account.save()
        key = reveal(await active_key(account), box)
    headers = {"X-API-Key": key}
    async with aiohttp.ClientSession() as http:

        async def get(base: str, title: str) -> tuple[str, bytes, str]:
            async with http.get(f"{base}/api/generate", params={"title": title},
                                headers=headers) as r:  # fmt: skip
                assert r.status == 200, await r.text()
                return r.headers["X-Cache"], await r.read(), r.headers["X-Quota-Used"]

        first = await get(a, "Rendered on host A")
        assert first[0] == "MISS"
        assert await get(b, "Rendered on host A") == ("HIT", first[1], "1")
        other = await get(b, "Rendered on host B")
        assert other[0] == "MISS"
        assert (await get(a, "Rendered on host B"))[:2] == ("HIT", other[1])
        async with http.get(f"{a}/api/signed/generate", params={"title": "Rendered on host A"},
                            headers=headers) as r:  # fmt: skip
            signed = (await r.json())["url"].split("/api/", 1)[1]
        async with http.get(f"{b}/api/{signed}") as r:
            assert r.headers["X-Cache"] == "HIT" and await r.read() == first[1]
        for base in (a, b):
            async with http.get(f"{base}/ready") as r:
                assert (await r.json())["checks"]["image_store"] == "ok"
    async with on_database(pg):
        assert await quota.used_this_month(account.id, datetime.now(UTC)) == 2
    assert len(await objects(moto_s3, bucket)) == 2
