"""Edges the schemathesis run of docs/openapi.yaml found (tests/web/routes/test_openapi.py)."""

from __future__ import annotations


async def test_graphql_body_that_is_not_an_object_is_400(client):
    for body in (b'"text"', b"null", b"[1]", b"5", b"\xff\xfe"):
        resp = await client.post("/graphql", data=body,
                                 headers={"Content-Type": "application/json"})  # fmt: skip
        assert resp.status == 400, body
        assert (await resp.json())["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_a_long_valid_get_url_reaches_the_api(client):
    """Every field at its limit, percent-encoded: far over aiohttp's default 8 KB line."""
    from urllib.parse import urlencode

    fields = {"title": "é" * 200, "subtitle": "😀" * 300}
    fields |= {name: "€" * 100 for name in ("author_name", "brand", "badge", "date", "time",
                                            "location", "price", "rating")}  # fmt: skip
    query = urlencode(fields)
    assert len(query) > 8190
    resp = await client.get(f"/api/generate?{query}")
    assert resp.status == 401  # the API answered (no key), not the HTTP parser
    assert (await resp.json())["code"] == "MISSING_API_KEY"
