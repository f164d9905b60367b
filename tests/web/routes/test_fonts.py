"""Uploaded fonts through HTTP (docs/templates.md, Fonts): each format accepted and described,
wrong, huge, malformed and hostile files refused with their 4xx, 20 per account, private to
it; designs draw with them, fall back to the bundled fonts for what they lack, and to the
default family once deleted; a render process that dies answers GENERATION_FAILED and the
pool serves again. The upload parser is fuzzed: never a 500."""

from __future__ import annotations

import contextlib
import functools
import io
import struct
import zlib
from pathlib import Path

import brotli
import numpy as np
import pytest
from fontTools import subset
from fontTools.ttLib import TTFont
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web.imaging import decode

pytestmark = pytest.mark.timeout(180)
FONTS = Path(__file__).resolve().parents[3] / "render" / "fonts"
SERIF = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf")  # fonts-dejavu-core
TEXT = "Hello Wörld 123 ሀ"


def _subset(path: Path, text: str, flavor: str | None = None) -> bytes:
    font = TTFont(path)
    sub = subset.Subsetter(subset.Options(layout_features=["*"], name_IDs=["*"]))
    sub.populate(text=text)
    sub.subset(font)
    font.flavor = flavor
    buf = io.BytesIO()
    font.save(buf)
    return buf.getvalue()


@functools.cache
def sample(kind: str) -> bytes:
    letters = "".join(map(chr, range(0x20, 0x7F))) + "ÖöäüßΩЖ"
    if kind == "otf":
        return _subset(FONTS / "NotoSansCJKsc-Regular-subset.otf", "東京ABCabc")
    return _subset(SERIF, letters, None if kind == "ttf" else kind)


TYPES = {"ttf": "font/ttf", "otf": "font/otf", "woff": "font/woff", "woff2": "font/woff2"}


async def upload(api, key: str | None, data: bytes, ctype: str = "font/ttf", **query):
    headers = {"Content-Type": ctype, **({"X-API-Key": key} if key else {})}
    body = io.BytesIO(data) if len(data) > 1 << 20 else data  # aiohttp warns on large bytes
    return await api.post("/api/fonts", data=body, params=query, headers=headers)


def font_design(font: str) -> dict:
    return {
        "width": 600, "height": 200, "background": "#ffffff",
        "fields": {"title": {"type": "string", "required": True}},
        "layers": [{"type": "text", "box": [10, 10, 580, 180], "text": "{{title}}",
                    "font": font, "size": 48, "color": "#000000"}],
    }  # fmt: skip


async def test_each_format_is_accepted_described_and_listed(api, user_factory):
    user = await user_factory()
    made = {}
    for kind, ctype in TYPES.items():
        resp = await upload(api, user.api_key, sample(kind), ctype)
        assert resp.status == 201, (kind, await resp.text())
        made[kind] = body = await resp.json()
        assert body["id"].startswith("font_") and len(body["id"]) == 21
        assert body["format"] == kind and body["custom"] is True
    serif = made["woff2"]
    assert (serif["family"], serif["weight"], serif["style"]) == ("DejaVu Serif", 700, "normal")
    assert serif["scripts"][:1] == ["Latn"] and "Cyrl" not in serif["scripts"]
    assert serif["glyphs"] == made["ttf"]["glyphs"] > 90
    cjk = made["otf"]
    assert cjk["family"] == "Noto Sans CJK SC" and cjk["scripts"] == ["Hani"]
    named = await upload(api, user.api_key, sample("ttf"), "application/octet-stream",
                         family="Brand Serif")  # fmt: skip
    assert (await named.json())["family"] == "Brand Serif"

    resp = await api.get("/api/fonts", headers={"X-API-Key": user.api_key})
    listed = (await resp.json())["fonts"]
    assert [f["family"] for f in listed if not f["custom"]] == ["Inter", "Noto Sans"]
    own = {f["id"] for f in listed if f["custom"]}  # oldest first (one clock tick here)
    assert own == {*(made[k]["id"] for k in TYPES), (await named.json())["id"]}
    api.session.cookie_jar.clear()  # signed out
    public = await (await api.get("/api/fonts")).json()  # no key, no session: bundled only
    assert public["fonts"] == [f for f in listed if not f["custom"]]


