"""The image cache per account, degraded cards kept only briefly, and fair remote fetching
(docs/caching.md, docs/remote-images.md), over real HTTP."""

from __future__ import annotations

import asyncio
import io
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from PIL import Image

from models import Account, PlanId
from resolvers.accounts.keys import active_key, reveal
from resolvers.fetch import fetcher as fetcher_module
from resolvers.images import cache as cache_module
from tests.conftest import PASSWORD, User, set_account
from tests.web.imaging import CountingPool, client_with_pool, red_pixels, used
from web.appkeys import secret_box_key

pytestmark = pytest.mark.timeout(60)
T0 = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)


def red_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (400, 300), (255, 0, 0)).save(buf, "PNG")
    return buf.getvalue()


async def get_card(api, user: User, **params):
    resp = await api.get("/api/generate", params=params, headers={"X-API-Key": user.api_key})
    assert resp.status == 200, await resp.text()
    return resp, await resp.read()


async def test_the_cache_is_per_account(api, user_factory, pool):
    alice, bob = await user_factory(), await user_factory()
    embargoed = {"title": "Merger announced", "subtitle": "Embargoed until 9:00"}
    first, body = await get_card(api, alice, **embargoed)
    assert first.headers["X-Cache"] == "MISS"
    other, other_body = await get_card(api, bob, **embargoed)
    assert other.headers["X-Cache"] == "MISS"  # bob's own render: nothing revealed
    assert other_body == body and pool.renders == 2
    again, _ = await get_card(api, alice, **embargoed)
    assert again.headers["X-Cache"] == "HIT"
    assert await used(alice.id, T0) == 1 and await used(bob.id, T0) == 1
    # a signed URL of alice's is served from alice's cache, as before
    resp = await api.get("/api/signed/generate", params=embargoed,
                         headers={"X-API-Key": alice.api_key})  # fmt: skip
    parts = urlsplit((await resp.json())["url"])
    signed = await api.get(f"{parts.path}?{parts.query}")
    assert signed.status == 200 and signed.headers["X-Cache"] == "HIT"
    assert signed.headers["Cache-Control"] == "public, max-age=86400"
    assert signed.headers["ETag"] == first.headers["ETag"] and pool.renders == 2


@pytest.fixture
async def flaky_image(aiohttp_server):
    """An image host that answers 503 until `state["up"]` is set."""
    state = {"up": False, "hits": 0}

    async def image(request: web.Request) -> web.Response:
        state["hits"] += 1
        if not state["up"]:
            return web.Response(status=503)
        return web.Response(body=red_png(), content_type="image/png")

    app = web.Application()
    app.router.add_get("/cover.png", image)
    server = await aiohttp_server(app)
    state["url"] = f"http://127.0.0.1:{server.port}/cover.png"
    return state


async def test_a_card_with_a_failed_image_is_kept_only_briefly(
    aiohttp_client, make_app, clock, flaky_image, monkeypatch
):
    monkeypatch.setattr(cache_module, "PARTIAL_TTL", 0.3, raising=False)  # 5 s in production
    monkeypatch.setattr(fetcher_module, "FAILURE_TTL", 0.3, raising=False)
    clock.set(T0)
    pool = CountingPool()
    api = await client_with_pool(aiohttp_client, make_app, pool)
    resp = await api.post("/api/auth/signup", json={"email": "f@example.com", "password": PASSWORD})
    acct = await Account.get(email="f@example.com")
    await set_account(acct.id, plan=PlanId.PUBLISHING)
    user = User(
        acct.id, acct.email, PASSWORD, reveal(await active_key(acct), api.app[secret_box_key])
    )
    params = {"title": "Cover", "template": "blog", "image_url": flaky_image["url"]}

    resp, body = await get_card(api, user, **params)
    assert resp.headers["X-Cache"] == "MISS" and red_pixels(body) == 0  # the placeholder
    assert resp.headers["Cache-Control"] == "private, max-age=300"
    mint = await api.get("/api/signed/generate", params=params, headers={"X-API-Key": user.api_key})
    parts = urlsplit((await mint.json())["url"])
    signed = await api.get(f"{parts.path}?{parts.query}")
    assert signed.status == 200 and signed.headers["X-Cache"] == "HIT"  # within the few seconds
    assert signed.headers["Cache-Control"] == "public, max-age=300"
    assert flaky_image["hits"] == 1

    flaky_image["up"] = True
    await asyncio.sleep(0.4)
    resp, body = await get_card(api, user, **params)
    assert resp.headers["X-Cache"] == "MISS" and red_pixels(body) > 10_000  # fetched again
    assert resp.headers["Cache-Control"] == "private, max-age=86400"
    assert flaky_image["hits"] == 2
    signed = await api.get(f"{parts.path}?{parts.query}")
    assert signed.headers["X-Cache"] == "HIT"
    assert signed.headers["Cache-Control"] == "public, max-age=86400"
    await asyncio.sleep(0.4)  # a complete card stays
    assert (await get_card(api, user, **params))[0].headers["X-Cache"] == "HIT"
    assert await used(user.id, T0) == 2 and pool.renders == 2


