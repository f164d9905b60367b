"""The playground's preview, GET /api/dashboard/preview (docs/dashboard.md, Playground): a free,
watermarked JPEG draft at most 600 px on its long side, on its own per-account budget (4 a second,
300 in any hour, shared by every worker through Redis), refused to suspended and unpaid accounts."""

from __future__ import annotations

import asyncio
import io
import math
import threading

import pytest
from aiohttp import web
from PIL import Image

from models import Account, AccountStatus, DailyUsage, MonthlyUsage, SubscriptionStatus
from render.draft import draft_size
from resolvers.accounts.keys import active_key, reveal
from resolvers.fetch import image_check
from tests.conftest import PASSWORD, set_account
from tests.render.conftest import marked_share
from tests.resolvers.fetch.test_fetcher import _bomb_png
from tests.web.conftest import limit_on, sign_up
from tests.web.imaging import decode, red_pixels
from web.appkeys import secret_box_key

PREVIEW = "/api/dashboard/preview"


@pytest.fixture
async def workers(aiohttp_client, make_app, settings, ticker):
    """Clients of the app's workers, their limiters on `ticker`: one on the embedded default;
    two sharing PostgreSQL and Redis on the production stack (as gunicorn workers do)."""
    clients = []
    for _ in range(2 if settings.redis_url else 1):
        app = make_app()
        limit_on(app, ticker)
        clients.append(await aiohttp_client(app))
    await sign_up(clients[0], "preview@example.com")
    for other in clients[1:]:
        login = {"email": "preview@example.com", "password": PASSWORD}
        assert (await other.post("/api/auth/login", json=login)).status == 200
    return clients


async def _api_key(client) -> str:
    account = await Account.get(email="preview@example.com")
    return reveal(await active_key(account), client.app[secret_box_key]) or ""


@pytest.mark.parametrize(
    "asked",
    [
        {"template": "default"},
        {"template": "minimal", "theme": "light", "format": "webp", "quality": "100",
         "width": "2400", "height": "2400"},
        {"template": "stats", "format": "png", "width": "800", "height": "400",
         "bg_color": "#000000"},
    ],
    ids=["1200x630-dark", "2400x2400-light-webp", "800x400-black-png"],
)  # fmt: skip
async def test_a_preview_is_a_marked_jpeg_draft_whatever_was_asked(workers, ticker, asked):
    client = workers[0]
    params = {"title": "Ship beautiful link previews", **asked}
    resp = await client.get(PREVIEW, params=params)
    assert resp.status == 200, await resp.text()
    assert resp.content_type == "image/jpeg"
    draft = decode(await resp.read())
    size = draft_size(int(asked.get("width", 1200)), int(asked.get("height", 630)))
    assert draft.format == "JPEG" and draft.size == size and max(size) <= 600
    # The real render of the same card at the draft's size, from the API: the draft differs
    # from it all over (the PREVIEW mark), and is never byte-equal to a deliverable.
    real = {**params, "width": str(size[0]), "height": str(size[1])}
    key = {"X-API-Key": await _api_key(client)}
    png = await client.get("/api/generate", params={**real, "format": "png"}, headers=key)
    assert png.status == 200, await png.text()
    quarters = marked_share(draft, decode(await png.read()))
    assert min(quarters) > 0.02, quarters
    ticker.now += 1  # a free plan: one API request a second
    jpeg = await client.get(
        "/api/generate", params={**real, "format": "jpeg", "quality": "80"}, headers=key
    )
    assert jpeg.status == 200 and await jpeg.read() != await resp.read()


async def test_a_preview_counts_nothing_and_never_fills_the_cache(client, signup):
    user = await signup()
    resp = await client.get(PREVIEW, params={"title": "Hello", "template": "blog"})
    assert resp.status == 200, await resp.text()
    assert resp.headers["Cache-Control"] == "private, no-store"
    assert await MonthlyUsage.filter(account_id=user.id).count() == 0
    assert await DailyUsage.filter(account_id=user.id).count() == 0
    # A preview never becomes a free cache hit on the API: the same card still renders (and
    # counts) through /api/generate, within the API's own per-second budget.
    api = await client.get(
        "/api/generate", params={"title": "Hello", "template": "blog"},
        headers={"X-API-Key": user.api_key},
    )  # fmt: skip
    assert (api.status, api.headers["X-Cache"], api.headers["X-Quota-Used"]) == (200, "MISS", "1")
    assert api.headers["X-RateLimit-Remaining"] == "0"  # free plan: 1 a second, none spent before
    assert (await client.get(f"{PREVIEW}?title=x")).status == 200
    bad = await client.get(PREVIEW, params={"template": "blog"})
    assert (bad.status, (await bad.json())["code"]) == (400, "MISSING_TITLE")


@pytest.mark.both_stacks
async def test_four_a_second_and_three_hundred_in_any_hour(workers, ticker, stack):
    """On the production stack the requests alternate between two workers: one budget."""
    n = iter(range(10_000))

    def worker():
        return workers[next(n) % len(workers)]

    for left in (299, 298, 297, 296):
        resp = await worker().get(PREVIEW, params={"title": f"t{left}"})
        assert resp.status == 200, await resp.text()
        limits = resp.headers["X-RateLimit-Limit"], resp.headers["X-RateLimit-Remaining"]
        assert limits == ("300", str(left))
    fast = await worker().get(PREVIEW, params={"title": "fifth"})
    assert (fast.status, (await fast.json())["code"]) == (429, "RATE_LIMITED")
    assert fast.headers["Retry-After"] == "1"
    # At most 300 in any hour (four a second until then; requests that fail validation spend
    # the budget too): the 301st waits until the first four leave the hour-long window.
    t0 = ticker.now
    for _ in range(296):
        ticker.now += 0.25
        resp = await worker().get(PREVIEW, params={"template": "blog"})
        assert resp.status == 400, await resp.text()
    ticker.now += 0.25
    over = await worker().get(PREVIEW, params={"title": "one too many"})
    body = await over.json()
    assert (over.status, body["code"]) == (429, "RATE_LIMITED")
    assert "300 previews an hour" in body["message"]
    assert over.headers["Retry-After"] == str(math.ceil(3600 - (ticker.now - t0)))
    limits = over.headers["X-RateLimit-Limit"], over.headers["X-RateLimit-Remaining"]
    assert limits == ("300", "0")
    ticker.now = t0 + 3599
    assert (await worker().get(PREVIEW, params={"title": "not yet"})).status == 429
    ticker.now = t0 + 3600
    again = await worker().get(PREVIEW, params={"title": "an hour later"})
    assert again.status == 200 and again.headers["X-RateLimit-Remaining"] == "3"


