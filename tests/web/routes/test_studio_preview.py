"""The template studio's live preview, POST /api/dashboard/preview `{design, params}`
(docs/dashboard.md, Template studio): the playground's watermarked draft of a design not saved
yet, on the same per-account budget, behind the session and the browser-POST guard, and
refusing an invalid design with every problem's JSON Pointer."""

from __future__ import annotations

import copy

import pytest

from render import builtins
from render.draft import draft_size
from tests.render.conftest import marked_share
from tests.web.conftest import limit_on
from tests.web.imaging import decode

PREVIEW = "/api/dashboard/preview"
DESIGN = {
    "width": 1200, "height": 630, "background": "#0b1020",
    "fields": {"title": {"type": "string", "required": True, "max_length": 120},
               "accent": {"type": "color", "default": "#3b82f6"}},
    "layers": [
        {"type": "rect", "box": [0, 0, 1200, 16], "fill": "{{accent}}"},
        {"type": "text", "box": [80, 120, 1040, 300], "text": "{{title}}", "weight": 700,
         "size": 72, "min_size": 36, "max_lines": 3, "color": "#ffffff"},
    ],
}  # fmt: skip


@pytest.fixture
async def client(aiohttp_client, make_app, ticker):
    """The app with its preview budgets on `ticker` (the `signup` fixture signs up here)."""
    app = make_app()
    limit_on(app, ticker)
    return await aiohttp_client(app)


def _same_site(client) -> dict[str, str]:
    return {"Origin": str(client.make_url("/")).rstrip("/")}


async def test_an_unsaved_design_previews_as_the_marked_draft_of_its_saved_render(client, signup):
    user = await signup()
    body = {"design": DESIGN, "params": {"title": "Draft of a design", "accent": "#ff0000"}}
    resp = await client.post(PREVIEW, json=body, headers=_same_site(client))
    assert resp.status == 200, await resp.text()
    assert resp.content_type == "image/jpeg"
    assert resp.headers["Cache-Control"] == "private, no-store"
    assert resp.headers["X-RateLimit-Remaining"] == "299"
    draft = decode(await resp.read())
    size = draft_size(1200, 630)
    assert draft.size == size
    # The same design saved and rendered by the API at the draft's size: the draft is that
    # card with the PREVIEW mark over it, in every quarter.
    made = await client.post(
        "/api/templates", json={"name": "Saved", "design": DESIGN},
        headers={"X-API-Key": user.api_key},
    )  # fmt: skip
    assert made.status == 201, await made.text()
    tpl = (await made.json())["id"]
    clean = await client.get(
        "/api/generate",
        params={"template": tpl, "title": "Draft of a design", "accent": "#ff0000",
                "width": str(size[0]), "height": str(size[1]), "format": "png"},
        headers={"X-API-Key": user.api_key},
    )  # fmt: skip
    assert clean.status == 200, await clean.text()
    quarters = marked_share(draft, decode(await clean.read()))
    assert min(quarters) > 0.02, quarters
    assert draft.getpixel((4, 2))[0] > 200  # the accent bar, red as the params asked


async def test_a_forked_builtin_previews_and_a_template_param_is_ignored(client, signup):
    await signup()
    body = {"design": builtins.design("blog"), "params": {"title": "Fork", "template": "x"}}
    resp = await client.post(PREVIEW, json=body, headers=_same_site(client))
    assert resp.status == 200, await resp.text()


async def test_invalid_designs_list_every_problem_by_json_pointer(client, signup, ticker):
    await signup()

    async def post(body):
        ticker.now += 1  # within the previews' four a second
        return await client.post(PREVIEW, json=body)

    broken = copy.deepcopy(DESIGN)
    broken["layers"][1]["color"] = "red"
    broken["layers"][0]["box"] = [0, 0, 1200]
    resp = await post({"design": broken, "params": {"title": "x"}})
    body = await resp.json()
    assert (resp.status, body["code"]) == (400, "INVALID_DESIGN"), body
    paths = {e["path"] for e in body["errors"]}
    assert {"/layers/1/color", "/layers/0/box"} <= paths, body["errors"]
    # The design's fields decide the params, as for a saved template.
    missing = await post({"design": DESIGN, "params": {}})
    assert (missing.status, (await missing.json())["code"]) == (400, "MISSING_TITLE")
    unknown = await post({"design": DESIGN, "params": {"title": "x", "y": 1}})
    assert (unknown.status, (await unknown.json())["code"]) == (400, "INVALID_PARAMETER")
    for bad in ({"params": {"title": "x"}}, {"design": DESIGN, "params": [1]},
                {"design": DESIGN, "extra": 1}):  # fmt: skip
        resp = await post(bad)
        assert (resp.status, (await resp.json())["code"]) == (400, "INVALID_PARAMETER"), bad


async def test_the_session_and_the_browser_post_guard(client, signup):
    body = {"design": DESIGN, "params": {"title": "x"}}
    anonymous = await client.post(PREVIEW, json=body)
    assert (anonymous.status, (await anonymous.json())["code"]) == (401, "UNAUTHENTICATED")
    user = await signup()
    with_key = await client.post(
        PREVIEW, json=body, headers={"X-API-Key": user.api_key, "Origin": "https://evil.example"}
    )
    assert with_key.status == 403  # a session route: a key is no substitute, nor another site
    form = await client.post(
        PREVIEW, data="design=x", headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert form.status == 415
    assert (await client.post(PREVIEW, json=body, headers=_same_site(client))).status == 200


async def test_one_budget_with_the_playground_four_a_second(client, signup, ticker):
    await signup()
    body = {"design": DESIGN, "params": {"title": "x"}}
    for left in ("299", "298"):
        resp = await client.post(PREVIEW, json=body)
        assert resp.status == 200 and resp.headers["X-RateLimit-Remaining"] == left
    assert (await client.get(PREVIEW, params={"title": "playground"})).status == 200
    bad = await client.post(PREVIEW, json={"design": {}, "params": {}})
    assert bad.status == 400  # a refused design spends its preview too
    over = await client.post(PREVIEW, json=body)
    assert (over.status, (await over.json())["code"]) == (429, "RATE_LIMITED")
    assert over.headers["Retry-After"] == "1"
    ticker.now += 1
    again = await client.post(PREVIEW, json=body)
    assert again.status == 200 and again.headers["X-RateLimit-Remaining"] == "295"
