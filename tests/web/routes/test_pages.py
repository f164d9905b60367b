"""The dashboard's HTML pages, static files and playground routes over real HTTP (no browser;
tests/e2e drives the same pages in Chromium)."""

from __future__ import annotations

import re

import pytest
from yarl import URL

from web.routes.pages import CSP, safe_next


async def _text(resp) -> str:
    return await resp.text()


def _assert_page_headers(resp) -> None:
    assert resp.headers["Content-Security-Policy"] == CSP
    assert "frame-ancestors 'none'" in CSP and "'unsafe-inline'" not in CSP
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"


async def test_root_and_dashboard_redirect_by_session(client, signup):
    resp = await client.get("/", allow_redirects=False)
    assert (resp.status, resp.headers["Location"]) == (302, "/login")
    _assert_page_headers(resp)
    resp = await client.get("/dashboard?x=1", allow_redirects=False)
    assert resp.status == 302
    location = URL(resp.headers["Location"])
    assert (location.path, location.query["next"]) == ("/login", "/dashboard?x=1")
    await signup()
    resp = await client.get("/", allow_redirects=False)
    assert resp.headers["Location"] == "/dashboard"
    for path in ("/login", "/signup"):  # signed in: straight on
        resp = await client.get(path + "?next=/dashboard%23apikey", allow_redirects=False)
        assert (resp.status, resp.headers["Location"]) == (302, "/dashboard#apikey")
    resp = await client.get("/dashboard")
    assert resp.status == 200
    _assert_page_headers(resp)
    html = await _text(resp)
    assert '<script type="application/json" id="page-data">' in html
    assert "<style" not in html and " style=" not in html and "onclick" not in html
    # Every script is an external module; the only inline <script> is the JSON data block.
    scripts = re.findall(r"<script([^>]*)>", html)
    assert all('type="application/json"' in s or "src=" in s for s in scripts), scripts


@pytest.mark.parametrize(
    "path", ["/login", "/signup", "/reset-password", "/reset-password?token=abc", "/docs"]
)
async def test_public_pages_render_with_headers(client, path):
    resp = await client.get(path)
    assert resp.status == 200
    assert resp.content_type == "text/html"
    _assert_page_headers(resp)
    html = await _text(resp)
    assert "http://" not in html.replace("http://testserver", "")  # nothing from other origins
    assert "https://" not in html


async def test_static_urls_are_hashed_and_cached(client):
    html = await _text(await client.get("/login"))
    css = re.search(r'href="(/static/app\.css\?v=[^"]+)"', html).group(1)
    js = re.search(r'src="(/static/auth\.js\?v=[^"]+)"', html).group(1)
    for url in (css, js):
        resp = await client.get(url)
        assert resp.status == 200
        assert resp.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert (await client.get(js)).content_type in ("application/javascript", "text/javascript")
    plain = await client.get("/static/lib.js")  # imported by modules without a hash
    assert plain.headers["Cache-Control"] == "no-cache"


async def test_unknown_html_path_is_a_styled_404_and_api_stays_json(client):
    resp = await client.get("/no/such/page")
    assert resp.status == 404
    assert resp.content_type == "text/html"
    _assert_page_headers(resp)
    assert "Page not found" in await _text(resp)
    resp = await client.get("/api/no-such-endpoint")
    assert resp.status == 404
    body = await resp.json()
    assert body["error"] is True and body["code"] == "NOT_FOUND"
    resp = await client.post("/login")  # a known page, wrong method: still 405
    assert resp.status == 405


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, "/dashboard"),
        ("/dashboard#apikey", "/dashboard#apikey"),
        ("//evil.example/x", "/dashboard"),
        ("/\\evil.example", "/dashboard"),
        ("https://evil.example/", "/dashboard"),
        ("javascript:alert(1)", "/dashboard"),
        ("/ok\r\nSet-Cookie: x", "/dashboard"),
    ],
)
def test_safe_next_stays_on_this_site(raw, expected):
    assert safe_next(raw) == expected


async def test_sign_mints_a_working_signed_url_for_the_session(client, signup):
    await signup()
    resp = await client.post("/api/dashboard/sign", json={"title": "Signed", "template": "minimal"})
    assert resp.status == 200, await resp.text()
    body = await resp.json()
    assert body["url"].startswith("http://testserver/api/signed/image?")
    assert 'property="og:image"' in body["meta"]
    image = await client.get(body["url"].removeprefix("http://testserver"))
    assert image.status == 200 and image.content_type == "image/png"
    cross = await client.post(
        "/api/dashboard/sign", json={"title": "x"}, headers={"Origin": "https://evil.example"}
    )
    assert cross.status == 403
    form = await client.post("/api/dashboard/sign", data="title=x")
    assert form.status == 415
