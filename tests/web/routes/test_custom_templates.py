"""Custom templates through HTTP: create, read, versions, delete; rendering by id and pinned
version on /api/generate and signed URLs; isolation between accounts; field checks; limits."""

from __future__ import annotations

import copy
from urllib.parse import urlsplit

import numpy as np
import pytest
from hypothesis import strategies as st

from render.templates import TEMPLATES
from tests.web.imaging import decode

RED, BLUE = "#ff0000", "#0000ff"


def make_design(fill: str = RED, **extra_fields) -> dict:
    return {
        "width": 600,
        "height": 300,
        "background": "#ffffff",
        "fields": {
            "title": {"type": "string", "required": True, "max_length": 40},
            "tag": {"type": "string", "max_length": 10},
            **extra_fields,
        },
        "layers": [
            {"type": "rect", "box": [0, 0, 300, 300], "fill": fill},
            {
                "type": "text",
                "box": [320, 20, 260, 200],
                "text": "{{title}} {{tag}}",
                "size": 32,
                "color": "#000000",
            },
        ],
    }


async def create(api, key: str, design: dict | None = None, name: str = "Brand card"):
    body = {"name": name, "description": "Ours", "design": design or make_design()}
    return await api.post("/api/templates", json=body, headers={"X-API-Key": key})


