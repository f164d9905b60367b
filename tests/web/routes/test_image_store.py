"""The durable image store over real HTTP (docs/caching.md#the-image-store): a paid image is a
hit after a restart and after the caches dropped it, with `used` unchanged; placeholder and
fallback cards are never stored; an outage renders instead; the sweep removes what it should;
one account's request never reads another's image."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from resolvers.images.memory_lru import MemoryLru
from tests import services
from tests.conftest import set_account
from tests.web.imaging import Host, api_user, card, used
from web.appkeys import image_service_key
from web.cli import main as cli

pytestmark = [pytest.mark.both_stacks, pytest.mark.timeout(90)]
OBJECT = re.compile(r"a[0-9]+/[0-9a-f]{2}/[0-9a-f]{64}")


@pytest.fixture
def now(clock) -> datetime:
    """Real time (a stored file's age is real), held still for the test."""
    t = datetime.now(UTC).replace(microsecond=0)
    clock.set(t)
    return t


@pytest.fixture
def store_dir(settings) -> Path:
    return Path(settings.image_store.removeprefix("file://"))


@pytest.fixture
def host(aiohttp_client, make_app) -> Host:
    return Host(aiohttp_client, make_app)


def stored(store_dir: Path) -> list[str]:
    return sorted(str(p.relative_to(store_dir)) for p in store_dir.rglob("*") if p.is_file())


async def drop_caches(client, settings) -> None:
    """What an eviction, a Redis flush or a restart of Redis leaves: no cache holds anything."""
    cache = client.app[image_service_key].cache
    cache.memory = MemoryLru(cache.memory.max_bytes)
    if settings.redis_url:
        services.flush_redis(settings.redis_url)


async def test_a_restart_and_dropped_caches_serve_the_paid_image_as_a_hit(
    host, settings, store_dir, now
):
    a, pool_a = await host.start()
    user = await api_user(a, "paid@example.com")
    params = {"title": "Quarterly results", "subtitle": "Paid for once"}
    assert (await card(a, user, **params))[0] == "MISS"
    assert await used(user.id, now) == 1 and pool_a.renders == 1
    assert [OBJECT.fullmatch(name) is not None for name in stored(store_dir)] == [True]

    await drop_caches(a, settings)
    hit, body = await card(a, user, **params)
    assert hit == "HIT" and pool_a.renders == 1 and await used(user.id, now) == 1

    await a.close()  # the restart: a new process, empty memory (and Redis flushed)
    if settings.redis_url:
        services.flush_redis(settings.redis_url)
    b, pool_b = await host.start()
    again, body_b = await card(b, user, **params)
    assert (again, body_b) == ("HIT", body) and pool_b.renders == 0
    # the same image through a signed URL, also a hit, and the quota headers agree
    minted = await b.get("/api/signed/generate", params=params,
                         headers={"X-API-Key": user.api_key})  # fmt: skip
    url = urlsplit((await minted.json())["url"])
    signed = await b.get(f"{url.path}?{url.query}")
    assert signed.headers["X-Cache"] == "HIT" and await signed.read() == body
    resp = await b.get("/api/generate", params=params, headers={"X-API-Key": user.api_key})
    assert resp.headers["X-Quota-Used"] == "1"
    assert await used(user.id, now) == 1 and pool_b.renders == 0

    metrics = await (await b.get("/metrics")).text()
    assert re.search(r'^ogapi_image_tier_hits_total{tier="store"} 1.0$', metrics, re.M)
    assert re.search(r'^ogapi_image_tier_errors_total{tier="store"} 0.0$', metrics, re.M)


async def test_placeholder_and_fallback_cards_are_never_stored(host, settings, store_dir, now):
    a, pool = await host.start()
    user = await api_user(a, "partial@example.com")
    broken = {"title": "Cover", "template": "blog", "image_url": "http://127.0.0.1:9/red.png"}
    assert (await card(a, user, **broken))[0] == "MISS"  # a placeholder where the image failed
    assert stored(store_dir) == []
    await set_account(user.id, custom_quota=2)  # the placeholder card counted, as renders do
    await card(a, user, title="The one in quota")
    minted = await a.get("/api/signed/generate", params={"title": "Over quota"},
                         headers={"X-API-Key": user.api_key})  # fmt: skip
    url = urlsplit((await minted.json())["url"])
    fallback = await a.get(f"{url.path}?{url.query}")
    assert fallback.headers["X-OG-Degraded"] == "quota"
    assert len(stored(store_dir)) == 1  # only the complete, paid render
    assert pool.fallbacks == 1


async def test_another_accounts_identical_or_hostile_request_never_reads_an_image(
    host, store_dir, now
):
    a, pool = await host.start()
    alice, bob = await api_user(a, "alice@example.com"), await api_user(a, "bob@example.com")
    hostile = [
        {"title": f"../../a{bob.id}/x", "subtitle": "%2e%2e%2f\\..\\"},
        {"title": "Embargoed merger", "brand": f"a{bob.id}:{'0' * 64}"},
        {"title": "\u202e\ud7ff bidi \U0001f600", "theme": "light", "format": "jpg"},
    ]
    for params in hostile:
        assert (await card(a, alice, **params))[0] == "MISS"
    names = stored(store_dir)
    assert len(names) == 3 and all(OBJECT.fullmatch(n) for n in names)
    assert all(n.startswith(f"a{alice.id}/") for n in names)

    # A foreign object planted where bob's image would be is refused, never served.
    bob_obj = store_dir / f"a{bob.id}" / names[0].split("/", 1)[1]
    bob_obj.parent.mkdir(parents=True)
    shutil.copy(store_dir / names[0], bob_obj)
    for params in hostile:  # bob's identical requests: his own renders, counted for him
        assert (await card(a, bob, **params))[0] == "MISS"
    assert pool.renders == 6 and await used(bob.id, now) == 3 and await used(alice.id, now) == 3
    metrics = await (await a.get("/metrics")).text()
    assert re.search(r'^ogapi_image_tier_errors_total{tier="store"} 1.0$', metrics, re.M)


async def test_a_store_outage_renders_instead_and_is_logged_and_measured(
    host, settings, tmp_path, now, caplog
):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the store's directory should be")
    a, pool = await host.start(image_store=f"file://{blocked}")
    user = await api_user(a, "outage@example.com")
    with caplog.at_level(logging.WARNING, logger="ogapi.imagestore"):
        assert (await card(a, user, title="During the outage"))[0] == "MISS"
    assert any("image store" in r.getMessage() and "rendering instead" in r.getMessage()
               for r in caplog.records)  # fmt: skip
    await drop_caches(a, settings)
    assert (await card(a, user, title="During the outage"))[0] == "MISS"  # rendered again
    assert pool.renders == 2 and await used(user.id, now) == 2  # counted, as renders are
    ready = await a.get("/ready")
    body = await ready.json()
    assert ready.status == 200 and body["status"] == "degraded"
    assert body["checks"]["image_store"].startswith("error")
    metrics = await (await a.get("/metrics")).text()
    match = re.search(r'^ogapi_image_tier_errors_total{tier="store"} (\S+)$', metrics, re.M)
    assert match and float(match.group(1)) >= 1


async def test_the_sweep_removes_images_not_requested_for_the_retention(
    host, settings, store_dir, clock, now
):
    a, _ = await host.start()
    user = await api_user(a, "sweep@example.com")
    await card(a, user, title="Requested again")
    await card(a, user, title="Never requested again")
    assert len(stored(store_dir)) == 2
    await a.close()

    clock.set(now + timedelta(days=300))  # a restart 300 days later: a store hit, recorded
    b, _ = await host.start()
    assert (await card(b, user, title="Requested again"))[0] == "HIT"
    store = b.app[image_service_key].cache.store
    later = (now + timedelta(days=401)).timestamp()
    dry = await store.sweep(later, settings.image_store_retention_days, dry_run=True)
    assert (dry.removed, dry.kept, len(stored(store_dir))) == (1, 1, 2)
    done = await store.sweep(later, settings.image_store_retention_days)
    assert (done.removed, done.kept, len(stored(store_dir))) == (1, 1, 1)
    await b.close()
    if settings.redis_url:
        services.flush_redis(settings.redis_url)

    clock.set(now + timedelta(days=401))
    c, pool_c = await host.start()
    assert (await card(c, user, title="Requested again"))[0] == "HIT"
    assert (await card(c, user, title="Never requested again"))[0] == "MISS"  # only now
    assert pool_c.renders == 1
    assert await used(user.id, now + timedelta(days=401)) == 1  # that month's one render


async def test_ogapi_admin_sweep_images(host, settings, store_dir, now, monkeypatch, capsys):
    a, _ = await host.start()
    user = await api_user(a, "cli-sweep@example.com")
    await card(a, user, title="Old")
    await card(a, user, title="Recent")
    old = store_dir / stored(store_dir)[0]
    two_days_ago = (now - timedelta(days=2)).timestamp()
    os.utime(old, (two_days_ago, two_days_ago))
    monkeypatch.setenv("IMAGE_STORE", settings.image_store)
    monkeypatch.setenv("SECRET_KEY", settings.secret_key)
    assert (
        await asyncio.to_thread(cli.main, ["admin", "sweep-images", "--days", "1", "--dry-run"])
        == 0
    )
    assert capsys.readouterr().out.startswith("would remove 1 images")
    assert old.exists()
    assert await asyncio.to_thread(cli.main, ["admin", "sweep-images", "--days", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("removed 1 images") and "kept 1 images" in out
    assert not old.exists() and len(stored(store_dir)) == 1
    monkeypatch.setenv("IMAGE_STORE", "none")
    assert await asyncio.to_thread(cli.main, ["admin", "sweep-images"]) == 2


async def test_hits_served_from_memory_keep_the_image_from_the_sweep(host, store_dir, clock, now):
    a, _ = await host.start()
    user = await api_user(a, "hot@example.com")
    await card(a, user, title="Hot card")
    (name,) = stored(store_dir)
    for days in (100, 200, 300):  # served from this worker's memory each time
        clock.set(now + timedelta(days=days))
        assert (await card(a, user, title="Hot card"))[0] == "HIT"
        await a.app[image_service_key].cache.store.flush()
        assert os.stat(store_dir / name).st_mtime == (now + timedelta(days=days)).timestamp()
