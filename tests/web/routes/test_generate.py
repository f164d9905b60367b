"""POST/GET /api/generate (docs/rest-api.md) over real HTTP: errors, headers, cache, metering."""

from __future__ import annotations

import asyncio
import io

import pytest
from aiohttp import web
from PIL import Image

from models import AccountStatus, DailyUsage, PlanId
from resolvers.accounts.keys import regenerate_api_key
from tests.conftest import set_account
from tests.web.imaging import CountingPool, client_with_pool, decode, red_pixels, used
from web.appkeys import meter_key, secret_box_key

pytestmark = [pytest.mark.timeout(60), pytest.mark.both_stacks]


@pytest.fixture
async def pool():
    return CountingPool()


@pytest.fixture
async def api(aiohttp_client, make_app, pool):
    return await client_with_pool(aiohttp_client, make_app, pool)


async def error(resp, status: int, code: str) -> dict:
    assert resp.status == status, await resp.text()
    body = await resp.json()
    assert body["error"] is True and body["code"] == code and body["request_id"]
    return body


async def test_post_renders_png_with_spec_headers(api, user_factory, pool):
    user = await user_factory()
    resp = await api.post("/api/generate", json={"title": "Hello", "subtitle": "World"},
                          headers={"X-API-Key": user.api_key})  # fmt: skip
    assert resp.status == 200, await resp.text()
    h = resp.headers
    assert h["Content-Type"] == "image/png"
    assert h["X-Cache"] == "MISS" and float(h["X-Render-Ms"]) > 0
    assert h["ETag"].startswith('"') and h["Cache-Control"] == "private, max-age=86400"
    assert (h["X-Quota-Limit"], h["X-Quota-Used"], h["X-Quota-Remaining"]) == (
        "50000",
        "1",
        "49999",
    )
    assert h["X-RateLimit-Limit"] == "50" and int(h["X-RateLimit-Remaining"]) >= 0
    im = decode(await resp.read())
    assert im.size == (1200, 630) and im.format == "PNG"
    assert pool.renders == 1


async def test_get_equals_post_and_is_a_cache_hit(api, user_factory, pool):
    user = await user_factory()
    key = {"X-API-Key": user.api_key}
    params = {"title": "Same", "template": "minimal", "theme": "light", "width": 800, "height": 400}
    first = await api.post("/api/generate", json=params, headers=key)
    second = await api.get(
        "/api/generate", params={k: str(v) for k, v in params.items()}, headers=key
    )
    assert first.status == second.status == 200
    assert second.headers["X-Cache"] == "HIT" and second.headers["X-Render-Ms"] == "0.0"
    assert second.headers["ETag"] == first.headers["ETag"]
    assert await second.read() == await first.read()
    assert second.headers["X-Quota-Used"] == "1"  # a cache hit does not count
    # A hit spends no rate token but still says what is left (exact counts: test_ratelimit).
    limit = int(second.headers["X-RateLimit-Limit"])
    assert 0 <= int(second.headers["X-RateLimit-Remaining"]) <= limit
    assert pool.renders == 1 and await used(user.id) == 1
    assert decode(await second.read()).size == (800, 400)


@pytest.mark.parametrize(("fmt", "mime", "pil"), [("jpeg", "image/jpeg", "JPEG"),
                                                  ("webp", "image/webp", "WEBP")])  # fmt: skip
async def test_formats(api, user_factory, fmt, mime, pil):
    user = await user_factory()
    resp = await api.get("/api/generate", params={"title": "F", "format": fmt, "quality": "70"},
                         headers={"X-API-Key": user.api_key})  # fmt: skip
    assert resp.status == 200 and resp.headers["Content-Type"] == mime
    assert decode(await resp.read()).format == pil


async def test_etag_304(api, user_factory):
    user = await user_factory()
    key = {"X-API-Key": user.api_key}
    first = await api.get("/api/generate", params={"title": "E"}, headers=key)
    etag = first.headers["ETag"]
    again = await api.get("/api/generate", params={"title": "E"},
                          headers={**key, "If-None-Match": f'W/"nope", {etag}'})  # fmt: skip
    assert again.status == 304 and await again.read() == b""
    assert again.headers["ETag"] == etag
    other = await api.get("/api/generate", params={"title": "E"},
                          headers={**key, "If-None-Match": '"other"'})  # fmt: skip
    assert other.status == 200