def _woff_bomb() -> bytes:
    """A WOFF whose one table is 64 MB of zeros in a few KB of zlib."""
    comp = zlib.compress(b"\0" * (64 << 20), 9)
    head = struct.pack(">4s4sIHHI", b"wOFF", b"\0\1\0\0", 44 + 20 + len(comp), 1, 0, 64 << 20)
    head += b"\0" * (44 - len(head))
    entry = struct.pack(">4sIIII", b"glyf", 64, len(comp), 64 << 20, 0)
    return head + entry + comp


def _woff2_bomb() -> bytes:
    """A real WOFF2's header and table directory, with a Brotli stream that inflates to 256 MB
    instead of the few KB its tables declare."""
    from fontTools.ttLib.woff2 import WOFF2DirectoryEntry, woff2DirectorySize

    data = sample("woff2")
    f = io.BytesIO(data)
    f.seek(woff2DirectorySize)
    for _ in range(struct.unpack_from(">H", data, 12)[0]):
        WOFF2DirectoryEntry().fromFile(f)
    bomb = brotli.compress(b"\0" * (256 << 20), quality=5)
    out = bytearray(data[: f.tell()] + bomb)
    struct.pack_into(">I", out, 8, len(out))
    struct.pack_into(">I", out, 20, len(bomb))
    return bytes(out)


