"""GET /api/templates and the template previews: public, cached, counting nothing."""

from __future__ import annotations

from urllib.parse import urlsplit

from render.templates import TEMPLATES
from tests.web.imaging import CountingPool, client_with_pool, decode


async def test_templates_list(client):
    resp = await client.get("/api/templates")
    assert resp.status == 200
    assert resp.headers["Cache-Control"].startswith("public")
    body = await resp.json()
    names = [t["name"] for t in body["templates"]]
    assert names == list(TEMPLATES)
    for required in ("default", "minimal", "vibrant", "blog", "product", "event", "stats",
                     "real_estate", "quote"):  # fmt: skip
        assert required in names
    product = next(t for t in body["templates"] if t["name"] == "product")
    assert product["description"]
    assert product["preview_url"] == "http://testserver/api/templates/product/preview.png"
    fields = {f["name"]: f for f in product["fields"]}
    assert fields["title"] == {"name": "title", "type": "string", "required": True,
                               "max_length": 200}  # fmt: skip
    assert fields["subtitle"]["max_length"] == 300 and not fields["subtitle"]["required"]
    assert fields["price"]["type"] == "string" and fields["image_url"]["type"] == "url"
    assert fields["bg_color"]["type"] == "color"
    for t in body["templates"]:
        assert set(t) == {"id", "name", "custom", "description", "fields", "preview_url", "colors"}
        assert (t["id"], t["custom"]) == (t["name"], False)
        assert set(t["colors"]) == {"dark", "light"}
        for f in t["fields"]:
            assert set(f) == {"name", "type", "required", "max_length"}


async def test_the_list_is_read_from_the_builtins_designs(client):
    """Each entry's fields (names, order, types) and default colours are its design's."""
    body = await (await client.get("/api/templates")).json()
    for entry in body["templates"]:
        design = (await (await client.get(f"/api/templates/{entry['id']}")).json())["design"]
        fields = [(f["name"], f["type"], f["required"]) for f in entry["fields"]]
        assert fields == [(name, spec["type"], spec.get("required", False))
                          for name, spec in design["fields"].items()]  # fmt: skip
        for theme, colours in entry["colors"].items():
            tokens = design["colors"][theme]
            assert colours == {"bg_color": tokens["bg0"], "text_color": tokens["text"],
                               "accent_color": tokens["accent"]}, entry["id"]  # fmt: skip


async def test_preview_is_public_cached_and_counts_nothing(aiohttp_client, make_app):
    pool = CountingPool()
    api = await client_with_pool(aiohttp_client, make_app, pool)
    listing = await (await api.get("/api/templates")).json()
    url = urlsplit(listing["templates"][0]["preview_url"]).path
    first = await api.get(url)
    assert first.status == 200 and first.headers["Content-Type"] == "image/png"
    assert first.headers["Cache-Control"] == "public, max-age=86400"
    assert decode(await first.read()).size == (1200, 630)
    again = await api.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status == 304
    assert (await api.get(url)).status == 200
    assert pool.renders == 1
    missing = await api.get("/api/templates/nope/preview.png")
    assert missing.status == 404 and (await missing.json())["code"] == "NOT_FOUND"


async def test_design_schema_is_published(client):
    from jsonschema import Draft202012Validator

    from tests.render.test_design_validate import EXAMPLE

    resp = await client.get("/api/templates/schema.json")
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("application/schema+json")
    assert resp.headers["Cache-Control"].startswith("public")
    schema = await resp.json(content_type=None)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    assert validator.is_valid(EXAMPLE)
    assert not validator.is_valid({**EXAMPLE, "layers": [{"type": "script", "code": "x"}]})


async def test_colors_are_what_a_card_draws_without_them(client):
    """The playground shows these as the colour fields' placeholders and swatches: the flat and
    gradient backgrounds start with `bg_color` in the top left corner."""
    from render.card import render_card
    from render.spec import CardSpec

    body = await (await client.get("/api/templates")).json()
    colors = {t["name"]: t["colors"] for t in body["templates"]}
    assert colors["default"]["dark"] == {"bg_color": "#0f172a", "text_color": "#ffffff",
                                         "accent_color": "#3b82f6"}  # fmt: skip
    for name in ("default", "minimal", "quote"):
        for theme in ("dark", "light"):
            png = render_card(CardSpec(title="Colours", template=name, theme=theme))
            corner = decode(png).convert("RGB").getpixel((0, 0))
            want = colors[name][theme]["bg_color"]
            got = "#{:02x}{:02x}{:02x}".format(*corner)
            assert max(abs(int(want[i:i + 2], 16) - int(got[i:i + 2], 16))
                       for i in (1, 3, 5)) <= 3, (name, theme, want, got)  # fmt: skip
            assert colors[name][theme]["text_color"] != want