@pytest.fixture
async def slow_host(aiohttp_server):
    """An image host that holds every request until `state["release"]` is set (but /fast/)."""
    state = {"arrived": 0, "release": asyncio.Event()}

    async def slow(request: web.Request) -> web.Response:
        state["arrived"] += 1
        await state["release"].wait()
        return web.Response(body=red_png(), content_type="image/png")

    async def fast(request: web.Request) -> web.Response:
        return web.Response(body=red_png(), content_type="image/png")

    app = web.Application()
    app.router.add_get("/fast/red.png", fast)
    app.router.add_get("/{name}", slow)
    server = await aiohttp_server(app)
    state["port"] = server.port
    return state


async def test_one_accounts_slow_images_do_not_starve_another(
    api, user_factory, slow_host, monkeypatch
):
    real = fetcher_module.lookup_addresses

    async def lookup(host: str, port: int) -> list[str]:
        return ["127.0.0.1"] if host.endswith(".invalid") else await real(host, port)

    monkeypatch.setattr(fetcher_module, "lookup_addresses", lookup)
    mallory, carol = await user_factory(), await user_factory()
    port = slow_host["port"]
    # 12 cards x 3 images on 12 host names: more than the fetcher's 32 connections
    slow = [
        asyncio.create_task(api.get("/api/generate", headers={"X-API-Key": mallory.api_key},
                                    params={"title": f"Slow {i}", "width": "200", "height": "200",
                                            **{f: f"http://h{i}.invalid:{port}/{f}.png"
                                               for f in ("author_avatar_url", "logo_url",
                                                         "image_url")}}))
        for i in range(12)
    ]  # fmt: skip
    try:
        for _ in range(200):
            if slow_host["arrived"] >= 8:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)  # let every download that can start arrive
        assert 8 <= slow_host["arrived"] < 32  # mallory holds only her share of the slots
        _, body = await get_card(api, carol, title="Mine", template="blog",
                                 image_url=f"http://127.0.0.1:{port}/fast/red.png")  # fmt: skip
        assert red_pixels(body) > 10_000  # carol's image was fetched, not a placeholder
    finally:
        slow_host["release"].set()
        answers = await asyncio.gather(*slow)
    assert [r.status for r in answers] == [200] * 12


async def test_a_hung_dns_lookup_never_pins_the_default_executor(api, user_factory, monkeypatch):
    loop = asyncio.get_running_loop()
    default = ThreadPoolExecutor(2)
    loop.set_default_executor(default)
    release, started = threading.Event(), []
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and host.startswith("hang"):
            started.append(host)
            release.wait(30)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    user = await user_factory()
    cards = [
        asyncio.create_task(
            get_card(api, user, title=f"DNS {i}", image_url=f"http://hang{i}.invalid/x.png")
        )
        for i in range(3)
    ]
    try:
        for _ in range(200):
            if len(started) >= 3:
                break
            await asyncio.sleep(0.02)
        assert len(started) == 3  # three lookups hang right now
        # the loop's default executor (2 threads) is still free for everything else
        assert await asyncio.wait_for(loop.run_in_executor(None, lambda: 42), 2) == 42
    finally:
        release.set()
        done = await asyncio.gather(*cards)
    assert all(red_pixels(body) == 0 for _, body in done)  # the lookups failed: placeholders