async def test_wrong_huge_malformed_and_hostile_files_are_refused(api, user_factory):
    user = await user_factory()
    real = sample("ttf")
    cases = [
        (real, "text/plain", 400, "INVALID_FONT"),  # not a font type
        (b"", "font/ttf", 400, "INVALID_FONT"),
        (b"<html>not a font</html>", "font/ttf", 400, "INVALID_FONT"),
        (real[: len(real) // 3], "font/ttf", 400, "INVALID_FONT"),  # truncated
        (b"ttcf" + real, "font/ttf", 400, "INVALID_FONT"),  # a collection
        (_woff_bomb(), "font/woff", 400, "INVALID_FONT"),
        (_woff2_bomb(), "font/woff2", 400, "INVALID_FONT"),
        ((FONTS / "NotoSansCJKsc-Regular-subset.otf").read_bytes(), "font/otf", 413,
         "PAYLOAD_TOO_LARGE"),  # 6 MB
        (b"\0\1\0\0" + b"\0" * (5 << 20), "font/ttf", 413, "PAYLOAD_TOO_LARGE"),
    ]  # fmt: skip
    for data, ctype, status, code in cases:
        resp = await upload(api, user.api_key, data, ctype)
        body = await resp.json()
        assert (resp.status, body["code"]) == (status, code), (data[:8], body)
    resp = await upload(api, user.api_key, real, family="x" * 65)
    assert resp.status == 400 and (await resp.json())["code"] == "INVALID_FONT"
    fonts = await (await api.get("/api/fonts", headers={"X-API-Key": user.api_key})).json()
    assert [f for f in fonts["fonts"] if f["custom"]] == []
    api.session.cookie_jar.clear()  # neither a key nor a session
    assert (await upload(api, None, real)).status == 401


async def test_twenty_per_account_and_private_to_it(api, user_factory):
    alice, bob = await user_factory(), await user_factory()
    tiny = _subset(SERIF, "AB")
    ids = []
    for _ in range(20):
        resp = await upload(api, alice.api_key, tiny)
        assert resp.status == 201, await resp.text()
        ids.append((await resp.json())["id"])
    resp = await upload(api, alice.api_key, tiny)
    assert resp.status == 409 and (await resp.json())["code"] == "FONT_LIMIT"
    assert (await upload(api, bob.api_key, tiny)).status == 201  # bob's own count

    # bob sees, deletes and designs with none of alice's fonts
    listed = await (await api.get("/api/fonts", headers={"X-API-Key": bob.api_key})).json()
    assert not set(ids) & {f.get("id") for f in listed["fonts"]}
    resp = await api.delete(f"/api/fonts/{ids[0]}", headers={"X-API-Key": bob.api_key})
    assert resp.status == 404 and (await resp.json())["code"] == "FONT_NOT_FOUND"
    resp = await api.post("/api/templates", json={"name": "x", "design": font_design(ids[0])},
                          headers={"X-API-Key": bob.api_key})  # fmt: skip
    body = await resp.json()
    assert resp.status == 400 and body["code"] == "INVALID_DESIGN"
    assert body["errors"][0]["path"] == "/layers/0/font"

    resp = await api.delete(f"/api/fonts/{ids[0]}", headers={"X-API-Key": alice.api_key})
    assert resp.status == 204
    assert (await upload(api, alice.api_key, tiny)).status == 201  # room again


def ink(body: bytes) -> np.ndarray:
    return np.asarray(decode(body).convert("L")) < 128


async def test_designs_draw_with_the_font_fall_back_and_survive_its_deletion(api, user_factory):
    user = await user_factory()
    h = {"X-API-Key": user.api_key}
    font = await (await upload(api, user.api_key, sample("woff2"))).json()
    made = [await (await api.post("/api/templates", json={"name": n, "design": font_design(f)},
                                  headers=h)).json() for n, f in (("own", font["id"]),
                                                                  ("inter", "Inter"))]  # fmt: skip
    assert all("id" in t for t in made), made
    own, inter = (t["id"] for t in made)

    async def render(tpl: str) -> tuple[str, bytes]:
        resp = await api.get("/api/generate", params={"template": tpl, "title": TEXT}, headers=h)
        assert resp.status == 200, await resp.text()
        return resp.headers["X-Cache"], await resp.read()

    _, serif = await render(own)
    _, sans = await render(inter)
    assert (ink(serif) != ink(sans)).sum() > 2000  # drawn in the uploaded font
    report = await (await api.post("/api/render-report", json={"template": own, "title": TEXT},
                                   headers=h)).json()  # fmt: skip
    title = report["fields"]["title"]
    # DejaVu Serif has no Ethiopic: the bundled fonts have none either, so it is missing; the
    # digits and letters it has are its own
    assert title["fonts"][0] == "DejaVu Serif" and title["missing_glyphs"] == ["U+1200"]
    report = await (await api.post("/api/render-report", json={"template": own, "title": "Ab 東京"},
                                   headers=h)).json()  # fmt: skip
    assert report["fields"]["title"]["fonts"] == ["DejaVu Serif", "Noto Sans CJK SC"]

    assert (await api.delete(f"/api/fonts/{font['id']}", headers=h)).status == 204
    cache, fallen = await render(own)
    assert cache == "MISS"  # not the image drawn with the font
    assert (ink(fallen) != ink(sans)).sum() == 0  # the default family


async def test_uploads_with_the_session_are_same_site_only(api, user_factory):
    await user_factory()  # `api` holds this account's session
    resp = await upload(api, None, sample("ttf"))
    assert resp.status == 201, await resp.text()
    listed = await (await api.get("/api/fonts")).json()
    assert [f["family"] for f in listed["fonts"] if f["custom"]] == ["DejaVu Serif"]
    own = next(f["id"] for f in listed["fonts"] if f["custom"])
    # the studio's preview of an unsaved design may name it too
    preview = await api.post("/api/dashboard/preview", json={"design": font_design(own),
                             "params": {"title": "Draft"}})  # fmt: skip
    assert preview.status == 200 and preview.content_type == "image/jpeg", await preview.text()
    evil = {"Content-Type": "font/ttf", "Origin": "https://evil.example"}
    cross = await api.post("/api/fonts", data=sample("ttf"), headers=evil)
    assert cross.status == 403


def _mutations() -> st.SearchStrategy[bytes]:
    real = sample("ttf")

    def flip(edits: list[tuple[int, int]]) -> bytes:
        b = bytearray(real)
        for at, value in edits:
            b[at % len(b)] = value
        return bytes(b)

    edits = st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=12)
    heads = st.sampled_from([b"\0\1\0\0", b"OTTO", b"true", b"wOFF", b"wOF2", b"ttcf"])
    return st.one_of(
        st.binary(max_size=600),
        st.builds(lambda h, rest: h + rest, heads, st.binary(max_size=600)),
        edits.map(flip),
        st.integers(12, len(real)).map(lambda n: real[:n]),
    )


async def test_fuzzed_uploads_never_answer_500(api, user_factory):
    user = await user_factory()
    seen: list[int] = []

    @settings(max_examples=60, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(_mutations())
    def collect(data: bytes) -> None:
        seen_data.append(data)

    seen_data: list[bytes] = []
    collect()
    for data in seen_data:
        resp = await upload(api, user.api_key, data)
        seen.append(resp.status)
        assert resp.status in (201, 400, 409), (resp.status, data[:16], await resp.text())
        if resp.status == 201:  # keep room under the 20
            font = await resp.json()
            await api.delete(f"/api/fonts/{font['id']}", headers={"X-API-Key": user.api_key})
    assert 400 in seen


async def test_a_render_process_that_dies_answers_generation_failed_and_the_pool_recovers(
    aiohttp_client, make_app
):
    """Render processes (a real pool) are killed as soon as they start, as a font that crashed
    FreeType would: the render is retried once, then answers GENERATION_FAILED, counting
    nothing; once they live again, the same request renders."""
    import asyncio
    import os
    import signal

    from tests.web.imaging import api_user, used
    from web.appkeys import image_service_key

    a = await aiohttp_client(make_app(render_workers=1))
    user = await api_user(a, "crash@example.com")
    h = {"X-API-Key": user.api_key}
    font = await (await upload(a, user.api_key, sample("ttf"))).json()
    resp = await a.post("/api/templates", json={"name": "c", "design": font_design(font["id"])},
                        headers=h)  # fmt: skip
    tpl = (await resp.json())["id"]
    pool = a.app[image_service_key].pool
    killing = True

    async def killer() -> None:
        while killing:
            for pid in list(getattr(pool._executor, "_processes", None) or {}):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            await asyncio.sleep(0.002)

    task = asyncio.ensure_future(killer())
    try:
        resp = await a.get("/api/generate", params={"template": tpl, "title": "Boom"}, headers=h)
        body = await resp.json()
        assert resp.status == 500 and body["code"] == "GENERATION_FAILED", body
    finally:
        killing = False
        await task
    assert await used(user.id) == 0 and pool.rebuilds >= 2
    resp = await a.get("/api/generate", params={"template": tpl, "title": "Boom"}, headers=h)
    assert resp.status == 200 and resp.headers["X-Cache"] == "MISS", await resp.text()


async def test_each_upload_spends_a_token_of_the_rate_limit(api, user_factory):
    """A refused upload spends its token too: on the free plan (1 request per second) a bad
    file, then at once another, answers 429 RATE_LIMITED with Retry-After."""
    user = await user_factory("free")
    resp = await upload(api, user.api_key, b"not a font at all")
    assert resp.status == 400 and (await resp.json())["code"] == "INVALID_FONT"
    resp = await upload(api, user.api_key, sample("ttf"))
    body = await resp.json()
    assert resp.status == 429 and body["code"] == "RATE_LIMITED" and body["error"], body
    assert int(resp.headers["Retry-After"]) >= 1


async def test_one_check_per_account_at_a_time(api, user_factory, monkeypatch):
    """A second upload while the account's first is being checked answers 429 RATE_LIMITED
    with Retry-After (another account's is not held up); once the first is done, it goes."""
    import asyncio

    from web.appkeys import image_service_key

    alice, bob = await user_factory(), await user_factory()
    pool = api.app[image_service_key].pool
    checking, release = asyncio.Event(), asyncio.Event()
    real = pool.inspect_font

    async def held(data: bytes):
        if not checking.is_set():
            checking.set()
            await release.wait()
        return await real(data)

    monkeypatch.setattr(pool, "inspect_font", held)
    first = asyncio.ensure_future(upload(api, alice.api_key, sample("ttf")))
    await asyncio.wait_for(checking.wait(), 30)
    resp = await upload(api, alice.api_key, sample("woff2"), "font/woff2")
    body = await resp.json()
    assert resp.status == 429 and body["code"] == "RATE_LIMITED", body
    assert int(resp.headers["Retry-After"]) >= 1
    assert (await upload(api, bob.api_key, sample("ttf"))).status == 201
    release.set()
    assert (await first).status == 201
    assert (await upload(api, alice.api_key, sample("woff2"), "font/woff2")).status == 201
