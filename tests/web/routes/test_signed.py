"""Signed URLs (docs/signed-urls.md): minting, verification, tampering, expiry, revocation, fallback
card."""

from __future__ import annotations

import asyncio
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlsplit

import pytest

from models import Account, AccountStatus, PlanId
from resolvers.accounts.keys import active_key, regenerate_api_key, reveal
from tests.conftest import PASSWORD, set_account
from tests.web.imaging import decode, used
from web.appkeys import meter_key, secret_box_key

pytestmark = [pytest.mark.timeout(60), pytest.mark.both_stacks]
DOC = Path(__file__).resolve().parents[3] / "docs" / "signed-urls.md"
T0 = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)


@pytest.fixture
async def owner(api):
    email = "signer@example.com"
    resp = await api.post("/api/auth/signup", json={"email": email, "password": PASSWORD})
    assert resp.status == 201
    acct = await Account.get(email=email)
    await set_account(acct.id, plan=PlanId.PUBLISHING)
    key = await active_key(acct)
    return acct, reveal(key, api.app[secret_box_key]), key.kid


async def mint(api, api_key: str, **params) -> dict:
    resp = await api.get("/api/signed/generate", params=params, headers={"X-API-Key": api_key})
    assert resp.status == 200, await resp.text()
    return await resp.json()


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def error(resp, status: int, code: str) -> None:
    assert resp.status == status, await resp.text()
    assert (await resp.json())["code"] == code


async def test_mint_and_fetch(api, owner, pool, clock):
    acct, key, kid = owner
    body = await mint(api, key, title='Hello "world"', subtitle="Sub", template="event",
                      location="Berlin", width="800", height="420", expires_in="3600")  # fmt: skip
    url = body["url"]
    assert url.startswith("http://testserver/api/signed/image?")
    query = dict(parse_qsl(urlsplit(url).query))
    assert query["kid"] == kid == body["kid"]
    assert query["exp"] == str(int(T0.timestamp()) + 3600)
    assert body["expires_at"] == "2026-05-10T13:00:00Z"
    assert body["alt"] == 'Hello "world" — Sub — Berlin'
    assert f'<meta property="og:image" content="{url.replace("&", "&amp;")}">' in body["meta"]
    assert '<meta property="og:image:width" content="800">' in body["meta"]
    assert '<meta property="og:image:type" content="image/png">' in body["meta"]
    assert 'content="Hello &quot;world&quot; — Sub — Berlin"' in body["meta"]
    assert await used(acct.id, T0) == 0  # minting renders nothing

    resp = await api.get(path_of(url))
    assert resp.status == 200, await resp.text()
    assert resp.headers["Content-Type"] == "image/png"
    assert resp.headers["Cache-Control"] == "public, max-age=3600"  # exp is nearer than a day
    assert resp.headers["X-Cache"] == "MISS" and "X-OG-Degraded" not in resp.headers
    assert decode(await resp.read()).size == (800, 420)
    assert await used(acct.id, T0) == 1

    clock.set(T0 + timedelta(minutes=50))
    again = await api.get(path_of(url), headers={"If-None-Match": resp.headers["ETag"]})
    assert again.status == 304 and again.headers["ETag"] == resp.headers["ETag"]
    assert again.headers["Cache-Control"] == "public, max-age=600"
    hit = await api.get(path_of(url))
    assert hit.status == 200 and hit.headers["X-Cache"] == "HIT"
    assert await used(acct.id, T0) == 1 and pool.renders == 1


async def test_without_expiry_the_url_has_no_exp(api, owner):
    _, key, _ = owner
    body = await mint(api, key, title="Forever")
    assert body["expires_at"] is None and "exp=" not in body["url"]
    resp = await api.get(path_of(body["url"]))
    assert resp.status == 200 and resp.headers["Cache-Control"] == "public, max-age=86400"


async def test_signed_generate_errors(api, owner):
    _, key, _ = owner
    resp = await api.get("/api/signed/generate", params={"title": "t"})
    await error(resp, 401, "MISSING_API_KEY")
    for params, code in [({"subtitle": "no title"}, "MISSING_TITLE"),
                         ({"title": "t", "theme": "x"}, "INVALID_THEME"),
                         ({"title": "t", "expires_in": "soon"}, "INVALID_PARAMETER"),
                         ({"title": "t", "sig": "x"}, "INVALID_PARAMETER")]:  # fmt: skip
        resp = await api.get("/api/signed/generate", params=params, headers={"X-API-Key": key})
        await error(resp, 400, code)


def _tampered(url: str) -> list[str]:
    """One variant per parameter with its value changed, plus added/removed parameters."""
    pairs = parse_qsl(urlsplit(url).query)
    out = []
    for i, (name, value) in enumerate(pairs):
        changed = list(pairs)
        if name == "sig":
            new = ("0" if value[0] != "0" else "1") + value[1:]
        elif name == "exp":
            new = str(int(value) + 1)
        else:
            new = value + "x"
        changed[i] = (name, new)
        out.append(changed)
        out.append(pairs[:i] + pairs[i + 1 :])  # removed
    out.append([*pairs, ("subtitle", "added")])
    out.append([*pairs, ("title", "again")])
    out.append([])  # no parameters at all
    return ["/api/signed/image?" + "&".join(f"{n}={quote(v, safe='')}" for n, v in p)
            for p in out]  # fmt: skip


