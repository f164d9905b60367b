"""The render report through HTTP (docs/templates.md, The render report): X-Render-Warnings on
built-ins and designs, kept with the image in every tier (memory, Redis, the store), and
POST /api/render-report: its answer, one rate-limit request, one API call, no image."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiohttp import web

from models import DailyUsage
from tests.web.imaging import Host, api_user, set_account, used
from web.appkeys import image_service_key, meter_key

pytestmark = [pytest.mark.both_stacks, pytest.mark.timeout(90)]
LONG = "A title far too long for the card it is drawn on, " * 4  # 200 characters
ETHIOPIC = "ሀሁ"  # no bundled font draws Ethiopic


def design(**extra_layers) -> dict:
    return {
        "width": 600, "height": 300, "background": "#ffffff",
        "fields": {"title": {"type": "string", "required": True},
                   "logo": {"type": "url"}, "tag": {"type": "string"}},
        "layers": [
            {"type": "text", "box": [20, 20, 560, 80], "text": "{{title}}", "size": 40,
             "min_size": 30, "max_lines": 1, "color": "#000000"},
            {"type": "text", "box": [20, 120, 560, 60], "text": "#{{tag}}", "size": 24,
             "color": "#000000"},
            {"type": "image", "box": [20, 200, 80, 80], "src": "{{logo}}", "if": "logo"},
        ],
    }  # fmt: skip


@pytest.fixture
async def broken_image(aiohttp_server) -> str:
    async def not_an_image(request: web.Request) -> web.Response:
        return web.Response(body=b"\x89PNG\r\n\x1a\n but not really", content_type="image/png")

    app = web.Application()
    app.router.add_get("/logo.png", not_an_image)
    server = await aiohttp_server(app)
    return f"http://127.0.0.1:{server.port}/logo.png"


async def get(client, key: str, **params):
    resp = await client.get("/api/generate", params=params, headers={"X-API-Key": key})
    assert resp.status == 200, await resp.text()
    await resp.read()
    return resp


async def test_warnings_on_builtins_kept_by_every_tier(aiohttp_client, make_app, settings):
    host = Host(aiohttp_client, make_app)
    a, pool = await host.start()
    user = await api_user(a, "warn@example.com")
    fine = await get(a, user.api_key, title="A short title")
    assert "X-Render-Warnings" not in fine.headers
    params = {"title": LONG[:199] + ETHIOPIC[0], "template": "caption"}
    miss = await get(a, user.api_key, **params)
    assert miss.headers["X-Cache"] == "MISS"
    assert miss.headers["X-Render-Warnings"] == "title=truncated"  # the Ethiopic was cut off
    odd = await get(a, user.api_key, title=f"Hello {ETHIOPIC}", subtitle=LONG + LONG[:100])
    assert odd.headers["X-Render-Warnings"] == "subtitle=truncated; title=missing_glyphs"

    hit = await get(a, user.api_key, **params)
    assert hit.headers["X-Cache"] == "HIT" and hit.headers["X-Render-Warnings"] == "title=truncated"
    # Another worker (empty memory): from Redis when there is one, else from the store.
    b, pool_b = await host.start()
    again = await get(b, user.api_key, **params)
    assert again.headers["X-Cache"] == "HIT" and pool_b.renders == 0
    assert again.headers["X-Render-Warnings"] == "title=truncated"
    if settings.redis_url:  # and from the store alone, Redis flushed
        from tests import services

        services.flush_redis(settings.redis_url)
    c, pool_c = await host.start()
    stored = await get(c, user.api_key, **params)
    assert stored.headers["X-Cache"] == "HIT" and pool_c.renders == 0
    assert stored.headers["X-Render-Warnings"] == "title=truncated"
    assert pool.renders == 3


async def test_warnings_and_report_of_a_design(aiohttp_client, make_app, broken_image):
    a, pool = await Host(aiohttp_client, make_app).start()
    user = await api_user(a, "design@example.com")
    h = {"X-API-Key": user.api_key}
    resp = await a.post("/api/templates", json={"name": "R", "design": design()}, headers=h)
    tpl = (await resp.json())["id"]
    params = {"template": tpl, "title": LONG[:150], "tag": ETHIOPIC, "logo": broken_image}
    resp = await get(a, user.api_key, **params)
    assert resp.headers["X-Render-Warnings"] == (
        "tag=missing_glyphs; title=truncated; logo=image_failed"
    )
    before = pool.renders

    resp = await a.post("/api/render-report", json=params, headers=h)
    assert resp.status == 200, await resp.text()
    report = await resp.json()
    assert resp.headers["Cache-Control"] == "no-store"
    assert (report["template"], report["version"]) == (tpl, 1)
    assert (report["width"], report["height"]) == (600, 300)
    title = report["fields"]["title"]
    assert title["truncated"] is True and title["lines"] == 1 and title["font_size"] == 30
    assert title["fonts"] == ["Inter"] and title["missing_glyphs"] == []
    tag = report["fields"]["tag"]
    assert tag["missing_glyphs"] == ["U+1200", "U+1201"] and tag["truncated"] is False
    assert tag["font_size"] == 24 and tag["lines"] == 1
    assert report["images"] == {
        "logo": {
            "status": "placeholder",
            "reason": "not a supported image: cannot identify image file",
        }
    }
    assert pool.renders == before and pool.reports == 1  # drawn, not rendered for delivery

    # a built-in's report: a CJK and emoji title uses the fonts that draw it
    resp = await a.post("/api/render-report", json={"title": "東京 🎉 Tokyo"}, headers=h)
    report = await resp.json()
    assert (report["template"], report["version"], report["width"]) == ("default", None, 1200)
    assert report["fields"]["title"]["fonts"] == ["Noto Sans CJK SC", "Inter", "Noto Color Emoji"]
    assert report["fields"]["title"]["truncated"] is False and report["images"] == {}


async def test_a_report_is_one_request_one_api_call_and_no_image(aiohttp_client, make_app):
    a, pool = await Host(aiohttp_client, make_app).start()
    user = await api_user(a, "free@example.com")
    await set_account(user.id, plan="free")  # 1 request a second
    h = {"X-API-Key": user.api_key}
    first = await a.post("/api/render-report", json={"title": "Once"}, headers=h)
    assert first.status == 200 and first.headers["X-RateLimit-Limit"] == "1"
    assert first.headers["X-RateLimit-Remaining"] == "0"
    again = await a.post("/api/render-report", json={"title": "Twice"}, headers=h)
    assert again.status == 429 and (await again.json())["code"] == "RATE_LIMITED"
    await a.app[meter_key].flush()
    rows = await DailyUsage.filter(account_id=user.id).values("images", "api_calls")
    assert sum(r["api_calls"] for r in rows) == 2 and sum(r["images"] for r in rows) == 0
    assert await used(user.id, datetime.now(UTC)) == 0 and pool.renders == 0
    assert len(a.app[image_service_key].cache.memory) == 0  # nothing kept for delivery


async def test_bad_report_requests_are_json_errors(aiohttp_client, make_app):
    a, _ = await Host(aiohttp_client, make_app).start()
    user = await api_user(a, "bad@example.com")
    h = {"X-API-Key": user.api_key}
    cases = [
        ({"subtitle": "no title"}, 400, "MISSING_TITLE"),
        ({"title": "x", "template": "nope"}, 400, "INVALID_TEMPLATE"),
        ({"title": "x", "template": "tpl_0000000000000000"}, 400, "INVALID_TEMPLATE"),
        ({"title": "x", "colour": "red"}, 400, "INVALID_PARAMETER"),
    ]
    for body, status, code in cases:
        resp = await a.post("/api/render-report", json=body, headers=h)
        assert (resp.status, (await resp.json())["code"]) == (status, code), body
    resp = await a.post("/api/render-report", data=b"[1", headers=h)
    assert resp.status == 400 and (await resp.json())["code"] == "INVALID_JSON"
    resp = await a.post("/api/render-report", json={"title": "x"})
    assert resp.status == 401