def left_colour(body: bytes) -> tuple[int, ...]:
    im = decode(body).convert("RGB")
    return im.getpixel((im.width // 8, im.height // 2))


async def test_create_read_update_versions_delete(api, user_factory):
    user = await user_factory()
    h = {"X-API-Key": user.api_key}
    resp = await create(api, user.api_key)
    assert resp.status == 201
    tpl = await resp.json()
    assert tpl["id"].startswith("tpl_") and len(tpl["id"]) == 20 and tpl["id"][4:].isalnum()
    assert (tpl["name"], tpl["description"], tpl["version"], tpl["custom"]) == (
        "Brand card",
        "Ours",
        1,
        True,
    )
    assert tpl["fields"][0] == {
        "name": "title",
        "type": "string",
        "required": True,
        "max_length": 40,
    }
    assert tpl["design"] == make_design() and tpl["created_at"].endswith("Z")
    assert tpl["preview_url"].startswith("http://testserver/api/dashboard/preview?template=tpl_")

    got = await (await api.get(f"/api/templates/{tpl['id']}", headers=h)).json()
    assert got["versions"] == [{"version": 1, "created_at": tpl["created_at"]}]
    put = await api.put(
        f"/api/templates/{tpl['id']}", json={"design": make_design(BLUE)}, headers=h
    )
    assert put.status == 200
    v2 = await put.json()
    assert v2["version"] == 2 and v2["name"] == "Brand card" and len(v2["versions"]) == 2
    old = await (await api.get(f"/api/templates/{tpl['id']}/versions/1", headers=h)).json()
    assert old["design"]["layers"][0]["fill"] == RED and old["version"] == 1
    same = await api.put(
        f"/api/templates/{tpl['id']}", json={"design": make_design(BLUE)}, headers=h
    )
    assert (await same.json())["version"] == 2  # the same design again: no new version
    renamed = await api.put(f"/api/templates/{tpl['id']}", json={"name": "Renamed"}, headers=h)
    assert (await renamed.json())["version"] == 3
    missing = await api.get(f"/api/templates/{tpl['id']}/versions/9", headers=h)
    assert missing.status == 404 and (await missing.json())["code"] == "TEMPLATE_NOT_FOUND"

    listing = await (await api.get("/api/templates", headers=h)).json()
    own = [t for t in listing["templates"] if t["custom"]]
    assert [t["id"] for t in own] == [tpl["id"]] and own[0]["version"] == 3
    assert listing["templates"][0] == {**listing["templates"][0], "id": "default", "custom": False}
    public = await (await api.get("/api/templates")).json()
    assert not any(t["custom"] for t in public["templates"])

    assert (await api.delete(f"/api/templates/{tpl['id']}", headers=h)).status == 204
    gone = await api.get(f"/api/templates/{tpl['id']}", headers=h)
    assert gone.status == 404


async def test_invalid_design_lists_every_problem(api, user_factory):
    user = await user_factory()
    bad = make_design()
    bad["layers"][0]["fill"] = "{{nope}}"
    bad["layers"][1]["align"] = "justify"
    resp = await create(api, user.api_key, bad)
    assert resp.status == 400
    body = await resp.json()
    assert body["code"] == "INVALID_DESIGN" and body["error"] is True
    assert [e["path"] for e in body["errors"]] == ["/layers/0/fill", "/layers/1/align"]
    slow = make_design()  # fifty glows over the card: seconds of one core at 2400x2400
    slow["layers"] = [{"type": "glow", "box": [0, 0, 1200, 630], "color": "#f00", "if": "title"}]
    slow["layers"] *= 50
    resp = await create(api, user.api_key, slow)
    assert resp.status == 400 and [e["path"] for e in (await resp.json())["errors"]] == ["/layers"]
    huge = make_design()  # 10000 px on a 600 px design: 40,000 px a side at 2400x2400
    huge["layers"].append({"type": "rect", "box": [0, 0, 10000, 10000], "fill": "#00ff0080"})
    resp = await create(api, user.api_key, huge)
    body = await resp.json()
    assert resp.status == 400 and body["code"] == "INVALID_DESIGN"
    assert [e["path"] for e in body["errors"]] == ["/layers/2/box"]
    assert "reaches outside [-150, 750] x [-75, 375]" in body["errors"][0]["message"]
    for junk in ({"name": "x"}, {"name": "", "design": make_design()}, {"name": 5, "design": {}}):
        resp = await api.post("/api/templates", json=junk, headers={"X-API-Key": user.api_key})
        assert resp.status == 400


async def test_accounts_never_see_each_others_templates(api, user_factory):
    alice, bob = await user_factory(), await user_factory()
    tpl = await (await create(api, alice.api_key)).json()
    hb = {"X-API-Key": bob.api_key}
    for method, path in (("GET", ""), ("GET", "/versions/1"), ("PUT", ""), ("DELETE", "")):
        resp = await api.request(
            method,
            f"/api/templates/{tpl['id']}{path}",
            headers=hb,
            json={"name": "mine"} if method == "PUT" else None,
        )
        assert resp.status == 404, (method, path)
        assert (await resp.json())["code"] == "TEMPLATE_NOT_FOUND"
    for template in (tpl["id"], f"{tpl['id']}@1", "tpl_0000000000000000", "tpl_x"):
        resp = await api.post(
            "/api/generate", json={"title": "Hi", "template": template}, headers=hb
        )
        assert resp.status == 400 and (await resp.json())["code"] == "INVALID_TEMPLATE"
        signed = await api.get(
            "/api/signed/generate", params={"title": "Hi", "template": template}, headers=hb
        )
        assert signed.status == 400 and (await signed.json())["code"] == "INVALID_TEMPLATE"
    listing = await (await api.get("/api/templates", headers=hb)).json()
    assert not any(t["custom"] for t in listing["templates"])


async def test_render_latest_and_pinned_versions_cache_per_version(api, user_factory, pool):
    user = await user_factory()
    h = {"X-API-Key": user.api_key}
    tpl = await (await create(api, user.api_key)).json()
    first = await api.get(
        "/api/generate", params={"title": "Hello", "template": tpl["id"]}, headers=h
    )
    assert first.status == 200 and first.headers["X-Cache"] == "MISS"
    body = await first.read()
    assert decode(body).size == (600, 300) and left_colour(body) == (255, 0, 0)
    again = await api.get(
        "/api/generate", params={"title": "Hello", "template": tpl["id"]}, headers=h
    )
    assert again.headers["X-Cache"] == "HIT"
    await api.put(f"/api/templates/{tpl['id']}", json={"design": make_design(BLUE)}, headers=h)
    latest = await api.get(
        "/api/generate", params={"title": "Hello", "template": tpl["id"]}, headers=h
    )
    assert latest.headers["X-Cache"] == "MISS" and left_colour(await latest.read()) == (0, 0, 255)
    pinned = await api.post(
        "/api/generate", json={"title": "Hello", "template": f"{tpl['id']}@1"}, headers=h
    )
    assert left_colour(await pinned.read()) == (255, 0, 0)
    assert pinned.headers["X-Cache"] == "HIT"  # version 1 with these values was drawn before
    labels = [s.template for s in pool.specs]
    assert labels == [f"{tpl['id']}@1", f"{tpl['id']}@2"]
    params = {"title": "Hello", "template": tpl["id"], "width": 1200, "height": 600}
    big = await api.post("/api/generate", json=params, headers=h)
    assert decode(await big.read()).size == (1200, 600)


async def test_fields_are_checked_by_their_declarations(api, user_factory):
    user = await user_factory()
    h = {"X-API-Key": user.api_key}
    design = make_design(
        accent={"type": "color"},
        logo={"type": "url"},
        n={"type": "number"},
        need={"type": "string", "required": True},
    )
    tpl = await (await create(api, user.api_key, design)).json()
    base = {"template": tpl["id"], "title": "Hi", "need": "x"}
    cases = [
        ({"title": ""}, "MISSING_TITLE", None),
        ({"title": "x" * 41}, "TITLE_TOO_LONG", None),
        ({"need": None}, "INVALID_PARAMETER", "need"),
        ({"tag": "x" * 11}, "INVALID_PARAMETER", "tag"),
        ({"accent": "blue"}, "INVALID_PARAMETER", "accent"),
        ({"logo": "ftp://x/y.png"}, "INVALID_PARAMETER", "logo"),
        ({"n": "lots"}, "INVALID_PARAMETER", "n"),
        ({"author_name": "Jane"}, "INVALID_PARAMETER", "author_name"),
        ({"theme": "sepia"}, "INVALID_THEME", None),
    ]
    for change, code, named in cases:
        params = {k: v for k, v in {**base, **change}.items() if v is not None}
        resp = await api.post("/api/generate", json=params, headers=h)
        body = await resp.json()
        assert (resp.status, body["code"]) == (400, code), change
        assert named is None or named in body["message"], body
    ok = await api.post("/api/generate", json={**base, "accent": "#fff", "n": "4.5"}, headers=h)
    assert ok.status == 200


async def test_signed_urls_render_custom_templates(api, user_factory):
    user = await user_factory()
    h = {"X-API-Key": user.api_key}
    tpl = await (await create(api, user.api_key)).json()
    minted = await api.get(
        "/api/signed/generate",
        params={"title": "Signed", "template": tpl["id"], "tag": "new"},
        headers=h,
    )
    assert minted.status == 200
    signed = await minted.json()
    assert "Signed" in signed["alt"] and "new" in signed["alt"]
    url = urlsplit(signed["url"])
    resp = await api.get(f"{url.path}?{url.query}")
    assert resp.status == 200 and left_colour(await resp.read()) == (255, 0, 0)
    await api.put(f"/api/templates/{tpl['id']}", json={"design": make_design(BLUE)}, headers=h)
    resp = await api.get(f"{url.path}?{url.query}")
    assert left_colour(await resp.read()) == (0, 0, 255)  # `template=tpl_…`: the latest
    await api.delete(f"/api/templates/{tpl['id']}", headers=h)
    gone = await api.get(f"{url.path}?{url.query}")
    assert gone.status == 400 and (await gone.json())["code"] == "INVALID_TEMPLATE"


async def test_the_session_can_manage_templates_behind_the_browser_guard(api, user_factory):
    user = await user_factory()
    login = await api.post("/api/auth/login", json={"email": user.email, "password": user.password})
    assert login.status == 200
    body = {"name": "Session card", "design": make_design()}
    same = {"Origin": str(api.make_url("/")).rstrip("/")}
    assert (await api.post("/api/templates", json=body, headers=same)).status == 201
    evil = await api.post("/api/templates", json=body, headers={"Origin": "https://evil.example"})
    assert evil.status == 403
    form = await api.post(
        "/api/templates",
        data="name=x",
        headers={**same, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status == 415
    api.session.cookie_jar.clear()
    assert (await api.post("/api/templates", json=body, headers=same)).status == 401


async def test_at_most_100_templates_per_account(api, user_factory, monkeypatch):
    from resolvers.templates import store

    monkeypatch.setattr(store, "MAX_TEMPLATES", 3)  # the rule, not the number, is under test
    user = await user_factory()
    for _ in range(3):
        assert (await create(api, user.api_key)).status == 201
    resp = await create(api, user.api_key)
    assert resp.status == 409 and (await resp.json())["code"] == "TEMPLATE_LIMIT"
    assert (
        store.MAX_TEMPLATES == 3
        and (await create(api, (await user_factory()).api_key)).status == 201
    )


@st.composite
def fuzzed_design(draw) -> dict:
    """The documented example, changed in a few places (tests/render/test_design_validate.py)."""
    from tests.render.test_design_validate import EXAMPLE, _mutate

    class Data:  # what _mutate draws from
        def draw(self, strategy):
            return draw(strategy)

    design = copy.deepcopy(EXAMPLE)
    for _ in range(draw(st.integers(1, 3))):
        _mutate(design, Data())
    return design


async def test_fuzzed_designs_never_answer_500_on_save_or_render(api, user_factory):
    user = await user_factory()
    h = {"X-API-Key": user.api_key}
    saved = 0
    from tests.render.design_strategies import valid_designs
    from tests.web.http.test_fuzz_http import _draw

    for design in _draw(fuzzed_design(), 25) + _draw(valid_designs, 15):
        resp = await api.post("/api/templates", json={"name": "f", "design": design}, headers=h)
        assert resp.status in (201, 400), (resp.status, design)
        if resp.status == 400:
            assert (await resp.json())["code"] in ("INVALID_DESIGN", "INVALID_JSON")
            continue
        saved += 1
        tpl = await resp.json()
        params = {"title": "Fuzz ✓ مرحبا", "template": tpl["id"], "width": 333, "tag": "x"}
        render = await api.post("/api/generate", json=params, headers=h)
        assert render.status in (200, 400), (render.status, design)
        await api.delete(f"/api/templates/{tpl['id']}", headers=h)
    assert saved > 0


@pytest.mark.parametrize("name", sorted(TEMPLATES))
@pytest.mark.parametrize("theme", ["dark", "light"])
async def test_a_fork_of_a_builtin_renders_the_same_card(api, user_factory, name, theme):
    """Every built-in's published design, posted back, draws the built-in's card: the same
    pixels, with the built-in's colour parameters too, and on a square card (its variants)."""
    from bench.samples import sample
    from tests.render.test_builtin_designs import pixels

    user = await user_factory()
    h = {"X-API-Key": user.api_key}
    published = await api.get(f"/api/templates/{name}")  # public: no key
    assert published.status == 200
    body = await published.json()
    assert body["custom"] is False and body["id"] == name and body["design"]
    assert [v["aspect"] for v in body["design"]["variants"]] == [[0, 0.8], [0.8, 1.3], [2.5, 100]]
    fork = await api.post(
        "/api/templates", json={"name": f"My {name}", "design": body["design"]}, headers=h
    )
    assert fork.status == 201
    fork_id = (await fork.json())["id"]
    spec = sample(name, theme)
    params = {"title": spec.title, "theme": theme, **dict(spec.fields)}
    if spec.subtitle:
        params["subtitle"] = spec.subtitle
    square = {"width": 1080, "height": 1080}  # drawn from a variant (docs/templates.md)
    for colours in ({}, {"bg_color": "#7c2d12", "accent_color": "#10b981"}, square):
        ours = await api.post(
            "/api/generate", json={**params, **colours, "template": name}, headers=h
        )
        theirs = await api.post(
            "/api/generate", json={**params, **colours, "template": fork_id}, headers=h
        )
        assert ours.status == theirs.status == 200
        assert np.array_equal(pixels(await ours.read()), pixels(await theirs.read())), colours