async def test_any_tampering_is_rejected(api, owner, pool):
    _, key, _ = owner
    body = await mint(api, key, title="Tamper me", template="stats", stat_value="42",
                      width="600", height="315", expires_in="600")  # fmt: skip
    variants = _tampered(body["url"])
    assert len(variants) >= 14
    for variant in variants:
        resp = await api.get(variant)
        await error(resp, 403, "INVALID_SIGNATURE")
    assert pool.renders == 0
    assert (await api.get(path_of(body["url"]))).status == 200


async def test_expired(api, owner, clock):
    _, key, _ = owner
    body = await mint(api, key, title="Short lived", expires_in="60")
    assert (await api.get(path_of(body["url"]))).status == 200
    clock.set(T0 + timedelta(seconds=61))
    await error(await api.get(path_of(body["url"])), 403, "SIGNATURE_EXPIRED")


async def test_regeneration_kills_old_urls_and_old_key(api, owner):
    acct, key, _ = owner
    body = await mint(api, key, title="Old key")
    assert (await api.get(path_of(body["url"]))).status == 200  # now cached, too
    _, new_key = await regenerate_api_key(acct, api.app[secret_box_key])
    await error(await api.get(path_of(body["url"])), 403, "INVALID_SIGNATURE")
    resp = await api.get("/api/generate", params={"title": "x"}, headers={"X-API-Key": key})
    await error(resp, 401, "INVALID_API_KEY")
    fresh = await mint(api, new_key, title="Old key")
    assert (await api.get(path_of(fresh["url"]))).status == 200


async def test_suspended_owner(api, owner):
    acct, key, _ = owner
    body = await mint(api, key, title="Suspended")
    await set_account(acct.id, status=AccountStatus.SUSPENDED)
    await error(await api.get(path_of(body["url"])), 403, "SUBSCRIPTION_CANCELED")
    resp = await api.get("/api/signed/generate", params={"title": "t"}, headers={"X-API-Key": key})
    await error(resp, 403, "SUBSCRIPTION_CANCELED")


async def test_out_of_quota_serves_the_fallback_card(api, owner, pool):
    acct, key, _ = owner
    await set_account(acct.id, custom_quota=1)
    cached = await mint(api, key, title="Rendered while in quota")
    assert (await api.get(path_of(cached["url"]))).status == 200
    body = await mint(api, key, title="Too late", width="640", height="320", format="jpeg")
    for _ in range(2):
        resp = await api.get(path_of(body["url"]))
        assert resp.status == 200
        assert resp.headers["X-OG-Degraded"] == "quota"
        assert "X-Cache" not in resp.headers  # neither a hit nor a render of this image
        assert resp.headers["Cache-Control"] == "public, max-age=300"
        assert resp.headers["Content-Type"] == "image/jpeg"
        assert decode(await resp.read()).size == (640, 320)
    assert pool.fallbacks == 1 and pool.renders == 1  # the fallback is rendered once, cached
    assert await used(acct.id, T0) == 1
    # a cached image is still served normally
    resp = await api.get(path_of(cached["url"]))
    assert resp.status == 200 and "X-OG-Degraded" not in resp.headers
    # and the key-authenticated API answers the error of docs/rest-api.md
    resp = await api.get("/api/generate", params={"title": "Too late"}, headers={"X-API-Key": key})
    await error(resp, 429, "QUOTA_EXCEEDED")


async def test_signed_fetches_are_not_api_calls(api, owner):
    from models import DailyUsage

    acct, key, _ = owner
    body = await mint(api, key, title="Calls")
    for _ in range(3):
        await api.get(path_of(body["url"]))
    await api.app[meter_key].flush()  # counted in memory, written every second
    rows = await DailyUsage.filter(account_id=acct.id)
    assert sum(r.api_calls for r in rows) == 1  # the mint only
    assert sum(r.images for r in rows) == 1


def _doc_block(language: str) -> str:
    blocks = re.findall(rf"```{language}(?: doctest)?\n(.*?)```", DOC.read_text(), re.S)
    assert blocks, f"no {language} block in {DOC}"
    return blocks[0]


async def test_python_snippet_from_the_docs_is_accepted(api, owner, clock):
    clock.fixed = None  # the snippet reads the real time for exp
    _, key, kid = owner
    namespace: dict = {}
    exec(compile(_doc_block("python"), str(DOC), "exec"), namespace)
    params = {"title": "Hello, wörld & friends ✨", "template": "blog", "badge": "Docs",
              "width": 900, "height": 470, "bg_color": "#0f172a"}  # fmt: skip
    url = namespace["signed_image_url"]("http://testserver", key, kid, params, expires_in=300)
    resp = await api.get(path_of(url))
    assert resp.status == 200, await resp.text()
    assert decode(await resp.read()).size == (900, 470)
    # the same URL as the server would mint (minus exp)
    minted = await mint(api, key, **{k: str(v) for k, v in params.items()})
    forever = namespace["signed_image_url"]("http://testserver", key, kid, params)
    assert forever == minted["url"]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
async def test_node_snippet_from_the_docs_is_accepted(api, owner, clock, tmp_path):
    clock.fixed = None
    _, key, kid = owner
    script = tmp_path / "sign.mjs"
    script.write_text(
        _doc_block("js")
        + "\nconsole.log(signedImageUrl('http://testserver', process.argv[2], process.argv[3],"
        + " {title: \"Node's (test) * ✨\", theme: 'light', width: 640}, 120));\n"
    )
    proc = await asyncio.create_subprocess_exec(
        "node", str(script), key, kid, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    resp = await api.get(path_of(out.decode().strip()))
    assert resp.status == 200, await resp.text()
