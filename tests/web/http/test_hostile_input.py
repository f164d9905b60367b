"""Hostile input over real HTTP: encodings that must not collide in any memo, numbers that
must be a 400 (never a 500), digests compared as bytes (see docs/signed-urls.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest

from tests.web.imaging import used

pytestmark = pytest.mark.timeout(60)
T0 = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)


async def mint(api, key: str, **params) -> str:
    resp = await api.get("/api/signed/generate", params=params, headers={"X-API-Key": key})
    assert resp.status == 200, await resp.text()
    parts = urlsplit((await resp.json())["url"])
    return f"{parts.path}?{parts.query}"


async def error(resp, status: int, code: str) -> dict:
    assert resp.status == status, await resp.text()
    body = await resp.json()
    assert body["error"] is True and body["code"] == code and body["request_id"]
    return body


# A character the canonical encoding escapes, and that escape escaped once more: yarl decodes
# `%25XX` in `query_string` to `%XX`, so the two used to name one memo entry.
COLLIDING = [("&", "%26", "%2526"), ("=", "%3D", "%253D"), ("+", "%2B", "%252B"),
             (";", "%3B", "%253B")]  # fmt: skip


@pytest.mark.parametrize(("char", "once", "twice"), COLLIDING)
async def test_signed_url_edited_with_a_double_escape_is_refused(
    api, user_factory, pool, char, once, twice
):
    user = await user_factory()
    path = await mint(api, user.api_key, title=f"Fish{char}Chips")
    assert once in path
    first = await api.get(path)
    assert first.status == 200, await first.text()
    assert pool.renders == 1 and pool.specs[0].title == f"Fish{char}Chips"
    edited = path.replace(once, twice)
    await error(await api.get(edited), 403, "INVALID_SIGNATURE")
    assert pool.renders == 1 and await used(user.id, T0) == 1  # nothing rendered, nothing billed
    again = await api.get(path)  # the genuine URL still verifies (and is a hit)
    assert again.status == 200 and again.headers["X-Cache"] == "HIT"


@pytest.mark.parametrize(("char", "once", "twice"), COLLIDING)
async def test_get_generate_means_exactly_its_raw_query(api, user_factory, pool, char, once, twice):
    alice, bob = await user_factory(), await user_factory()
    resp = await api.get(
        f"/api/generate?title=Fish{once}Chips", headers={"X-API-Key": alice.api_key}
    )
    assert resp.status == 200 and pool.specs[-1].title == f"Fish{char}Chips"
    resp = await api.get(
        f"/api/generate?title=Fish{twice}Chips", headers={"X-API-Key": bob.api_key}
    )
    assert resp.status == 200, await resp.text()
    assert resp.headers["X-Cache"] == "MISS"  # not alice's card
    assert pool.renders == 2 and pool.specs[-1].title == f"Fish{once}Chips"  # decoded once


# ----------------------------------------------------------------------------- numbers

BAD_NUMBERS = ["²", "٣٠٠", "--5", "+-5", "5" * 5000, "1e3", "0x1f4", "500.5", "-500", "5 00"]


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_image_numbers_that_are_not_numbers_are_a_400(api, user_factory, pool, method):
    user = await user_factory()
    for name in ("width", "height", "quality"):
        for value in BAD_NUMBERS:
            params = {"title": "n", "format": "jpeg", name: value}
            kw = {"params": params} if method == "GET" else {"json": params}
            resp = await api.request(
                method, "/api/generate", headers={"X-API-Key": user.api_key}, **kw
            )
            body = await error(resp, 400, "INVALID_PARAMETER")
            assert name in body["message"]
    assert pool.renders == 0
    ok = {"title": "n", "width": " 640 ", "height": 320 if method == "POST" else "320"}
    kw = {"params": ok} if method == "GET" else {"json": ok}
    resp = await api.request(method, "/api/generate", headers={"X-API-Key": user.api_key}, **kw)
    assert resp.status == 200, await resp.text()


async def test_expires_in_that_is_not_a_number_is_a_400(api, user_factory):
    user = await user_factory()
    for value in ["²", "5" * 5000, "--5", "-60", "0", "1.5"]:
        resp = await api.get("/api/signed/generate", params={"title": "t", "expires_in": value},
                             headers={"X-API-Key": user.api_key})  # fmt: skip
        assert "expires_in" in (await error(resp, 400, "INVALID_PARAMETER"))["message"]


async def test_hostile_signed_url_controls_are_a_403(api, user_factory, pool):
    user = await user_factory()
    path = await mint(api, user.api_key, title="Controls", expires_in="600")
    base, _, query = path.partition("?")
    params = dict(p.split("=", 1) for p in query.split("&"))
    sig, exp = params["sig"], params["exp"]
    variants = {
        "sig": ["%C3%A9" * 64, "%C3%A9" + sig[1:], "%FF" * 64, "%ED%A0%80" * 21 + "a"],
        "kid": ["%C3%A9" * 8, "%FF%FE", "k" * 65],
        "exp": ["%C2%B2", "5" * 5000, "-1", "1e9", exp + ".0"],
    }
    for name, values in variants.items():
        for value in values:
            edited = {**params, name: value}
            url = base + "?" + "&".join(f"{k}={v}" for k, v in edited.items())
            await error(await api.get(url), 403, "INVALID_SIGNATURE")
    assert pool.renders == 0
    assert (await api.get(path)).status == 200


async def test_every_validation_failure_spends_a_rate_token(api, user_factory, pool):
    user = await user_factory("free")  # 1 request per second
    headers = {"X-API-Key": user.api_key}
    resp = await api.get("/api/generate", params={"title": "t", "width": "²"}, headers=headers)
    await error(resp, 400, "INVALID_PARAMETER")
    resp = await api.get("/api/generate", params={"title": "t", "width": "500"}, headers=headers)
    await error(resp, 429, "RATE_LIMITED")
    assert pool.renders == 0 and await used(user.id, T0) == 0


# ----------------------------------------------------------------------------- Authorization


async def raw_request(api, head: bytes) -> tuple[int, bytes]:
    """Send bytes the aiohttp client refuses to send (a non-UTF-8 header) over a real socket."""
    import asyncio

    reader, writer = await asyncio.open_connection("127.0.0.1", api.server.port)
    try:
        writer.write(head)
        await writer.drain()
        data = await reader.read()
    finally:
        writer.close()
    status = int(data.split(b" ", 2)[1])
    return status, data


ADMIN = "admin-token-0123456789abcdef"


@pytest.fixture
async def admin_api(aiohttp_client, make_app):
    return await aiohttp_client(make_app(admin_token=ADMIN))


@pytest.mark.parametrize(
    "value", [b"Bearer \xff\xfe\xfd", b"\xe9t\xe9", b"Bearer " + ADMIN[:-1].encode() + b"\xe9"]
)
@pytest.mark.parametrize(("method", "path", "refused"), [
    (b"POST", b"/api/admin/usage", 401), (b"GET", b"/metrics", 403)])  # fmt: skip
async def test_non_utf8_authorization_is_refused_not_a_500(admin_api, value, method, path, refused):
    head = (method + b" " + path + b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
            b"Authorization: " + value + b"\r\nContent-Length: 0\r\n\r\n")  # fmt: skip
    status, _ = await raw_request(admin_api, head)
    assert status == refused


async def test_bearer_scheme_is_required_on_admin_api_and_metrics(admin_api):
    bare = {"Authorization": ADMIN}
    await error(await admin_api.post("/api/admin/usage", json={}, headers=bare), 401,
                "UNAUTHENTICATED")  # fmt: skip
    assert (await admin_api.get("/metrics", headers=bare)).status == 403
    for scheme in ("Bearer", "bearer", "BEARER"):
        good = {"Authorization": f"{scheme} {ADMIN}"}
        assert (await admin_api.get("/metrics", headers=good)).status == 200
        resp = await admin_api.post("/api/admin/usage", json={}, headers=good)
        assert resp.status != 401  # past the token check (the body is then refused)