BAD = [
    ({}, "MISSING_TITLE"),
    ({"title": "x" * 201}, "TITLE_TOO_LONG"),
    ({"title": "t", "subtitle": "x" * 301}, "SUBTITLE_TOO_LONG"),
    ({"title": "t", "template": "nope"}, "INVALID_TEMPLATE"),
    ({"title": "t", "theme": "sepia"}, "INVALID_THEME"),
    ({"title": "t", "format": "gif"}, "INVALID_PARAMETER"),
    ({"title": "t", "width": "100"}, "INVALID_PARAMETER"),
    ({"title": "t", "height": "9000"}, "INVALID_PARAMETER"),
    ({"title": "t", "format": "jpeg", "quality": "0"}, "INVALID_PARAMETER"),
    ({"title": "t", "bg_color": "blue"}, "INVALID_PARAMETER"),
    ({"title": "t", "logo_url": "javascript:alert(1)"}, "INVALID_PARAMETER"),
    ({"title": "t", "colour": "#fff"}, "INVALID_PARAMETER"),
]


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_every_validation_error(api, user_factory, pool, method):
    user = await user_factory()
    for params, code in BAD:
        kw = {"params": params} if method == "GET" else {"json": params}
        resp = await api.request(method, "/api/generate", headers={"X-API-Key": user.api_key}, **kw)
        body = await error(resp, 400, code)
        if code == "INVALID_PARAMETER":
            assert any(name in body["message"] for name in params if name != "title")
    assert pool.renders == 0 and await used(user.id) == 0


async def test_body_errors(api, user_factory):
    user = await user_factory()
    key = {"X-API-Key": user.api_key, "Content-Type": "application/json"}
    await error(await api.post("/api/generate", data=b"{nope", headers=key), 400, "INVALID_JSON")
    await error(await api.post("/api/generate", data=b"[1]", headers=key), 400, "INVALID_JSON")
    big = b'{"title": "' + b"x" * 1_100_000 + b'"}'
    await error(
        await api.post("/api/generate", data=io.BytesIO(big), headers=key), 413, "PAYLOAD_TOO_LARGE"
    )
    dup = await api.get("/api/generate?title=a&title=b", headers={"X-API-Key": user.api_key})
    assert "title" in (await error(dup, 400, "INVALID_PARAMETER"))["message"]


async def test_key_errors(api, user_factory):
    await error(await api.post("/api/generate", json={"title": "t"}), 401, "MISSING_API_KEY")
    bad = {"X-API-Key": "og_" + "x" * 32}
    await error(await api.post("/api/generate", json={"title": "t"}, headers=bad), 401,
                "INVALID_API_KEY")  # fmt: skip
    user = await user_factory()
    await set_account(user.id, status=AccountStatus.SUSPENDED)
    resp = await api.get(
        "/api/generate", params={"title": "t"}, headers={"X-API-Key": user.api_key}
    )
    await error(resp, 403, "SUBSCRIPTION_CANCELED")


async def test_regenerated_key_dies_immediately(api, user_factory):
    from models import Account

    user = await user_factory()
    key = {"X-API-Key": user.api_key}
    assert (await api.get("/api/generate", params={"title": "t"}, headers=key)).status == 200
    await regenerate_api_key(await Account.get(id=user.id), api.app[secret_box_key])
    # even a cached image is refused: the key is checked before the cache
    resp = await api.get("/api/generate", params={"title": "t"}, headers=key)
    await error(resp, 401, "INVALID_API_KEY")


async def test_api_calls_are_counted_success_or_not(api, user_factory):
    user = await user_factory()
    key = {"X-API-Key": user.api_key}
    await api.get("/api/generate", params={"title": "a"}, headers=key)
    await api.get("/api/generate", params={"title": "a"}, headers=key)  # hit
    await api.get("/api/generate", params={}, headers=key)  # 400
    await api.app[meter_key].flush()  # counted in memory, written every second
    rows = await DailyUsage.filter(account_id=user.id)
    assert sum(r.api_calls for r in rows) == 3
    assert sum(r.images for r in rows) == 1


async def test_failed_render_counts_nothing(aiohttp_client, make_app):
    pool = CountingPool(fail=True)
    api = await client_with_pool(aiohttp_client, make_app, pool)
    user = await _signup(api, plan=PlanId.PUBLISHING)
    resp = await api.get("/api/generate", params={"title": "t"}, headers={"X-API-Key": user[1]})
    await error(resp, 500, "GENERATION_FAILED")
    assert pool.renders == 1 and await used(user[0]) == 0
    assert sum(r.images for r in await DailyUsage.filter(account_id=user[0])) == 0


async def _signup(api, plan: PlanId, email: str = "solo@example.com") -> tuple[int, str]:
    from models import Account
    from resolvers.accounts.keys import active_key, reveal
    from tests.conftest import PASSWORD

    resp = await api.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
    assert resp.status == 201
    acct = await Account.get(email=email)
    await set_account(acct.id, plan=plan)
    return acct.id, reveal(await active_key(acct), api.app[secret_box_key])


async def test_quota_exceeded(api, user_factory, pool):
    user = await user_factory(custom_quota=2)
    key = {"X-API-Key": user.api_key}
    for title in ("a", "b"):
        assert (await api.get("/api/generate", params={"title": title}, headers=key)).status == 200
    body = await error(await api.get("/api/generate", params={"title": "c"}, headers=key), 429,
                       "QUOTA_EXCEEDED")  # fmt: skip
    assert body["message"] == "Monthly quota exceeded. Limit: 2 images."
    # cached images are still served past the quota
    assert (await api.get("/api/generate", params={"title": "a"}, headers=key)).status == 200
    assert pool.renders == 2 and await used(user.id) == 2