@pytest.mark.parametrize(
    ("account", "code"),
    [
        ({"status": AccountStatus.SUSPENDED}, "SUBSCRIPTION_CANCELED"),
        ({"subscription_status": SubscriptionStatus.PAST_DUE}, "PAYMENT_PAST_DUE"),
        ({"subscription_status": SubscriptionStatus.UNPAID}, "PAYMENT_PAST_DUE"),
    ],
)
async def test_suspended_and_unpaid_accounts_get_the_api_403s(workers, account, code):
    client = workers[0]
    key = {"X-API-Key": await _api_key(client)}
    await set_account((await Account.get(email="preview@example.com")).id, **account)
    api = await client.get("/api/generate", params={"title": "x"}, headers=key)
    resp = await client.get(PREVIEW, params={"title": "x"})
    assert (api.status, (await api.json())["code"]) == (403, code)
    assert (resp.status, (await resp.json())["code"]) == (403, code)


SLOW = (1_900, 2_000)  # under the previews' 4 MP cap: decoded, slowly (held by the test)
HUGE = (4_000, 4_000)  # 16 MP: a paid render's limit, over a preview's


@pytest.fixture
async def images(aiohttp_server, monkeypatch):
    """An image host (`/slow/N.png`, `/huge.png`, `/red.png`, requests counted) and a decode
    step that holds SLOW images until `release` is set, counting how many it holds at once."""
    seen: dict = {"paths": [], "held": 0, "peak": 0, "sizes": []}
    release, lock, real = threading.Event(), threading.Lock(), image_check._decode
    held, loop = asyncio.Event(), asyncio.get_running_loop()
    red = io.BytesIO()
    Image.new("RGB", (64, 64), (255, 0, 0)).save(red, "PNG")
    bodies = {"huge.png": _bomb_png(*HUGE), "red.png": red.getvalue()}

    async def serve(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        seen["paths"].append(name)
        body = _bomb_png(*SLOW) if name.startswith("slow") else bodies[name]
        return web.Response(body=body, content_type="image/png")

    def decode_held(image: Image.Image) -> None:
        seen["sizes"].append(image.size)
        if image.size == SLOW:
            with lock:
                seen["held"] += 1
                seen["peak"] = max(seen["peak"], seen["held"])
            loop.call_soon_threadsafe(held.set)
            release.wait(120)
            with lock:
                seen["held"] -= 1
        real(image)

    monkeypatch.setattr(image_check, "_decode", decode_held)
    app = web.Application()
    app.router.add_get("/{name}", serve)
    server = await aiohttp_server(app, host="127.0.0.1")
    seen.update(base=f"http://127.0.0.1:{server.port}", release=release, held_one=held)
    yield seen
    release.set()


async def test_previews_decode_apart_from_paid_renders(client, signup, images):
    """Previews' images decode one at a time in a lane of their own: while previews hold every
    decode they may, a paid render's image is still fetched, decoded and drawn."""
    user = await signup()
    base = images["base"]
    previews = [
        asyncio.create_task(client.get(PREVIEW, params={
            "title": f"Draft {i}", "template": "blog", "image_url": f"{base}/slow{i}.png"}))
        for i in range(3)  # within the previews' per-second budget
    ]  # fmt: skip
    await asyncio.wait_for(images["held_one"].wait(), 60)
    try:
        async with asyncio.timeout(60):  # instant unless it queues behind the held previews
            paid = await client.get("/api/generate", headers={"X-API-Key": user.api_key},
                                    params={"title": "Paid", "template": "blog",
                                            "image_url": f"{base}/red.png"})  # fmt: skip
            assert paid.status == 200, await paid.text()
            assert red_pixels(await paid.read()) > 0  # drawn, not the placeholder
        assert images["held"] == images["peak"] == 1  # still held: one preview decode at a time
    finally:
        images["release"].set()
    assert [r.status for r in await asyncio.gather(*previews)] == [200] * 3


async def test_previews_skip_huge_and_undrawn_images(client, signup, images):
    user = await signup()
    base = images["base"]
    huge = {"title": "Huge", "template": "blog", "image_url": f"{base}/huge.png"}
    assert (await client.get(PREVIEW, params=huge)).status == 200
    assert HUGE not in images["sizes"]  # over 4 MP: refused from its header, never decoded
    paid = await client.get("/api/generate", params=huge, headers={"X-API-Key": user.api_key})
    assert paid.status == 200 and HUGE in images["sizes"]  # the API's own 16 MP limit
    asked = len(images["paths"])
    minimal = {"title": "Plain", "template": "minimal", "image_url": f"{base}/red.png"}
    assert (await client.get(PREVIEW, params=minimal)).status == 200
    assert len(images["paths"]) == asked  # minimal draws no image: nothing fetched