async def test_exactly_r_of_n_concurrent_distinct_requests_succeed(api, user_factory, pool):
    user = await user_factory(custom_quota=3)
    key = {"X-API-Key": user.api_key}
    resps = await asyncio.gather(
        *(api.get("/api/generate", params={"title": f"n{i}"}, headers=key) for i in range(10))
    )
    statuses = sorted(r.status for r in resps)
    assert statuses == [200] * 3 + [429] * 7
    assert {(await r.json())["code"] for r in resps if r.status == 429} == {"QUOTA_EXCEEDED"}
    assert await used(user.id) == 3 and pool.renders == 3


async def test_identical_concurrent_requests_render_once(aiohttp_client, make_app):
    pool = CountingPool(delay=0.3)
    api = await client_with_pool(aiohttp_client, make_app, pool)
    uid, key = await _signup(api, PlanId.PUBLISHING)
    resps = await asyncio.gather(
        *(
            api.get("/api/generate", params={"title": "same"}, headers={"X-API-Key": key})
            for _ in range(8)
        )
    )
    assert [r.status for r in resps] == [200] * 8
    assert sorted(r.headers["X-Cache"] for r in resps) == ["HIT"] * 7 + ["MISS"]
    bodies = {await r.read() for r in resps}
    assert len(bodies) == 1
    assert pool.renders == 1 and await used(uid) == 1


async def test_rate_limited_requests_do_not_count(aiohttp_client, make_app):
    pool = CountingPool()
    api = await client_with_pool(aiohttp_client, make_app, pool)
    uid, key = await _signup(api, PlanId.FREE)  # 1 request per second
    headers = {"X-API-Key": key}
    assert (await api.get("/api/generate", params={"title": "1"}, headers=headers)).status == 200
    resp = await api.get("/api/generate", params={"title": "2"}, headers=headers)
    await error(resp, 429, "RATE_LIMITED")
    assert int(resp.headers["Retry-After"]) >= 1
    # a cache hit spends no token; a bad request after the key check does
    assert (await api.get("/api/generate", params={"title": "1"}, headers=headers)).status == 200
    await error(await api.get("/api/generate", params={}, headers=headers), 429, "RATE_LIMITED")
    assert await used(uid) == 1 and pool.renders == 1


# ----------------------------------------------------------------------------- remote images


def _red_png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (400, 300), (255, 0, 0)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
async def image_server(aiohttp_server):
    hits: list[str] = []

    async def red(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(body=_red_png(), content_type="image/png")

    app = web.Application()
    app.router.add_get("/red.png", red)
    server = await aiohttp_server(app)
    server.hits = hits
    return server


async def test_remote_image_appears_in_the_card(api, user_factory, image_server, pool):
    user = await user_factory()
    url = f"http://127.0.0.1:{image_server.port}/red.png"
    resp = await api.get("/api/generate", params={"title": "Cover", "template": "blog",
                                                  "image_url": url},
                         headers={"X-API-Key": user.api_key})  # fmt: skip
    assert resp.status == 200, await resp.text()
    assert red_pixels(await resp.read()) > 10_000
    assert image_server.hits == ["/red.png"]
    assert pool.specs[0].image("image_url") == _red_png()


async def test_unreachable_image_renders_a_placeholder(api, user_factory):
    user = await user_factory()
    resp = await api.get("/api/generate", params={"title": "Cover", "template": "blog",
                                                  "image_url": "http://127.0.0.1:9/red.png"},
                         headers={"X-API-Key": user.api_key})  # fmt: skip
    assert resp.status == 200
    assert red_pixels(await resp.read()) == 0


async def test_private_addresses_are_not_fetched_without_the_test_switch(
    aiohttp_client, make_app, image_server
):
    pool = CountingPool()
    api = await client_with_pool(aiohttp_client, make_app, pool, allow_private_fetch=False)
    _, key = await _signup(api, PlanId.PUBLISHING)
    url = f"http://127.0.0.1:{image_server.port}/red.png"
    resp = await api.get("/api/generate", params={"title": "SSRF", "template": "blog",
                                                  "image_url": url},
                         headers={"X-API-Key": key})  # fmt: skip
    assert resp.status == 200
    assert red_pixels(await resp.read()) == 0 and image_server.hits == []


async def test_http_image_urls_are_rejected_in_production(aiohttp_client, make_app):
    pool = CountingPool()
    api = await client_with_pool(aiohttp_client, make_app, pool, env="production")
    _, key = await _signup(api, PlanId.PUBLISHING)
    resp = await api.get("/api/generate", params={"title": "t", "logo_url": "http://a.example/x.png"},
                         headers={"X-API-Key": key})  # fmt: skip
    assert "logo_url" in (await error(resp, 400, "INVALID_PARAMETER"))["message"]
